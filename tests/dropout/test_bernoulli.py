import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.dropout import bernoulli

shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)
probs = st.floats(0.0, 0.95)


def test_worked_examples():
    facts = bernoulli.facts()
    assert facts["layer_out"].tolist() == [4.0, 0.0, 8.0, 0.0]
    assert facts["primer_out"].tolist() == [5.0, 0.0, 7.0, 0.0]
    assert facts["coin_heads"] == pytest.approx(0.7, abs=0.02)


@pytest.mark.claim("dropout/keep-rate")
@given(shape=shapes, p=probs, seed=st.integers(0, 2**31 - 1))
@settings(max_examples=60, deadline=None)
def test_mask_is_binary_and_reproducible(shape, p, seed):
    mask = bernoulli.bernoulli_mask(shape, p, torch.Generator().manual_seed(seed))
    again = bernoulli.bernoulli_mask(shape, p, torch.Generator().manual_seed(seed))
    assert mask.shape == shape
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(mask, again)


@given(shape=shapes, p=probs, seed=st.integers(0, 2**31 - 1))
@settings(max_examples=60, deadline=None)
def test_apply_mask_equals_pytorch_dropout_with_the_same_mask(shape, p, seed):
    """Read PyTorch's own mask off its output on ones; then h * r times 1/(1-p) is its output."""
    h = torch.randn(shape, generator=torch.Generator().manual_seed(seed + 1))
    torch.manual_seed(seed)
    torch_mask = (F.dropout(torch.ones(shape), p, training=True) != 0).float()
    torch.manual_seed(seed)
    expected = F.dropout(h, p, training=True)
    torch.testing.assert_close(bernoulli.apply_mask(h, torch_mask) / (1 - p), expected, atol=1e-6, rtol=1e-6)


@pytest.mark.claim("dropout/keep-rate")
def test_keep_rate_matches_one_minus_p():
    mask = bernoulli.bernoulli_mask((200_000,), p=0.3, generator=torch.Generator().manual_seed(1))
    assert mask.mean().item() == pytest.approx(0.7, abs=0.005)


@pytest.mark.claim("dropout/bad-input")
@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_p_names_the_argument(p):
    with pytest.raises(ValueError, match=r"drop probability p must be in \[0, 1\)"):
        bernoulli.bernoulli_mask((3,), p)


@pytest.mark.claim("dropout/bad-input")
def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match=r"mask shape \(3,\) does not match h shape \(4,\)"):
        bernoulli.apply_mask(torch.ones(4), torch.ones(3))
