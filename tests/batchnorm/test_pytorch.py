"""nn.BatchNorm1d/2d: statistics per channel (the correction), running averages with the
unbiased variance, eval mode, and the batch dependence of train mode."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.batchnorm import pytorch

F64 = torch.float64


@pytest.mark.claim("batchnorm/per-channel")
@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4)).filter(
        lambda s: s[0] * s[2] * s[3] > 1
    ),
    seed=st.integers(0, 2**31 - 1),
)
@settings(max_examples=40, deadline=None)
def test_batchnorm2d_uses_one_mean_and_variance_per_channel(shape, seed):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64) * 3 + 1
    bn = nn.BatchNorm2d(shape[1]).double().train()
    with torch.no_grad():
        out = bn(x)
    torch.testing.assert_close(pytorch.batch_norm_2d(x), out, rtol=1e-6, atol=1e-6)
    mean, var = pytorch.per_channel_stats(x)
    assert mean.shape == var.shape == (shape[1],)


@pytest.mark.claim("batchnorm/per-channel")
def test_correction_not_across_channels_at_each_location():
    """The lesson's reading - statistics over the channels at each (n, h, w) - is not what BN2d does."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 5, 5, generator=g) * torch.tensor([1.0, 5.0, 0.1]).view(1, 3, 1, 1)
    out = nn.BatchNorm2d(3).train()(x).detach()
    across_channels = (x - x.mean(dim=1, keepdim=True)) / torch.sqrt(x.var(dim=1, keepdim=True, correction=0) + 1e-5)
    assert not torch.allclose(out, across_channels, atol=1e-2)
    # per channel: mean 0 and variance ~1 over (N, H, W); across channels at one location: not
    torch.testing.assert_close(out.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.var(dim=(0, 2, 3), correction=0), torch.ones(3), atol=2e-3, rtol=0)
    assert out.mean(dim=1).abs().max() > 0.1


def test_per_channel_stats_refuses_other_shapes():
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\)"):
        pytorch.per_channel_stats(torch.randn(4, 3))


@pytest.mark.claim("batchnorm/defaults", "batchnorm/fresh-layer-identity")
def test_defaults_named_on_the_page():
    bn = nn.BatchNorm2d(3)
    assert (bn.eps, bn.momentum, bn.affine, bn.track_running_stats, bn.training) == (1e-5, 0.1, True, True, True)
    assert torch.equal(bn.weight.detach(), torch.ones(3)) and torch.equal(bn.bias.detach(), torch.zeros(3))


@pytest.mark.claim("batchnorm/fresh-layer-identity")
def test_a_fresh_layer_in_eval_mode_is_the_identity_up_to_eps():
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(nn.BatchNorm1d(3).eval()(x), x / (1 + 1e-5) ** 0.5)


@pytest.mark.claim("batchnorm/running-variance-unbiased")
def test_running_statistics_worked_numbers():
    facts = pytorch.facts()
    assert facts["x"] == [2.0, 4.0, 6.0, 8.0]
    assert (facts["init_mean"], facts["init_var"], facts["momentum"]) == (0.0, 1.0, 0.1)
    assert facts["keep"] == pytest.approx(0.9)
    assert (facts["keras_momentum"], facts["keras_as_torch"]) == (0.99, 0.01)
    assert facts["batch_mean"] == 5.0 and facts["sum_squared"] == 20.0
    assert (facts["n"], facts["n_minus_1"]) == (4, 3)
    assert facts["biased_var"] == 5.0
    assert facts["unbiased_var"] == pytest.approx(20 / 3)
    assert facts["running_mean"] == pytest.approx(0.5)  # 0.9 * 0 + 0.1 * 5
    assert facts["running_var"] == pytest.approx(0.9 * 1 + 0.1 * 20 / 3)  # unbiased, not 0.9 + 0.1 * 5
    assert round(facts["running_var"], 4) == 1.5667
    assert facts["running_var_if_biased"] == pytest.approx(1.4)  # what the biased variance would give
    assert [round(v, 4) for v in facts["train_out"].tolist()] == [-1.3416, -0.4472, 0.4472, 1.3416]
    expected_eval = [(v - 0.5) / (0.9 + 0.1 * 20 / 3 + 1e-5) ** 0.5 for v in (2, 4, 6, 8)]
    assert facts["eval_out"].tolist() == pytest.approx(expected_eval, rel=1e-5)
    assert [round(v, 4) for v in facts["eval_out"].tolist()] == [1.1984, 2.7963, 4.3941, 5.9920]


def test_converged_running_stats_and_the_unbiased_gap():
    facts = pytorch.facts()
    assert facts["converged_mean"] == pytest.approx(5.0, abs=1e-5)
    assert facts["converged_var"] == pytest.approx(20 / 3, abs=1e-5)
    # eval output = train output * sqrt((N - 1) / N), because eval divides by the unbiased spread
    torch.testing.assert_close(facts["converged_out"], facts["train_out"] * facts["shrink"], rtol=1e-4, atol=1e-5)
    assert round(facts["shrink"], 4) == 0.866


@pytest.mark.claim("batchnorm/running-variance-unbiased")
@given(
    shape=st.sampled_from([(5, 3), (2, 4), (3, 2, 4), (4, 3, 2, 2), (2, 1, 1, 3)]),
    seed=st.integers(0, 2**31 - 1),
    momentum=st.floats(0.0, 1.0),
    steps=st.integers(1, 3),
)
@settings(max_examples=40, deadline=None)
def test_manual_running_update_and_eval_equal_pytorch(shape, seed, momentum, steps):
    g = torch.Generator().manual_seed(seed)
    c = shape[1]
    bn = (nn.BatchNorm2d(c) if len(shape) == 4 else nn.BatchNorm1d(c)).double()
    bn.momentum = momentum
    with torch.no_grad():
        bn.weight.copy_(torch.randn(c, generator=g, dtype=F64))
        bn.bias.copy_(torch.randn(c, generator=g, dtype=F64))
    mean, var = torch.zeros(c, dtype=F64), torch.ones(c, dtype=F64)
    with torch.no_grad():
        for _ in range(steps):
            x = torch.randn(shape, generator=g, dtype=F64) * 2 + 3
            bn.train()(x)
            mean, var = pytorch.update_running_stats(mean, var, x, momentum)
        torch.testing.assert_close(mean, bn.running_mean, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(var, bn.running_var, rtol=1e-6, atol=1e-6)
        expected = bn.eval()(x)
    manual = pytorch.eval_batch_norm(x, mean, var, bn.weight.detach(), bn.bias.detach())
    torch.testing.assert_close(manual, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("momentum", [-0.1, 1.5])
def test_momentum_outside_0_1_is_refused(momentum):
    with pytest.raises(ValueError, match="momentum must be in"):
        pytorch.update_running_stats(torch.zeros(1), torch.ones(1), torch.randn(4, 1), momentum)


@pytest.mark.claim("batchnorm/train-depends-on-batch", "batchnorm/eval-fixed-function")
def test_train_mode_output_depends_on_the_batch_eval_mode_does_not():
    facts = pytorch.facts()
    assert facts["batch_a"][0] == facts["batch_b"][0] == 4.0
    assert facts["train_a"] != pytest.approx(facts["train_b"], abs=0.1)
    assert facts["train_a"] == pytest.approx(-1 / (5 + 1e-5) ** 0.5, rel=1e-5)
    assert facts["train_b"] == pytest.approx(-6 / (14 + 1e-5) ** 0.5, rel=1e-5)
    assert facts["eval_a"] == facts["eval_b"]
    # after two train steps: mean 0.9*0.5 + 0.1*10, var 0.9*(0.9 + 0.1*20/3) + 0.1*56/3
    running_mean, running_var = 1.45, 0.9 * (0.9 + 0.1 * 20 / 3) + 0.1 * 56 / 3
    assert facts["eval_a"] == pytest.approx((4 - running_mean) / (running_var + 1e-5) ** 0.5, rel=1e-5)


@pytest.mark.claim("batchnorm/eval-fixed-function")
def test_eval_mode_accepts_a_single_example_and_matches_the_batch_result():
    bn = pytorch.trained_bn(torch.tensor(pytorch.X), steps=3).eval()
    with torch.no_grad():
        alone = bn(torch.tensor([[4.0]]))
        in_batch = bn(torch.tensor(pytorch.BATCH_B))[:1]
    assert torch.equal(alone, in_batch)
