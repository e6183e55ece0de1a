"""How BN's running mean follows the data over training steps, for three
momenta, computed with the site's update_running_stats."""

import torch

from snippets.batchnorm.pytorch import update_running_stats
from snippets.cnn.dropout2d import FIGURE_STYLE, GREY, save_svg

TRUE_MEAN, BATCH, STEPS, SEED = 3.0, 16, 200, 0
MOMENTA = (0.1, 0.01, None)


# --8<-- [start:curves]
def running_means(momentum, steps=STEPS, batch=BATCH, seed=SEED):
    """The running mean after each of `steps` training batches of one
    channel whose values have mean TRUE_MEAN and spread 1; it starts at
    0, as in a fresh layer. Entry 0 is the start value."""
    g = torch.Generator().manual_seed(seed)  # same batches for every m
    mean, var = torch.zeros(1), torch.ones(1)
    curve = [mean.item()]
    for k in range(steps):
        x = TRUE_MEAN + torch.randn(batch, 1, generator=g)
        mean, var = update_running_stats(
            mean, var, x, momentum, num_batches_tracked=k
        )
        curve.append(mean.item())
    return curve


# --8<-- [end:curves]

COLOURS = {0.1: "#4a90d9", 0.01: "#e07b39", None: "#5bb06a"}


def label(momentum) -> str:
    return "momentum=None" if momentum is None else f"momentum={momentum}"


def save_figure(path) -> None:
    """The three curves, and the data's mean as a dashed line."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(FIGURE_STYLE):
        fig = Figure(figsize=(4.8, 3.0), layout="constrained")
        ax = fig.subplots()
        ax.axhline(TRUE_MEAN, color=GREY, ls="--", lw=1, label="data mean")
        for m in MOMENTA:
            ax.plot(
                running_means(m),
                color=COLOURS[m],
                lw=1.4,
                label=label(m),
                gid=f"curve-{label(m)}",
            )
        ax.set_xlabel("training step")
        ax.set_ylabel("running mean")
        ax.set_xlim(0, STEPS)
        ax.legend(frameon=False, fontsize=9, loc="lower right")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        save_svg(fig, path)


def facts() -> dict:
    curves = {label(m): running_means(m) for m in MOMENTA}
    m01, m001 = curves["momentum=0.1"], curves["momentum=0.01"]
    mnone = curves["momentum=None"]
    return {
        "true_mean": TRUE_MEAN,
        "batch": BATCH,
        "steps": STEPS,
        "at_50_m01": m01[50],
        "at_50_m001": m001[50],
        "at_200_m001": m001[200],
        "at_200_none": mnone[200],
        # after step 100: how far each still wanders around the mean
        "spread_m01": torch.tensor(m01[100:]).std().item(),
        "spread_none": torch.tensor(mnone[100:]).std().item(),
    }


if __name__ == "__main__":
    for m in MOMENTA:
        curve = running_means(m)
        print(
            f"{label(m):>14}: step 50 {curve[50]:.2f}, "
            f"step 200 {curve[200]:.2f}"
        )
        #>   momentum=0.1: step 50 3.05, step 200 2.91
        #>  momentum=0.01: step 50 1.21, step 200 2.57
        #>  momentum=None: step 50 3.07, step 200 2.99
