import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.dropout import inverted


@pytest.mark.claim("dropout/plain-shrinks", "dropout/inverted-restores")
def test_plain_dropout_shrinks_the_expectation_by_the_keep_probability():
    facts = inverted.facts()
    assert facts["plain_expected"] == 5.0 == facts["keep_prob"] * facts["h"]
    assert (facts["inverted_kept"], facts["inverted_dropped"], facts["inverted_expected"]) == (20.0, 0.0, 10.0)
    assert facts["mc_mean"] == pytest.approx(10.0, abs=0.05)


@pytest.mark.claim("dropout/plain-shrinks", "dropout/inverted-restores")
@given(h=st.floats(-100, 100), p=st.floats(0.0, 0.99))
def test_inverted_dropout_is_unbiased_for_any_h_and_p(h, p):
    assert inverted.expected_output(h, p, inverted=True) == pytest.approx(h, rel=1e-9, abs=1e-9)
    assert inverted.expected_output(h, p, inverted=False) == pytest.approx((1 - p) * h, rel=1e-9, abs=1e-9)


@pytest.mark.claim("dropout/survivors-divided")
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple),
    p=st.floats(0.0, 0.95),
    seed=st.integers(0, 2**31 - 1),
)
@settings(max_examples=60, deadline=None)
def test_manual_inverted_dropout_equals_pytorch(shape, p, seed):
    h = torch.randn(shape, generator=torch.Generator().manual_seed(seed + 1))
    torch.manual_seed(seed)
    mask = (F.dropout(torch.ones(shape), p, training=True) != 0).float()
    torch.manual_seed(seed)
    expected = F.dropout(h, p, training=True)
    torch.testing.assert_close(inverted.inverted_dropout(h, mask, p), expected, atol=1e-6, rtol=1e-6)


@pytest.mark.claim("dropout/eval-identity")
def test_dropout_layer_in_eval_and_with_p_zero_is_the_identity():
    h = torch.randn(5, 7)
    assert inverted.dropout_layer(h, 0.5, training=False) is h
    assert torch.equal(inverted.dropout_layer(h, 0.0, training=True), h)


@pytest.mark.claim("dropout/survivors-divided")
def test_training_outputs_are_zero_or_scaled():
    h = torch.full((1000,), 3.0)
    out = inverted.dropout_layer(h, 0.25, training=True, generator=torch.Generator().manual_seed(0))
    assert set(out.unique().tolist()) == {0.0, 4.0}


@pytest.mark.parametrize("p", [-0.5, 1.0])
def test_bad_p_is_refused(p):
    with pytest.raises(ValueError, match="drop probability p"):
        inverted.expected_output(1.0, p, inverted=True)
    with pytest.raises(ValueError, match="drop probability p"):
        inverted.inverted_dropout(torch.ones(2), torch.ones(2), p)
