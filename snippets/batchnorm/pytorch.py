"""nn.BatchNorm1d/2d: per-channel statistics, running averages, and train
versus eval mode."""

import functools

import torch
from torch import nn

from snippets.batchnorm.manual import (
    check_batch_norm_args,
    check_eps,
    require_float_tensor,
)


def check_per_channel(name: str, value, x) -> None:
    """A running statistic, gamma or beta: shape (C,) exactly, so that it
    cannot broadcast a single value over every channel."""
    require_float_tensor(name, value, x.device)
    if value.shape != (x.shape[1],):
        raise ValueError(
            f"{name} must have shape (C,) = ({x.shape[1]},) "
            f"to match x, got {tuple(value.shape)}"
        )


def check_momentum(momentum) -> None:
    if momentum is None:
        return
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise TypeError(
            f"momentum must be a number or None, got {momentum!r}"
        )
    if not 0.0 <= momentum <= 1.0:  # also refuses NaN
        raise ValueError(
            f"momentum must be in [0, 1] or None, got momentum={momentum}"
        )


def upcast(x: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 -> float32, as PyTorch's CPU batch norm computes."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


# --8<-- [start:per-channel]
def per_channel_stats(x: torch.Tensor):
    """One mean and one (biased) variance per channel of an (N, C, H, W)
    batch, over N, H and W (in float32 at least)."""
    require_float_tensor("x", x)
    if x.dim() != 4:
        raise ValueError(
            f"x must have shape (N, C, H, W), got {tuple(x.shape)}"
        )
    x = upcast(x)
    return x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), correction=0)


def batch_norm_2d(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """What a fresh nn.BatchNorm2d (gamma = 1, beta = 0) computes in
    train mode."""
    mean, var = per_channel_stats(x)
    # one value per channel or a bad eps: refused as on the previous page
    check_batch_norm_args(
        x, torch.ones_like(mean), torch.ones_like(mean), eps
    )
    # broadcast over N, H, W
    mean, var = mean.view(1, -1, 1, 1), var.view(1, -1, 1, 1)
    return ((upcast(x) - mean) / torch.sqrt(var + eps)).to(x.dtype)


# --8<-- [end:per-channel]


def check_running_args(
    running_mean, running_var, x, momentum, num_batches_tracked
) -> None:
    """Refuse what BN's running update cannot handle."""
    if (
        isinstance(num_batches_tracked, bool)
        or not isinstance(num_batches_tracked, int)
        or num_batches_tracked < 0
    ):
        raise ValueError(
            "num_batches_tracked must be an int >= 0, "
            f"got {num_batches_tracked!r}"
        )
    require_float_tensor("x", x)
    if x.dim() < 2:
        raise ValueError(
            f"x must have shape (N, C, ...), got {tuple(x.shape)}"
        )
    if x.numel() // max(x.shape[1], 1) < 2:
        # PyTorch: "Expected more than 1 value per channel when training";
        # the unbiased variance of one value divides by N - 1 = 0 (NaN)
        raise ValueError(
            f"x of shape {tuple(x.shape)} has fewer than 2 values per "
            "channel: the running variance needs more than 1 value per "
            "channel"
        )
    check_per_channel("running_mean", running_mean, x)
    check_per_channel("running_var", running_var, x)
    check_momentum(momentum)


def check_eval_args(x, running_mean, running_var, gamma, beta, eps) -> None:
    """Refuse what eval-mode BN cannot handle (a batch of one is fine)."""
    require_float_tensor("x", x)
    if x.dim() < 2 or x.shape[1] == 0:
        raise ValueError(
            f"x must have shape (N, C, ...), got {tuple(x.shape)}"
        )
    for name, value in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("gamma", gamma),
        ("beta", beta),
    ):
        check_per_channel(name, value, x)
    check_eps(eps)


# --8<-- [start:running]
def update_running_stats(
    running_mean, running_var, x, momentum=0.1, num_batches_tracked: int = 0
):
    """One train-mode step of BN's running averages; momentum weights
    the NEW batch. momentum=None: the plain average of all batches, for
    which the layer counts batches (num_batches_tracked, before this
    step)."""
    check_running_args(
        running_mean, running_var, x, momentum, num_batches_tracked
    )
    if momentum is None:
        momentum = 1.0 / (num_batches_tracked + 1)
    dims = [0, *range(2, x.dim())]  # every dim except the channel dim 1
    x32 = upcast(x)
    batch_mean = x32.mean(dim=dims)
    # UNBIASED (N - 1), unlike the forward pass
    batch_var = x32.var(dim=dims, correction=1)
    new_mean = (1 - momentum) * running_mean + momentum * batch_mean
    new_var = (1 - momentum) * running_var + momentum * batch_var
    # the buffers keep their own dtype
    return new_mean.to(running_mean.dtype), new_var.to(running_var.dtype)


def eval_batch_norm(
    x, running_mean, running_var, gamma, beta, eps: float = 1e-5
) -> torch.Tensor:
    """Eval-mode BN: the stored running statistics replace the batch's
    own."""
    check_eval_args(x, running_mean, running_var, gamma, beta, eps)
    shape = (1, -1) + (1,) * (x.dim() - 2)  # (1, C) or (1, C, 1, 1)
    mean, var = running_mean.view(shape), running_var.view(shape)
    x_hat = (upcast(x) - mean) / torch.sqrt(var + eps)
    y = gamma.view(shape) * x_hat + beta.view(shape)
    return y.to(x.dtype)


# --8<-- [end:running]


# --8<-- [start:depth]
class Block(nn.Module):
    """Linear -> BN -> ReLU, optionally with a skip connection around it."""

    def __init__(self, width: int, residual: bool):
        super().__init__()
        self.residual = residual
        self.layers = nn.Sequential(
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU()
        )

    def forward(self, h):
        return h + self.layers(h) if self.residual else self.layers(h)


def gradient_growth(
    depth: int,
    residual: bool,
    width: int = 64,
    batch: int = 64,
    seed: int = 0,
) -> float:
    """At initialisation, in train mode: the gradient norm of the FIRST
    linear layer's weights over that of the LAST, for a random loss."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth=}")
    with torch.random.fork_rng():  # leave the global generator alone
        torch.manual_seed(seed)
        net = nn.Sequential(*(Block(width, residual) for _ in range(depth)))
        # float64: forty layers amplify float32 rounding differences
        net = net.double()
        out = net(torch.randn(batch, width, dtype=torch.float64))
        (out * torch.randn_like(out)).sum().backward()
    first, last = net[0].layers[0].weight, net[-1].layers[0].weight
    return (first.grad.norm() / last.grad.norm()).item()


# --8<-- [end:depth]


DEPTHS = (2, 10, 20, 40)


@functools.cache
def growth_table(residual: bool) -> tuple[float, ...]:
    """gradient_growth at each of DEPTHS (computed once per process)."""
    return tuple(gradient_growth(d, residual) for d in DEPTHS)


X = [[2.0], [4.0], [6.0], [8.0]]
BATCH_A = [[4.0], [2.0], [6.0], [8.0]]
BATCH_B = [[4.0], [10.0], [12.0], [14.0]]


def trained_bn(x: torch.Tensor, steps: int = 1) -> nn.BatchNorm1d:
    """A fresh nn.BatchNorm1d after `steps` train-mode passes over x."""
    bn = nn.BatchNorm1d(x.shape[1])
    with torch.no_grad():
        for _ in range(steps):
            bn(x)
    return bn


def first_row_outputs(
    bn: nn.BatchNorm1d, training: bool
) -> tuple[float, float]:
    """The output for the shared first example (4.0) inside batch A and
    inside batch B."""
    bn.train(training)
    with torch.no_grad():
        return bn(torch.tensor(BATCH_A))[0, 0].item(), bn(
            torch.tensor(BATCH_B)
        )[0, 0].item()


def facts() -> dict:
    x = torch.tensor(X)
    fresh = nn.BatchNorm1d(1)
    bn = trained_bn(x)
    with torch.no_grad():
        eval_out = bn.eval()(x).flatten()
        train_out = nn.BatchNorm1d(1)(x).flatten()
        converged = trained_bn(x, steps=200)
        converged_out = converged.eval()(x).flatten()
    train_a, train_b = first_row_outputs(nn.BatchNorm1d(1), training=True)
    shared = nn.BatchNorm1d(1)
    # two train steps update the running stats
    first_row_outputs(shared, training=True)
    eval_a, eval_b = first_row_outputs(shared, training=False)
    return {
        "depths": list(DEPTHS),
        "plain_growth": list(growth_table(False)),
        "residual_growth": list(growth_table(True)),
        "x": [row[0] for row in X],
        "momentum": fresh.momentum,  # PyTorch's default
        "keep": 1 - fresh.momentum,
        # Keras weights the OLD average with its momentum
        "keras_momentum": 0.99,
        "keras_as_torch": round(1 - 0.99, 2),
        "init_mean": fresh.running_mean.item(),
        "init_var": fresh.running_var.item(),
        "batch_mean": x.mean().item(),
        "sum_squared": ((x - x.mean()) ** 2).sum().item(),
        "n": x.shape[0],
        "n_minus_1": x.shape[0] - 1,
        "biased_var": x.var(correction=0).item(),
        "unbiased_var": x.var(correction=1).item(),
        "running_mean": bn.running_mean.item(),
        "running_var": bn.running_var.item(),
        "running_var_if_biased": (1 - fresh.momentum)
        * fresh.running_var.item()
        + fresh.momentum * x.var(correction=0).item(),
        "train_out": train_out,
        "eval_out": eval_out,
        "converged_mean": converged.running_mean.item(),
        "converged_var": converged.running_var.item(),
        "converged_out": converged_out,
        "shrink": ((x.shape[0] - 1) / x.shape[0]) ** 0.5,
        "batch_a": [row[0] for row in BATCH_A],
        "batch_b": [row[0] for row in BATCH_B],
        "train_a": train_a,
        "train_b": train_b,
        "eval_a": eval_a,
        "eval_b": eval_b,
    }


def main() -> None:
    # --8<-- [start:demo-per-channel]
    torch.manual_seed(0)
    # 3 channels on very different scales: means 0, 20, -3; sd 1, 5, 0.1
    scale = torch.tensor([1.0, 5.0, 0.1]).view(1, 3, 1, 1)
    shift = torch.tensor([0.0, 20.0, -3.0]).view(1, 3, 1, 1)
    x = torch.randn(8, 3, 4, 4) * scale + shift
    # one gamma, one beta, one running mean and variance per channel
    bn = nn.BatchNorm2d(3)
    out = bn(x).detach()
    mean, _ = per_channel_stats(x)
    print("batch mean per channel:", mean.round(decimals=2))
    #> batch mean per channel: tensor([ 0.0400, 20.4200, -3.0000])
    out_mean = out.mean(dim=(0, 2, 3)).round(decimals=4) + 0.0
    out_var = out.var(dim=(0, 2, 3), correction=0).round(decimals=4)
    print("output mean per channel:", out_mean)
    #> output mean per channel: tensor([0., 0., 0.])
    print("output var per channel: ", out_var)
    #> output var per channel:  tensor([1.0000, 1.0000, 0.9988])
    same = torch.allclose(batch_norm_2d(x), out, atol=1e-5)
    print("manual == nn.BatchNorm2d:", same)
    #> manual == nn.BatchNorm2d: True
    across = x.mean(dim=1)  # across channels: one per example and place
    print(bn.weight.shape, bn.running_mean.shape, "but", across.shape)
    #> torch.Size([3]) torch.Size([3]) but torch.Size([8, 4, 4])
    # --8<-- [end:demo-per-channel]

    # --8<-- [start:demo-running]
    x = torch.tensor([[2.0], [4.0], [6.0], [8.0]])
    bn = nn.BatchNorm1d(1)  # momentum=0.1, eps=1e-5
    print("start:      ", bn.running_mean, bn.running_var)
    #> start:       tensor([0.]) tensor([1.])
    # train mode: normalise with THIS batch, then update the running stats
    y_train = bn(x)
    print("after 1 step:", bn.running_mean, bn.running_var)
    #> after 1 step: tensor([0.5000]) tensor([1.5667])
    by_hand = update_running_stats(torch.zeros(1), torch.ones(1), x)
    print("by hand:     ", *by_hand)
    #> by hand:      tensor([0.5000]) tensor([1.5667])
    print("train output:", y_train.detach().flatten())
    #> train output: tensor([-1.3416, -0.4472,  0.4472,  1.3416])
    bn.eval()  # eval mode: normalise with the running stats, update nothing
    print("eval output: ", bn(x).detach().flatten())
    #> eval output:  tensor([1.1984, 2.7963, 4.3941, 5.9920])
    y_eval = eval_batch_norm(
        x, bn.running_mean, bn.running_var, bn.weight, bn.bias
    )
    print("by hand:     ", y_eval.detach().flatten())
    #> by hand:      tensor([1.1984, 2.7963, 4.3941, 5.9920])
    # --8<-- [end:demo-running]

    # --8<-- [start:demo-converged]
    bn = trained_bn(x, steps=200)  # 200 train steps on the same batch
    print(bn.running_mean, bn.running_var)
    #> tensor([5.0000]) tensor([6.6667])
    print(bn.eval()(x).detach().flatten())
    #> tensor([-1.1619, -0.3873,  0.3873,  1.1619])
    # --8<-- [end:demo-converged]

    # --8<-- [start:demo-train-eval]
    bn = nn.BatchNorm1d(1)
    # Batches A and B share their first example, 4.0; the rest differ.
    a_train, b_train = first_row_outputs(bn, training=True)
    print(
        f"train mode: 4.0 -> {a_train:.4f} in batch A, "
        f"{b_train:.4f} in batch B"
    )
    #> train mode: 4.0 -> -0.4472 in batch A, -1.6036 in batch B
    a_eval, b_eval = first_row_outputs(bn, training=False)
    print(
        f"eval mode:  4.0 -> {a_eval:.4f} in batch A, "
        f"{b_eval:.4f} in batch B"
    )
    #> eval mode:  4.0 -> 1.4087 in batch A, 1.4087 in batch B
    # --8<-- [end:demo-train-eval]

    # --8<-- [start:demo-depth]
    for depth in (2, 10, 20, 40):
        plain = gradient_growth(depth, residual=False)
        skip = gradient_growth(depth, residual=True)
        print(
            f"{depth:2d} blocks: plain {plain:7.1f}x, residual {skip:4.1f}x"
        )
        #>  2 blocks: plain     1.2x, residual  1.2x
        #> 10 blocks: plain     6.9x, residual  2.5x
        #> 20 blocks: plain    48.9x, residual  3.8x
        #> 40 blocks: plain  2275.6x, residual  8.5x
    # --8<-- [end:demo-depth]


if __name__ == "__main__":
    main()
