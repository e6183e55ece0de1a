"""Figures that read in light and in dark mode, and come out byte for
byte the same on every run."""

import html
import io
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

# --8<-- [start:style]
# Mid-grey ink and mid-tone colours on a transparent background read on
# the white page and on Material's dark slate (#1e2129) alike; the grey is
# the one the other figures of the site use.
INK = "#8c8c8c"
COLORS = ["#4c8be0", "#e8833a", "#3fae6a", "#d9534f", "#9b6fd6", "#c9a227"]
STYLE = {
    # fixed element ids: same figure, same bytes
    "svg.hashsalt": "regularization-cnn-rnn",
    # text stays text: a third of the bytes, and searchable
    "svg.fonttype": "none",
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.transparent": True,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 10,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=COLORS),
    "legend.frameon": False,
    "lines.linewidth": 1.8,
}


COORDINATES = re.compile(rb'\b(?:d|x|y)="[^"]*"')
DIGITS = re.compile(rb"(\d+\.\d)\d+")


def svg_bytes(fig: plt.Figure, alt: str) -> bytes:
    """The figure as SVG, with the alt text as its <title>; no date, so
    no change between runs."""
    buffer = io.BytesIO()
    fig.savefig(
        buffer,
        format="svg",
        bbox_inches="tight",
        metadata={"Date": None, "Creator": None, "Title": alt},
    )
    plt.close(fig)
    # Coordinates to 1/10 pt (0.04 mm): invisible, and a quarter of the
    # bytes.
    svg = COORDINATES.sub(
        lambda m: DIGITS.sub(rb"\1", m[0]).replace(b" \n", b"\n"),
        buffer.getvalue(),
    )
    # Drawn inline (as in the notebook), the SVG is an image whose name is
    # the alt text.
    label = html.escape(alt, quote=True).encode()
    return svg.replace(
        b"<svg ", b'<svg role="img" aria-label="' + label + b'" ', 1
    )


# --8<-- [end:style]


def band(ax: plt.Axes, curves, label: str, color: str) -> None:
    """The mean over seeds as a line, the mean +- one standard deviation
    as a shaded band."""
    curves = np.asarray(curves, dtype=float)
    mean, std = curves.mean(axis=0), curves.std(axis=0)
    epochs = np.arange(1, curves.shape[1] + 1)
    ax.plot(epochs, mean, color=color, label=label)
    ax.fill_between(
        epochs, mean - std, mean + std, color=color, alpha=0.2, linewidth=0
    )


# Figures are drawn about as wide as a phone's column (4.6 in, some 340
# px there) with large type: on a phone the picture shrinks to fit, and a
# 10-inch figure's 10 pt labels would be 4 px high.
PHONE_STYLE = {**STYLE, "font.size": 13, "lines.linewidth": 2.2}


def variants_figure(
    runs: dict, summaries: dict, labels: dict, alt: str
) -> bytes:
    """Validation loss per epoch (top); final accuracy, validation and
    training (below), its labels in the colours of the curves above."""
    with plt.rc_context(PHONE_STYLE):
        fig = plt.figure(
            figsize=(4.6, 3.2 + 0.5 * len(labels)), layout="constrained"
        )
        # Two subfigures: the curves keep the whole width, however long
        # the labels of the panel below are.
        top, bottom = fig.subfigures(
            2, 1, height_ratios=[3, 0.55 * len(labels)]
        )
        loss_ax, acc_ax = top.subplots(), bottom.subplots()
        colors = COLORS[: len(labels)]
        for row, (variant, color) in enumerate(zip(labels, colors)):
            band(
                loss_ax,
                [h["val_loss"] for h in runs[variant]],
                labels[variant],
                color,
            )
            numbers = summaries[variant]
            acc_ax.errorbar(
                numbers["val_acc_mean"],
                row,
                xerr=numbers["val_acc_std"],
                fmt="o",
                color=color,
                capsize=4,
            )
            train_acc = numbers["val_acc_mean"] + numbers["acc_gap"]
            acc_ax.plot(train_acc, row, "|", color=color, markersize=14)
        # A log scale spreads out the low end, where the variants part ways.
        loss_ax.set(
            xlabel="epoch",
            ylabel="validation loss\n(nats, log scale)",
            yscale="log",
        )
        loss_ax.minorticks_off()
        low, high = loss_ax.get_ylim()
        ticks = [
            t for t in (0.05, 0.1, 0.2, 0.3, 0.5, 1, 2) if low <= t <= high
        ]
        loss_ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        acc_ax.set(
            yticks=range(len(labels)),
            yticklabels=list(labels.values()),
            xlabel="final accuracy (%)\n"
            "dot: validation, mean +- std; bar: training",
            ylim=(len(labels) - 0.5, -0.5),
        )
        # The labels name the curves too: no legend over them.
        for label, color in zip(acc_ax.get_yticklabels(), colors):
            label.set_color(color)
        return svg_bytes(fig, alt)


def interval_figure(
    comparisons: dict, names: dict, xlabel: str, alt: str, height: float
) -> bytes:
    """Each comparison's mean and 95 % interval, in accuracy points at
    the last epoch: validation (dot) and test (square), one row per name
    (in the order of `names`). No comparisons (one seed): an empty plot."""
    order = [name for name in names if name in comparisons]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.6, height), layout="constrained")
        if not order:
            return svg_bytes(fig, alt)
        for shift, metric, marker, color in (
            (-0.17, "val_acc", "o", COLORS[0]),
            (0.17, "test_acc", "s", COLORS[1]),
        ):
            for row, name in enumerate(order):
                diff = comparisons[name][metric]
                ax.errorbar(
                    diff["mean"],
                    row + shift,
                    xerr=[[diff["mean"] - diff["low"]]],
                    fmt=marker,
                    color=color,
                    capsize=3,
                    label=("validation" if metric == "val_acc" else "test")
                    if row == 0
                    else None,
                )
        ax.axvline(0, color=INK, linewidth=0.8, linestyle=":")
        ax.set(
            yticks=range(len(order)),
            yticklabels=[names[name] for name in order],
            ylim=(len(order) - 0.5, -0.5),
            xlabel=xlabel,
        )
        fig.legend(loc="outside upper center", ncols=2)
        return svg_bytes(fig, alt)


def main() -> None:
    # --8<-- [start:demo]
    def draw() -> bytes:
        with plt.rc_context(STYLE):
            fig, ax = plt.subplots(figsize=(3, 2))
            ax.plot([1, 2, 3], [3, 1, 2])
            ax.set(xlabel="epoch", ylabel="loss (nats)")
            return svg_bytes(fig, alt="A line that falls, then rises.")

    first, second = draw(), draw()
    print(
        first == second,
        b"<title>A line that falls, then rises.</title>" in first,
    )
    #> True True
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
