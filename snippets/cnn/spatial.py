"""Element-wise dropout on feature maps: it breaks edges apart, yet
neighbours keep what it erased."""

import torch
import torch.nn.functional as F
from torch import nn

from snippets.dropout.inverted import dropout_layer

P, SEED = 0.3, 0  # drop probability and seed of every example on the page


# --8<-- [start:edges]
def square_image(size: int = 10, border: int = 2) -> torch.Tensor:
    """A bright square on a dark background: input for an edge detector."""
    if not 0 < border < size // 2:
        raise ValueError(
            "border must be in (0, size // 2), "
            f"got border={border} for size={size}"
        )
    image = torch.zeros(size, size)
    image[border:-border, border:-border] = 1.0
    return image


def edge_map(image: torch.Tensor) -> torch.Tensor:
    """|horizontal gradient| + |vertical gradient| (Sobel filters, no
    padding): what the first conv layer of a trained CNN typically
    computes. Nonzero on the square's outline."""
    sobel_x = torch.tensor(
        [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]
    )
    # (2 filters, 1 channel, 3, 3)
    kernels = torch.stack([sobel_x, sobel_x.T]).unsqueeze(1)
    gradients = F.conv2d(image[None, None], kernels)[0]  # (2, H - 2, W - 2)
    return gradients.abs().sum(dim=0)


def draw(feature_map: torch.Tensor) -> list[str]:
    """One text row per map row: a block where the unit is active, a space
    where it is 0. Two characters per cell keep the cells square; the bars
    show where each row ends."""
    rows = feature_map.tolist()
    return [
        "|" + "".join("██" if v > 0 else "  " for v in row) + "|"
        for row in rows
    ]


# --8<-- [end:edges]


# --8<-- [start:leak]
# side of the random maps; averaging window of the smooth one
MAP_SIZE, SMOOTH = 64, 5


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Pearson correlation of two tensors' entries."""
    a, b = a.flatten() - a.mean(), b.flatten() - b.mean()
    return (a @ b / (a.norm() * b.norm())).item()


def neighbour_average(feature_map: torch.Tensor) -> torch.Tensor:
    """Mean over each 3x3 window: roughly what one filter of the next
    conv layer sees."""
    # At the border only the cells that exist are averaged
    # (count_include_pad=False).
    windows = F.avg_pool2d(
        feature_map[None, None],
        3,
        stride=1,
        padding=1,
        count_include_pad=False,
    )
    return windows[0, 0]


def random_map(
    size: int, smooth: int, generator: torch.Generator
) -> torch.Tensor:
    """White noise averaged over smooth x smooth windows. smooth=1 leaves
    neighbours independent; larger values make them similar, as in a real
    conv feature map."""
    noise = torch.randn(
        size + smooth - 1, size + smooth - 1, generator=generator
    )
    return F.avg_pool2d(noise[None, None], smooth, stride=1)[0, 0]


def leak(
    feature_map: torch.Tensor, p: float, generator: torch.Generator
) -> dict:
    """How much of the map survives element-wise dropout, pixel by pixel and
    via neighbours."""
    dropped = dropout_layer(
        feature_map, p, training=True, generator=generator
    )
    erased = dropped == 0
    seen = neighbour_average(dropped)
    return {
        "pixel": correlation(dropped, feature_map),
        "neighbours": correlation(seen, feature_map),
        # Only the erased positions: can the neighbours tell what was there?
        "erased": correlation(seen[erased], feature_map[erased]),
    }


def leak_for(smooth: int, p: float, seed: int) -> dict:
    """leak() on a fresh random map; one generator draws the map, then
    the mask."""
    generator = torch.Generator().manual_seed(seed)
    return leak(random_map(MAP_SIZE, smooth, generator), p, generator)


# --8<-- [end:leak]


# --8<-- [start:rates]
TYPICAL_RATES = {  # drop probability p, as (low, high)
    "first conv layers": (0.0, 0.0),
    "late conv blocks": (0.1, 0.3),
    "fully connected layers": (0.3, 0.5),
}


def typical_rate(layer: str) -> tuple[float, float]:
    """The usual range of p for a kind of layer
    (a starting point for tuning, not a law)."""
    if layer not in TYPICAL_RATES:
        raise ValueError(
            f"layer must be one of {sorted(TYPICAL_RATES)}, "
            f"got layer={layer!r}"
        )
    return TYPICAL_RATES[layer]


def conv_block(c_in: int, c_out: int) -> list[nn.Module]:
    """Conv -> BN -> ReLU, then halve the resolution."""
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.MaxPool2d(2),
    ]


def placed_dropout_cnn(
    p_conv: float = 0.1, p_head: float = 0.5, classes: int = 10
):
    """Dropout where the rule puts it: none in the early conv layers, a
    little in the late ones, the most in the head."""
    return nn.Sequential(
        *conv_block(3, 32),  # edges, colours: no dropout
        *conv_block(32, 64),  # textures, corners: no dropout
        *conv_block(64, 128),
        nn.Dropout2d(p_conv),  # light, and whole channels at a time
        nn.AdaptiveAvgPool2d(1),  # global average pooling: (B, 128)
        nn.Flatten(),
        nn.Dropout(p_head),  # the dense head: co-adaptation lives here
        nn.Linear(128, classes),
    )


# --8<-- [end:rates]


def facts() -> dict:
    edges = edge_map(square_image())
    generator = torch.Generator().manual_seed(SEED)
    dropped = dropout_layer(edges, P, training=True, generator=generator)
    smooth, white = leak_for(SMOOTH, P, SEED), leak_for(1, P, SEED)
    return {
        "p": P,
        "map_size": edges.shape[0],
        "random_map_size": MAP_SIZE,
        "smooth_window": SMOOTH,
        "edge_units": int((edges > 0).sum()),
        "edge_units_dropped": int(((edges > 0) & (dropped == 0)).sum()),
        "smooth_pixel": smooth["pixel"],
        "smooth_neighbours": smooth["neighbours"],
        "smooth_erased": smooth["erased"],
        "white_pixel": white["pixel"],
        "white_neighbours": white["neighbours"],
        "white_erased": white["erased"],
        "first_conv_low": TYPICAL_RATES["first conv layers"][0],
        "first_conv_high": TYPICAL_RATES["first conv layers"][1],
        "conv_low": TYPICAL_RATES["late conv blocks"][0],
        "conv_high": TYPICAL_RATES["late conv blocks"][1],
        "fc_low": TYPICAL_RATES["fully connected layers"][0],
        "fc_high": TYPICAL_RATES["fully connected layers"][1],
    }


def main() -> None:
    # --8<-- [start:demo-edges]
    edges = edge_map(square_image())
    generator = torch.Generator().manual_seed(0)
    dropped = dropout_layer(
        edges, p=0.3, training=True, generator=generator
    )
    print(f"{'edge map':^18}    {'after dropout':^18}")
    #>      edge map           after dropout
    for before, after in zip(draw(edges), draw(dropped)):
        print(before, "  ", after)
        #> |████████████████|    |██  ██████████  |
        #> |████████████████|    |████████████████|
        #> |████        ████|    |██          ██  |
        #> |████        ████|    |████        ██  |
        #> |████        ████|    |████            |
        #> |████        ████|    |████            |
        #> |████████████████|    |████    ████  ██|
        #> |████████████████|    |████████    ████|
    # --8<-- [end:demo-edges]

    # --8<-- [start:demo-leak]
    print("map          pixel  3x3 avg  erased values")
    #> map          pixel  3x3 avg  erased values
    for name, smooth in [("smooth", 5), ("white noise", 1)]:
        r = leak_for(smooth, p=0.3, seed=0)
        pixel, avg, erased = r["pixel"], r["neighbours"], r["erased"]
        print(f"{name:11s}  {pixel:5.2f}  {avg:7.2f}  {erased:13.2f}")
        #> smooth        0.84     0.88           0.86
        #> white noise   0.84     0.28          -0.06
    # --8<-- [end:demo-leak]

    # --8<-- [start:demo-rates]
    model = placed_dropout_cnn()
    drops = [m for m in model if isinstance(m, (nn.Dropout, nn.Dropout2d))]
    print([f"{type(m).__name__}(p={m.p})" for m in drops])
    #> ['Dropout2d(p=0.1)', 'Dropout(p=0.5)']
    print(model(torch.randn(2, 3, 32, 32)).shape)
    #> torch.Size([2, 10])
    # --8<-- [end:demo-rates]


if __name__ == "__main__":
    main()
