"""The dropout playground's feature map, and its three ways of drawing a
mask."""

import torch
import torch.nn.functional as F

from snippets.dropout.bernoulli import bernoulli_mask, check_drop_prob
from snippets.dropout.inverted import inverted_dropout

# An 8 x 8 drawing of the digit 3; '#' is ink.
DIGIT = [
    "..####..",
    ".#....#.",
    "......#.",
    "...###..",
    "......#.",
    "......#.",
    ".#....#.",
    "..####..",
]
CHANNELS = ["ink", "blur", "horizontal strokes", "vertical strokes"]
BLOCK = 3  # DropBlock's block size in the widget
ROW = 3  # the example row: the middle bar of the 3


# --8<-- [start:feature-map]
def feature_map() -> torch.Tensor:
    """Four 8 x 8 channels, as a first conv layer with ReLU might produce
    them from the digit."""
    ink = torch.tensor(
        [[float(c == "#") for c in row] for row in DIGIT],
        dtype=torch.float64,
    )
    kernels = torch.tensor(
        [
            [[0, 0, 0], [0, 1, 0], [0, 0, 0]],  # pass the ink through
            [[1, 1, 1], [1, 1, 1], [1, 1, 1]],  # blur
            # a row of ink between empty rows
            [[-1, -1, -1], [2, 2, 2], [-1, -1, -1]],
            [[-1, 2, -1], [-1, 2, -1], [-1, 2, -1]],  # the same for columns
        ],
        dtype=torch.float64,
    )
    maps = F.relu(F.conv2d(ink[None, None], kernels[:, None], padding=1))[0]
    # each channel peaks at 1
    maps = maps / maps.amax(dim=(1, 2), keepdim=True)
    # Two decimals: the widget shows h exactly as it is stored.
    return torch.round(maps * 100) / 100


# --8<-- [end:feature-map]


# --8<-- [start:masks]
def element_mask(shape, p: float, generator=None) -> torch.Tensor:
    """nn.Dropout: one coin per unit."""
    return bernoulli_mask(shape, p, generator)


def channel_mask(shape, p: float, generator=None) -> torch.Tensor:
    """nn.Dropout2d: one coin per channel, shared by all its positions."""
    return bernoulli_mask((shape[0], 1, 1), p, generator).expand(shape)


def block_seed_rate(p: float, block: int) -> float:
    """A unit is dropped if any of the block x block seed positions around
    it fired, so P(kept) = (1 - gamma) ** (block * block); solving
    P(kept) = 1 - p gives gamma."""
    return 1.0 - (1.0 - check_drop_prob(p)) ** (1.0 / block**2)


def block_mask(
    shape, p: float, block: int = BLOCK, generator=None
) -> torch.Tensor:
    """DropBlock-style: square holes. Seeds are drawn on a grid padded by
    block - 1, so that every unit, border units too, is covered by exactly
    block * block seed positions."""
    channels, height, width = shape
    gamma = block_seed_rate(p, block)
    seeds = (
        torch.rand(
            (channels, height + block - 1, width + block - 1),
            generator=generator,
        )
        < gamma
    )
    # 1 where a seed covers the unit
    holes = F.max_pool2d(seeds[None].double(), block, stride=1)[0]
    return 1.0 - holes


# --8<-- [end:masks]


MODES = {
    "element": element_mask,
    "channel": channel_mask,
    "block": block_mask,
}


def sample_mask(mode: str, shape, p: float, generator=None) -> torch.Tensor:
    if mode not in MODES:
        raise ValueError(
            f"mode must be one of {sorted(MODES)}, got mode={mode!r}"
        )
    return MODES[mode](shape, p, generator=generator).double()


def running_mean_gap(
    mode: str, p: float, samples: int, seed: int = 0
) -> float:
    """Largest |mean of h~ over `samples` masks - h| over all units:
    E[h~] = h, so it shrinks."""
    h = feature_map()
    generator = torch.Generator().manual_seed(seed)
    total = torch.zeros_like(h)
    for _ in range(samples):
        total += inverted_dropout(
            h, sample_mask(mode, h.shape, p, generator), p
        )
    return (total / samples - h).abs().max().item()


def facts() -> dict:
    h = feature_map()
    mask = sample_mask(
        "element", h.shape, 0.5, torch.Generator().manual_seed(1)
    )
    return {
        "channels": len(CHANNELS),
        "channel_names": "|".join(CHANNELS),
        "size": len(DIGIT),
        "block": BLOCK,
        "h_json": str(h.tolist()),
        "row_number": ROW + 1,
        "ink_row": h[0, ROW],
        "example_p": 0.5,
        "example_scale": 1 / (1 - 0.5),
        "example_mask_row": mask[0, ROW],
        "example_out_row": inverted_dropout(h, mask, 0.5)[0, ROW],
        "example_kept": int(mask.sum().item()),
        "units": h.numel(),
        "gap_p": 0.5,
        "gamma_p": 0.3,
        "gamma_30": block_seed_rate(0.3, BLOCK),
        "few": 10,
        "many": 1000,
        "gap_10": running_mean_gap("element", 0.5, 10),
        "gap_1000": running_mean_gap("element", 0.5, 1000),
    }


def main() -> None:
    # --8<-- [start:demo]
    h = feature_map()
    row = 3  # the fourth row, counting from 1: the middle bar of the 3
    print(h.shape, "| ink:", h[0, row].tolist())
    #> torch.Size([4, 8, 8]) | ink: [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    generator = torch.Generator().manual_seed(1)
    mask = sample_mask("element", h.shape, p=0.5, generator=generator)
    print("mask:  ", mask[0, row].tolist())
    #> mask:   [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    print("output:", inverted_dropout(h, mask, p=0.5)[0, row].tolist())
    #> output: [0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0]
    print(
        "gamma for p = 0.3, 3 x 3 blocks:",
        round(block_seed_rate(0.3, 3), 4),
    )
    #> gamma for p = 0.3, 3 x 3 blocks: 0.0389
    for samples in (10, 100, 1000):
        gap = running_mean_gap("element", 0.5, samples)
        print(f"{samples:>4} masks: largest |mean - h| = {gap:.3f}")
        #>   10 masks: largest |mean - h| = 0.600
        #>  100 masks: largest |mean - h| = 0.220
        #> 1000 masks: largest |mean - h| = 0.058
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
