"""Batch normalization by hand: the mini-batch statistics, x_hat, and the
scale-and-shift y."""

import math
import textwrap
from typing import NamedTuple

import torch
import torch.nn.functional as F


def require_float_tensor(name: str, value, device=None) -> None:
    """Refuse what is not a floating-point tensor (on `device`, if set)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a tensor, got {type(value).__name__}"
        )
    if not value.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got {value.dtype}"
        )
    if device is not None and value.device != device:
        raise ValueError(
            f"{name} is on {value.device}, but x is on {device}"
        )


def check_eps(eps) -> float:
    """eps must be a finite number > 0: NaN passes `eps <= 0` unnoticed."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float)):
        raise TypeError(f"eps must be a number, got {type(eps).__name__}")
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(
            "eps must be a finite number > 0 (it keeps the division "
            f"finite), got eps={eps}"
        )
    return float(eps)


# --8<-- [start:check]
def check_batch_norm_args(x, gamma, beta, eps: float) -> int:
    """Refuse what training-mode BN cannot handle; return C."""
    require_float_tensor("x", x)
    if x.dim() < 2 or x.shape[1] == 0:
        raise ValueError(
            "x must have shape (N, C, ...) with C >= 1, "
            f"got {tuple(x.shape)}"
        )
    channels = x.shape[1]
    per_channel = x.numel() // channels
    if per_channel < 2:
        # One value per channel: its biased variance is 0, so x_hat
        # would be 0 whatever x is. PyTorch refuses this too.
        raise ValueError(
            f"x of shape {tuple(x.shape)} has {per_channel} value per "
            "channel; training-mode batch norm needs more than 1 value "
            "per channel (the variance of one value is 0)"
        )
    for name, param in (("gamma", gamma), ("beta", beta)):
        require_float_tensor(name, param, x.device)
        # (C,) exactly: a (1,) gamma would broadcast over every channel
        if param.shape != (channels,):
            raise ValueError(
                f"{name} must have shape (C,) = ({channels},)"
                f" to match x, got {tuple(param.shape)}"
            )
    check_eps(eps)
    return channels


# --8<-- [end:check]


# --8<-- [start:batch-norm]
class BatchNormSteps(NamedTuple):
    mean: torch.Tensor  # mu, one per channel: shape (C,)
    var: torch.Tensor  # sigma^2, biased (divide by N), shape (C,)
    x_hat: torch.Tensor  # normalised input, same shape as x
    y: torch.Tensor  # gamma * x_hat + beta, same shape as x


def batch_norm(x, gamma, beta, eps: float = 1e-5) -> BatchNormSteps:
    """Training-mode BN of x, shaped (N, C) or (N, C, H, W) or any
    (N, C, ...): statistics per channel (dim 1), over all other dims."""
    check_batch_norm_args(x, gamma, beta, eps)
    # float16 and bfloat16 are computed in float32, as PyTorch does:
    # (x - mu)**2 of values near 1000 would overflow float16
    x32 = x.to(torch.promote_types(x.dtype, torch.float32))
    dims = [0, *range(2, x.dim())]  # every dim except the channel dim 1
    # keepdim: mu has shape (1, C, 1, 1) and broadcasts against x
    mu = x32.mean(dim=dims, keepdim=True)
    var = ((x32 - mu) ** 2).mean(dim=dims, keepdim=True)  # 1/N: biased
    x_hat = (x32 - mu) / torch.sqrt(var + eps)
    y = gamma.reshape(mu.shape) * x_hat + beta.reshape(mu.shape)
    # statistics stay in float32; x_hat and y come back in x's dtype
    return BatchNormSteps(
        mu.flatten(), var.flatten(), x_hat.to(x.dtype), y.to(x.dtype)
    )


# --8<-- [end:batch-norm]


# --8<-- [start:identity]
def identity_params(steps: BatchNormSteps, eps: float = 1e-5):
    """gamma = sqrt(sigma^2 + eps) and beta = mu undo the normalisation
    of the batch `steps` came from, so y = x for that batch."""
    return torch.sqrt(steps.var + eps), steps.mean


# --8<-- [end:identity]


# --8<-- [start:undo-fixed]
def undo_error(batch_a, batch_b, eps: float = 1e-5) -> tuple[float, float]:
    """gamma, beta that undo BN on batch A, used on batch B: the largest
    |y - x| in training mode (B's own statistics) and in eval mode
    (A's statistics, held fixed as the running statistics)."""
    ones = torch.ones(batch_a.shape[1], dtype=batch_a.dtype)
    steps_a = batch_norm(batch_a, ones, torch.zeros_like(ones), eps)
    gamma, beta = identity_params(steps_a, eps)
    train_y = batch_norm(batch_b, gamma, beta, eps).y
    eval_y = F.batch_norm(
        batch_b,
        steps_a.mean,
        steps_a.var,
        gamma,
        beta,
        training=False,
        eps=eps,
    )
    return (
        (train_y - batch_b).abs().max().item(),
        (eval_y - batch_b).abs().max().item(),
    )


# --8<-- [end:undo-fixed]


# --8<-- [start:rounding]
def rounded_then_scaled(steps: BatchNormSteps, gamma, beta, decimals=2):
    """The common slip: round x_hat first, then scale and
    shift the rounded values."""
    return gamma * steps.x_hat.round(decimals=decimals) + beta


# --8<-- [end:rounding]


def show(values: torch.Tensor, digits: int) -> str:
    """A tensor as [a, b, c] with a fixed number of decimals."""
    return (
        "["
        + ", ".join(f"{v:.{digits}f}" for v in values.flatten().tolist())
        + "]"
    )


X = [2.0, 4.0, 6.0, 8.0]
GAMMA, BETA, EPS = 2.0, 1.0, 1e-5
BATCH_B = [1.0, 2.0, 3.0, 10.0]


def example() -> tuple[
    torch.Tensor, torch.Tensor, torch.Tensor, BatchNormSteps
]:
    """The worked example: N = 4 values of C = 1 feature, gamma = 2,
    beta = 1."""
    x = torch.tensor(X, dtype=torch.float64).reshape(4, 1)
    gamma, beta = (
        torch.tensor([GAMMA], dtype=torch.float64),
        torch.tensor([BETA], dtype=torch.float64),
    )
    return x, gamma, beta, batch_norm(x, gamma, beta, EPS)


def facts() -> dict:
    x, gamma, beta, steps = example()
    deviations = (x - steps.mean).flatten()
    lesson = rounded_then_scaled(steps, gamma, beta).flatten()
    exact = steps.y.flatten()
    undo = undo_error(
        x, torch.tensor(BATCH_B, dtype=torch.float64).reshape(-1, 1)
    )
    return {
        "x": X,
        "n": len(X),
        "gamma": GAMMA,
        "beta": BETA,
        "eps_exp": round(math.log10(EPS)),
        "eps": EPS,
        "sum_x": sum(X),
        "mu": steps.mean.item(),
        "deviations": deviations,
        "squared": deviations**2,
        "sum_squared": (deviations**2).sum().item(),
        "var": steps.var.item(),
        "std": (steps.var + EPS).sqrt().item(),
        "x_hat": steps.x_hat.flatten(),
        "scaled": GAMMA * steps.x_hat.flatten(),
        "y": exact,
        "y_lesson": lesson,
        "scaled_rounded": gamma * steps.x_hat.flatten().round(decimals=2),
        "x_hat_1_rounded": steps.x_hat.flatten()
        .round(decimals=2)[1]
        .item(),
        # the largest error rounding to 2 decimals can hide
        "half_unit": 0.005,
        "x_hat_error": (
            steps.x_hat.flatten().round(decimals=2) - steps.x_hat.flatten()
        )
        .abs()
        .max()
        .item(),
        "lesson_error": (lesson - exact).abs().max().item(),
        "identity_gamma": identity_params(steps, EPS)[0].item(),
        "identity_beta": identity_params(steps, EPS)[1].item(),
        "x_scaled": [10 * v + 3 for v in X],
        "batch_b": BATCH_B,
        "undo_train_error": undo[0],
        "undo_eval_error": undo[1],
    }


def main() -> None:
    # --8<-- [start:demo-identity]
    x = torch.tensor([2.0, 4.0, 6.0, 8.0]).reshape(4, 1)
    # Without gamma and beta, scale and offset of the input are lost:
    # 10x + 3 gives the same x_hat.
    ones, zeros = torch.ones(1), torch.zeros(1)
    print(batch_norm(10 * x + 3, ones, zeros).x_hat.flatten())
    #> tensor([-1.3416, -0.4472,  0.4472,  1.3416])
    # gamma = sqrt(sigma^2 + eps), beta = mu give back this batch exactly.
    gamma_id, beta_id = identity_params(batch_norm(x, ones, zeros))
    print(f"gamma = {gamma_id.item():.4f}, beta = {beta_id.item():.1f}")
    #> gamma = 2.2361, beta = 5.0
    print(batch_norm(x, gamma_id, beta_id).y.flatten())
    #> tensor([2., 4., 6., 8.])
    # --8<-- [end:demo-identity]

    # --8<-- [start:demo-undo-fixed]
    batch_b = torch.tensor([1.0, 2.0, 3.0, 10.0]).reshape(4, 1)
    train_err, eval_err = undo_error(x, batch_b)
    print(f"training mode: |y - x| up to {train_err:.2f}")
    #> training mode: |y - x| up to 2.10
    print(f"fixed statistics: |y - x| up to {eval_err:.0e}")
    #> fixed statistics: |y - x| up to 0e+00
    # --8<-- [end:demo-undo-fixed]

    # --8<-- [start:demo-example]
    # N = 4 examples, C = 1 feature
    x = torch.tensor([2.0, 4.0, 6.0, 8.0]).reshape(4, 1)
    gamma, beta = torch.tensor([2.0]), torch.tensor([1.0])
    steps = batch_norm(x, gamma, beta, eps=1e-5)
    print("mu      =", steps.mean)
    #> mu      = tensor([5.])
    print("sigma^2 =", steps.var)
    #> sigma^2 = tensor([5.])
    print("x_hat   =", steps.x_hat.flatten())
    #> x_hat   = tensor([-1.3416, -0.4472,  0.4472,  1.3416])
    print("y       =", steps.y.flatten())
    #> y       = tensor([-1.6833,  0.1056,  1.8944,  3.6833])
    # PyTorch's functional form, in training mode, computes the same y:
    expected = F.batch_norm(x, None, None, gamma, beta, training=True)
    print(torch.allclose(steps.y, expected))
    #> True
    # --8<-- [end:demo-example]

    # --8<-- [start:demo-rounding]
    print("y, rounded at the end:", show(steps.y, 2))
    #> y, rounded at the end: [-1.68, 0.11, 1.89, 3.68]
    late = rounded_then_scaled(steps, gamma, beta)
    print("x_hat rounded first:  ", show(late, 2))
    #> x_hat rounded first:   [-1.68, 0.10, 1.90, 3.68]
    # --8<-- [end:demo-rounding]

    # --8<-- [start:demo-shapes]
    torch.manual_seed(0)
    # (N, C, H, W): statistics over N, H, W for each channel
    images = torch.randn(8, 3, 5, 5)
    steps = batch_norm(images, gamma=torch.ones(3), beta=torch.zeros(3))
    print(steps.mean.shape, steps.y.shape)
    #> torch.Size([3]) torch.Size([8, 3, 5, 5])
    # float16 values near 1000: (x - mu)**2 would overflow float16,
    # so the statistics are computed in float32, as PyTorch does
    big = (1000 + 300 * torch.randn(64, 3)).half()
    y = batch_norm(big, torch.ones(3), torch.zeros(3)).y
    print(y.dtype, y.std(dim=0).float())
    #> torch.float16 tensor([1.0078, 1.0078, 1.0078])
    # --8<-- [end:demo-shapes]

    # --8<-- [start:demo-errors]
    bad_inputs = [
        (torch.tensor([[4.0]]), torch.ones(1)),  # N = 1, C = 1
        (torch.randn(8, 3), torch.ones(4)),  # 4 gammas, 3 channels
        (torch.randn(8, 3), torch.ones(1)),  # would broadcast
    ]
    for x, gamma in bad_inputs:
        try:
            batch_norm(x, gamma, torch.zeros(x.shape[1]))
        except ValueError as error:
            print(textwrap.fill(str(error), 60))
            #> x of shape (1, 1) has 1 value per channel; training-mode
            #> batch norm needs more than 1 value per channel (the variance
            #> of one value is 0)
            #> gamma must have shape (C,) = (3,) to match x, got (4,)
            #> gamma must have shape (C,) = (3,) to match x, got (1,)
    try:
        torch.nn.BatchNorm1d(1).train()(torch.tensor([[4.0]]))
    except ValueError as error:
        print(textwrap.fill(f"PyTorch: {error}", 64))
        #> PyTorch: Expected more than 1 value per channel when training,
        #> got input size torch.Size([1, 1])
    # --8<-- [end:demo-errors]


if __name__ == "__main__":
    main()
