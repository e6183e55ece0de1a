"""Where each kind of RNN dropout acts on an unrolled two-layer LSTM, and
whether its mask is drawn afresh at every step or once per sequence."""

from snippets.cnn.dropout2d import FIGURE_STYLE, GREY, save_svg

LAYERS, STEPS = 2, 3
VARIANTS = ("zaremba", "variational", "weight_drop", "zoneout")
TITLES = {
    "zaremba": "Zaremba et al.: vertical only,\na fresh mask every step",
    "variational": "Variational: vertical and\n"
    "recurrent, one mask per sequence",
    "weight_drop": "Weight drop: the recurrent\n"
    "weights, one mask per sequence",
    "zoneout": "Zoneout: units keep their\n"
    "previous value, fresh every step",
}


# --8<-- [start:map]
def connections(layers: int = LAYERS, steps: int = STEPS) -> list:
    """Every arrow of the unrolled network. ("up", r, t): into layer r + 1
    at step t (r = 0 is the input x, r = layers the output y).
    ("across", l, t): layer l's state from step t to t + 1."""
    up = [("up", r, t) for r in range(layers + 1) for t in range(steps)]
    across = [
        ("across", l, t)
        for l in range(1, layers + 1)
        for t in range(steps - 1)
    ]
    return up + across


def dropout_map(variant: str, layers: int = LAYERS, steps: int = STEPS):
    """{arrow: mask} for the arrows the variant drops. Two arrows with the
    same mask name share one mask; "t1" in a name means it was drawn for
    step 1 alone."""
    masks = {}
    for kind, row, t in connections(layers, steps):
        if variant == "zaremba" and kind == "up":
            masks[kind, row, t] = f"up{row}-t{t}"
        elif variant == "variational":
            masks[kind, row, t] = f"{kind}{row}"
        elif variant == "weight_drop" and kind == "across":
            masks[kind, row, t] = f"W_hh{row}"
        elif variant == "zoneout" and kind == "across":
            # the mask of step t + 1 decides what that step keeps
            masks[kind, row, t] = f"zone{row}-t{t + 1}"
        elif variant not in VARIANTS:
            raise ValueError(
                f"variant must be one of {VARIANTS}, got {variant!r}"
            )
    return masks


# --8<-- [end:map]


def fresh_every_step(mask: str) -> bool:
    return "-t" in mask


def step_of(mask: str) -> int:
    return int(mask.rsplit("-t", 1)[1])


# colours: the step a fresh mask was drawn for; one colour for a mask
# drawn once. Mid tones that read on white and on dark slate.
STEP_COLOURS = ("#e07b39", "#4a90d9", "#5bb06a")
ONCE_COLOUR = "#b05bc4"


def save_figure(path) -> None:
    """Four panels, one per variant; a square on an arrow marks a mask."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    with matplotlib.rc_context(FIGURE_STYLE):
        fig = Figure(figsize=(4.8, 5.6), layout="constrained")
        axes = fig.subplots(2, 2).flatten()
        for ax, variant in zip(axes, VARIANTS):
            ax.set_gid(f"panel-{variant}")
            draw_panel(ax, dropout_map(variant))
            ax.set_title(TITLES[variant], fontsize=9)
        handles = [
            Line2D([], [], ls="", marker="s", ms=7, color=c, label=f"t{t}")
            for t, c in enumerate(STEP_COLOURS)
        ] + [
            Line2D(
                [],
                [],
                ls="",
                marker="s",
                ms=7,
                color=ONCE_COLOUR,
                label="one mask, every step",
            )
        ]
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=4,
            frameon=False,
            fontsize=9,
            title="mask drawn for step",
            title_fontsize=9,
        )
        save_svg(fig, path)


def draw_panel(ax, masks: dict) -> None:
    ax.set_xlim(-0.6, STEPS - 0.4)
    ax.set_ylim(-0.45, LAYERS + 1.45)
    ax.set_axis_off()
    for t in range(STEPS):
        ax.text(t, -0.25, f"x{t}", ha="center", va="center", fontsize=9)
        ax.text(
            t, LAYERS + 1.25, f"y{t}", ha="center", va="center", fontsize=9
        )
        for layer in range(1, LAYERS + 1):
            ax.plot(t, layer, "o", ms=13, mfc="none", mec=GREY, mew=1.2)
    arrow = {"arrowstyle": "->", "color": GREY, "lw": 1.0}
    for kind, row, t in connections():
        if kind == "up":
            start, end = (
                (t, row + 0.22 - 0.05 * (row == 0)),
                (t, row + 0.78),
            )
        else:
            start, end = (t + 0.2, row), (t + 0.8, row)
        ax.annotate("", xy=end, xytext=start, arrowprops=arrow)
        mask = masks.get((kind, row, t))
        if mask is not None:
            colour = (
                STEP_COLOURS[step_of(mask)]
                if fresh_every_step(mask)
                else ONCE_COLOUR
            )
            middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
            ax.plot(*middle, "s", ms=6.5, color=colour, gid=f"mask-{mask}")


def facts() -> dict:
    maps = {v: dropout_map(v) for v in VARIANTS}
    return {
        "layers": LAYERS,
        "steps": STEPS,
        "zaremba_rows": len({row for _, row, _ in maps["zaremba"]}),
        **{f"masks_{v}": len(set(m.values())) for v, m in maps.items()},
        **{f"arrows_{v}": len(m) for v, m in maps.items()},
    }


if __name__ == "__main__":
    for variant in VARIANTS:
        masks = dropout_map(variant)
        print(
            f"{variant:>11}: {len(masks)} arrows, "
            f"{len(set(masks.values()))} masks"
        )
    #>     zaremba: 9 arrows, 9 masks
    #> variational: 13 arrows, 5 masks
    #> weight_drop: 4 arrows, 2 masks
    #>     zoneout: 4 arrows, 4 masks
