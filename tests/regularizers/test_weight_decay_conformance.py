"""Conformance: the hand-written AdamW step against torch.optim.AdamW and
Adam(decoupled_weight_decay=True), the paper's schedule-multiplier form, L2 in the loss
against Adam/SGD(weight_decay) step by step, and BatchNorm's scale invariance."""

import inspect
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.regularizers import weight_decay as wd

TOL = {torch.float64: 1e-12, torch.float32: 1e-6, torch.bfloat16: 2e-2, torch.float16: 3e-3}


def adamw(lr, lam):
    return lambda params: torch.optim.AdamW(params, lr=lr, weight_decay=lam)


def adam_decoupled(lr, lam):
    return lambda params: torch.optim.Adam(params, lr=lr, weight_decay=lam, decoupled_weight_decay=True)


def test_adam_has_decoupled_weight_decay_in_this_torch():
    assert "decoupled_weight_decay" in inspect.signature(torch.optim.Adam).parameters
    assert torch.optim.Adam([torch.zeros(1)]).defaults["decoupled_weight_decay"] is False


@pytest.mark.claim("regularizers/adamw-by-hand")
@given(
    lr=st.floats(1e-4, 0.5),
    lam=st.floats(0.0, 0.5),
    steps=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([torch.float64, torch.float32]),
)
@settings(max_examples=15, deadline=None)
def test_adamw_step_equals_both_pytorch_optimizers_at_every_step(lr, lam, steps, seed, dtype):
    g = torch.Generator().manual_seed(seed)
    w0 = torch.randn(3, 2, generator=g, dtype=dtype)
    grads = torch.randn(steps, 3, 2, generator=g, dtype=dtype)
    for t in range(1, steps + 1):
        by_hand = wd.adamw_by_hand(w0, grads[:t], lr, lam)
        for make in (adamw(lr, lam), adam_decoupled(lr, lam)):
            theirs = wd.optimizer_steps(make, w0, grads[:t])
            assert theirs.dtype == by_hand.dtype == dtype
            torch.testing.assert_close(by_hand, theirs, atol=TOL[dtype], rtol=TOL[dtype])


def test_adam_decoupled_is_adamw_bit_for_bit():
    g = torch.Generator().manual_seed(3)
    w0, grads = torch.randn(7, generator=g), torch.randn(5, 7, generator=g)
    assert torch.equal(
        wd.optimizer_steps(adamw(0.05, 0.3), w0, grads), wd.optimizer_steps(adam_decoupled(0.05, 0.3), w0, grads)
    )


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_adamw_step_keeps_half_dtypes(dtype):
    g = torch.Generator().manual_seed(4)
    w0, grads = torch.randn(6, generator=g).to(dtype), torch.randn(3, 6, generator=g).to(dtype)
    by_hand = wd.adamw_by_hand(w0, grads, 0.1, 0.2)
    theirs = wd.optimizer_steps(adamw(0.1, 0.2), w0, grads)
    assert by_hand.dtype == theirs.dtype == dtype
    torch.testing.assert_close(by_hand, theirs, atol=2 * TOL[dtype], rtol=2 * TOL[dtype])


def test_adamw_step_on_meta_tensors_and_without_touching_the_gradient():
    w = torch.empty(4, device="meta")
    assert wd.adamw_by_hand(w, torch.empty(2, 4, device="meta"), 0.1, 0.1).device.type == "meta"
    w0, grads = torch.randn(4), torch.randn(2, 4)
    before = w0.clone(), grads.clone()
    wd.adamw_by_hand(w0, grads, 0.1, 0.1)
    assert torch.equal(w0, before[0]) and torch.equal(grads, before[1])


@pytest.mark.claim("regularizers/adamw-lr-times-lambda")
def test_pytorch_decay_is_lr_times_lambda_the_paper_uses_the_schedule_multiplier():
    """Loshchilov & Hutter (Algorithm 2): w <- w - eta_t * (alpha * adam + lam_paper * w), with
    eta_t a schedule multiplier and alpha the base learning rate. PyTorch: w <- w - lr_t * lam * w
    with lr_t = alpha * eta_t. So the two agree when lam_paper = alpha * lam, and the decay
    follows PyTorch's lr scheduler."""
    alpha, lam = 0.05, 0.2
    etas = [1.0, 0.8, 0.5, 0.25, 0.1]  # a decaying schedule multiplier
    g = torch.Generator().manual_seed(5)
    w0, grads = torch.randn(4, generator=g, dtype=torch.float64), torch.randn(5, 4, generator=g, dtype=torch.float64)

    w = w0.clone().requires_grad_()
    optimizer = torch.optim.AdamW([w], lr=alpha, weight_decay=lam)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: etas[min(step, len(etas) - 1)])
    for grad in grads:
        w.grad = grad.clone()
        optimizer.step()
        schedule.step()

    paper, m, v = w0.clone(), torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    lam_paper, (b1, b2), eps = alpha * lam, (0.9, 0.999), 1e-8
    for t, (grad, eta) in enumerate(zip(grads, etas), start=1):
        m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        paper = paper - eta * (alpha * m_hat / (v_hat.sqrt() + eps) + lam_paper * paper)
    torch.testing.assert_close(w.detach(), paper, atol=1e-12, rtol=1e-12)
    # Reading PyTorch's weight_decay as the paper's lambda decays alpha times too much:
    wrong = w0.clone()
    m, v = torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    for t, (grad, eta) in enumerate(zip(grads, etas), start=1):
        m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        wrong = wrong - eta * (alpha * m_hat / (v_hat.sqrt() + eps) + lam * wrong)
    assert (wrong - paper).abs().max() > 1e-2


def data_loss(w, inputs, targets):
    return ((inputs @ w - targets) ** 2).mean()


@pytest.mark.parametrize("optimizer_cls", [torch.optim.SGD, torch.optim.Adam])
@given(lr=st.floats(1e-3, 0.3), lam=st.floats(1e-3, 0.5))
@settings(max_examples=10, deadline=None)
def test_l2_in_the_loss_equals_weight_decay_step_by_step(optimizer_cls, lr, lam):
    """SGD and Adam add lam * w to the gradient: exactly the gradient of (lam / 2)||w||^2."""
    inputs, targets = wd.toy_problem()
    w_pen = torch.tensor(wd.W_START, requires_grad=True)
    w_opt = torch.tensor(wd.W_START, requires_grad=True)
    opt_pen, opt_wd = optimizer_cls([w_pen], lr=lr), optimizer_cls([w_opt], lr=lr, weight_decay=lam)
    for _ in range(5):
        opt_pen.zero_grad()
        (data_loss(w_pen, inputs, targets) + wd.l2_penalty(w_pen, lam)).backward()
        opt_pen.step()
        opt_wd.zero_grad()
        data_loss(w_opt, inputs, targets).backward()
        opt_wd.step()
        torch.testing.assert_close(w_pen, w_opt, atol=2e-6, rtol=2e-6)


@pytest.mark.claim("regularizers/bn-scale-invariant")
@pytest.mark.parametrize("alpha", [0.1, 0.5, 3.0, 10.0])
def test_a_kernel_feeding_batchnorm_is_scale_invariant(alpha):
    change, ratio = wd.bn_scale_invariance(alpha)
    assert change < 1e-4  # equal up to BN's eps
    assert ratio == pytest.approx(1 / alpha, rel=1e-3)


@pytest.mark.claim("regularizers/bn-effective-lr")
def test_decay_on_a_scale_invariant_kernel_changes_the_effective_learning_rate():
    """The gradient is orthogonal to W and scales as 1/alpha, so one SGD step turns the direction
    of alpha * W by 1/alpha^2 as much: shrinking W (decay) raises the effective learning rate."""
    g = torch.Generator().manual_seed(0)
    x, kernel = torch.randn(16, 3, 6, 6, generator=g), torch.randn(4, 3, 3, 3, generator=g)
    probe = torch.randn(16, 4, 4, 4, generator=g)

    def turn(scale, lr=0.1):
        w = (scale * kernel).requires_grad_()
        (F.batch_norm(F.conv2d(x, w), None, None, training=True) * probe).sum().backward()
        assert abs((w.grad * w).sum()) < 1e-3 * w.grad.norm() * w.norm()  # orthogonal
        new = w.detach() - lr * w.grad
        return torch.arccos(F.cosine_similarity(new.flatten(), w.detach().flatten(), dim=0)).item()

    small, big = turn(1.0, lr=1e-3), turn(2.0, lr=1e-3)
    assert big == pytest.approx(small / 4, rel=2e-2)


def test_the_groups_model_has_no_bias_before_batchnorm():
    model = wd.small_cnn()
    conv, bn = model[0], model[1]
    assert conv.bias is None and isinstance(bn, nn.BatchNorm2d)
    _, no_decay = wd.decay_groups(model, 0.05)
    assert {id(p) for p in no_decay["params"]} == {id(bn.weight), id(bn.bias), id(model[5].bias)}


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (-0.1, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        (True, TypeError),
        (None, TypeError),
        ("0.1", TypeError),
    ],
)
def test_bad_decay_strengths_are_refused(value, error):
    with pytest.raises(error, match="weight_decay must be"):
        wd.decay_groups(nn.Linear(2, 2), value)
    with pytest.raises(error, match="l2_in_loss must be"):
        wd.train(torch.optim.SGD, 0.1, 1, l2_in_loss=value)
    with pytest.raises(error, match="decay_by_hand must be"):
        wd.train(torch.optim.SGD, 0.1, 1, decay_by_hand=value)
