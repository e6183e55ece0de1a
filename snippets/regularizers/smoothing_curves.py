"""Label smoothing drawn: the smoothed target beside the one-hot one, and
the loss of one example as its true-class logit pulls ahead."""

import torch

from snippets.cnn.dropout2d import FIGURE_STYLE, GREY, save_svg
from snippets.regularizers.label_smoothing import (
    EPS,
    LABEL,
    K,
    best_gap,
    loss_at_gap,
    smooth_targets,
)

GAPS = [g / 4 for g in range(41)]  # 0 to 10 in steps of 0.25
BLUE, ORANGE = "#4a90d9", "#e07b39"


# --8<-- [start:curves]
def curves() -> dict:
    """One example's loss as its true-class logit pulls ahead of the
    others by g, without and with smoothing."""
    return {
        eps: [loss_at_gap(g, K, eps) for g in GAPS] for eps in (0.0, EPS)
    }


# --8<-- [end:curves]


def save_figure(path) -> None:
    """Left: the two targets over the K classes. Right: loss against the
    gap, with the smoothed loss's minimum marked."""
    import matplotlib
    from matplotlib.figure import Figure

    label = torch.tensor([LABEL])
    targets = {
        "one-hot": smooth_targets(label, K, 0.0)[0],
        f"smoothed, ε = {EPS}": smooth_targets(label, K, EPS)[0],
    }
    with matplotlib.rc_context(FIGURE_STYLE):
        fig = Figure(figsize=(4.8, 2.6), layout="constrained")
        bars, loss = fig.subplots(1, 2)
        bars.set_gid("panel-targets")
        loss.set_gid("panel-loss")
        width = 0.38
        for k, ((name, y), colour) in enumerate(
            zip(targets.items(), (GREY, BLUE))
        ):
            x = [c + (k - 0.5) * width for c in range(K)]
            bars.bar(x, y.tolist(), width=width, color=colour, label=name)
        bars.set_xticks(range(K))
        bars.set_ylim(0, 1.45)  # room for the legend above the bars
        bars.set_yticks([0, 0.5, 1])
        bars.set_xlabel("class (true class: 2)")
        bars.set_ylabel("target")
        bars.legend(frameon=False, fontsize=8, loc="upper left")
        for eps, values in curves().items():
            loss.plot(
                GAPS,
                values,
                color=ORANGE if eps else GREY,
                label=f"ε = {eps:g}",
                gid=f"curve-eps-{eps:g}",
            )
        g_star = best_gap(K, EPS)
        loss.plot(
            g_star,
            loss_at_gap(g_star, K, EPS),
            "o",
            color=ORANGE,
            gid="minimum",
        )
        loss.set_xlabel("gap g of the true logit")
        loss.set_ylabel("loss")
        loss.legend(frameon=False, fontsize=8)
        for ax in (bars, loss):
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        save_svg(fig, path)


def facts() -> dict:
    found = curves()
    plain, smoothed = found[0.0], found[EPS]
    return {
        "best_gap": best_gap(K, EPS),
        "plain_at_10": plain[-1],
        "smoothed_at_10": smoothed[-1],
        "smoothed_min": min(smoothed),
    }
