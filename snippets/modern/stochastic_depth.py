"""Stochastic depth (DropPath): drop a whole residual branch, per example
or per batch, and rescale the survivors by 1 / (1 - p)."""

import torch
from torch import nn

from snippets.dropout.bernoulli import check_floating, check_probability

MODES = ("row", "batch")


# --8<-- [start:stochastic-depth]
def check_stochastic_depth_args(x: torch.Tensor, p: float, mode: str):
    check_probability(p, "p", allow_one=True)  # p = 1: branch always off
    if mode not in MODES:
        raise ValueError(
            f"mode must be 'row' or 'batch', got mode={mode!r}"
        )
    check_floating(x, "x")
    if x.ndim == 0:
        raise ValueError("x must have a batch dimension, got a 0-d tensor")


def stochastic_depth(
    x: torch.Tensor,
    p: float,
    mode: str = "row",
    training: bool = True,
    generator=None,
) -> torch.Tensor:
    """x is the output of a residual branch, shape (N, ...). "row": each
    example keeps its branch with probability 1 - p; "batch": one coin
    for the whole batch. Survivors are scaled by 1 / (1 - p)."""
    check_stochastic_depth_args(x, p, mode)
    if not training or p == 0.0:
        return x
    keep = 1.0 - p
    if mode == "row":  # one number per example, broadcast over the rest
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    else:  # one number for the whole batch
        shape = (1,) * x.ndim
    noise = x.new_empty(shape).bernoulli_(keep, generator=generator)
    if keep > 0.0:  # p = 1 leaves the zeros as they are
        noise.div_(keep)
    return x * noise


# --8<-- [end:stochastic-depth]


# --8<-- [start:decay]
def linear_decay(p_last: float, blocks: int) -> list[float]:
    """Huang et al.'s rule: block l of L (l = 1 .. L) drops with
    probability l / L * p_last, so early blocks are almost always on."""
    check_probability(p_last, "p_last", allow_one=True)
    if type(blocks) is not int or blocks < 1:
        raise ValueError(f"blocks must be a positive int, got {blocks!r}")
    return [p_last * block / blocks for block in range(1, blocks + 1)]


def linear_decay_from_zero(p_last: float, blocks: int) -> list[float]:
    """The convention of timm and torchvision's model code: from 0 for
    the first block to p_last for the last, like torch.linspace."""
    check_probability(p_last, "p_last", allow_one=True)
    if type(blocks) is not int or blocks < 1:
        raise ValueError(f"blocks must be a positive int, got {blocks!r}")
    if blocks == 1:
        return [0.0]
    return [p_last * block / (blocks - 1) for block in range(blocks)]


# --8<-- [end:decay]


# --8<-- [start:block]
class ResidualBlock(nn.Module):
    """y = x + DropPath(branch(x)): a dropped branch leaves the
    identity, so the example skips this block."""

    def __init__(self, channels: int, p: float, mode: str = "row"):
        super().__init__()
        check_probability(p, "p", allow_one=True)
        if mode not in MODES:
            raise ValueError(
                f"mode must be 'row' or 'batch', got mode={mode!r}"
            )
        self.p, self.mode = p, mode
        self.branch = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch = stochastic_depth(
            self.branch(x), self.p, self.mode, self.training
        )
        return torch.relu(x + branch)


# --8<-- [end:block]


# --8<-- [start:library]
def library_versions(branch_out: torch.Tensor):
    """The same with torchvision or timm, each installed with its own
    matching torch (neither is a dependency of this site)."""
    from timm.layers import DropPath, drop_path
    from torchvision.ops import StochasticDepth, stochastic_depth

    by_torchvision = stochastic_depth(
        branch_out, p=0.1, mode="row", training=True
    )
    by_timm = drop_path(branch_out, drop_prob=0.1, training=True)  # "row"
    layers = [StochasticDepth(p=0.1, mode="row"), DropPath(drop_prob=0.1)]
    # timm's models take the top rate and decay it over the blocks:
    # timm.create_model("convnext_tiny", drop_path_rate=0.1)
    return by_torchvision, by_timm, layers


# --8<-- [end:library]


# --8<-- [start:exercise]
def expected_depth(drop_rates: list[float]) -> float:
    """The expected number of residual blocks an example passes through
    in training: each block is on with probability 1 - p_l."""
    return sum(1.0 - p for p in drop_rates)


# --8<-- [end:exercise]


def facts() -> dict:
    rates = linear_decay(0.5, 54)
    return {
        "paper_p_last": 0.5,
        "paper_blocks": 54,
        "paper_expected": expected_depth(rates),
        "first_rate": rates[0],
        "timm_first": linear_decay_from_zero(0.5, 54)[0],
    }


def main() -> None:
    # --8<-- [start:demo-row]
    x = torch.ones(8, 3)  # the output of a residual branch, 8 examples
    generator = torch.Generator().manual_seed(0)
    y = stochastic_depth(x, p=0.5, mode="row", generator=generator)
    print(y[:, 0])  # each example: branch dropped (0) or doubled (2)
    #> tensor([0., 0., 2., 0., 0., 0., 2., 2.])
    # --8<-- [end:demo-row]

    # --8<-- [start:demo-batch]
    generator = torch.Generator().manual_seed(4)
    for step in range(4):
        y = stochastic_depth(x, p=0.5, mode="batch", generator=generator)
        print(f"step {step}: {y[:, 0].unique().tolist()}")
        #> step 0: [2.0]
        #> step 1: [0.0]
        #> step 2: [2.0]
        #> step 3: [0.0]
    # --8<-- [end:demo-batch]

    # --8<-- [start:demo-decay]
    print([round(p, 3) for p in linear_decay(0.5, blocks=4)])
    #> [0.125, 0.25, 0.375, 0.5]
    print([round(p, 3) for p in linear_decay_from_zero(0.5, blocks=4)])
    #> [0.0, 0.167, 0.333, 0.5]
    # --8<-- [end:demo-decay]

    # --8<-- [start:demo-block]
    torch.manual_seed(0)
    blocks = nn.Sequential(
        *[ResidualBlock(4, p) for p in linear_decay(0.5, blocks=3)]
    )
    x = torch.randn(2, 4, 6, 6)
    blocks.eval()  # at inference every branch is on, unscaled
    no_drop = nn.Sequential(*[ResidualBlock(4, 0.0) for _ in range(3)])
    no_drop.load_state_dict(blocks.state_dict())
    no_drop.eval()
    print(torch.equal(blocks(x), no_drop(x)))
    #> True
    # --8<-- [end:demo-block]

    # --8<-- [start:demo-exercise]
    rates = linear_decay(0.5, blocks=54)  # ResNet-110: 54 blocks
    print(f"{expected_depth(rates):.2f} of 54 blocks on average")
    #> 40.25 of 54 blocks on average
    # --8<-- [end:demo-exercise]


if __name__ == "__main__":
    main()
