"""Spatial dropout (nn.Dropout2d): drop whole channels of a feature map
instead of single values."""

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from snippets.dropout.bernoulli import (
    check_drop_prob,
    check_floating,
    check_probability,
)


def check_feature_maps(x) -> None:
    """Only a 4-D batch (N, C, H, W). nn.Dropout2d also takes 2-, 3-, 5-
    and 6-D input, with warnings, and it reads a 3-D image (C, H, W) as
    (N, C, L): refuse all of them."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a tensor, got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(
            f"x must be a batch of feature maps (N, C, H, W), "
            f"got shape {tuple(x.shape)}"
        )


# --8<-- [start:manual]
def channel_mask(x: torch.Tensor, p: float, generator=None) -> torch.Tensor:
    """One keep/drop switch per (example, channel) of x, shaped (N, C, 1, 1)
    so that it broadcasts over H and W: a channel is kept or dropped whole.
    Made on x's device, in x's dtype."""
    keep_prob = 1.0 - check_drop_prob(p)
    n, c = x.shape[:2]
    u = torch.rand(n, c, 1, 1, generator=generator, device=x.device)
    return (u < keep_prob).to(x.dtype)


def spatial_dropout(
    x: torch.Tensor, p: float, training: bool = True, generator=None
) -> torch.Tensor:
    """What nn.Dropout2d(p) computes on a batch of maps (N, C, H, W)."""
    p = check_probability(p, "p", allow_one=True)  # as in PyTorch
    check_feature_maps(x)
    if not training or p == 0.0:
        return x
    check_floating(x, "x")
    if p == 1.0:  # every channel dropped; PyTorch returns x * 0
        return x * 0.0
    # Inverted dropout, one scale per channel; scaling the mask first
    # rounds exactly as PyTorch does in float16 and bfloat16.
    return x * (channel_mask(x, p, generator) / (1.0 - p))


# --8<-- [end:manual]


def feature_maps(size: int = 8) -> torch.Tensor:
    """A batch of one example with four smooth 'feature maps' (vertical
    edge, horizontal edge, diagonal, blob), values in [0.25, 1] so that a
    dropped value (0) is never an input value."""
    coords = torch.linspace(-1.0, 1.0, size)
    rows, cols = torch.meshgrid(coords, coords, indexing="ij")
    maps = torch.stack(
        [
            torch.sigmoid(6 * cols),
            torch.sigmoid(6 * rows),
            torch.sigmoid(4 * (rows + cols)),
            torch.exp(-2 * (rows**2 + cols**2)),
        ]
    )
    return (0.25 + 0.75 * maps).unsqueeze(0)


P, SEED = 0.5, 4


def element_and_channel_dropout(
    x: torch.Tensor, p: float = P, seed: int = SEED
):
    """nn.Dropout(p) and nn.Dropout2d(p), both in train mode, on one x."""
    torch.manual_seed(seed)
    element_wise = nn.Dropout(p)(x)
    torch.manual_seed(seed)
    channel_wise = nn.Dropout2d(p)(x)
    return element_wise, channel_wise


# --8<-- [start:leak]
def fill_from_neighbours(y: torch.Tensor, p: float) -> torch.Tensor:
    """Guess every dropped value as the mean of the kept values in its 3 x 3
    neighbourhood, roughly what the next 3 x 3 convolution can do. No kept
    neighbour: the guess is 0."""
    kept = (y != 0).float()
    values = y * (1.0 - p)  # undo the 1/(1 - p) scaling
    ones = torch.ones(y.shape[1], 1, 3, 3)
    # per channel, not across
    sums = F.conv2d(values, ones, padding=1, groups=y.shape[1])
    counts = F.conv2d(kept, ones, padding=1, groups=y.shape[1])
    return torch.where(kept.bool(), values, sums / counts.clamp(min=1.0))


def recovery_error(x: torch.Tensor, y: torch.Tensor, p: float) -> float:
    """Mean absolute error of those guesses, at the dropped positions."""
    dropped = y == 0
    return (fill_from_neighbours(y, p) - x)[dropped].abs().mean().item()


# --8<-- [end:leak]


def zeros_per_channel(y: torch.Tensor) -> list[int]:
    """How many of the H * W values in each channel of the first example
    are zero."""
    return (y[0] == 0).flatten(1).sum(dim=1).tolist()


def unbatched_dropout2d(x: torch.Tensor, p: float = P, seed: int = SEED):
    """nn.Dropout2d on a 3-D tensor, with the warnings PyTorch raises."""
    torch.manual_seed(seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = nn.Dropout2d(p)(x)
    return y, [str(w.message) for w in caught]


# --8<-- [start:ranks]
def rank_behaviour(fn, rank: int) -> str:
    """What a PyTorch channel-dropout function does with a rank-`rank`
    input of 2s: 'ok', 'warns' or 'error'."""
    x = torch.ones((2,) * rank)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn(x, 0.5, training=True)
        except RuntimeError:
            return "error"
    return "warns" if caught else "ok"


CHANNEL_DROPOUTS = {
    "F.dropout1d": F.dropout1d,
    "F.dropout2d": F.dropout2d,
    "F.dropout3d": F.dropout3d,
}
# --8<-- [end:ranks]


# The site's figures are transparent SVGs: mid-grey text and frames read on
# a white page and on Material's dark slate (#1e2129); the colormap avoids
# both the white and the near-black end.
GREY = "#8c8c8c"
FIGURE_STYLE = {
    # fixed ids: the same figure gives the same bytes
    "svg.hashsalt": "regularization-cnn-rnn",
    # glyphs as paths: no dependence on the reader's fonts
    "svg.fonttype": "path",
    "font.size": 11,
    "text.color": GREY,
    "axes.labelcolor": GREY,
    "axes.edgecolor": GREY,
    "xtick.color": GREY,
    "ytick.color": GREY,
}


def colormap():
    """Viridis without its darkest quarter; 'bad' (masked) cells are
    transparent."""
    import matplotlib
    from matplotlib.colors import ListedColormap

    base = matplotlib.colormaps["viridis"]
    return ListedColormap(
        base(torch.linspace(0.25, 1.0, 192).numpy())
    ).with_extremes(bad=(0, 0, 0, 0))


def save_svg(fig, path) -> None:
    """Write fig as a deterministic, transparent SVG
    (no date, no random ids)."""
    fig.savefig(
        path, format="svg", transparent=True, metadata={"Date": None}
    )


PANEL_IDS = ("input", "dropout", "dropout2d")


# --8<-- [start:figure]
def save_figure(path) -> None:
    """Draw one example's four channels: the input, nn.Dropout(0.5) and
    nn.Dropout2d(0.5). Dropped values are left transparent, so they show as
    holes in the map."""
    import matplotlib
    import numpy as np
    from matplotlib.figure import Figure

    x = feature_maps()
    element_wise, channel_wise = element_and_channel_dropout(x)
    columns = [
        (x, "input"),
        (element_wise, "nn.Dropout\nelement-wise"),
        (channel_wise, "nn.Dropout2d\nchannel-wise"),
    ]
    with matplotlib.rc_context(FIGURE_STYLE):
        fig = Figure(figsize=(4.8, 6.4), layout="constrained")
        axes = fig.subplots(4, 3)
        for col, (y, title) in enumerate(columns):
            axes[0, col].set_title(title)
            for channel in range(4):
                ax = axes[channel, col]
                # an id in the SVG, for tests
                ax.set_gid(f"panel-{PANEL_IDS[col]}-c{channel}")
                values = y[0, channel].numpy()
                image = ax.imshow(
                    np.ma.masked_equal(values, 0.0),
                    cmap=colormap(),
                    vmin=0.0,
                    vmax=2.0,
                    interpolation="none",
                )
                ax.set_xticks([])
                ax.set_yticks([])
                if col == 0:
                    ax.set_ylabel(f"channel {channel}")
        bar = fig.colorbar(
            image, ax=axes, location="bottom", shrink=0.85, aspect=30
        )
        bar.set_label(
            "value (kept values are scaled by 1/(1 - p) = 2)\n"
            "empty cell = dropped"
        )
        bar.outline.set_edgecolor(GREY)
        save_svg(fig, path)


# --8<-- [end:figure]


# --8<-- [start:dropout1d]
def channel_dropout_1d(x: torch.Tensor, p: float, batch_first_seq=False):
    """nn.Dropout1d zeroes whole channels x[n, c, :] of (N, C, L) input:
    a 1-D signal or a Conv1d output. A batch-first sequence (N, L, C) has
    its channels last: move them to dim 1 and back, which makes it locked
    dropout (one mask per sequence, the same at every step)."""
    drop = nn.Dropout1d(p)
    if batch_first_seq:
        return drop(x.transpose(1, 2)).transpose(1, 2)
    return drop(x)


# --8<-- [end:dropout1d]


def facts() -> dict:
    x = feature_maps()
    element_wise, channel_wise = element_and_channel_dropout(x)
    image = torch.ones(4, 3, 5)
    rows, _ = unbatched_dropout2d(image)
    return {
        "p": P,
        "scale": 1 / (1 - P),
        "size": x.shape[-1],
        "values": x.shape[-1] ** 2,
        "channels": x.shape[1],
        "element_zeros": zeros_per_channel(element_wise),
        "channel_zeros": zeros_per_channel(channel_wise),
        "dropped_channels": [
            c
            for c, z in enumerate(zeros_per_channel(channel_wise))
            if z > 0
        ],
        "error_element": recovery_error(x, element_wise, P),
        "error_channel": recovery_error(x, channel_wise, P),
        "dropped_mean": x[0, [1, 3]].mean().item(),
        "unbatched_rows_zeroed": int((rows == 0).all(dim=-1).sum()),
        "unbatched_rows": image.shape[0] * image.shape[1],
        # the version whose behaviour is described
        "torch_version": torch.__version__.split("+")[0],
    }


def main() -> None:
    # --8<-- [start:demo]
    x = feature_maps()  # one example, 4 channels of 8 x 8 values
    element_wise, channel_wise = element_and_channel_dropout(x, p=0.5)
    print(
        "zeros per channel, nn.Dropout(0.5):  ",
        zeros_per_channel(element_wise),
        "of 64",
    )
    #> zeros per channel, nn.Dropout(0.5):   [29, 33, 31, 35] of 64
    print(
        "zeros per channel, nn.Dropout2d(0.5):",
        zeros_per_channel(channel_wise),
        "of 64",
    )
    #> zeros per channel, nn.Dropout2d(0.5): [0, 64, 0, 64] of 64
    # the channels this draw kept: every value is doubled, none is zero
    survivors = [0, 2]
    print(
        torch.equal(channel_wise[0, survivors], x[0, survivors] / (1 - 0.5))
    )
    #> True
    # --8<-- [end:demo]

    # --8<-- [start:demo-dropout1d]
    torch.manual_seed(0)
    signal = torch.ones(2, 3, 5)  # (N, C, L): 3 channels of 5 steps
    print(channel_dropout_1d(signal, p=0.5))
    #> tensor([[[0., 0., 0., 0., 0.],
    #>          [0., 0., 0., 0., 0.],
    #>          [2., 2., 2., 2., 2.]],
    #>
    #>         [[0., 0., 0., 0., 0.],
    #>          [0., 0., 0., 0., 0.],
    #>          [0., 0., 0., 0., 0.]]])
    sequence = torch.ones(1, 4, 3)  # (N, L, C): batch_first LSTM input
    print(channel_dropout_1d(sequence, p=0.5, batch_first_seq=True))
    #> tensor([[[2., 2., 0.],
    #>          [2., 2., 0.],
    #>          [2., 2., 0.],
    #>          [2., 2., 0.]]])
    # --8<-- [end:demo-dropout1d]

    # --8<-- [start:demo-leak]
    for name, y in [
        ("element-wise", element_wise),
        ("channel-wise", channel_wise),
    ]:
        error = recovery_error(x, y, p=0.5)
        print(f"{name}: average error of the guesses {error:.3f}")
        #> element-wise: average error of the guesses 0.055
        #> channel-wise: average error of the guesses 0.546
    # --8<-- [end:demo-leak]

    # --8<-- [start:unbatched]
    # ONE image (C=4, H=3, W=5), no batch dimension
    image = torch.ones(4, 3, 5)
    y, messages = unbatched_dropout2d(image, p=0.5)
    print(messages[0][:56], "...")
    #> dropout2d: Received a 3D input to dropout2d and assuming ...
    print(y[0])  # channel 0: rows were dropped one by one, not the channel
    #> tensor([[2., 2., 2., 2., 2.],
    #>         [0., 0., 0., 0., 0.],
    #>         [2., 2., 2., 2., 2.]])

    # The fix: add the batch dimension, drop channels, take it off again.
    torch.manual_seed(4)
    y = nn.Dropout2d(p=0.5)(image.unsqueeze(0)).squeeze(0)
    # per channel: was it dropped as a whole?
    print((y == 0).flatten(1).all(dim=1).tolist())
    #> [False, True, False, True]
    # --8<-- [end:unbatched]

    # --8<-- [start:demo-ranks]
    print(f"{'rank':12s}", *range(7))
    #> rank         0 1 2 3 4 5 6
    for name, fn in CHANNEL_DROPOUTS.items():
        row = [rank_behaviour(fn, rank)[0] for rank in range(7)]
        print(f"{name}:", *row)  # o = ok, w = warns, e = error
        #> F.dropout1d: e e o o e e e
        #> F.dropout2d: e e w w o w w
        #> F.dropout3d: e w w w o o w
    # --8<-- [end:demo-ranks]

    # --8<-- [start:demo-manual]
    torch.manual_seed(0)
    batch = torch.randn(2, 3, 4, 4)
    generator = torch.Generator().manual_seed(1)
    y = spatial_dropout(batch, p=0.5, generator=generator)
    # 1 = channel dropped
    print(((y == 0).flatten(2).all(dim=2)).int().tolist())
    #> [[1, 0, 0], [1, 0, 1]]
    print(spatial_dropout(batch, p=0.5, training=False) is batch)
    #> True
    # --8<-- [end:demo-manual]


if __name__ == "__main__":
    main()
