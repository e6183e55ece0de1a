"""Batch normalization by hand: the mini-batch statistics, x_hat, and the scale-and-shift y."""

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F


# --8<-- [start:check]
def check_batch_norm_args(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float) -> int:
    """Refuse inputs training-mode BN cannot handle; return the channel count C."""
    if x.dim() < 2 or x.shape[1] == 0:
        raise ValueError(f"x must have shape (N, C) or (N, C, H, W) with C >= 1, got {tuple(x.shape)}")
    channels = x.shape[1]
    per_channel = x.numel() // channels
    if per_channel < 2:
        # One value per channel: its biased variance is 0 (and the unbiased one divides by
        # N - 1 = 0), so x_hat would be 0 whatever x is. PyTorch refuses this too.
        raise ValueError(
            f"x of shape {tuple(x.shape)} has {per_channel} value per channel; training-mode batch "
            "norm needs more than 1 value per channel (the variance of one value is 0)"
        )
    for name, param in (("gamma", gamma), ("beta", beta)):
        if param.shape != (channels,):
            raise ValueError(f"{name} must have shape (C,) = ({channels},) to match x, got {tuple(param.shape)}")
    if eps <= 0:
        raise ValueError(f"eps must be > 0 (it keeps the division finite), got eps={eps}")
    return channels
# --8<-- [end:check]


# --8<-- [start:batch-norm]
class BatchNormSteps(NamedTuple):
    mean: torch.Tensor  # mu, one per channel: shape (C,)
    var: torch.Tensor  # sigma^2, biased (divide by N), shape (C,)
    x_hat: torch.Tensor  # normalised input, same shape as x
    y: torch.Tensor  # gamma * x_hat + beta, same shape as x


def batch_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5) -> BatchNormSteps:
    """Training-mode BN of x with shape (N, C) or (N, C, H, W): statistics per channel (dim 1)."""
    check_batch_norm_args(x, gamma, beta, eps)
    dims = [0, *range(2, x.dim())]  # every dim except the channel dim 1
    mu = x.mean(dim=dims, keepdim=True)  # keepdim: shape (1, C, 1, 1) broadcasts against x
    var = ((x - mu) ** 2).mean(dim=dims, keepdim=True)  # 1/N: the biased variance
    x_hat = (x - mu) / torch.sqrt(var + eps)
    y = gamma.reshape(mu.shape) * x_hat + beta.reshape(mu.shape)
    return BatchNormSteps(mu.flatten(), var.flatten(), x_hat, y)
# --8<-- [end:batch-norm]


# --8<-- [start:identity]
def identity_params(steps: BatchNormSteps, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """gamma = sqrt(sigma^2 + eps) and beta = mu undo the normalisation, so y = x."""
    return torch.sqrt(steps.var + eps), steps.mean
# --8<-- [end:identity]


# --8<-- [start:rounding]
def rounded_then_scaled(steps: BatchNormSteps, gamma: torch.Tensor, beta: torch.Tensor, decimals: int = 2):
    """What the original lesson did: round x_hat first, then scale and shift the rounded values."""
    return gamma * steps.x_hat.round(decimals=decimals) + beta
# --8<-- [end:rounding]


def show(values: torch.Tensor, digits: int) -> str:
    """A tensor as [a, b, c] with a fixed number of decimals."""
    return "[" + ", ".join(f"{v:.{digits}f}" for v in values.flatten().tolist()) + "]"


X = [2.0, 4.0, 6.0, 8.0]
GAMMA, BETA, EPS = 2.0, 1.0, 1e-5


def example() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, BatchNormSteps]:
    """The worked example: N = 4 values of C = 1 feature, gamma = 2, beta = 1."""
    x = torch.tensor(X, dtype=torch.float64).reshape(4, 1)
    gamma, beta = torch.tensor([GAMMA], dtype=torch.float64), torch.tensor([BETA], dtype=torch.float64)
    return x, gamma, beta, batch_norm(x, gamma, beta, EPS)


def facts() -> dict:
    x, gamma, beta, steps = example()
    deviations = (x - steps.mean).flatten()
    lesson = rounded_then_scaled(steps, gamma, beta).flatten()
    exact = steps.y.flatten()
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
        "x_hat_1_rounded": steps.x_hat.flatten().round(decimals=2)[1].item(),
        "half_unit": 0.005,  # the largest error rounding to 2 decimals can hide
        "x_hat_error": (steps.x_hat.flatten().round(decimals=2) - steps.x_hat.flatten()).abs().max().item(),
        "lesson_error": (lesson - exact).abs().max().item(),
        "identity_gamma": identity_params(steps, EPS)[0].item(),
        "identity_beta": identity_params(steps, EPS)[1].item(),
        "x_scaled": [10 * v + 3 for v in X],
    }


def main() -> None:
    # --8<-- [start:demo-identity]
    x = torch.tensor([2.0, 4.0, 6.0, 8.0]).reshape(4, 1)
    # Without gamma and beta, scale and offset of the input are lost: 10x + 3 gives the same x_hat.
    ones, zeros = torch.ones(1), torch.zeros(1)
    print(batch_norm(10 * x + 3, ones, zeros).x_hat.flatten())
    #> tensor([-1.3416, -0.4472,  0.4472,  1.3416])
    # With gamma = sqrt(sigma^2 + eps) and beta = mu, BN gives back its input exactly.
    gamma_id, beta_id = identity_params(batch_norm(x, ones, zeros))
    print(f"gamma = {gamma_id.item():.4f}, beta = {beta_id.item():.1f}")
    #> gamma = 2.2361, beta = 5.0
    print(batch_norm(x, gamma_id, beta_id).y.flatten())
    #> tensor([2., 4., 6., 8.])
    # --8<-- [end:demo-identity]

    # --8<-- [start:demo-example]
    x = torch.tensor([2.0, 4.0, 6.0, 8.0]).reshape(4, 1)  # N = 4 examples, C = 1 feature
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
    print(torch.allclose(steps.y, F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)))
    #> True
    # --8<-- [end:demo-example]

    # --8<-- [start:demo-rounding]
    print("y, rounded at the end:  ", show(steps.y, 2))
    #> y, rounded at the end:   [-1.68, 0.11, 1.89, 3.68]
    print("x_hat rounded first:    ", show(rounded_then_scaled(steps, gamma, beta), 2))
    #> x_hat rounded first:     [-1.68, 0.10, 1.90, 3.68]
    # --8<-- [end:demo-rounding]

    # --8<-- [start:demo-shapes]
    torch.manual_seed(0)
    images = torch.randn(8, 3, 5, 5)  # (N, C, H, W): statistics over N, H, W for each channel
    steps = batch_norm(images, gamma=torch.ones(3), beta=torch.zeros(3))
    print(steps.mean.shape, steps.y.shape)
    #> torch.Size([3]) torch.Size([8, 3, 5, 5])
    # --8<-- [end:demo-shapes]

    # --8<-- [start:demo-errors]
    for bad in (
        lambda: batch_norm(torch.tensor([[4.0]]), torch.ones(1), torch.zeros(1)),  # N = 1, C = 1
        lambda: batch_norm(torch.randn(8, 3), torch.ones(4), torch.zeros(3)),  # 4 gammas, 3 channels
    ):
        try:
            bad()
        except ValueError as error:
            print("ValueError:", error)
            #> ValueError: x of shape (1, 1) has 1 value per channel; training-mode batch norm needs more than 1 value per channel (the variance of one value is 0)
            #> ValueError: gamma must have shape (C,) = (3,) to match x, got (4,)
    try:
        torch.nn.BatchNorm1d(1).train()(torch.tensor([[4.0]]))
    except ValueError as error:
        print("PyTorch:", error)
        #> PyTorch: Expected more than 1 value per channel when training, got input size torch.Size([1, 1])
    # --8<-- [end:demo-errors]


if __name__ == "__main__":
    main()
