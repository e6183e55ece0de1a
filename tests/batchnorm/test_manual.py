"""The manual batch norm: the worked example's numbers, the corrected rounding, the identity
via gamma and beta, bad input, and agreement with PyTorch on random shapes and values."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.batchnorm import manual

F64 = torch.float64


@pytest.mark.claim("batchnorm/biased-variance")
def test_worked_example_numbers():
    facts = manual.facts()
    assert facts["x"] == [2.0, 4.0, 6.0, 8.0] and facts["n"] == 4
    assert (facts["gamma"], facts["beta"], facts["eps"], facts["eps_exp"]) == (2.0, 1.0, 1e-5, -5)
    assert facts["sum_x"] == 20.0 and facts["mu"] == 5.0
    assert facts["deviations"].tolist() == [-3.0, -1.0, 1.0, 3.0]
    assert facts["squared"].tolist() == [9.0, 1.0, 1.0, 9.0]
    assert facts["sum_squared"] == 20.0 and facts["var"] == 5.0  # biased: 20 / 4, not 20 / 3
    assert round(facts["std"], 4) == 2.2361
    assert [round(v, 4) for v in facts["x_hat"].tolist()] == [-1.3416, -0.4472, 0.4472, 1.3416]
    assert [round(v, 2) for v in facts["x_hat"].tolist()] == [-1.34, -0.45, 0.45, 1.34]
    assert [round(v, 4) for v in facts["scaled"].tolist()] == [-2.6833, -0.8944, 0.8944, 2.6833]
    assert [round(v, 4) for v in facts["y"].tolist()] == [-1.6833, 0.1056, 1.8944, 3.6833]


@pytest.mark.claim("batchnorm/early-rounding")
def test_correction_y_rounds_to_0_11_and_1_89_not_0_1_and_1_9():
    facts = manual.facts()
    assert [round(v, 2) for v in facts["y"].tolist()] == [-1.68, 0.11, 1.89, 3.68]
    # The lesson's numbers come from rounding x_hat to 2 decimals first, then scaling by gamma = 2.
    assert [round(v, 2) for v in facts["y_lesson"].tolist()] == [-1.68, 0.10, 1.90, 3.68]
    assert facts["x_hat_1_rounded"] == -0.45
    # Rounding x_hat is off by at most 0.005; gamma = 2 doubles that, past what 2 decimals can absorb.
    assert facts["x_hat_error"] < facts["half_unit"] == 0.005 < facts["lesson_error"]
    assert [round(v, 2) for v in facts["scaled_rounded"].tolist()] == [-2.68, -0.90, 0.90, 2.68]
    assert facts["lesson_error"] == pytest.approx(2 * facts["x_hat_error"])


def test_normalised_values_have_zero_mean_and_unit_variance():
    *_, steps = manual.example()
    assert steps.x_hat.mean().item() == pytest.approx(0.0, abs=1e-12)
    assert steps.x_hat.var(correction=0).item() == pytest.approx(5 / (5 + 1e-5))
    # y has the spread gamma and the position beta
    assert steps.y.mean().item() == pytest.approx(1.0)
    assert steps.y.std(correction=0).item() == pytest.approx(2.0, rel=1e-5)


@pytest.mark.claim("batchnorm/scale-offset-erased")
def test_without_gamma_and_beta_scale_and_offset_are_lost():
    x, _, _, _ = manual.example()
    ones, zeros = torch.ones(1, dtype=F64), torch.zeros(1, dtype=F64)
    a = manual.batch_norm(x, ones, zeros).x_hat
    b = manual.batch_norm(10 * x + 3, ones, zeros).x_hat
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)  # equal but for the tiny eps
    assert manual.facts()["x_scaled"] == [23.0, 43.0, 63.0, 83.0]


@pytest.mark.claim("batchnorm/identity-parameters")
@given(
    shape=st.sampled_from([(5, 3), (4, 2, 3, 3), (2, 1), (3, 4, 1, 2)]),
    seed=st.integers(0, 2**31 - 1),
    scale=st.floats(0.1, 100.0),
    shift=st.floats(-100.0, 100.0),
)
@settings(max_examples=40, deadline=None)
def test_gamma_sqrt_var_eps_and_beta_mu_give_back_x(shape, seed, scale, shift):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64) * scale + shift
    c = shape[1]
    steps = manual.batch_norm(x, torch.ones(c, dtype=F64), torch.zeros(c, dtype=F64))
    gamma, beta = manual.identity_params(steps)
    torch.testing.assert_close(manual.batch_norm(x, gamma, beta).y, x, rtol=1e-9, atol=1e-9)


@pytest.mark.claim("batchnorm/identity-parameters")
def test_identity_numbers_of_the_example():
    facts = manual.facts()
    assert round(facts["identity_gamma"], 4) == 2.2361 and facts["identity_beta"] == 5.0


shapes = st.one_of(
    st.tuples(st.integers(2, 8), st.integers(1, 5)),  # (N, C)
    st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),  # (N, C, H, W)
).filter(lambda s: s[0] * (s[2] * s[3] if len(s) == 4 else 1) > 1)


@pytest.mark.claim("batchnorm/biased-variance", "batchnorm/manual-equals-pytorch")
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), scale=st.floats(0.01, 50.0), shift=st.floats(-50.0, 50.0))
@settings(max_examples=50, deadline=None)
def test_manual_equals_pytorch_in_training_mode(shape, seed, scale, shift):
    g = torch.Generator().manual_seed(seed)
    c = shape[1]
    x = torch.randn(shape, generator=g, dtype=F64) * scale + shift
    gamma, beta = torch.randn(c, generator=g, dtype=F64), torch.randn(c, generator=g, dtype=F64)
    steps = manual.batch_norm(x, gamma, beta)

    functional = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
    module = (nn.BatchNorm1d(c) if len(shape) == 2 else nn.BatchNorm2d(c)).double().train()
    with torch.no_grad():
        module.weight.copy_(gamma)
        module.bias.copy_(beta)
        from_module = module(x)
    torch.testing.assert_close(steps.y, functional, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(steps.y, from_module, rtol=1e-6, atol=1e-6)
    dims = [0, *range(2, x.dim())]
    torch.testing.assert_close(steps.mean, x.mean(dim=dims))
    torch.testing.assert_close(steps.var, x.var(dim=dims, correction=0))


@pytest.mark.claim("batchnorm/manual-equals-pytorch")
@given(values=st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=16))
@settings(max_examples=60, deadline=None)
def test_manual_equals_batchnorm1d_on_any_single_feature_batch(values):
    x = torch.tensor(values, dtype=F64).reshape(-1, 1)
    steps = manual.batch_norm(x, torch.ones(1, dtype=F64), torch.zeros(1, dtype=F64))
    with torch.no_grad():
        expected = nn.BatchNorm1d(1).double().train()(x)
    torch.testing.assert_close(steps.y, expected, rtol=1e-6, atol=1e-6)


def test_float32_matches_within_float32_tolerance():
    x = torch.randn(16, 3, 5, 5, generator=torch.Generator().manual_seed(0)) * 4 + 7
    steps = manual.batch_norm(x, torch.ones(3), torch.zeros(3))
    torch.testing.assert_close(steps.y, nn.BatchNorm2d(3).train()(x).detach(), rtol=1e-5, atol=1e-5)


@pytest.mark.claim("batchnorm/batch-of-one")
@pytest.mark.parametrize("shape", [(1, 1), (1, 3), (1, 2, 1, 1)])
def test_one_value_per_channel_is_refused_like_pytorch(shape):
    c = shape[1]
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        manual.batch_norm(torch.randn(shape), torch.ones(c), torch.zeros(c))
    bn = nn.BatchNorm1d(c) if len(shape) == 2 else nn.BatchNorm2d(c)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        bn.train()(torch.randn(shape))


@pytest.mark.claim("batchnorm/batch-of-one")
def test_one_image_still_has_many_values_per_channel():
    x = torch.randn(1, 2, 3, 3, generator=torch.Generator().manual_seed(0))
    steps = manual.batch_norm(x, torch.ones(2), torch.zeros(2))
    torch.testing.assert_close(steps.y, nn.BatchNorm2d(2).train()(x).detach(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "name, gamma, beta",
    [
        ("gamma", torch.ones(4), torch.zeros(3)),
        ("beta", torch.ones(3), torch.zeros(2)),
        ("gamma", torch.ones(1, 3), torch.zeros(3)),
    ],
)
def test_gamma_or_beta_not_matching_the_channel_count_is_refused(name, gamma, beta):
    with pytest.raises(ValueError, match=rf"{name} must have shape \(C,\) = \(3,\)"):
        manual.batch_norm(torch.randn(8, 3), gamma, beta)


@pytest.mark.parametrize("shape", [(4,), (), (4, 0)])
def test_input_without_a_channel_dim_is_refused(shape):
    with pytest.raises(ValueError, match="x must have shape"):
        manual.batch_norm(torch.randn(shape), torch.ones(1), torch.zeros(1))


@pytest.mark.parametrize("eps", [0.0, -1e-5, float("nan"), float("inf")])
def test_eps_must_be_positive(eps):
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        manual.batch_norm(torch.randn(4, 1), torch.ones(1), torch.zeros(1), eps=eps)


def test_show_formats_fixed_decimals():
    assert manual.show(torch.tensor([[0.1056], [-1.0]]), 2) == "[0.11, -1.00]"
