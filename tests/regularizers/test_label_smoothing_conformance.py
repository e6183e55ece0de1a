"""Conformance: smoothed_cross_entropy against F.cross_entropy(label_smoothing=eps) over
targets (indices, probabilities), ignore_index, weight, reductions, N-d inputs, dtypes,
devices (meta), gradients and bad arguments."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.regularizers import label_smoothing as ls

TOL = {torch.float64: 1e-10, torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 2e-2}


@st.composite
def problems(draw):
    """logits of shape (C,), (N, C) or (N, C, d1[, d2]), targets of both kinds."""
    rank = draw(st.sampled_from([1, 2, 3, 4]))
    k = draw(st.integers(1, 5))
    n = draw(st.integers(1, 3))
    spatial = [draw(st.integers(1, 3)) for _ in range(max(rank - 2, 0))]
    shape = [k] if rank == 1 else [n, k, *spatial]
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    logits = 4 * torch.randn(shape, generator=g, dtype=torch.float64)
    class_dim = 0 if rank == 1 else 1
    labels = torch.randint(0, k, shape[:class_dim] + shape[class_dim + 1 :], generator=g)
    if draw(st.booleans()) and labels.numel() > 1:
        labels.view(-1)[0] = -100  # ignored position
    probs = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), class_dim)
    weight = torch.rand(k, generator=g, dtype=torch.float64) + 0.1 if draw(st.booleans()) else None
    return logits, labels, probs, weight


@given(
    problem=problems(),
    eps=st.floats(0.0, 1.0),
    reduction=st.sampled_from(ls.REDUCTIONS),
    dtype=st.sampled_from([torch.float64, torch.float32]),
)
@settings(max_examples=25, deadline=None)
def test_equals_cross_entropy_for_indices_and_probabilities(problem, eps, reduction, dtype):
    logits, labels, probs, weight = problem
    logits, probs = logits.to(dtype), probs.to(dtype)
    weight = None if weight is None else weight.to(dtype)
    for target in (labels, probs):
        if logits.dim() == 1 and not target.is_floating_point() and target.item() == -100:
            continue
        kwargs = dict(weight=weight, reduction=reduction)
        got = ls.smoothed_cross_entropy(logits, target, eps, **kwargs)
        expected = F.cross_entropy(logits, target, label_smoothing=eps, **kwargs)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        torch.testing.assert_close(got, expected, atol=TOL[dtype], rtol=TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_keeps_the_dtype_and_does_not_overflow(dtype):
    """Logits near 1000 in float16: the sums are done in float32, the result is float16."""
    logits = (1000 + torch.randn(6, 5, generator=torch.Generator().manual_seed(0))).to(dtype)
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    got = ls.smoothed_cross_entropy(logits, labels, 0.1)
    expected = F.cross_entropy(logits, labels, label_smoothing=0.1)
    assert got.dtype == expected.dtype == dtype and torch.isfinite(got)
    reference = F.cross_entropy(logits.double(), labels, label_smoothing=0.1)
    torch.testing.assert_close(got.double(), reference, atol=TOL[dtype] * 5, rtol=TOL[dtype])
    torch.testing.assert_close(got, expected, atol=TOL[dtype] * 5, rtol=TOL[dtype])


@given(problem=problems(), eps=st.floats(0.0, 1.0))
@settings(max_examples=15, deadline=None)
def test_gradient_equals_autograd_through_pytorch(problem, eps):
    logits, labels, _, weight = problem
    if logits.dim() == 1 and labels.item() == -100:
        labels = torch.tensor(0)
    mine, theirs = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    ls.smoothed_cross_entropy(mine, labels, eps, weight=weight).backward()
    F.cross_entropy(theirs, labels, weight=weight, label_smoothing=eps).backward()
    torch.testing.assert_close(mine.grad, theirs.grad, atol=1e-10, rtol=1e-8, equal_nan=True)


def test_non_contiguous_and_channels_last_inputs():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 3, 4, 5, generator=g).to(memory_format=torch.channels_last)
    labels = torch.randint(0, 3, (2, 4, 5), generator=g)
    torch.testing.assert_close(
        ls.smoothed_cross_entropy(logits, labels, 0.2), F.cross_entropy(logits, labels, label_smoothing=0.2)
    )
    wide = torch.randn(5, 3, generator=g).t()  # (3, 5) view, not contiguous: 3 examples
    assert not wide.is_contiguous()
    labels = torch.tensor([4, 0, 2])
    torch.testing.assert_close(
        ls.smoothed_cross_entropy(wide, labels, 0.2), F.cross_entropy(wide, labels, label_smoothing=0.2)
    )


def test_inputs_are_not_mutated():
    logits, labels = torch.randn(4, 3), torch.tensor([0, -100, 2, 1])
    before = logits.clone(), labels.clone()
    ls.smoothed_cross_entropy(logits, labels, 0.3, reduction="none")
    assert torch.equal(logits, before[0]) and torch.equal(labels, before[1])


def test_ignore_index_is_ignored_even_with_nan_logits():
    logits = torch.tensor([[1.0, 2.0, 0.5], [math.nan, 0.0, 0.0]])
    labels = torch.tensor([1, 7])
    got = ls.smoothed_cross_entropy(logits, labels, 0.1, ignore_index=7, reduction="none")
    expected = F.cross_entropy(logits, labels, ignore_index=7, label_smoothing=0.1, reduction="none")
    torch.testing.assert_close(got, expected)
    assert got[1] == 0
    # every position ignored: the mean is 0 / 0, NaN, as in PyTorch
    all_ignored = torch.tensor([-100, -100])
    assert torch.isnan(ls.smoothed_cross_entropy(logits, all_ignored, 0.1))
    assert torch.isnan(F.cross_entropy(logits, all_ignored, label_smoothing=0.1))


def test_nan_and_inf_logits_propagate_as_in_pytorch():
    minus_inf = torch.tensor([[0.0, -math.inf, 1.0]])
    for eps in (0.0, 0.1):  # eps=0: finite (0 * log 0 = 0); eps>0: the -inf class has a target
        got = ls.smoothed_cross_entropy(minus_inf, torch.tensor([0]), eps)
        torch.testing.assert_close(got, F.cross_entropy(minus_inf, torch.tensor([0]), label_smoothing=eps))
    nan = torch.tensor([[0.0, math.nan, 1.0]])
    assert torch.isnan(ls.smoothed_cross_entropy(nan, torch.tensor([0]), 0.1))
    assert torch.isnan(F.cross_entropy(nan, torch.tensor([0]), label_smoothing=0.1))


def test_meta_device_runs_and_returns_meta():
    logits = torch.empty(3, 4, 2, device="meta")
    labels = torch.empty(3, 2, dtype=torch.long, device="meta")
    for reduction in ls.REDUCTIONS:
        got = ls.smoothed_cross_entropy(logits, labels, 0.1, reduction=reduction)
        expected = F.cross_entropy(logits, labels, label_smoothing=0.1, reduction=reduction)
        assert got.device.type == "meta" and got.shape == expected.shape
    assert ls.smooth_targets(labels, 4, 0.1).device.type == "meta"


def test_uint8_labels_are_accepted_like_pytorch():
    logits, labels = torch.randn(3, 4), torch.tensor([0, 3, 1], dtype=torch.uint8)
    torch.testing.assert_close(
        ls.smoothed_cross_entropy(logits, labels, 0.1), F.cross_entropy(logits, labels, label_smoothing=0.1)
    )


def test_module_form_is_the_same_function():
    logits, labels = torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])
    weight = torch.tensor([1.0, 2.0, 0.5])
    module = nn.CrossEntropyLoss(weight=weight, reduction="sum", label_smoothing=0.25)
    torch.testing.assert_close(
        ls.smoothed_cross_entropy(logits, labels, 0.25, weight=weight, reduction="sum"), module(logits, labels)
    )


@pytest.mark.claim("regularizers/pytorch-eps-quirk")
@pytest.mark.parametrize("eps", [-0.1, math.nan])
def test_pytorch_silently_treats_negative_or_nan_eps_as_zero_we_refuse(eps):
    logits, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    assert F.cross_entropy(logits, labels, label_smoothing=eps) == F.cross_entropy(logits, labels)
    with pytest.raises(ValueError, match="eps must be in"):
        ls.smoothed_cross_entropy(logits, labels, eps)
    with pytest.raises(RuntimeError, match="label_smoothing must be between"):
        F.cross_entropy(logits, labels, label_smoothing=1.5)
    with pytest.raises(ValueError, match="eps must be in"):
        ls.smoothed_cross_entropy(logits, labels, 1.5)


@pytest.mark.parametrize("eps", [True, None, "0.1", torch.tensor(0.1)])
def test_eps_that_is_not_a_float_is_refused(eps):
    with pytest.raises(TypeError, match="eps must be a float"):
        ls.smooth_targets(torch.tensor([0]), 3, eps)


@pytest.mark.parametrize(
    ("logits", "target", "kwargs", "error", "match"),
    [
        (torch.randn(3, 4), torch.tensor([0, 1]), {}, ValueError, r"target must have shape \(3,\)"),
        (torch.randn(2, 3, 4), torch.randint(0, 3, (2, 3)), {}, ValueError, r"target must have shape \(2, 4\)"),
        (torch.randn(3, 4), torch.rand(3, 5), {}, ValueError, "probability target must have the shape"),
        (torch.randn(3, 4), torch.tensor([0, 4, 1]), {}, ValueError, r"labels must lie in \[0, 3\]"),
        (torch.randn(3, 4), torch.tensor([0, -1, 1]), {}, ValueError, r"labels must lie in \[0, 3\]"),
        (torch.randn(3, 4), torch.tensor([0, 1, 2], dtype=torch.int32), {}, TypeError, "dtype int64"),
        (torch.randn(3, 4), torch.tensor([True, False, True]), {}, TypeError, "dtype int64"),
        (torch.randn(3, 4), torch.tensor([0, 1, 2]), {"reduction": "avg"}, ValueError, "reduction must be one of"),
        (
            torch.randn(3, 4),
            torch.tensor([0, 1, 2]),
            {"weight": torch.ones(1)},
            ValueError,
            r"weight must be a tensor of shape \(4,\)",
        ),
        (
            torch.randn(3, 4),
            torch.tensor([0, 1, 2]),
            {"weight": torch.ones(4, dtype=torch.float64)},
            TypeError,
            "weight must have the dtype",
        ),
        (torch.tensor(1.0), torch.tensor(0), {}, ValueError, "class dimension"),
        (torch.tensor([[1, 2]]), torch.tensor([0]), {}, TypeError, "logits must be a floating-point"),
        (torch.randn(3, 4), [0, 1, 2], {}, TypeError, "target must be a tensor"),
    ],
)
def test_bad_arguments_are_refused(logits, target, kwargs, error, match):
    with pytest.raises(error, match=match):
        ls.smoothed_cross_entropy(logits, target, 0.1, **kwargs)


@pytest.mark.claim("regularizers/last-dim-bug")
def test_the_old_last_dim_version_was_silently_wrong_on_nd_inputs():
    """Taking the classes from the last axis, as the earlier version did, gives a number for
    (N, C, L) logits with C == L, and it is not PyTorch's."""
    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(2, 3, 3, generator=g), torch.randint(0, 3, (2, 3), generator=g)
    last_dim = -(ls.smooth_targets(labels, 3, 0.1) * logits.log_softmax(-1)).sum(-1).mean()
    expected = F.cross_entropy(logits, labels, label_smoothing=0.1)
    assert not torch.allclose(last_dim, expected, atol=1e-3)
    torch.testing.assert_close(ls.smoothed_cross_entropy(logits, labels, 0.1), expected)
