"""DropBlock, again: the site's definition (snippets/cnn/dropblock.py)
next to timm's drop_block_2d, written out with the random draw
factored out so that both can be fed the same seeds."""

import torch
import torch.nn.functional as F

from snippets.cnn.dropblock import block_mask, dropblock


# --8<-- [start:timm-style]
def timm_style_mask(seeds: torch.Tensor, block_size: int) -> torch.Tensor:
    """timm's keep mask from 0/1 seeds on the WHOLE H x W map: blocks
    centred near the border are cut off; a block larger than the map
    is clipped to it, and even sizes are allowed."""
    h, w = seeds.shape[-2:]
    kh, kw = min(block_size, h), min(block_size, w)
    dropped = F.max_pool2d(
        seeds, (kh, kw), stride=1, padding=(kh // 2, kw // 2)
    )
    # an even kernel gives one row / column too many: drop the first
    return 1.0 - dropped[..., (kh + 1) % 2 :, (kw + 1) % 2 :]


def timm_style_dropblock(
    x: torch.Tensor,
    p: float,
    block_size: int,
    couple_channels: bool = True,
    generator=None,
) -> torch.Tensor:
    """DropBlock as timm's drop_block_2d defines it: the seed rate of
    the valid region, seeds drawn everywhere, by default ONE mask per
    example shared by all its channels, scale count / (kept + 1e-7)."""
    n, c, h, w = x.shape
    kh, kw = min(block_size, h), min(block_size, w)
    gamma = p * h * w / (kh * kw) / ((h - kh + 1) * (w - kw + 1))
    shape = (n, 1 if couple_channels else c, h, w)
    u = torch.rand(shape, generator=generator, device=x.device)
    keep = timm_style_mask((u < gamma).float(), block_size)
    scale = keep.numel() / (keep.sum() + 1e-7)
    return x * (keep * scale).to(x.dtype)


# --8<-- [end:timm-style]


# --8<-- [start:share]
def dropped_shares(p: float, block_size: int, size: int, maps=1000):
    """The share of values each definition really drops, measured."""
    x = torch.ones(maps, 1, size, size)
    ours = dropblock(
        x, p, block_size, generator=torch.Generator().manual_seed(0)
    )
    timm = timm_style_dropblock(
        x, p, block_size, generator=torch.Generator().manual_seed(0)
    )
    return (ours == 0).float().mean().item(), (
        timm == 0
    ).float().mean().item()


# --8<-- [end:share]


# --8<-- [start:exercise]
def site_mask_through_timm(valid_seeds: torch.Tensor, block_size: int):
    """The site's mask computed with timm's code: put the seeds of the
    valid region back at their map positions (zeros around them), then
    grow them the timm way. For an odd block that fits, both agree."""
    half = block_size // 2
    return timm_style_mask(F.pad(valid_seeds, [half] * 4), block_size)


# --8<-- [end:exercise]


def facts() -> dict:
    ours, timm = dropped_shares(0.1, 7, 16)
    ours_56, timm_56 = dropped_shares(0.1, 7, 56, maps=100)
    return {
        "p": 0.1,
        "block": 7,
        "size": 16,
        "ours": ours,
        "timm": timm,
        "ours_56": ours_56,
        "timm_56": timm_56,
    }


def main() -> None:
    # --8<-- [start:demo-border]
    seeds = torch.zeros(1, 1, 7, 7)
    seeds[0, 0, 0, 6] = 1.0  # a seed in the corner: allowed in timm
    print(timm_style_mask(seeds, block_size=3)[0, 0].long())
    #> tensor([[1, 1, 1, 1, 1, 0, 0],
    #>         [1, 1, 1, 1, 1, 0, 0],
    #>         [1, 1, 1, 1, 1, 1, 1],
    #>         [1, 1, 1, 1, 1, 1, 1],
    #>         [1, 1, 1, 1, 1, 1, 1],
    #>         [1, 1, 1, 1, 1, 1, 1],
    #>         [1, 1, 1, 1, 1, 1, 1]])
    # --8<-- [end:demo-border]

    # --8<-- [start:demo-couple]
    generator = torch.Generator().manual_seed(3)
    y = timm_style_dropblock(
        torch.ones(1, 3, 8, 8), 0.3, 3, generator=generator
    )
    same = all(torch.equal(y[0, 0] == 0, y[0, k] == 0) for k in (1, 2))
    print(f"all 3 channels share one mask: {same}")
    #> all 3 channels share one mask: True
    # --8<-- [end:demo-couple]

    # --8<-- [start:demo-share]
    ours, timm = dropped_shares(p=0.1, block_size=7, size=16)
    print(
        f"p = 0.1, 7 x 7 blocks, 16 x 16 maps: site {ours:.3f}, "
        f"timm {timm:.3f}"
    )
    #> p = 0.1, 7 x 7 blocks, 16 x 16 maps: site 0.101, timm 0.194
    # --8<-- [end:demo-share]

    # --8<-- [start:demo-exercise]
    generator = torch.Generator().manual_seed(0)
    valid = torch.rand(2, 3, 6, 6, generator=generator) < 0.1  # b = 3
    valid = valid.float()  # the valid centres of 8 x 8 maps
    print(
        torch.equal(site_mask_through_timm(valid, 3), block_mask(valid, 3))
    )
    #> True
    # --8<-- [end:demo-exercise]


if __name__ == "__main__":
    main()
