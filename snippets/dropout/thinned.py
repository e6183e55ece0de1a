"""A small network and two of its thinned versions: the sub-networks that
two training steps with dropout actually use, drawn from real masks."""

import itertools

import torch

from snippets.cnn.dropout2d import FIGURE_STYLE, GREY, save_svg
from snippets.dropout.bernoulli import bernoulli_mask

WIDTHS = (4, 6, 6, 2)  # input, two hidden layers, output
P = 0.5  # dropout on the hidden layers only
# two training steps; seeds picked so that each keeps about half, as
# p = 0.5 does on average (a tiny layer can keep anything from 0 to 6)
SEEDS = (16, 33)


# --8<-- [start:thinned]
def step_masks(seed: int, widths=WIDTHS, p: float = P) -> list:
    """One training step's 0/1 masks, one per layer: inputs and outputs
    are always kept, each hidden unit is dropped with probability p."""
    generator = torch.Generator().manual_seed(seed)
    masks = []
    for i, width in enumerate(widths):
        hidden = 0 < i < len(widths) - 1
        masks.append(
            bernoulli_mask((width,), p, generator)
            if hidden
            else torch.ones(width)
        )
    return masks


def edges(masks: list) -> list:
    """The connections the thinned network keeps: (layer, from, to)
    wherever both ends survived."""
    return [
        (i, a, b)
        for i, (low, high) in enumerate(itertools.pairwise(masks))
        for a in range(len(low))
        for b in range(len(high))
        if low[a] and high[b]
    ]


# --8<-- [end:thinned]

BLUE = "#4a90d9"


def save_figure(path) -> None:
    """Three panels: the full network, then two training steps' thinned
    networks. Dropped units are hollow grey circles without connections."""
    import matplotlib
    from matplotlib.figure import Figure

    panels = [("full network", [torch.ones(w) for w in WIDTHS])] + [
        (f"training step {k + 1}", step_masks(seed))
        for k, seed in enumerate(SEEDS)
    ]
    with matplotlib.rc_context(FIGURE_STYLE):
        fig = Figure(figsize=(4.8, 2.4), layout="constrained")
        axes = fig.subplots(1, 3)
        for ax, (title, masks) in zip(axes, panels):
            ax.set_gid(f"panel-{title.replace(' ', '-')}")
            ax.set_title(title, fontsize=10)
            ax.set_axis_off()
            ax.set_xlim(-0.4, len(WIDTHS) - 0.6)
            ax.set_ylim(-0.6, max(WIDTHS) - 0.4)
            y = [centred(w) for w in WIDTHS]
            for i, a, b in edges(masks):
                ax.plot(
                    [i, i + 1],
                    [y[i][a], y[i + 1][b]],
                    color=GREY,
                    lw=0.6,
                    gid=f"edge-{i}-{a}-{b}",
                )
            for i, mask in enumerate(masks):
                for unit, kept in enumerate(mask.tolist()):
                    ax.plot(
                        i,
                        y[i][unit],
                        "o",
                        ms=8,
                        mfc=BLUE if kept else "none",
                        mec=BLUE if kept else GREY,
                        ls="",
                        gid=f"unit-{i}-{unit}-"
                        + ("kept" if kept else "dropped"),
                    )
        save_svg(fig, path)


def centred(width: int) -> list:
    """Vertical positions of a layer's units, centred on the tallest."""
    offset = (max(WIDTHS) - width) / 2
    return [offset + k for k in range(width)]


def facts() -> dict:
    full = edges([torch.ones(w) for w in WIDTHS])
    steps = [step_masks(seed) for seed in SEEDS]
    return {
        "hidden_units": sum(WIDTHS[1:-1]),
        "p": P,
        "edges_full": len(full),
        "kept_units": [int(sum(m[1:-1]).sum()) for m in steps],
        "edges_kept": [len(edges(m)) for m in steps],
    }


if __name__ == "__main__":
    for seed in SEEDS:
        masks = step_masks(seed)
        print([m.int().tolist() for m in masks[1:-1]], len(edges(masks)))
        #> [[1, 0, 0, 1, 0, 1], [0, 0, 1, 1, 1, 1]] 32
        #> [[0, 0, 1, 1, 1, 0], [0, 1, 0, 1, 1, 0]] 27
