"""Inverted dropout on one layer's activations, drawn: what eval uses,
what one training step passes on, and the average over many steps."""

import torch

from snippets.cnn.dropout2d import FIGURE_STYLE, GREY, save_svg
from snippets.dropout.inverted import dropout_layer

H = (2.0, 5.0, 1.0, 4.0, 3.0, 6.0, 2.0, 4.0)  # one example, 8 units
P, DRAWS, SEED = 0.5, 1000, 1


# --8<-- [start:scaling]
def one_step_and_average(h=H, p=P, draws=DRAWS, seed=SEED):
    """One training step's output, and the mean output over `draws`
    steps, each with its own mask."""
    g = torch.Generator().manual_seed(seed)
    h = torch.tensor(h, dtype=torch.float64)
    step = dropout_layer(h, p, training=True, generator=g)
    many = torch.stack(
        [
            dropout_layer(h, p, training=True, generator=g)
            for _ in range(draws)
        ]
    )
    return step, many.mean(dim=0)


# --8<-- [end:scaling]

BLUE, ORANGE = "#4a90d9", "#e07b39"


def save_figure(path) -> None:
    """Three bar charts over the same 8 units."""
    import matplotlib
    from matplotlib.figure import Figure

    step, average = one_step_and_average()
    panels = [
        ("eval: h as it is", torch.tensor(H), BLUE),
        ("one training step", step, ORANGE),
        (f"average of {DRAWS:,} steps", average, ORANGE),
    ]
    units = range(len(H))
    with matplotlib.rc_context(FIGURE_STYLE):
        fig = Figure(figsize=(4.8, 4.2), layout="constrained")
        axes = fig.subplots(3, 1, sharex=True, sharey=True)
        for ax, (title, values, colour) in zip(axes, panels):
            ax.set_gid(f"panel-{title.split(':')[0].split()[0]}")
            ax.bar(units, values.tolist(), color=colour, width=0.7)
            # h itself as outlines: the average lands on them
            ax.bar(units, H, fill=False, edgecolor=GREY, width=0.7, lw=1)
            ax.set_title(title, fontsize=10, loc="left")
            ax.set_ylim(0, 2 * max(H) + 1)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        axes[-1].set_xticks(list(units))
        axes[-1].set_xlabel("unit (grey outline: h)")
        axes[1].set_ylabel("output")
        save_svg(fig, path)


def facts() -> dict:
    step, average = one_step_and_average()
    h = torch.tensor(H, dtype=torch.float64)
    kept = step != 0
    return {
        "units": len(H),
        "p": P,
        "draws": DRAWS,
        "kept": int(kept.sum()),
        "scale": 1 / (1 - P),
        "largest_gap": (average - h).abs().max().item(),
    }


if __name__ == "__main__":
    step, average = one_step_and_average()
    print("h:      ", [f"{v:.0f}" for v in H])
    #> h:       ['2', '5', '1', '4', '3', '6', '2', '4']
    print("step:   ", [f"{v:.0f}" for v in step.tolist()])
    #> step:    ['0', '10', '2', '0', '6', '0', '4', '0']
    print("average:", [f"{v:.1f}" for v in average.tolist()])
    #> average: ['2.0', '5.2', '1.0', '3.9', '2.9', '6.0', '2.0', '4.0']
