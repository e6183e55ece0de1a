import math

import pytest
import torch
from torch import nn

from snippets.practical import tiny_batches as tb


def test_batch_mean_spread_shrinks_like_one_over_sqrt_n():
    facts = tb.facts()
    assert facts["small_mean_sd"] == pytest.approx(1 / math.sqrt(2), abs=0.02)
    assert facts["large_mean_sd"] == pytest.approx(1 / math.sqrt(64), abs=0.005)
    # biased variance of N normal values: sd = sqrt(2 (N - 1)) / N
    assert facts["small_var_sd"] == pytest.approx(math.sqrt(2) / 2, abs=0.03)
    assert facts["large_var_sd"] == pytest.approx(math.sqrt(2 * 63) / 64, abs=0.01)


def test_a_batch_of_two_normalises_to_plus_or_minus_one():
    torch.manual_seed(3)
    with torch.no_grad():
        out = nn.BatchNorm1d(5)(torch.randn(2, 5) * 100 + 7)
    torch.testing.assert_close(out.abs(), torch.ones(2, 5), atol=1e-4, rtol=0)
    assert torch.equal(out[0].sign(), -out[1].sign())


def test_batch_size_one_raises_for_vectors_but_not_for_feature_maps():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(4).train()(torch.randn(1, 4))
    assert nn.BatchNorm2d(4).train()(torch.randn(1, 4, 3, 3)).shape == (1, 4, 3, 3)


def test_group_and_layer_norm_do_not_look_at_the_batch():
    torch.manual_seed(1)
    x = torch.randn(5, 8, 5, 5)
    found = {name: tb.batch_independent(norm, x) for name, norm in tb.norms(8).items()}
    assert found == {"BatchNorm2d": False, "GroupNorm": True, "LayerNorm": True}
    assert tb.batch_independent(nn.BatchNorm2d(8).eval(), x)  # eval mode: running stats


def test_bad_batch_size_is_refused():
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        tb.batch_statistics_spread(0)


def test_batch_independent_leaves_the_callers_running_statistics_alone():
    """Probe: the probe used to run a train-mode BN twice, folding both calls into the caller's
    running statistics and num_batches_tracked."""
    bn = nn.BatchNorm2d(8)
    state = {k: v.clone() for k, v in bn.state_dict().items()}
    tb.batch_independent(bn, torch.randn(4, 8, 5, 5) + 3)
    assert all(torch.equal(v, state[k]) for k, v in bn.state_dict().items())
    assert bn.training


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an int"),
        ({"batch_size": 2, "n_batches": 1}, ValueError, "n_batches must be >= 2"),
        ({"batch_size": True}, TypeError, "batch_size must be an int"),
    ],
)
def test_spread_arguments_are_checked(kwargs, error, match):
    with pytest.raises(error, match=match):
        tb.batch_statistics_spread(**kwargs)
