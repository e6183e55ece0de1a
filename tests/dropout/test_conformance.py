"""Conformance of the dropout chapter's hand-written code with PyTorch.

Given the same mask, `inverted_dropout` / `dropout_layer` must equal `F.dropout` bit for bit
(value, dtype, device, gradient) on every dtype and shape; bad input must be refused with an
error naming the argument. The exercise solutions are checked against brute force."""

import itertools
import math
from collections import defaultdict
from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.dropout import bernoulli, ensemble, exercises, inverted, pytorch

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
PS = [0.1, 0.3, 0.45, 0.7]


def torch_mask(like, p, seed, dtype=None):
    """The keep-mask F.dropout draws for a tensor laid out like `like` (a shape or a tensor:
    PyTorch draws in memory order, so a transposed input gets a transposed mask) after
    torch.manual_seed(seed), read off its output on ones."""
    ones = torch.ones(like, dtype=dtype) if not isinstance(like, torch.Tensor) else torch.ones_like(like)
    torch.manual_seed(seed)
    return (F.dropout(ones, p, training=True) != 0).to(ones.dtype)


def inputs(shape, dtype, seed=0):
    return (torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 10).to(dtype)


@pytest.mark.claim("dropout/matches-f-dropout")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", PS)
def test_inverted_dropout_equals_f_dropout_bit_for_bit(dtype, p):
    h = inputs((64, 9), dtype)
    mask = torch_mask(h.shape, p, 3, dtype)
    torch.manual_seed(3)
    expected = F.dropout(h, p, training=True)
    got = inverted.inverted_dropout(h, mask, p)
    assert got.dtype == expected.dtype == dtype
    assert torch.equal(got, expected)
    # a float32 mask (what bernoulli_mask makes by default) must not promote the result
    assert torch.equal(inverted.inverted_dropout(h, mask.float(), p), expected)
    # the old order, (h * r) / (1 - p), is off in the last bit for some values
    if p in (0.1, 0.3):
        assert not torch.equal(bernoulli.apply_mask(h, mask) / (1 - p), expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "make",
    [
        lambda d: inputs((), d),  # 0-d
        lambda d: inputs((1,), d),  # one element
        lambda d: inputs((1, 5), d),  # batch of one
        lambda d: inputs((6, 4), d).T,  # non-contiguous
        lambda d: inputs((2, 3, 4, 5), d).to(memory_format=torch.channels_last),
        lambda d: inputs((2, 2, 2, 2, 2, 2), d),
    ],
    ids=["0d", "one", "batch1", "transposed", "channels_last", "6d"],
)
def test_dropout_layer_with_pytorchs_mask_is_f_dropout(monkeypatch, dtype, make):
    h = make(dtype)
    before = h.clone()
    p, seed = 0.3, 11
    mask = torch_mask(h, p, seed)
    monkeypatch.setattr(inverted, "bernoulli_mask", lambda *args, **kwargs: mask)
    torch.manual_seed(seed)
    expected = F.dropout(h, p, training=True)
    got = inverted.dropout_layer(h, p, training=True)
    assert got.dtype == dtype and got.shape == h.shape
    assert torch.equal(got, expected)
    assert torch.equal(h, before), "input mutated"


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_layer_keeps_dtype_and_makes_its_mask_on_the_input_device(dtype):
    h = inputs((50, 7), dtype)
    out = inverted.dropout_layer(h, 0.25, True, torch.Generator().manual_seed(0))
    assert out.dtype == dtype
    kept = out != 0
    torch.testing.assert_close(out[kept], (h * (torch.ones_like(h) / 0.75))[kept], rtol=0, atol=0)
    meta = inverted.dropout_layer(torch.empty(3, 4, device="meta", dtype=dtype), 0.25, True)
    assert meta.device.type == "meta" and meta.dtype == dtype and meta.shape == (3, 4)
    mask = bernoulli.bernoulli_mask((2, 3), 0.5, device="meta", dtype=dtype)
    assert mask.device.type == "meta" and mask.dtype == dtype


@pytest.mark.claim("dropout/matches-f-dropout")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("p", [0.2, 0.6])
def test_gradient_equals_autograd_through_f_dropout(dtype, p):
    h = inputs((8, 5), dtype).requires_grad_()
    mask = torch_mask(h.shape, p, 5, dtype)
    weights = inputs((8, 5), dtype, seed=1)
    (inverted.inverted_dropout(h, mask, p) * weights).sum().backward()
    ours, h.grad = h.grad, None
    torch.manual_seed(5)
    (F.dropout(h, p, training=True) * weights).sum().backward()
    assert torch.equal(ours, h.grad)


def test_p_one_drops_everything_as_pytorch_does():
    """PyTorch accepts p = 1 and returns h * 0: zeros, and NaN where h is NaN or inf."""
    h = torch.tensor([1.0, -2.0, float("nan"), float("inf")])
    expected = F.dropout(h, 1.0, training=True)
    got = inverted.dropout_layer(h, 1.0, training=True)
    torch.testing.assert_close(got, expected, equal_nan=True, rtol=0, atol=0)
    assert torch.equal(inverted.dropout_layer(h[:2], 1.0, training=False), h[:2])
    half = inverted.dropout_layer(torch.ones(3, dtype=torch.float16), 1.0, True)
    assert half.dtype == torch.float16 and not half.any()


def test_p_zero_and_eval_are_the_identity_even_for_integer_tensors():
    ints = torch.arange(6)
    assert inverted.dropout_layer(ints, 0.5, training=False) is ints
    assert F.dropout(ints, 0.5, training=False).dtype == torch.int64  # what PyTorch does
    assert inverted.dropout_layer(ints, 0.0, training=True) is ints


def test_nan_in_the_input_propagates_like_pytorch():
    h = torch.tensor([float("nan")] * 8 + [1.0] * 8)
    mask = torch_mask(h.shape, 0.5, 0, torch.float32)
    torch.manual_seed(0)
    expected = F.dropout(h, 0.5, training=True)
    got = inverted.inverted_dropout(h, mask, 0.5)
    assert torch.isnan(got[:8]).all() and torch.isnan(expected[:8]).all()  # NaN * 0 is NaN
    torch.testing.assert_close(got, expected, equal_nan=True, rtol=0, atol=0)


@pytest.mark.claim("dropout/bad-input")
@pytest.mark.parametrize(
    "p, error",
    [
        (None, TypeError),
        (True, TypeError),
        ("0.5", TypeError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (-0.1, ValueError),
        (1.5, ValueError),
    ],
)
def test_bad_p_is_refused_naming_p(p, error):
    """PyTorch raises for NaN and out-of-range p, and silently reads True as p = 1."""
    with pytest.raises(error, match="drop probability p"):
        inverted.dropout_layer(torch.ones(3), p, training=True)
    with pytest.raises(error, match="drop probability p"):
        bernoulli.bernoulli_mask((3,), p)


def test_integer_tensors_are_refused_in_training_as_pytorch_refuses_them():
    with pytest.raises(RuntimeError):
        F.dropout(torch.arange(4), 0.5, training=True)
    with pytest.raises(TypeError, match="h must be a floating-point tensor"):
        inverted.dropout_layer(torch.arange(4), 0.5, training=True)
    with pytest.raises(TypeError, match="h must be a tensor"):
        inverted.dropout_layer([1.0, 2.0], 0.5, training=True)


def test_p_one_is_still_refused_where_a_mask_is_divided_by_one_minus_p():
    with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
        inverted.inverted_dropout(torch.ones(2), torch.zeros(2), 1.0)


def test_apply_mask_keeps_the_dtype_of_h():
    h = torch.ones(4, dtype=torch.bfloat16)
    assert bernoulli.apply_mask(h, torch.tensor([1.0, 0.0, 1.0, 0.0])).dtype == torch.bfloat16


# ---- the ensemble page and the inverted page's note on nonlinearities -------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ensemble_average_keeps_dtype_and_equals_eval_mode(dtype):
    torch.manual_seed(0)
    layer = nn.Linear(5, 2).to(dtype)
    h = torch.randn(5, dtype=dtype)
    with torch.no_grad():
        out = ensemble.ensemble_average(h, layer, 0.3)
        assert out.dtype == dtype
        torch.testing.assert_close(out, layer(h))


@pytest.mark.parametrize(
    "h, p, match",
    [
        (torch.ones(16, 4), 0.5, r"h must be one example of shape \(n,\)"),  # B = 2**n would broadcast
        (torch.ones(17), 0.5, "1 to 16 units"),
        (torch.ones(3), 1.0, "drop probability p"),
        (torch.ones(3), -0.5, "drop probability p"),
    ],
)
def test_ensemble_average_refuses_bad_input(h, p, match):
    with pytest.raises(ValueError, match=match):
        ensemble.ensemble_average(h, nn.Linear(h.shape[-1], 1), p)


@pytest.mark.claim("dropout/nonlinear-gap")
@pytest.mark.parametrize("seed", [0, 1, 2, 4])
def test_expectation_survives_the_linear_map_but_not_the_relu(seed):
    gap = inverted.nonlinearity_gap(seed)
    assert gap["linear_mean"] == pytest.approx(gap["linear_of_mean"], rel=1e-12, abs=1e-12)
    # relu is convex, so by Jensen E[relu(W h~)] >= relu(W h); here strictly
    assert gap["relu_mean"] > gap["relu_of_mean"] + 1e-3
    facts = inverted.facts()
    assert facts["gap_relu_of_mean"] == 0.0 < facts["gap_relu_mean"]


# ---- exercise solutions against brute force ---------------------------------------------------


def brute_force_distribution(x, p):
    """Enumerate all masks in exact rational arithmetic and add up equal outputs."""
    p = Fraction(p)
    table = defaultdict(Fraction)
    for mask in itertools.product([0, 1], repeat=len(x)):
        prob = math.prod((1 - p) if r else p for r in mask)
        if prob:
            out = tuple(Fraction(v) / (1 - p) if r else Fraction(0) for v, r in zip(x, mask))
            table[out] += prob
    return {tuple(float(v) for v in k): float(v) for k, v in table.items()}


@pytest.mark.claim("dropout/outcomes-add-up")
def test_output_distribution_with_a_zero_input_sums_to_one():
    """The outside probe: masks that give the same output used to overwrite each other."""
    table = exercises.output_distribution([0.0, 6.0], 0.25)
    assert sum(table.values()) == pytest.approx(1.0)
    assert table == pytest.approx({(0.0, 8.0): 0.75, (0.0, 0.0): 0.25})
    facts = exercises.facts()
    assert facts["zero_x"] == [0.0, 6.0] and facts["zero_outcomes"] == 2
    assert facts["zero_probs"] == pytest.approx([0.75, 0.25])


@pytest.mark.claim("dropout/outcomes-add-up")
@given(
    x=st.lists(st.sampled_from([0.0, -0.0, 1.0, 3.0, -2.5, 6.0]), min_size=1, max_size=5),
    p=st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0]),
)
@settings(max_examples=25, deadline=None)
def test_output_distribution_equals_brute_force(x, p):
    table = exercises.output_distribution(x, p)
    assert sum(table.values()) == pytest.approx(1.0)
    expected = brute_force_distribution(x, p)
    assert len(table) == len(expected)  # equal outputs were merged, distinct ones kept apart
    # exact rationals vs floats: outputs may differ in the last bit, so compare in order
    for (out, prob), (exact_out, exact_prob) in zip(sorted(table.items()), sorted(expected.items())):
        assert out == pytest.approx(exact_out, rel=1e-12)
        assert prob == pytest.approx(exact_prob, rel=1e-12)


def test_output_distribution_has_the_support_nn_dropout_samples():
    for x in ([0.0, 6.0], [3.0, 3.0, 0.0]):
        table = exercises.output_distribution(x, 0.25)
        sampled = exercises.sampled_frequencies(x, 0.25, samples=20_000)
        assert set(sampled) == set(table)
        for out, prob in table.items():
            assert sampled[out] == pytest.approx(prob, abs=0.015)


@pytest.mark.parametrize(
    "x, error, match",
    [
        ([float("nan")], ValueError, "x must be finite"),
        ([float("inf"), 1.0], ValueError, "x must be finite"),
        ([], ValueError, "1 to 16 values"),
        ([0.0] * 17, ValueError, "1 to 16 values"),
        ([True], TypeError, "x must hold real numbers"),
        ([None], TypeError, "x must hold real numbers"),
    ],
)
def test_output_distribution_refuses_what_it_cannot_tabulate(x, error, match):
    """nn.Dropout turns a dropped NaN or inf into NaN, not 0: the table would be wrong."""
    assert torch.isnan(F.dropout(torch.tensor([float("inf")]), 1.0, training=True)).all()
    with pytest.raises(error, match=match):
        exercises.output_distribution(x, 0.5)


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 1.0])
def test_survivor_scale_is_what_nn_dropout_multiplies_by(p):
    layer = nn.Dropout(p)
    torch.manual_seed(0)
    out = layer.train()(torch.ones(2000))
    assert out.max().item() == pytest.approx(exercises.survivor_scale(layer))


@given(h=st.floats(-20, 20), p=st.floats(0.0, 0.95))
@settings(max_examples=25, deadline=None)
def test_moments_equal_the_two_outcome_enumeration(h, p):
    outcomes = inverted.outcomes(h, p, inverted=True)
    mean = sum(prob * out for _, prob, out in outcomes)
    var = sum(prob * (out - mean) ** 2 for _, prob, out in outcomes)
    got_mean, got_var = exercises.inverted_dropout_moments(h, p)
    assert got_mean == pytest.approx(mean, rel=1e-9, abs=1e-9)
    assert got_var == pytest.approx(var, rel=1e-6, abs=1e-6)


def test_count_subnetworks_equals_enumeration_and_refuses_non_integers():
    for n in range(8):
        assert exercises.count_subnetworks(n) == len(ensemble.all_masks(n))
    for bad in (3.5, True, None):
        with pytest.raises(TypeError, match="droppable_units must be an int"):
            exercises.count_subnetworks(bad)


@pytest.mark.parametrize("keep_prob", [True, None, "0.5"])
def test_keep_prob_must_be_a_number(keep_prob):
    with pytest.raises(TypeError, match="keep_prob must be a real number"):
        pytorch.torch_p_from_keep_prob(keep_prob)
