"""Weight decay: an L2 penalty in the loss is the same as decay for SGD, but
not for Adam (AdamW)."""

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

W_START = [1.0, -2.0, 0.5]


def toy_problem(seed: int = 0):
    """A small linear regression: 16 examples, 3 features, a known answer
    plus noise."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(16, 3, generator=generator)
    targets = inputs @ torch.tensor([2.0, -1.0, 0.0]) + 0.1 * torch.randn(
        16, generator=generator
    )
    return inputs, targets


def check_decay(name: str, value) -> None:
    """A decay strength is a finite float >= 0; a negative one would reward
    large weights."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a float >= 0, got {name}={value!r}"
        )
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(
            f"{name} must be a finite float >= 0, got {name}={value}"
        )


# --8<-- [start:penalty]
def l2_penalty(w: torch.Tensor, lam: float) -> torch.Tensor:
    """(lambda / 2) * ||w||^2; its gradient is lambda * w, a pull to 0."""
    return lam / 2 * (w**2).sum()


def train(
    optimizer_cls,
    lr: float,
    steps: int,
    weight_decay: float = 0.0,
    l2_in_loss: float = 0.0,
    decay_by_hand: float = 0.0,
) -> torch.Tensor:
    """Fit w to the toy problem with one of three kinds of 'weight decay'
    and return it: the optimizer's own weight_decay, an L2 penalty added to
    the loss, or a shrink w <- w * (1 - lr * lambda) done by hand before
    each optimizer step."""
    check_decay("l2_in_loss", l2_in_loss)
    check_decay("decay_by_hand", decay_by_hand)
    inputs, targets = toy_problem()
    w = torch.tensor(W_START, requires_grad=True)
    optimizer = optimizer_cls([w], lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        optimizer.zero_grad()
        data_loss = ((inputs @ w - targets) ** 2).mean()
        loss = data_loss + l2_penalty(w, l2_in_loss)
        loss.backward()
        with torch.no_grad():
            # Outside the gradient: the optimizer never sees this shrink.
            w.mul_(1.0 - lr * decay_by_hand)
        optimizer.step()
    return w.detach()


# --8<-- [end:penalty]


# --8<-- [start:unused]
def idle_weight_after_one_step(
    optimizer_cls, lam: float, lr: float = 0.01
) -> float:
    """A weight of 1.0 that the data loss does not depend on (its data
    gradient is 0): where does one step of decay take it?"""
    w = torch.tensor([1.0], requires_grad=True)
    optimizer = optimizer_cls([w], lr=lr, weight_decay=lam)
    (0.0 * w).sum().backward()
    optimizer.step()
    return w.item()


# --8<-- [end:unused]


# --8<-- [start:groups]
def small_cnn() -> nn.Module:
    # No bias before BatchNorm: BN subtracts the mean, bias included.
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 10),
    )


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Decay the weight matrices and kernels; leave biases and the scales
    and shifts of normalization layers (the 1-D parameters) alone."""
    check_decay("weight_decay", weight_decay)
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


# --8<-- [end:groups]


# --8<-- [start:adamw]
def adamw_step(
    w,
    grad,
    m,
    v,
    t: int,
    lr: float,
    lam: float,
    betas=(0.9, 0.999),
    eps: float = 1e-8,
) -> None:
    """Step t (counted from 1) of torch.optim.AdamW, in place on w and on
    Adam's moments m and v. The decay is lr * lam * w: PyTorch multiplies
    lam by the learning rate, so the decay follows any lr schedule."""
    b1, b2 = betas
    w.mul_(1 - lr * lam)  # decoupled: the decay never enters m or v
    m.mul_(b1).add_(grad, alpha=1 - b1)
    v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    w.sub_(lr * m_hat / (v_hat.sqrt() + eps))


def adamw_by_hand(w0, grads, lr: float, lam: float) -> torch.Tensor:
    """Take one adamw_step per gradient, from w0; return the weights."""
    w, m, v = w0.clone(), torch.zeros_like(w0), torch.zeros_like(w0)
    for t, grad in enumerate(grads, start=1):
        adamw_step(w, grad, m, v, t, lr, lam)
    return w


def optimizer_steps(make_optimizer, w0, grads) -> torch.Tensor:
    """Feed the same gradients to a PyTorch optimizer; return weights."""
    w = w0.clone().requires_grad_()
    optimizer = make_optimizer([w])
    for grad in grads:
        w.grad = grad.clone()
        optimizer.step()
    return w.detach()


# --8<-- [end:adamw]


# --8<-- [start:bn-invariance]
def bn_scale_invariance(alpha: float, seed: int = 0):
    """A conv kernel that feeds BatchNorm (training mode), scaled by alpha:
    return (largest change of the BN output, |grad at alpha * W| / |grad
    at W|). BN divides by the batch's standard deviation, which grows by
    alpha too, so the output stays (up to BN's eps) and the grad shrinks."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(16, 3, 6, 6, generator=g)
    kernel = torch.randn(4, 3, 3, 3, generator=g)
    probe = torch.randn(16, 4, 4, 4, generator=g)  # a fixed random loss
    outputs, grads = [], []
    for scale in (1.0, alpha):
        w = (scale * kernel).requires_grad_()
        out = F.batch_norm(F.conv2d(x, w), None, None, training=True)
        (out * probe).sum().backward()
        outputs.append(out.detach())
        grads.append(w.grad.norm())
    change = (outputs[1] - outputs[0]).abs().max().item()
    return change, (grads[1] / grads[0]).item()


# --8<-- [end:bn-invariance]


LAM, LR_SGD, LR_ADAM, STEPS = 0.1, 0.1, 0.1, 5


def facts() -> dict:
    sgd_penalty = train(torch.optim.SGD, LR_SGD, 1, l2_in_loss=LAM)
    sgd_decay = train(torch.optim.SGD, LR_SGD, 1, weight_decay=LAM)
    adam = train(torch.optim.Adam, LR_ADAM, STEPS, weight_decay=LAM)
    adamw = train(torch.optim.AdamW, LR_ADAM, STEPS, weight_decay=LAM)
    # a typical value for SGD on image data
    groups = decay_groups(small_cnn(), 5e-4)
    return {
        "lam": LAM,
        "lr": LR_SGD,
        "steps": STEPS,
        "shrink": 1 - LR_SGD * LAM,
        "sgd_gap": (sgd_penalty - sgd_decay).abs().max().item(),
        "adam_gap": (adam - adamw).abs().max().item(),
        "idle_adam_small": idle_weight_after_one_step(
            torch.optim.Adam, 1e-4
        ),
        "idle_adam_big": idle_weight_after_one_step(torch.optim.Adam, 1e-1),
        "idle_adamw_small": idle_weight_after_one_step(
            torch.optim.AdamW, 1e-4
        ),
        "idle_adamw_big": idle_weight_after_one_step(
            torch.optim.AdamW, 1e-1
        ),
        "adamw_default": torch.optim.AdamW([torch.zeros(1)]).defaults[
            "weight_decay"
        ],
        "adam_default": torch.optim.Adam([torch.zeros(1)]).defaults[
            "weight_decay"
        ],
        "sgd_example": 5e-4,
        "bn_change": bn_scale_invariance(10.0)[0],
        "bn_grad_ratio": bn_scale_invariance(10.0)[1],
        "bn_alpha": 10.0,
        "decayed_tensors": len(groups[0]["params"]),
        "skipped_tensors": len(groups[1]["params"]),
    }


def main() -> None:
    # --8<-- [start:demo-sgd]
    lam, lr = 0.1, 0.1
    # loss + (lam / 2)||w||^2, and SGD(weight_decay=lam):
    penalty = train(torch.optim.SGD, lr, steps=1, l2_in_loss=lam)
    builtin = train(torch.optim.SGD, lr, steps=1, weight_decay=lam)
    print(penalty)
    #> tensor([ 1.1702, -1.8564,  0.4359])
    print(builtin)
    #> tensor([ 1.1702, -1.8564,  0.4359])
    print(f"largest difference: {(penalty - builtin).abs().max():.1e}")
    #> largest difference: 0.0e+00
    # --8<-- [end:demo-sgd]

    # --8<-- [start:demo-adam]
    adam, adam_w = torch.optim.Adam, torch.optim.AdamW
    # L2 in the gradient
    adam_l2 = train(adam, lr, steps=5, weight_decay=lam)
    adam_penalty = train(adam, lr, steps=5, l2_in_loss=lam)  # same, by hand
    adamw = train(adam_w, lr, steps=5, weight_decay=lam)  # decoupled decay
    # by hand
    adam_plus_shrink = train(adam, lr, steps=5, decay_by_hand=lam)
    print("Adam(weight_decay): ", adam_l2)
    #> Adam(weight_decay):  tensor([ 1.4871, -1.5036,  0.0488])
    print("Adam + L2 in loss:  ", adam_penalty)
    #> Adam + L2 in loss:   tensor([ 1.4871, -1.5036,  0.0488])
    print("AdamW(weight_decay):", adamw)
    #> AdamW(weight_decay): tensor([ 1.4319, -1.4183,  0.0222])
    print("Adam + shrink:      ", adam_plus_shrink)
    #> Adam + shrink:       tensor([ 1.4319, -1.4183,  0.0222])
    # --8<-- [end:demo-adam]

    # --8<-- [start:demo-unused]
    for lam in (1e-4, 1e-1):
        adam = idle_weight_after_one_step(torch.optim.Adam, lam)
        adamw = idle_weight_after_one_step(torch.optim.AdamW, lam)
        print(
            f"lambda={lam:g}: Adam moves it to {adam:.6f}, "
            f"AdamW to {adamw:.6f}"
        )
        #> lambda=0.0001: Adam moves it to 0.990001, AdamW to 0.999999
        #> lambda=0.1: Adam moves it to 0.990000, AdamW to 0.999000
    # --8<-- [end:demo-unused]

    # --8<-- [start:demo-adamw]
    generator = torch.Generator().manual_seed(0)
    w0 = torch.randn(5, generator=generator)
    grads = torch.randn(4, 5, generator=generator)
    by_hand = adamw_by_hand(w0, grads, lr=0.1, lam=0.2)
    adamw = optimizer_steps(
        lambda p: torch.optim.AdamW(p, lr=0.1, weight_decay=0.2), w0, grads
    )
    adam_decoupled = optimizer_steps(
        lambda p: torch.optim.Adam(
            p, lr=0.1, weight_decay=0.2, decoupled_weight_decay=True
        ),
        w0,
        grads,
    )
    # Equal up to float32 rounding, whose last bits vary with the CPU kind:
    print(
        f"AdamW: {(by_hand - adamw).abs().max() < 1e-6}, "
        f"Adam(decoupled): {(by_hand - adam_decoupled).abs().max() < 1e-6}"
    )
    #> AdamW: True, Adam(decoupled): True
    # --8<-- [end:demo-adamw]

    # --8<-- [start:demo-bn]
    for alpha in (0.5, 10.0):
        change, ratio = bn_scale_invariance(alpha)
        print(
            f"alpha={alpha:>4}: output change {change:.0e}, "
            f"grad x {ratio:.4f}"
        )
        #> alpha= 0.5: output change 1e-06, grad x 2.0000
        #> alpha=10.0: output change 1e-06, grad x 0.1000
    # --8<-- [end:demo-bn]

    # --8<-- [start:demo-groups]
    model = small_cnn()
    groups = decay_groups(model, weight_decay=0.05)
    optimizer = torch.optim.AdamW(groups, lr=1e-3)
    for group in optimizer.param_groups:
        print(
            group["weight_decay"], [tuple(p.shape) for p in group["params"]]
        )
        #> 0.05 [(8, 3, 3, 3), (10, 8)]
        #> 0.0 [(8,), (8,), (10,)]
    # --8<-- [end:demo-groups]


if __name__ == "__main__":
    main()
