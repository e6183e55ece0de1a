"""The masks one sequence meets over time: nn.Dropout draws a new one at
every step, LockedDropout one for the whole sequence. Drawn from the
layers themselves, on an input of ones."""

import torch
from torch import nn

from snippets.cnn.dropout2d import FIGURE_STYLE, GREY, save_svg
from snippets.rnn.variational import LockedDropout

STEPS, UNITS, P, SEED = 8, 12, 0.5, 0


# --8<-- [start:masks]
def masks_over_time(steps=STEPS, units=UNITS, p=P, seed=SEED) -> dict:
    """(T, H) keep-masks of one sequence: 1 kept, 0 dropped. The layers
    see an input of ones, so what comes out, times 1 - p, is the mask."""
    ones = torch.ones(steps, 1, units)  # (T, B = 1, H)
    torch.manual_seed(seed)
    fresh = nn.Dropout(p).train()(ones)
    locked = LockedDropout(p).train()(
        ones, generator=torch.Generator().manual_seed(seed)
    )
    return {
        "nn.Dropout": (fresh[:, 0] * (1 - p)).round(),
        "LockedDropout": (locked[:, 0] * (1 - p)).round(),
    }


# --8<-- [end:masks]

BLUE = "#4a90d9"


def save_figure(path) -> None:
    """Two (T, H) grids: filled cells are kept units, empty ones dropped."""
    import matplotlib
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    fill = ListedColormap([BLUE]).with_extremes(bad=(0, 0, 0, 0))
    with matplotlib.rc_context(FIGURE_STYLE):
        fig = Figure(figsize=(4.8, 2.9), layout="constrained")
        axes = fig.subplots(1, 2)
        for ax, (name, mask) in zip(axes, masks_over_time().items()):
            ax.set_gid(f"panel-{name}")
            cells = np.ma.masked_equal(mask.numpy(), 0.0)
            ax.imshow(cells, cmap=fill, vmin=0, vmax=1, aspect="auto")
            ax.set_xticks(np.arange(-0.5, UNITS), minor=True)
            ax.set_yticks(np.arange(-0.5, STEPS), minor=True)
            ax.grid(which="minor", color=GREY, linewidth=0.6)
            ax.tick_params(which="both", length=0)
            ax.set_xticks([])
            ax.set_yticks(range(STEPS))
            ax.set_title(name, fontsize=10)
            ax.set_xlabel("hidden unit →", fontsize=10)
        axes[0].set_ylabel("time step t ↓", fontsize=10)
        axes[1].set_yticklabels([])
        save_svg(fig, path)


def facts() -> dict:
    masks = masks_over_time()
    fresh, locked = masks["nn.Dropout"], masks["LockedDropout"]
    return {
        "steps": STEPS,
        "units": UNITS,
        "p": P,
        "distinct_rows_fresh": len({tuple(r.tolist()) for r in fresh}),
        "distinct_rows_locked": len({tuple(r.tolist()) for r in locked}),
        "kept_fraction_fresh": fresh.mean().item(),
    }


if __name__ == "__main__":
    masks = masks_over_time()
    for name, mask in masks.items():
        rows = {tuple(row.int().tolist()) for row in mask}
        word = "mask" if len(rows) == 1 else "masks"
        print(f"{name:>13}: {STEPS} steps, {len(rows)} distinct {word}")
    #>    nn.Dropout: 8 steps, 8 distinct masks
    #> LockedDropout: 8 steps, 1 distinct mask
