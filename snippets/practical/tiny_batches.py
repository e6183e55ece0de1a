"""BatchNorm with tiny batches: noisy statistics, an error at batch size 1,
and two batch-free norms."""

import copy
import textwrap

import torch
from torch import nn


def check_count(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {name}={value}")
    return value


# --8<-- [start:spread]
def batch_statistics_spread(batch_size: int, n_batches: int = 10_000):
    """How far the batch mean and batch variance of N(0, 1) data move
    from batch to batch: their standard deviations over many batches."""
    check_count("batch_size", batch_size, minimum=1)
    # the spread of a single batch's statistic is undefined
    check_count("n_batches", n_batches, minimum=2)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n_batches, batch_size, generator=generator)
    means = x.mean(dim=1)
    variances = x.var(dim=1, correction=0)  # what BN divides by
    return means.std().item(), variances.std().item()


# --8<-- [end:spread]


# --8<-- [start:independent]
@torch.no_grad()
def batch_independent(norm: nn.Module, x: torch.Tensor) -> bool:
    """Does example 0 get the same output alone as inside the batch x?"""
    # on a copy: a train-mode BN would fold both calls into the running
    # statistics of the caller's layer
    norm = copy.deepcopy(norm)
    return torch.allclose(norm(x)[:1], norm(x[:1]), atol=1e-5)


def norms(channels: int = 8) -> dict[str, nn.Module]:
    return {
        "BatchNorm2d": nn.BatchNorm2d(channels),  # over the batch
        "GroupNorm": nn.GroupNorm(num_groups=4, num_channels=channels),
        "LayerNorm": nn.LayerNorm([channels, 5, 5]),  # over (C, H, W)
    }


# --8<-- [end:independent]


def facts() -> dict:
    small, large = batch_statistics_spread(2), batch_statistics_spread(64)
    return {
        "small": 2,
        "large": 64,
        "small_mean_sd": small[0],
        "small_var_sd": small[1],
        "large_mean_sd": large[0],
        "large_var_sd": large[1],
    }


def main() -> None:
    # --8<-- [start:demo-spread]
    for batch_size in (2, 64):
        mean_sd, var_sd = batch_statistics_spread(batch_size)
        print(f"N = {batch_size}: mean ± {mean_sd:.3f}, var ± {var_sd:.3f}")
        #> N = 2: mean ± 0.713, var ± 0.703
        #> N = 64: mean ± 0.124, var ± 0.174
    # --8<-- [end:demo-spread]

    # --8<-- [start:demo-two]
    torch.manual_seed(0)
    with torch.no_grad():
        x = torch.randn(2, 3) * 10  # any two rows
        print(nn.BatchNorm1d(3)(x))
        #> tensor([[ 1.0000,  1.0000, -1.0000],
        #>         [-1.0000, -1.0000,  1.0000]])
    # --8<-- [end:demo-two]

    # --8<-- [start:demo-one]
    try:
        nn.BatchNorm1d(4).train()(torch.randn(1, 4))
    except ValueError as error:
        print(textwrap.fill(str(error), 64))
        #> Expected more than 1 value per channel when training, got input
        #> size torch.Size([1, 4])
    # --8<-- [end:demo-one]

    # --8<-- [start:demo-independent]
    torch.manual_seed(0)
    x = torch.randn(6, 8, 5, 5)  # (N, C, H, W) feature maps
    for name, norm in norms(channels=8).items():
        print(f"{name:11s} independent: {batch_independent(norm, x)}")
        #> BatchNorm2d independent: False
        #> GroupNorm   independent: True
        #> LayerNorm   independent: True
    # --8<-- [end:demo-independent]


if __name__ == "__main__":
    main()
