"""Paired comparisons over seeds: a mean difference, its 95 % interval,
and the verdict it allows."""

import math

import numpy as np
from scipy import stats

NO_DIFFERENCE = "no detectable difference at this size"


# --8<-- [start:paired]
def paired_difference(treated, baseline, confidence: float = 0.95):
    """The mean per-seed difference treated - baseline, with a t interval.

    Seed s of both variants shares its data split, its mini-batch order
    and its initial weights where the models agree, so the difference per
    seed cancels much of the seed-to-seed noise that the two means carry.
    """
    d = np.asarray(treated, float) - check(treated, baseline, confidence)
    mean, n = float(d.mean()), len(d)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * d.std(ddof=1)
    half /= math.sqrt(n)
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": n}


def verdict(diff: dict, higher_is_better: bool = True) -> str:
    """'helped' or 'hurt' only when the interval leaves 0 out."""
    if diff["low"] > 0 or diff["high"] < 0:
        better = (diff["low"] > 0) == higher_is_better
        return "helped" if better else "hurt"
    return NO_DIFFERENCE


# --8<-- [end:paired]


# --8<-- [start:metrics]
# What each run is scored on, and whether higher is better. "es" is the
# early-stopping epoch: the one with the lowest validation loss.
METRICS = {
    "val_acc": (lambda h: 100 * h["val_acc"][-1], True),
    "test_acc": (lambda h: 100 * h["test_acc"], True),
    "val_acc_es": (lambda h: 100 * h["val_acc"][h["best_epoch"] - 1], True),
    "test_acc_es": (lambda h: 100 * h["test_acc_at_best"], True),
    "best_val_loss": (lambda h: min(h["val_loss"]), False),
}


def compare(runs: dict, baseline: str = "none") -> dict:
    """Every variant against the baseline, seed by seed, on every metric."""
    out = {}
    for variant, histories in runs.items():
        if variant == baseline:
            continue
        out[variant] = {}
        for metric, (score, higher_is_better) in METRICS.items():
            diff = paired_difference(
                [score(h) for h in histories],
                [score(h) for h in runs[baseline]],
            )
            out[variant][metric] = {
                **diff,
                "verdict": verdict(diff, higher_is_better),
            }
    return out


# --8<-- [end:metrics]


HEADINGS = {
    "val_acc": "validation acc., last",
    "test_acc": "test acc., last",
    "val_acc_es": "validation acc., early stop",
    "test_acc_es": "test acc., early stop",
    "best_val_loss": "lowest validation loss",
}


def table(comparisons: dict, labels: dict) -> str:
    """A Markdown table of the paired differences; bold where the
    interval excludes 0."""
    rows = [
        "| Against the baseline | " + " | ".join(HEADINGS.values()) + " |",
        "|---" * (len(HEADINGS) + 1) + "|",
    ]
    for variant in [v for v in labels if v in comparisons]:
        metrics, cells = comparisons[variant], []
        for metric in HEADINGS:
            cells.append(
                cell(
                    metrics[metric], 3 if "loss" in metric else 1, bold=True
                )
            )
        rows.append(f"| {labels[variant]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def comparison_facts(comparisons: dict) -> dict:
    """<variant>_<metric>_diff ('+1.2 [-0.3, +2.7]') and
    <variant>_<metric>_verdict, per pair."""
    found = {}
    for variant, metrics in comparisons.items():
        for metric, diff in metrics.items():
            digits = 3 if "loss" in metric else 1
            found[f"{variant}_{metric}_diff"] = cell(diff, digits)
            found[f"{variant}_{metric}_verdict"] = diff["verdict"]
    return found


def check(treated, baseline, confidence: float) -> np.ndarray:
    """The baseline as an array, once the three arguments make sense."""
    if not 0 < confidence < 1:
        raise ValueError(
            f"confidence must be in (0, 1), got {confidence!r}"
        )
    a, b = np.asarray(treated, float), np.asarray(baseline, float)
    if a.ndim != 1 or a.shape != b.shape or len(a) < 2:
        raise ValueError(
            "treated and baseline need one value per seed, the "
            f"same seeds, at least 2; got shapes {a.shape} and "
            f"{b.shape}"
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError(
            "treated and baseline must be finite; a diverged "
            "run has no accuracy to compare"
        )
    return b


def cell(diff: dict, digits: int = 1, bold: bool = False) -> str:
    """'+1.2 [−0.3, +2.7]': a difference and its interval, for a table."""
    text = (
        f"{diff['mean']:+.{digits}f} [{diff['low']:+.{digits}f}, "
        f"{diff['high']:+.{digits}f}]"
    ).replace("-", "−")
    return (
        f"**{text}**" if bold and diff["verdict"] != NO_DIFFERENCE else text
    )


def main() -> None:
    # --8<-- [start:demo]
    # Validation accuracy (%) of five seeds, without and with a regularizer:
    none = [90.0, 88.0, 93.0, 91.0, 89.0]
    with_it = [91.0, 88.5, 94.0, 91.5, 90.0]
    diff = paired_difference(with_it, none)
    print(
        f"{diff['mean']:+.2f} points, 95 % interval "
        f"[{diff['low']:+.2f}, {diff['high']:+.2f}]: {verdict(diff)}"
    )
    #> +0.80 points, 95 % interval [+0.46, +1.14]: helped
    # The two means and spreads alone: the spreads dwarf the gap.
    print(
        f"{np.mean(none):.1f} +- {np.std(none):.1f} against "
        f"{np.mean(with_it):.1f} +- {np.std(with_it):.1f}"
    )
    #> 90.2 +- 1.7 against 91.0 +- 1.8
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
