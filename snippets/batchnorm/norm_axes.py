"""Which values share one mean and one variance: BatchNorm, LayerNorm,
InstanceNorm and GroupNorm on an (N, C, H, W) batch, by hand and drawn."""

import torch

from snippets.cnn.dropout2d import FIGURE_STYLE, GREY, save_svg

EPS = 1e-5


# --8<-- [start:axes]
def normalize_over(x: torch.Tensor, dims: tuple, eps: float = EPS):
    """(x - mean) / sqrt(var + eps), mean and biased variance both taken
    over `dims`: every value in one such slice shares the two numbers."""
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, correction=0, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def group_norm(x: torch.Tensor, groups: int, eps: float = EPS):
    """Channels split into `groups` runs of C // groups; each example's
    run of channels is one slice."""
    n, c = x.shape[:2]
    if groups < 1 or c % groups:
        raise ValueError(f"groups must divide C={c}, got {groups=}")
    runs = x.reshape(n, groups, c // groups, *x.shape[2:])
    dims = tuple(range(2, runs.dim()))
    return normalize_over(runs, dims, eps).reshape(x.shape)


def normalizers(groups: int = 3) -> dict:
    """The four layers without their learned scale and shift, on
    (N, C, H, W) input."""
    return {
        "BatchNorm": lambda x: normalize_over(x, (0, 2, 3)),
        "LayerNorm": lambda x: normalize_over(x, (1, 2, 3)),
        "InstanceNorm": lambda x: normalize_over(x, (2, 3)),
        "GroupNorm": lambda x: group_norm(x, groups),
    }


# --8<-- [end:axes]


def check_input(x: torch.Tensor) -> None:
    if x.dim() != 4:
        raise ValueError(
            f"x must be (N, C, H, W), got shape {tuple(x.shape)}"
        )


# --8<-- [start:shared]
def shares_statistics(norm, x: torch.Tensor, n: int, c: int):
    """An (N, C) grid of booleans: which (example, channel) maps the
    output at map (n, c) depends on. Those are the maps whose values
    went into its mean and variance. Read from the gradient, so it holds
    for any normalizer, PyTorch's own included."""
    check_input(x)
    x = x.detach().clone().requires_grad_(True)
    out = norm(x)[n, c]
    # weighted: a plain sum of a whole normalized slice is always 0,
    # whatever the input, so its gradient would be 0 as well
    weights = torch.linspace(1.0, 2.0, out.numel()).reshape(out.shape)
    (out * weights.to(out.dtype)).sum().backward()
    return x.grad.abs().sum(dim=(2, 3)) > 0


# --8<-- [end:shared]

SHAPE = (4, 6, 3, 3)  # N, C, H, W of the figure's batch
CHOSEN = (1, 2)  # the (example, channel) map the figure follows
PANEL_IDS = ("batchnorm", "layernorm", "instancenorm", "groupnorm")


def figure_grids() -> dict:
    """For each normalizer, the (N, C) grid drawn in its panel."""
    x = torch.randn(SHAPE, generator=torch.Generator().manual_seed(0))
    return {
        name: shares_statistics(norm, x, *CHOSEN)
        for name, norm in normalizers().items()
    }


def save_figure(path) -> None:
    """One panel per layer: a row per example, a column per channel, each
    cell a whole H x W map. Filled cells share one mean and variance with
    the ringed map."""
    import matplotlib
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    # filled: a mid blue that reads on white and on dark slate
    fill = ListedColormap(["#4a90d9"]).with_extremes(bad=(0, 0, 0, 0))
    n_rows, n_cols = SHAPE[:2]
    with matplotlib.rc_context(FIGURE_STYLE):
        # two by two: still legible on a phone's 375 px
        fig = Figure(figsize=(4.6, 3.5), layout="constrained")
        axes = fig.subplots(2, 2).flatten()
        for ax, gid, (name, grid) in zip(
            axes, PANEL_IDS, figure_grids().items()
        ):
            ax.set_gid(f"panel-{gid}")
            cells = np.ma.masked_equal(grid.numpy().astype(float), 0.0)
            ax.imshow(cells, cmap=fill, vmin=0, vmax=1)
            # cell borders, and a ring around the map being normalized
            ax.set_xticks(np.arange(-0.5, n_cols), minor=True)
            ax.set_yticks(np.arange(-0.5, n_rows), minor=True)
            ax.grid(which="minor", color=GREY, linewidth=0.8)
            ax.tick_params(which="both", length=0)
            ax.set_xticks([])
            ax.set_yticks([])
            row, col = CHOSEN
            ax.plot(col, row, "o", ms=7, mfc="white", mec="#333", mew=1.2)
            ax.set_title(
                name + (" (3 groups)" if gid == "groupnorm" else "")
            )
            ax.set_xlabel("channel C →", fontsize=10)
            ax.set_ylabel("example N →", fontsize=10)
        save_svg(fig, path)


def facts() -> dict:
    grids = figure_grids()
    n, c = SHAPE[:2]
    return {
        "n": n,
        "c": c,
        "hw": f"{SHAPE[2]} × {SHAPE[3]}",
        "groups": 3,
        "group_size": c // 3,
        **{
            f"maps_{name.lower()}": int(grid.sum())
            for name, grid in grids.items()
        },
    }


if __name__ == "__main__":
    # how many of the 4 x 6 maps share statistics with map (1, 2)
    for name, grid in figure_grids().items():
        print(f"{name:>12}: {int(grid.sum())} of {grid.numel()}")
    #>    BatchNorm: 4 of 24
    #>    LayerNorm: 6 of 24
    #> InstanceNorm: 1 of 24
    #>    GroupNorm: 2 of 24
