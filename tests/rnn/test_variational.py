"""Locked dropout: one mask per sequence, the same at every step, different across the
batch, scaled by 1/(1 - p), the identity in eval mode; with it on h_{t-1}, an RNN is a
network with a fixed thinned W_hh for the whole sequence."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.rnn import naive, variational


@pytest.mark.claim("rnn/locked-mask-every-step")
def test_mask_is_identical_at_every_time_step():
    out = variational.LockedDropout(0.5)(torch.ones(20, 4, 16), generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, out[:1].expand_as(out))


@pytest.mark.claim("rnn/locked-mask-every-step")
def test_batch_first_locks_the_second_axis():
    out = variational.LockedDropout(0.5, batch_first=True)(torch.ones(4, 20, 16))
    assert torch.equal(out, out[:, :1].expand_as(out))
    assert not torch.equal(out, out[:1].expand_as(out))  # sequences still differ


@pytest.mark.claim("rnn/locked-masks-differ-across-batch")
def test_sequences_in_a_batch_get_different_masks():
    out = variational.LockedDropout(0.5)(torch.ones(3, 8, 64), generator=torch.Generator().manual_seed(1))
    masks = {tuple(out[0, b].tolist()) for b in range(8)}
    assert len(masks) == 8


@given(p=st.floats(0.05, 0.9), seed=st.integers(0, 10_000))
@settings(max_examples=30, deadline=None)
def test_values_are_zero_or_one_over_keep_probability(p, seed):
    out = variational.LockedDropout(p)(torch.ones(3, 5, 40), generator=torch.Generator().manual_seed(seed))
    assert torch.all((out == 0) | torch.isclose(out, torch.tensor(1 / (1 - p))))


def test_drop_rate_and_mean():
    out = variational.LockedDropout(0.3)(torch.ones(2, 500, 200), generator=torch.Generator().manual_seed(0))
    assert (out[0] == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)
    assert out.mean().item() == pytest.approx(1.0, abs=0.02)


def test_eval_mode_and_p_zero_are_the_identity():
    x = torch.randn(5, 3, 7)
    assert variational.LockedDropout(0.5).eval()(x) is x
    assert variational.LockedDropout(0.0)(x) is x


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="drop probability p"):
        variational.LockedDropout(-0.5)
    with pytest.raises(ValueError, match=r"x must be 3-D"):
        variational.LockedDropout(0.5)(torch.ones(4, 5))


@pytest.mark.claim("rnn/fixed-mask-thins-w-hh")
@given(batch=st.integers(1, 4), p=st.floats(0.1, 0.8), seed=st.integers(0, 999))
@settings(max_examples=20, deadline=None)
def test_variational_rnn_is_a_fixed_thinned_network_per_sequence(batch, p, seed):
    """Sequence b run with masks (m_x[b], m_h[b]) equals a mask-free RNN whose weight
    columns are scaled by those masks: one sampled weight matrix per sequence."""
    torch.manual_seed(seed)
    w_ih, w_hh, x = torch.randn(5, 3), torch.randn(5, 5) / 3, torch.randn(6, batch, 3)
    out = variational.variational_rnn(x, w_ih, w_hh, p, torch.Generator().manual_seed(seed))
    g = torch.Generator().manual_seed(seed)
    m_x, m_h = naive.inverted_mask((batch, 3), p, g), naive.inverted_mask((batch, 5), p, g)
    for b in range(batch):
        alone = naive.rnn_states(x[:, b : b + 1], variational.thinned(w_ih, m_x[b]), variational.thinned(w_hh, m_h[b]))
        torch.testing.assert_close(out[:, b : b + 1], alone, atol=1e-5, rtol=1e-5)


def test_a_fresh_mask_is_not_a_fixed_network():
    """Contrast: with a new mask at every step, no single thinned W_hh reproduces the run."""
    torch.manual_seed(0)
    w_ih, w_hh, x = torch.randn(5, 3), torch.randn(5, 5), torch.randn(6, 1, 3)
    fresh = naive.inverted_mask((6, 1, 5), 0.5, torch.Generator().manual_seed(0))
    out = naive.rnn_states(x, w_ih, w_hh, hidden_mask=fresh)
    candidates = [naive.rnn_states(x, w_ih, variational.thinned(w_hh, fresh[t, 0])) for t in range(6)]
    assert all(not torch.allclose(out, c) for c in candidates)


def test_page_numbers():
    facts = variational.facts()
    assert facts["scale"] == 2.0 and facts["p"] == 0.5
    out = variational.LockedDropout(facts["p"])(torch.ones(facts["steps"], 2, facts["units"]))
    assert set(out.unique().tolist()) <= {0.0, facts["scale"]}


def test_nn_dropout_is_not_locked():
    """The demo's contrast: nn.Dropout draws a new mask at every step."""
    torch.manual_seed(0)
    out = nn.Dropout(0.5)(torch.ones(20, 4, 16))
    assert not torch.equal(out, out[:1].expand_as(out))
