"""Conformance of the chapter's manual batch norms with PyTorch: dtypes, devices, ranks, memory
layouts, gradients, running statistics, and bad input (each refusal names the argument)."""

import copy
import itertools

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.batchnorm import exercises as ex
from snippets.batchnorm import manual, pytorch

F64 = torch.float64
TOL = {torch.float16: 2e-2, torch.bfloat16: 8e-2, torch.float32: 1e-5, torch.float64: 1e-10}
DTYPES = list(TOL)
# every rank nn.BatchNorm accepts: BatchNorm1d (N, C) and (N, C, L), 2d, 3d
SHAPES = [(6, 3), (4, 3, 5), (3, 2, 4, 5), (2, 2, 3, 2, 4)]
MODULES = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}


def data(shape, dtype=torch.float32, seed=0, scale=3.0, shift=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=F64) * scale + shift).to(dtype)


def params(c, dtype=torch.float32, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(c, generator=g, dtype=F64).to(dtype), torch.randn(c, generator=g, dtype=F64).to(dtype)


def close(actual, expected, dtype):
    assert actual.dtype == expected.dtype
    torch.testing.assert_close(actual.double(), expected.double(), atol=TOL[dtype], rtol=TOL[dtype])


# ---------------------------------------------------------------- manual.batch_norm (training mode)


@pytest.mark.claim("batchnorm/manual-equals-pytorch")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_manual_batch_norm_equals_functional_and_module_in_every_dtype_and_rank(dtype, shape):
    x, (gamma, beta) = data(shape, dtype), params(shape[1], dtype)
    steps = manual.batch_norm(x, gamma, beta)
    close(steps.y, F.batch_norm(x, None, None, gamma, beta, training=True), dtype)
    module = MODULES[len(shape)](shape[1]).to(dtype).train()
    with torch.no_grad():
        module.weight.copy_(gamma)
        module.bias.copy_(beta)
        close(steps.y, module(x), dtype)
    assert steps.x_hat.dtype == dtype and steps.mean.shape == steps.var.shape == (shape[1],)


@pytest.mark.claim("batchnorm/half-precision")
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_batch_near_1000_does_not_overflow(dtype):
    """(x - mu)**2 of float16 values near 1000 with spread 300 exceeds 65504: the old version
    returned a variance of inf and an output of all zeros; PyTorch accumulates in float32."""
    x = data((64, 3), dtype, scale=300.0, shift=1000.0)
    ones, zeros = torch.ones(3, dtype=dtype), torch.zeros(3, dtype=dtype)
    steps = manual.batch_norm(x, ones, zeros)
    assert torch.isfinite(steps.var).all() and torch.isfinite(steps.y).all()
    assert steps.y.dtype == dtype and steps.var.dtype == torch.float32
    expected = F.batch_norm(x, None, None, ones, zeros, training=True)
    close(steps.y, expected, dtype)
    assert steps.y.float().std(dim=0).min() > 0.9  # not the zeros the overflow gave


@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_equal_autograd_through_f_batch_norm(shape):
    x, (gamma, beta) = data(shape, F64), params(shape[1], F64)
    upstream = data(shape, F64, seed=5)
    grads = []
    for fn in (
        lambda a, b, c: manual.batch_norm(a, b, c).y,
        lambda a, b, c: F.batch_norm(a, None, None, b, c, training=True),
    ):
        leaves = [t.clone().requires_grad_() for t in (x, gamma, beta)]
        (fn(*leaves) * upstream).sum().backward()
        grads.append([leaf.grad for leaf in leaves])
    for ours, theirs in zip(*grads):
        torch.testing.assert_close(ours, theirs, atol=1e-9, rtol=1e-9)


def test_meta_device_runs_and_returns_meta_tensors():
    x = torch.empty(4, 3, 5, 5, device="meta")
    gamma, beta = torch.ones(3, device="meta"), torch.zeros(3, device="meta")
    steps = manual.batch_norm(x, gamma, beta)
    assert steps.y.device.type == steps.mean.device.type == "meta" and steps.y.shape == x.shape
    assert F.batch_norm(x, None, None, gamma, beta, training=True).device.type == "meta"
    with pytest.raises(ValueError, match="gamma is on cpu, but x is on meta"):
        manual.batch_norm(x, torch.ones(3), beta)


@pytest.mark.parametrize("layout", ["channels_last", "transposed", "channels_last_3d"])
def test_channels_last_and_non_contiguous_inputs(layout):
    if layout == "channels_last":
        x = data((4, 3, 5, 6)).contiguous(memory_format=torch.channels_last)
    elif layout == "channels_last_3d":
        x = data((2, 3, 2, 4, 5)).contiguous(memory_format=torch.channels_last_3d)
    else:
        x = data((5, 6, 3)).transpose(1, 2)  # (N, C, L) = (5, 3, 6), not contiguous
        assert not x.is_contiguous()
    gamma, beta = params(3)
    close(manual.batch_norm(x, gamma, beta).y, F.batch_norm(x, None, None, gamma, beta, training=True), torch.float32)


def test_inputs_are_not_mutated():
    x, (gamma, beta) = data((6, 3, 2)), params(3)
    before = [t.clone() for t in (x, gamma, beta)]
    manual.batch_norm(x, gamma, beta)
    for t, b in zip((x, gamma, beta), before):
        assert torch.equal(t, b)


@pytest.mark.claim("batchnorm/batch-of-one")
@pytest.mark.parametrize(
    "shape, refused",
    [((1, 3), True), ((1, 3, 1), True), ((1, 3, 4), False), ((1, 3, 2, 2), False), ((1, 2, 1, 1, 1), True)],
)
def test_batch_of_one_like_pytorch(shape, refused):
    x, (gamma, beta) = data(shape), params(shape[1])
    module = MODULES[len(shape)](shape[1]).train()
    if refused:
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            manual.batch_norm(x, gamma, beta)
        with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
            module(x)
    else:
        close(
            manual.batch_norm(x, gamma, beta).y, F.batch_norm(x, None, None, gamma, beta, training=True), torch.float32
        )


def test_nan_in_x_propagates_like_pytorch():
    x = data((5, 2))
    x[2, 0] = float("nan")
    ones, zeros = torch.ones(2), torch.zeros(2)
    ours, theirs = manual.batch_norm(x, ones, zeros).y, F.batch_norm(x, None, None, ones, zeros, training=True)
    assert torch.equal(ours.isnan(), theirs.isnan()) and ours[:, 0].isnan().all() and not ours[:, 1].isnan().any()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"eps": float("nan")}, ValueError, "eps must be a finite number > 0"),
        ({"eps": -1e-5}, ValueError, "eps must be a finite number > 0"),
        ({"eps": "1e-5"}, TypeError, "eps must be a number"),
        ({"gamma": torch.ones(1)}, ValueError, r"gamma must have shape \(C,\) = \(3,\)"),  # would broadcast
        ({"beta": torch.zeros(3, 1)}, ValueError, r"beta must have shape \(C,\)"),  # would broadcast to (N, 3, 3)
        ({"gamma": None}, TypeError, "gamma must be a tensor"),
        ({"beta": torch.zeros(3, dtype=torch.int64)}, TypeError, "beta must be a floating-point tensor"),
        ({"x": torch.ones(4, 3, dtype=torch.int64)}, TypeError, "x must be a floating-point tensor"),
        ({"x": torch.ones(4, 3, dtype=torch.bool)}, TypeError, "x must be a floating-point tensor"),
        ({"x": [[1.0, 2.0, 3.0]] * 4}, TypeError, "x must be a tensor"),
        ({"x": torch.tensor(1.0)}, ValueError, "x must have shape"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(kwargs, error, match):
    args = {"x": data((4, 3)), "gamma": torch.ones(3), "beta": torch.zeros(3), "eps": 1e-5} | kwargs
    with pytest.raises(error, match=match):
        manual.batch_norm(**args)


def test_pytorch_refuses_what_the_manual_version_refuses():
    x = data((4, 3))
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 1"):
        F.batch_norm(x, None, None, torch.ones(1), torch.zeros(3), training=True)
    with pytest.raises(ValueError, match="eps must be positive"):
        F.batch_norm(x, None, None, training=True, eps=-1.0)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.batch_norm(x.long(), None, None, training=True)
    # NaN eps is where PyTorch stays silent: every output becomes NaN
    assert F.batch_norm(x, None, None, training=True, eps=float("nan")).isnan().all()


# ---------------------------------------------------------------- identity: fixed vs per-batch statistics


@pytest.mark.claim("batchnorm/undo-needs-fixed-statistics")
@given(seed=st.integers(0, 10_000), c=st.integers(1, 3))
@settings(max_examples=15, deadline=None)
def test_identity_parameters_undo_bn_only_while_the_statistics_are_fixed(seed, c):
    a, b = data((6, c), F64, seed=seed), data((6, c), F64, seed=seed + 1, scale=5.0, shift=-2.0)
    train_error, eval_error = manual.undo_error(a, b)
    assert eval_error < 1e-9  # A's statistics held fixed: y = x for any batch
    assert train_error > 0.1  # recomputed on batch B: y is not B


@pytest.mark.claim("batchnorm/undo-needs-fixed-statistics")
def test_undo_numbers_on_the_page():
    facts = manual.facts()
    assert facts["undo_eval_error"] < 1e-12
    assert facts["undo_train_error"] > 1.0


# ---------------------------------------------------------------- pytorch.py: per-channel, running, eval


@pytest.mark.claim("batchnorm/per-channel")
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_2d_in_every_dtype_and_layout(dtype):
    half = dtype in (torch.float16, torch.bfloat16)
    x = data((4, 3, 5, 5), dtype, scale=300.0 if half else 3.0, shift=1000.0 if half else 1.0)
    expected = nn.BatchNorm2d(3).to(dtype).train()(x).detach()
    close(pytorch.batch_norm_2d(x), expected, dtype)
    close(pytorch.batch_norm_2d(x.contiguous(memory_format=torch.channels_last)), expected, dtype)
    assert pytorch.batch_norm_2d(torch.empty(2, 3, 4, 4, device="meta")).device.type == "meta"


def test_batch_norm_2d_refuses_one_value_per_channel_like_pytorch():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        pytorch.batch_norm_2d(torch.randn(1, 3, 1, 1))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm2d(3).train()(torch.randn(1, 3, 1, 1))
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        pytorch.per_channel_stats(torch.ones(2, 3, 2, 2, dtype=torch.int32))
    with pytest.raises(ValueError, match="eps must be a finite number"):
        pytorch.batch_norm_2d(torch.randn(2, 3, 2, 2), eps=float("nan"))


def run_module(module, batches):
    with torch.no_grad():
        for x in batches:
            module.train()(x)


@pytest.mark.claim("batchnorm/running-variance-unbiased", "batchnorm/momentum-none")
@pytest.mark.parametrize("momentum", [0.0, 0.1, 0.7, 1.0, None])
@pytest.mark.parametrize("shape", SHAPES)
def test_running_statistics_follow_nn_batchnorm_including_momentum_none(momentum, shape):
    module = MODULES[len(shape)](shape[1], momentum=momentum).double()
    batches = [data(shape, F64, seed=s, shift=s) for s in range(4)]
    mean, var = torch.zeros(shape[1], dtype=F64), torch.ones(shape[1], dtype=F64)
    for step, x in enumerate(batches):
        assert module.num_batches_tracked.item() == step
        mean, var = pytorch.update_running_stats(mean, var, x, momentum, num_batches_tracked=step)
        run_module(module, [x])
    assert module.num_batches_tracked.item() == len(batches)
    torch.testing.assert_close(mean, module.running_mean, atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(var, module.running_var, atol=1e-10, rtol=1e-10)
    if momentum is None:  # the plain average of the batch statistics: start values forgotten
        dims = [0, *range(2, len(shape))]
        torch.testing.assert_close(mean, torch.stack([x.mean(dim=dims) for x in batches]).mean(0))
        torch.testing.assert_close(var, torch.stack([x.var(dim=dims) for x in batches]).mean(0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_running_update_and_eval_in_every_dtype(dtype):
    x = data((16, 3, 4), dtype, scale=300.0, shift=1000.0)
    module = nn.BatchNorm1d(3).to(dtype)
    mean, var = pytorch.update_running_stats(module.running_mean.clone(), module.running_var.clone(), x)
    run_module(module, [x])
    assert mean.dtype == var.dtype == dtype
    close(mean, module.running_mean, dtype)
    close(var, module.running_var, dtype)
    module.eval()
    with torch.no_grad():
        expected = module(x)
    close(pytorch.eval_batch_norm(x, mean, var, module.weight.detach(), module.bias.detach()), expected, dtype)


@pytest.mark.claim("batchnorm/running-one-value-refused")
@pytest.mark.parametrize("shape", [(1, 2), (1, 2, 1), (1, 2, 1, 1)])
def test_running_update_refuses_one_value_per_channel_like_pytorch(shape):
    """Probe: the old version returned a NaN running variance (N - 1 = 0)."""
    with pytest.raises(ValueError, match="x of shape .* fewer than 2 values per channel"):
        pytorch.update_running_stats(torch.zeros(2), torch.ones(2), torch.randn(shape))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        MODULES[len(shape)](2).train()(torch.randn(shape))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"running_mean": torch.zeros(1)},
            ValueError,
            r"running_mean must have shape \(C,\) = \(3,\)",
        ),  # would broadcast
        ({"running_var": torch.ones(3, 1)}, ValueError, r"running_var must have shape \(C,\)"),
        ({"running_mean": None}, TypeError, "running_mean must be a tensor"),
        ({"momentum": -0.1}, ValueError, "momentum must be in"),
        ({"momentum": 1.5}, ValueError, "momentum must be in"),
        ({"momentum": float("nan")}, ValueError, "momentum must be in"),
        ({"momentum": True}, TypeError, "momentum must be a number or None"),
        ({"x": torch.ones(4, 3, dtype=torch.int64)}, TypeError, "x must be a floating-point tensor"),
        ({"x": torch.ones(4, 3, dtype=torch.bool)}, TypeError, "x must be a floating-point tensor"),
        ({"x": torch.ones(3)}, ValueError, "x must have shape"),
        ({"num_batches_tracked": -1}, ValueError, "num_batches_tracked must be an int >= 0"),
    ],
)
def test_running_update_bad_input(kwargs, error, match):
    args = {"running_mean": torch.zeros(3), "running_var": torch.ones(3), "x": data((4, 3)), "momentum": 0.1} | kwargs
    with pytest.raises(error, match=match):
        pytorch.update_running_stats(**args)


def test_pytorch_accepts_momentum_outside_0_1_and_extrapolates():
    """Why the manual version refuses it: PyTorch silently moves the average past the batch mean."""
    bn = nn.BatchNorm1d(1, momentum=1.5)
    run_module(bn, [torch.tensor([[1.0], [3.0]])])
    assert bn.running_mean.item() == pytest.approx(3.0)  # -0.5 * 0 + 1.5 * 2


def test_running_update_on_meta_and_does_not_mutate():
    mean, var = pytorch.update_running_stats(
        torch.zeros(3, device="meta"), torch.ones(3, device="meta"), torch.empty(4, 3, device="meta")
    )
    assert mean.device.type == var.device.type == "meta"
    running_mean, running_var, x = torch.zeros(3), torch.ones(3), data((4, 3))
    pytorch.update_running_stats(running_mean, running_var, x)
    assert torch.equal(running_mean, torch.zeros(3)) and torch.equal(running_var, torch.ones(3))


@pytest.mark.claim("batchnorm/eval-fixed-function")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES + [(1, 3), (1, 3, 1, 1)])
def test_eval_batch_norm_equals_f_batch_norm_eval_including_a_batch_of_one(dtype, shape):
    x = data(shape, dtype)
    c = shape[1]
    mean, gamma = params(c, dtype, seed=3)
    var, beta = (v.abs() + 0.5 for v in params(c, dtype, seed=4))
    expected = F.batch_norm(x, mean, var, gamma, beta, training=False)
    close(pytorch.eval_batch_norm(x, mean, var, gamma, beta), expected, dtype)
    if len(shape) == 4:
        cl = x.contiguous(memory_format=torch.channels_last)
        close(pytorch.eval_batch_norm(cl, mean, var, gamma, beta), expected, dtype)


def test_eval_batch_norm_gradients_and_meta():
    x, (gamma, beta) = data((5, 3, 2), F64), params(3, F64)
    mean, var = torch.zeros(3, dtype=F64), torch.full((3,), 2.0, dtype=F64)
    grads = []
    for fn in (pytorch.eval_batch_norm, lambda a, m, v, g, b: F.batch_norm(a, m, v, g, b, training=False)):
        leaves = [t.clone().requires_grad_() for t in (x, gamma, beta)]
        (fn(leaves[0], mean, var, leaves[1], leaves[2]) ** 2).sum().backward()
        grads.append([leaf.grad for leaf in leaves])
    for ours, theirs in zip(*grads):
        torch.testing.assert_close(ours, theirs)
    meta = [torch.empty(3, device="meta") for _ in range(4)]
    assert pytorch.eval_batch_norm(torch.empty(2, 3, device="meta"), *meta).device.type == "meta"


@pytest.mark.parametrize(
    "name, index, value, error",
    [
        ("running_mean", 1, torch.zeros(1), ValueError),  # would broadcast over the 3 channels
        ("running_var", 2, torch.ones(1), ValueError),
        ("gamma", 3, torch.ones(1), ValueError),
        ("beta", 4, None, TypeError),
        ("x", 0, torch.ones(2, 3, dtype=torch.bool), TypeError),
    ],
)
def test_eval_batch_norm_bad_input(name, index, value, error):
    args = [data((2, 3)), torch.zeros(3), torch.ones(3), torch.ones(3), torch.zeros(3)]
    args[index] = value
    with pytest.raises(error, match=name):
        pytorch.eval_batch_norm(*args)
    with pytest.raises(ValueError, match="eps must be a finite number"):
        pytorch.eval_batch_norm(data((2, 3)), torch.zeros(3), torch.ones(3), torch.ones(3), torch.zeros(3), eps=-1.0)
    with pytest.raises(ValueError, match="x must have shape"):
        pytorch.eval_batch_norm(torch.ones(3), torch.zeros(3), torch.ones(3), torch.ones(3), torch.zeros(3))


# ---------------------------------------------------------------- BN without skip connections at init


@pytest.mark.claim("batchnorm/bn-gradients-explode-without-skips")
def test_gradients_grow_exponentially_with_depth_in_a_plain_bn_mlp_not_with_skips():
    facts = pytorch.facts()
    plain, residual = facts["plain_growth"], facts["residual_growth"]
    assert facts["depths"] == [2, 10, 20, 40]
    assert all(a < b for a, b in itertools.pairwise(plain))  # grows with depth
    assert plain[-1] > 500 and plain[-1] > 50 * residual[-1]
    # exponential: doubling the depth from 20 to 40 squares the growth, roughly
    assert plain[3] > plain[2] ** 1.5
    assert residual[-1] < 20
    assert pytorch.gradient_growth(30, residual=False, seed=1) > 100  # not one lucky init
    with pytest.raises(ValueError, match="depth must be >= 1"):
        pytorch.gradient_growth(0, residual=False)


def test_gradient_growth_leaves_the_global_generator_alone():
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    pytorch.gradient_growth(2, residual=True)
    assert torch.equal(torch.rand(2), expected)


# ---------------------------------------------------------------- exercises


@given(momentum=st.floats(0.05, 1.0), share=st.floats(1e-3, 1.0))
@settings(max_examples=25, deadline=None)
def test_steps_until_within_equals_brute_force_with_nn_batchnorm(momentum, share):
    """Run a float64 BN on a batch with mean 1 until the running mean is within `share` of the
    gap from its start 0. Float rounding can disagree exactly at the boundary: skip those."""
    decay = 1 - momentum
    k = ex.steps_until_within(share, momentum)
    assert decay**k <= share and (k == 0 or decay ** (k - 1) > share)
    if any(abs(decay**j - share) < 1e-9 for j in range(k + 2)):
        return
    bn = nn.BatchNorm1d(1, momentum=momentum).double()
    batch = torch.tensor([[0.0], [2.0]], dtype=F64)
    steps = 0
    while 1.0 - bn.running_mean.item() > share:
        run_module(bn, [batch])
        steps += 1
    assert steps == k


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"share": 0.0}, ValueError, "share must be in"),  # used to loop forever
        ({"share": -0.5}, ValueError, "share must be in"),
        ({"share": float("nan")}, ValueError, "share must be in"),  # used to return 0
        ({"momentum": 0.0}, ValueError, "momentum must be in"),  # used to loop forever
        ({"momentum": -0.1}, ValueError, "momentum must be in"),
        ({"momentum": float("nan")}, ValueError, "momentum must be in"),
        ({"share": "0.01"}, TypeError, "share must be a number"),
    ],
)
def test_steps_until_within_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        ex.steps_until_within(**({"share": 0.01, "momentum": 0.1} | kwargs))


def test_other_exercise_arguments_are_checked():
    with pytest.raises(TypeError, match="k must be an int"):
        ex.running_after(2.5, 0.0, 1.0)
    with pytest.raises(ValueError, match="momentum must be in"):
        ex.running_after(1, 0.0, 1.0, momentum=float("nan"))
    with pytest.raises(TypeError, match="train_steps must be an int"):
        ex.bias_gap(1.0, train_steps=True)
    with pytest.raises(ValueError, match="eps must be a finite number"):
        ex.bn_by_hand([1.0, 2.0], 1.0, 0.0, eps=float("nan"))


def eval_pair(conv, bn, seed=0, steps=3, shape=None):
    """conv and bn with non-trivial statistics, then bn in eval mode."""
    g = torch.Generator().manual_seed(seed)
    dims = conv.weight.dim() - 2
    shape = shape or (4, conv.in_channels) + (7,) * dims
    with torch.no_grad():
        if bn.affine:
            bn.weight.uniform_(0.5, 2.0, generator=g)
            bn.bias.uniform_(-1.0, 1.0, generator=g)
        for _ in range(steps):
            bn.train()(conv(torch.randn(shape, generator=g, dtype=conv.weight.dtype) * 2 + 1))
    return conv, bn.eval(), torch.randn(shape, generator=g, dtype=conv.weight.dtype)


@pytest.mark.parametrize(
    "make",
    [
        lambda: (nn.Conv2d(4, 4, 3, groups=4, padding=1), nn.BatchNorm2d(4)),  # depthwise
        lambda: (nn.Conv2d(4, 6, 3, groups=2, stride=2, dilation=2), nn.BatchNorm2d(6)),
        lambda: (nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect", bias=False), nn.BatchNorm2d(4)),
        lambda: (nn.Conv2d(3, 4, (3, 1), padding=(1, 0)), nn.BatchNorm2d(4, affine=False)),
        lambda: (nn.Conv1d(3, 5, 3), nn.BatchNorm1d(5)),
        lambda: (nn.Conv3d(2, 3, 3, padding=1), nn.BatchNorm3d(3)),
        lambda: (nn.Conv2d(3, 4, 3).double(), nn.BatchNorm2d(4).double()),
    ],
)
def test_fold_bn_equals_conv_then_bn_for_every_conv_configuration(make):
    """Probe: the old fold built a plain Conv2d, so groups, dilation, padding_mode and dtype were
    lost; a depthwise conv's (C, 1, k, k) weight even broadcast silently into (C, C, k, k)."""
    conv, bn, x = eval_pair(*make())
    before = conv.weight.detach().clone()
    folded = ex.fold_bn(conv, bn)
    with torch.no_grad():
        expected = bn(conv(x))
        tol = 1e-10 if x.dtype == F64 else 1e-5
        torch.testing.assert_close(folded(x), expected, atol=tol, rtol=tol)
    assert folded.weight.dtype == conv.weight.dtype and folded.bias is not None
    assert torch.equal(conv.weight, before)  # the original conv is untouched


def test_fold_bn_on_meta_and_in_half_precision():
    conv, bn = nn.Conv2d(3, 4, 3).to("meta"), nn.BatchNorm2d(4).to("meta").eval()
    folded = ex.fold_bn(conv, bn)
    assert folded.weight.device.type == "meta" and folded(torch.empty(1, 3, 5, 5, device="meta")).shape == (1, 4, 3, 3)
    conv, bn, x = eval_pair(nn.Conv2d(3, 4, 3).double(), nn.BatchNorm2d(4).double())
    folded = ex.fold_bn(conv.to(torch.bfloat16), bn.to(torch.bfloat16))
    with torch.no_grad():
        assert folded(x.bfloat16()).dtype == torch.bfloat16


@pytest.mark.parametrize(
    "conv, bn, error, match",
    [
        (
            nn.Conv2d(3, 4, 3),
            nn.BatchNorm2d(1).eval(),
            ValueError,
            "bn has 1 features but conv has 4",
        ),  # would broadcast
        (nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, track_running_stats=False).eval(), ValueError, "no running statistics"),
        (nn.ConvTranspose2d(3, 4, 3), nn.BatchNorm2d(4).eval(), TypeError, "conv must be a Conv1d/2d/3d"),
        (nn.Linear(3, 4), nn.BatchNorm1d(4).eval(), TypeError, "conv must be"),
        (nn.Conv2d(3, 4, 3), nn.LayerNorm(4), TypeError, "bn must be a BatchNorm layer"),
    ],
)
def test_fold_bn_bad_input(conv, bn, error, match):
    with pytest.raises(error, match=match):
        ex.fold_bn(conv, bn)


def test_fold_bn_reference_without_the_fix_would_be_wrong_for_depthwise():
    """Documents the old bug: copying a depthwise weight into a groups=1 conv broadcasts."""
    conv, _, x = eval_pair(nn.Conv2d(4, 4, 3, groups=4, padding=1), nn.BatchNorm2d(4))
    naive = nn.Conv2d(4, 4, 3, padding=1)
    with torch.no_grad():
        naive.weight.copy_(conv.weight)  # (4, 1, 3, 3) -> (4, 4, 3, 3): no error
        naive.bias.copy_(conv.bias)
        assert not torch.allclose(naive(x), conv(x), atol=1e-3)
    assert copy.deepcopy(conv).groups == 4
