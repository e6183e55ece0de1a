"""DropBlock: zero contiguous block_size x block_size squares of each
feature map, then rescale."""

import torch
import torch.nn.functional as F
from torch import nn

from snippets.cnn.dropout2d import (
    FIGURE_STYLE,
    GREY,
    check_feature_maps,
    colormap,
    feature_maps,
    save_svg,
)
from snippets.dropout.bernoulli import check_drop_prob, check_floating


# --8<-- [start:checks]
def check_block_size(block_size: int) -> None:
    if type(block_size) is not int:  # not 3.0, not True
        raise TypeError(f"block_size must be an int, got {block_size!r}")
    if block_size < 1 or block_size % 2 == 0:
        # A block is centred on its seed, which needs an odd side length.
        raise ValueError(
            f"block_size must be a positive odd number, "
            f"got block_size={block_size}"
        )


def check_dropblock_args(
    x: torch.Tensor, p: float, block_size: int
) -> None:
    """Refuse what DropBlock cannot do, naming the culprit."""
    check_drop_prob(p)  # p = 1 would not even drop everything: see gamma
    check_feature_maps(x)
    check_block_size(block_size)
    if block_size > min(x.shape[-2:]):
        height, width = x.shape[-2:]
        raise ValueError(
            f"block_size={block_size} is larger than the "
            f"{height} x {width} feature map"
        )


# --8<-- [end:checks]


# --8<-- [start:gamma]
def seed_rate(p: float, block_size: int, height: int, width: int) -> float:
    """gamma: the probability that a position is the centre of a dropped
    block. Centres are drawn only where the whole block fits, on
    (H - b + 1) x (W - b + 1) positions, and each drops b * b values; gamma
    is set so that about a share p of the map is dropped."""
    valid_centres = (height - block_size + 1) * (width - block_size + 1)
    return p / block_size**2 * (height * width) / valid_centres


# --8<-- [end:gamma]


# --8<-- [start:dropblock]
def block_mask(seeds: torch.Tensor, block_size: int) -> torch.Tensor:
    """1 = keep, 0 = drop. seeds is 0/1 with shape
    (N, C, H - b + 1, W - b + 1); every 1 becomes a b x b square of zeros
    centred on it in the (N, C, H, W) mask."""
    half = block_size // 2
    centres = F.pad(seeds, [half] * 4)  # back to full-map coordinates
    # A position is dropped if a centre lies within half a block of it:
    # a sliding max.
    dropped = F.max_pool2d(
        centres, kernel_size=block_size, stride=1, padding=half
    )
    return 1.0 - dropped


def dropblock(
    x: torch.Tensor,
    p: float,
    block_size: int,
    training: bool = True,
    generator=None,
) -> torch.Tensor:
    """DropBlock on (N, C, H, W): every channel of every example gets
    its own blocks."""
    check_dropblock_args(x, p, block_size)
    if not training or p == 0.0:
        return x
    check_floating(x, "x")
    n, c, h, w = x.shape
    gamma = seed_rate(p, block_size, h, w)
    valid = (n, c, h - block_size + 1, w - block_size + 1)
    u = torch.rand(valid, generator=generator, device=x.device)
    # The mask and its count stay in float32: a float16 sum of more
    # than 65,504 ones would overflow to inf.
    mask = block_mask((u < gamma).float(), block_size)
    # Blocks overlap, so the dropped share is random: rescale by what
    # was actually kept, over the whole batch. (clamp: if everything
    # was dropped, the output is 0 instead of 0 / 0.)
    scale = mask.numel() / mask.sum().clamp(min=1.0)
    return x * (mask * scale).to(x.dtype)


class DropBlock2d(nn.Module):
    """DropBlock as a layer: active in model.train(), the identity in
    model.eval(), like every dropout layer."""

    def __init__(self, p: float, block_size: int):
        super().__init__()
        check_block_size(block_size)
        self.p, self.block_size = check_drop_prob(p), block_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropblock(x, self.p, self.block_size, self.training)


# --8<-- [end:dropblock]


def dropped_share(
    p: float, block_size: int, size: int, maps: int = 4000, seed: int = 0
) -> float:
    """The share of values DropBlock really drops, over many maps."""
    generator = torch.Generator().manual_seed(seed)
    y = dropblock(
        torch.ones(maps, 1, size, size), p, block_size, generator=generator
    )
    return (y == 0).float().mean().item()


PAPER_BLOCK_SIZE = 7  # the default block_size of timm's DropBlock2d
FIG_P, FIG_SIZE, FIG_SEED = 0.25, 15, 13
PANEL_IDS = ("dropblock-1", "dropblock-3", "dropblock-5", "dropblock-15")


# --8<-- [start:figure]
def save_figure(path) -> None:
    """One 15 x 15 feature map under the same p = 0.25, one draw per panel:
    block_size 1 (element-wise dropout), 3, 5, and 15, a block as large as
    the map, which drops the whole channel like Dropout2d. Dropped values
    are left transparent."""
    import matplotlib
    import numpy as np
    from matplotlib.figure import Figure

    x = feature_maps(FIG_SIZE)[:, 3:]  # the blob channel
    panels = [
        (1, "block_size 1\n(like dropout)"),
        (3, "block_size 3"),
        (5, "block_size 5"),
        (FIG_SIZE, f"block_size {FIG_SIZE}\n(like Dropout2d)"),
    ]
    with matplotlib.rc_context(FIGURE_STYLE):
        fig = Figure(figsize=(4.8, 5.4), layout="constrained")
        axes = fig.subplots(2, 2).flatten()
        for ax, gid, (block_size, title) in zip(axes, PANEL_IDS, panels):
            generator = torch.Generator().manual_seed(FIG_SEED)
            y = dropblock(x, FIG_P, block_size, generator=generator)[0, 0]
            ax.set_gid(f"panel-{gid}")
            image = ax.imshow(
                np.ma.masked_equal(y.numpy(), 0.0),
                cmap=colormap(),
                vmin=0.0,
                vmax=2.0,
                interpolation="none",
            )
            ax.set_title(title)
            ax.set_xticks([])
            ax.set_yticks([])
        bar = fig.colorbar(
            image,
            ax=axes.tolist(),
            location="bottom",
            shrink=0.85,
            aspect=30,
        )
        bar.set_label(
            f"value after rescaling, p = {FIG_P}\nempty cell = dropped"
        )
        bar.outline.set_edgecolor(GREY)
        save_svg(fig, path)


# --8<-- [end:figure]


def facts() -> dict:
    generator = torch.Generator().manual_seed(18)
    y = dropblock(torch.ones(1, 1, 8, 8), 0.2, 3, generator=generator)
    return {
        "example_size": 8,
        "example_block": 3,
        "gamma_example": seed_rate(0.1, 3, 8, 8),
        "paper_map": 14,
        "gamma_paper": seed_rate(0.1, PAPER_BLOCK_SIZE, 14, 14),
        "paper_block_size": PAPER_BLOCK_SIZE,
        "valid_paper": 14 - PAPER_BLOCK_SIZE + 1,
        "demo_values": y.numel(),
        "demo_kept": int((y != 0).sum()),
        "demo_scale": y.max().item(),
        "demo_mean": y.mean().item(),
        "share_p": 0.1,
        "share_map": 16,
        "share_3": dropped_share(0.1, 3, 16),
        "share_7": dropped_share(0.1, 7, 16),
        "fig_p": FIG_P,
        "fig_size": FIG_SIZE,
    }


def main() -> None:
    # --8<-- [start:demo-gamma]
    # Drop about 10 % of an 8 x 8 map with 3 x 3 blocks:
    # 36 valid centres, 9 values per block.
    gamma = seed_rate(p=0.1, block_size=3, height=8, width=8)
    print(f"gamma = {gamma:.4f}")
    #> gamma = 0.0198
    # --8<-- [end:demo-gamma]

    # --8<-- [start:demo-seed]
    # valid centres of a 7 x 7 map with block_size 3
    seeds = torch.zeros(1, 1, 5, 5)
    seeds[0, 0, 1, 3] = 1.0  # one centre: row 2, column 4 of the map
    print(block_mask(seeds, block_size=3)[0, 0].long())
    #> tensor([[1, 1, 1, 1, 1, 1, 1],
    #>         [1, 1, 1, 0, 0, 0, 1],
    #>         [1, 1, 1, 0, 0, 0, 1],
    #>         [1, 1, 1, 0, 0, 0, 1],
    #>         [1, 1, 1, 1, 1, 1, 1],
    #>         [1, 1, 1, 1, 1, 1, 1],
    #>         [1, 1, 1, 1, 1, 1, 1]])
    # --8<-- [end:demo-seed]

    # --8<-- [start:demo-dropblock]
    generator = torch.Generator().manual_seed(18)
    y = dropblock(
        torch.ones(1, 1, 8, 8), p=0.2, block_size=3, generator=generator
    )
    # two seeds this time; their blocks overlap in two cells
    print((y[0, 0] != 0).long())
    #> tensor([[1, 1, 1, 1, 1, 1, 1, 1],
    #>         [1, 1, 1, 1, 0, 0, 0, 1],
    #>         [1, 1, 1, 1, 0, 0, 0, 1],
    #>         [1, 1, 1, 1, 0, 0, 0, 0],
    #>         [1, 1, 1, 1, 1, 0, 0, 0],
    #>         [1, 1, 1, 1, 1, 0, 0, 0],
    #>         [1, 1, 1, 1, 1, 1, 1, 1],
    #>         [1, 1, 1, 1, 1, 1, 1, 1]])
    kept = int((y != 0).sum())
    print(
        f"kept {kept} of 64, each scaled to 64 / {kept} = {y.max():.4f};",
        f"mean {y.mean():.4f}",
    )
    #> kept 48 of 64, each scaled to 64 / 48 = 1.3333; mean 1.0000
    # --8<-- [end:demo-dropblock]

    # --8<-- [start:demo-share]
    for block_size in (1, 3, 7):
        share = dropped_share(p=0.1, block_size=block_size, size=16)
        print(
            f"p = 0.1, block_size {block_size}: dropped share {share:.3f}"
        )
        #> p = 0.1, block_size 1: dropped share 0.100
        #> p = 0.1, block_size 3: dropped share 0.095
        #> p = 0.1, block_size 7: dropped share 0.094
    # --8<-- [end:demo-share]

    # --8<-- [start:demo-module]
    block = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        DropBlock2d(p=0.1, block_size=5),
    )
    x = torch.randn(2, 3, 16, 16)
    # at inference DropBlock is the identity, like every dropout layer
    block.eval()
    print(torch.equal(block(x), block[:2](x)))
    #> True
    # --8<-- [end:demo-module]


if __name__ == "__main__":
    main()
