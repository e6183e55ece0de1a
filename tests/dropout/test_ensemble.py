import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.dropout import ensemble


@pytest.mark.claim("dropout/two-to-the-n")
def test_there_are_two_to_the_n_distinct_sub_networks():
    masks = ensemble.all_masks(4)
    assert masks.shape == (16, 4)
    assert len({tuple(m.tolist()) for m in masks}) == 16
    assert ensemble.facts()["n_subnets"] == 16


@pytest.mark.claim("dropout/ensemble-linear")
@given(n=st.integers(1, 6), p=st.floats(0.05, 0.9), seed=st.integers(0, 1000))
@settings(max_examples=40, deadline=None)
def test_ensemble_average_equals_eval_mode_for_a_linear_layer(n, p, seed):
    torch.manual_seed(seed)
    h, layer = torch.randn(n), nn.Linear(n, 3)
    with torch.no_grad():
        torch.testing.assert_close(ensemble.ensemble_average(h, layer, p), layer(h), atol=1e-5, rtol=1e-5)


@pytest.mark.claim("dropout/nonlinear-approx")
def test_with_a_nonlinearity_one_pass_is_only_an_approximation():
    """The exact equality is a property of linearity; after a ReLU it no longer holds."""
    torch.manual_seed(0)
    h, layer = torch.randn(6), nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 1))
    with torch.no_grad():
        assert not torch.allclose(ensemble.ensemble_average(h, layer, 0.5), layer(h), atol=1e-3)
