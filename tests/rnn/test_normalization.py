"""Batch statistics differ from step to step and run out as sequences end; LayerNorm's
output for an example does not depend on the batch, and is the same in train and eval."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.rnn import normalization


@pytest.mark.claim("rnn/batch-stats-change-per-step")
def test_statistics_change_over_the_first_steps_then_settle():
    stds = normalization.per_step_std(normalization.preactivations(*normalization.rnn_example()))
    assert stds[0] < 0.7 * stds[-1]  # step 1 sees no recurrent input: h_0 = 0
    assert stds[1] < stds[2]
    assert (stds[9:] - stds[-1]).abs().max() < 0.05 * stds[-1]


def test_preactivations_are_what_the_cell_squashes():
    x, w_ih, w_hh = normalization.rnn_example(steps=5, batch=3)
    states = normalization.rnn_states(x, w_ih, w_hh)
    torch.testing.assert_close(torch.tanh(normalization.preactivations(x, w_ih, w_hh)), states)


def test_sequences_still_running():
    running = normalization.still_running(torch.tensor([3, 1, 2]), 4)
    assert running.tolist() == [3, 2, 1, 0]


def test_batchnorm_in_training_refuses_a_single_sequence():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm1d(4)(torch.randn(1, 4))


@pytest.mark.claim("rnn/layernorm-ignores-batch")
@given(seed=st.integers(0, 10_000), shift=st.floats(-5, 5), scale=st.floats(0.2, 5))
@settings(max_examples=40, deadline=None)
def test_layernorm_ignores_batch_composition_batchnorm_does_not(seed, shift, scale):
    g = torch.Generator().manual_seed(seed)
    example = torch.randn(1, 16, generator=g)
    batch_a = torch.cat([example, torch.randn(5, 16, generator=g)])
    batch_b = torch.cat([example, shift + scale * torch.randn(5, 16, generator=g)])
    ln, bn = nn.LayerNorm(16), nn.BatchNorm1d(16)
    with torch.no_grad():
        torch.testing.assert_close(
            normalization.output_of_first(ln, batch_a), normalization.output_of_first(ln, batch_b)
        )
        assert not torch.allclose(
            normalization.output_of_first(bn, batch_a), normalization.output_of_first(bn, batch_b), atol=1e-3
        )


def test_layernorm_train_equals_eval_batchnorm_does_not():
    torch.manual_seed(0)
    x = 2 + 3 * torch.randn(8, 16)
    ln, bn = nn.LayerNorm(16), nn.BatchNorm1d(16)
    with torch.no_grad():
        assert torch.equal(ln.train()(x), ln.eval()(x))
        assert not torch.allclose(bn.train()(x), bn.eval()(x), atol=1e-2)


@given(batch=st.integers(2, 5), seed=st.integers(0, 999))
@settings(max_examples=15, deadline=None)
def test_layernorm_rnn_treats_each_sequence_on_its_own(batch, seed):
    torch.manual_seed(seed)
    rnn, x = normalization.LayerNormRNN(3, 6), torch.randn(5, batch, 3)
    with torch.no_grad():
        together = rnn(x)
        for b in range(batch):
            torch.testing.assert_close(rnn(x[:, b : b + 1])[:, 0], together[:, b], atol=1e-6, rtol=1e-5)
        assert torch.equal(rnn.train()(x), rnn.eval()(x))


def test_layernorm_rnn_normalizes_every_step():
    """Before the tanh, each example's pre-activation has mean 0 and variance 1 per step."""
    torch.manual_seed(0)
    rnn, x = normalization.LayerNormRNN(3, 6), 10 * torch.randn(4, 2, 3)
    with torch.no_grad():
        pre = torch.atanh(rnn(x).clamp(-0.999999, 0.999999))
    torch.testing.assert_close(pre.mean(-1), torch.zeros(4, 2), atol=1e-3, rtol=0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, input_size\)"):
        normalization.LayerNormRNN(3, 4)(torch.ones(5, 3))


@pytest.mark.claim("rnn/batch-stats-change-per-step", "rnn/layernorm-ignores-batch")
def test_page_numbers():
    facts = normalization.facts()
    assert facts["batch"] == 8 and facts["running_25"] == 1
    assert (facts["running_10"], facts["running_20"]) == (3, 2)
    assert facts["ln_gap"] == 0.0 and facts["bn_gap"] > 0.5
    assert facts["std_first"] < facts["std_last"]
