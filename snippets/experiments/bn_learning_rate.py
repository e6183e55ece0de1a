"""Experiment 3: does batch normalization let the CNN train at higher
learning rates?"""

import math

import matplotlib.pyplot as plt
import numpy as np

from snippets.experiments import plotting, stats
from snippets.experiments.data import digit_splits
from snippets.experiments.models import digit_cnn
from snippets.experiments.results import load_results, load_seconds
from snippets.experiments.training import fit, seed_list

NAME = "bn_learning_rate"
FIGURE = "experiments-bn-learning-rate.svg"
# A run that broke down ends below this validation accuracy; guessing
# gives 0.1.
STUCK_BELOW = 0.2


# --8<-- [start:config]
def config(quick: bool = False, seeds: int | None = None) -> dict:
    """Plain SGD and SGD with momentum, each at six learning rates, with
    and without BN."""
    return {
        "quick": quick,
        "n_train": None,
        "epochs": 8 if quick else 12,
        "batch_size": 32,
        "optimizer": "sgd",
        "momenta": [0.0] if quick else [0.0, 0.9],
        "lrs": [0.3, 1.0] if quick else [0.01, 0.03, 0.1, 0.3, 1.0, 3.0],
        "target_acc": 0.95,
        "seeds": seed_list(seeds, 1 if quick else 10),
    }


# --8<-- [end:config]


def total_epochs(cfg: dict) -> int:
    return (
        cfg["epochs"]
        * len(cfg["seeds"])
        * len(cfg["momenta"])
        * len(cfg["lrs"])
        * 2
    )


def key(momentum: float, batchnorm: bool, lr: float) -> str:
    return f"momentum={momentum:g} bn={int(batchnorm)} lr={lr:g}"


# --8<-- [start:run]
def run(cfg: dict, progress=lambda epochs: None) -> dict:
    # the whole training pool: this is about speed
    data = digit_splits(n_train=cfg["n_train"])
    return {
        key(momentum, batchnorm, lr): [
            fit(
                # fit calls the lambda before the loop moves on
                lambda: digit_cnn(batchnorm=batchnorm),  # noqa: B023
                data,
                epochs=cfg["epochs"],
                lr=lr,
                batch_size=cfg["batch_size"],
                optimizer=cfg["optimizer"],
                momentum=momentum,
                seed=seed,
                progress=progress,
            )
            for seed in cfg["seeds"]
        ]
        for momentum in cfg["momenta"]
        for batchnorm in (False, True)
        for lr in cfg["lrs"]
    }


def outcome(history: dict, target_acc: float) -> dict:
    """Epochs until validation accuracy first reaches the target, or how
    the run failed."""
    reached = next(
        (
            epoch
            for epoch, acc in enumerate(history["val_acc"], 1)
            if acc >= target_acc
        ),
        None,
    )
    if history["diverged_at"] is not None:  # the loss became inf or nan
        return {"epochs_to_target": None, "status": "diverged"}
    if reached is None and history["val_acc"][-1] < STUCK_BELOW:
        # no better than guessing
        return {"epochs_to_target": None, "status": "stuck"}
    return {
        "epochs_to_target": reached,
        "status": "reached" if reached else "too slow",
    }


# --8<-- [end:run]


def summarize(cfg: dict, runs: dict) -> dict:
    """Per cell (momentum, BN, learning rate): how each seed ended, and
    the mean epochs to the target."""
    cells = {}
    for name, histories in runs.items():
        outcomes = [
            outcome(history, cfg["target_acc"]) for history in histories
        ]
        epochs = [result["epochs_to_target"] for result in outcomes]
        # A run that diverged predicts nothing: it counts as 0 % accuracy.
        final_acc = [
            h["val_acc"][-1] if h["diverged_at"] is None else 0.0
            for h in histories
        ]
        cells[name] = {
            "statuses": [result["status"] for result in outcomes],
            "seeds_reaching": sum(e is not None for e in epochs),
            "epochs_to_target_mean": None
            if None in epochs
            else float(np.mean(epochs)),
            "final_val_acc_mean": 100 * float(np.mean(final_acc)),
        }
    highest = {}
    for momentum in cfg["momenta"]:
        for batchnorm in (False, True):
            working = [
                lr
                for lr in cfg["lrs"]
                if cells[key(momentum, batchnorm, lr)][
                    "epochs_to_target_mean"
                ]
                is not None
            ]
            highest[f"momentum={momentum:g} bn={int(batchnorm)}"] = max(
                working, default=None
            )
    statuses = [
        status for cell in cells.values() for status in cell["statuses"]
    ]
    counts = {
        status: statuses.count(status)
        for status in ("reached", "too slow", "stuck", "diverged")
    }
    return {
        "cells": cells,
        "highest_lr_reaching_target": highest,
        "status_counts": counts,
        "bn_minus_plain": bn_effect(cfg, runs)
        if len(cfg["seeds"]) > 1
        else {},
    }


def final_accuracy(history: dict, split: str) -> float:
    """Accuracy in % at the last epoch; a diverged run predicts nothing
    and scores 0."""
    if history["diverged_at"] is not None:
        return 0.0
    return 100 * (
        history["val_acc"][-1] if split == "val" else history["test_acc"]
    )


def bn_effect(cfg: dict, runs: dict) -> dict:
    """BN minus no BN, seed by seed (same seed: same batch order), per
    optimizer and learning rate."""
    out = {}
    for momentum in cfg["momenta"]:
        for lr in cfg["lrs"]:
            with_bn, plain = (
                runs[key(momentum, bn, lr)] for bn in (True, False)
            )
            out[f"momentum={momentum:g} lr={lr:g}"] = {
                split: {
                    **(
                        diff := stats.paired_difference(
                            [final_accuracy(h, split) for h in with_bn],
                            [final_accuracy(h, split) for h in plain],
                        )
                    ),
                    "verdict": stats.verdict(diff),
                }
                for split in ("val", "test")
            }
    return out


def figures(doc: dict) -> list[tuple[str, bytes]]:
    cfg, summary = doc["config"], doc["summary"]
    alt = (
        f"Epochs to reach {100 * cfg['target_acc']:.0f} % validation "
        "accuracy against the learning rate, with and without batch "
        "normalization, for plain SGD and for SGD with momentum; a cross "
        "at the top marks a learning rate at which at least one seed "
        "missed the target."
    )
    # the height of the crosses: some seed missed the target
    never = cfg["epochs"] + 2
    # One panel per momentum, one above the other: a phone's width
    # (plotting.PHONE_STYLE).
    with plt.rc_context(plotting.PHONE_STYLE):
        fig, axes = plt.subplots(
            len(cfg["momenta"]),
            1,
            figsize=(4.6, 3.2 * len(cfg["momenta"]) + 0.8),
            layout="constrained",
            sharex=True,
            squeeze=False,
        )
        for ax, momentum in zip(axes[:, 0], cfg["momenta"]):
            for batchnorm, shift, label in (
                (False, 0.93, "without BN"),
                (True, 1.07, "with BN"),
            ):
                color = plotting.COLORS[int(batchnorm)]
                cells = [
                    summary["cells"][key(momentum, batchnorm, lr)]
                    for lr in cfg["lrs"]
                ]
                # side by side where both fail
                lrs = [lr * shift for lr in cfg["lrs"]]
                epochs = [
                    math.nan
                    if c["epochs_to_target_mean"] is None
                    else c["epochs_to_target_mean"]
                    for c in cells
                ]
                ax.plot(lrs, epochs, "o-", color=color, label=label)
                failed = [
                    lr
                    for lr, c in zip(lrs, cells)
                    if c["epochs_to_target_mean"] is None
                ]
                ax.plot(
                    failed,
                    [never] * len(failed),
                    "x",
                    color=color,
                    markersize=8,
                    markeredgewidth=2,
                )
            ax.axhline(
                cfg["epochs"] + 1,
                color=plotting.INK,
                linewidth=0.8,
                linestyle=":",
            )
            ax.set_xscale("log")
            ax.set_xticks(cfg["lrs"], [f"{lr:g}" for lr in cfg["lrs"]])
            ax.minorticks_off()
            ax.set_title(
                f"SGD, momentum {momentum:g}",
                color=plotting.INK,
                fontsize=13,
            )
            ax.set_yticks(
                list(range(0, cfg["epochs"] + 1, 4)) + [never],
                [str(e) for e in range(0, cfg["epochs"] + 1, 4)]
                + ["missed"],
            )
            ax.set_ylabel(
                f"epochs to {100 * cfg['target_acc']:.0f} %\n"
                "validation accuracy"
            )
        axes[-1][0].set_xlabel("learning rate (log scale)")
        fig.legend(
            *axes[0][0].get_legend_handles_labels(),
            loc="outside lower center",
            ncols=2,
        )
        return [(FIGURE, plotting.svg_bytes(fig, alt))]


def short(name: str) -> str:
    """'momentum=0.9 bn=1 lr=0.03' -> 'm09_bn1_lr003': a name that a
    facts marker can use."""
    return (
        name.replace("momentum=", "m")
        .replace(" bn=", "_bn")
        .replace(" lr=", "_lr")
        .replace(".", "")
    )


def ceiling_words(plain, with_bn) -> str:
    """How BN moved the highest learning rate at which every seed
    reached the target."""
    if plain == with_bn:
        return "left unchanged"
    if plain is None or (with_bn is not None and with_bn > plain):
        return "raised"
    return "lowered"


def bn_table(cfg: dict, effects: dict) -> str:
    """Markdown: BN minus no BN in final accuracy, per learning rate;
    bold where the interval excludes 0."""
    head = (
        "| Learning rate | "
        + " | ".join(
            f"{split}, momentum {m:g}"
            for m in cfg["momenta"]
            for split in ("validation", "test")
        )
        + " |"
    )
    rows = [head, "|---" * (1 + 2 * len(cfg["momenta"])) + "|"]
    for lr in cfg["lrs"]:
        cells = [
            stats.cell(
                effects[f"momentum={m:g} lr={lr:g}"][split], bold=True
            )
            for m in cfg["momenta"]
            for split in ("val", "test")
        ]
        rows.append(f"| {lr:g} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def facts() -> dict:
    doc = load_results(NAME)
    cfg, summary = doc["config"], doc["summary"]
    n_seeds = len(cfg["seeds"])
    found = {
        "epochs": cfg["epochs"],
        "n_seeds": n_seeds,
        "target_acc": 100 * cfg["target_acc"],
        "batch_size": cfg["batch_size"],
        "lrs": cfg["lrs"],
        "momentum": max(cfg["momenta"]),
        "stuck_below": 100 * STUCK_BELOW,
        "seconds": load_seconds(NAME),
        "bn_table": bn_table(cfg, summary["bn_minus_plain"]),
        "bn_helped_val": sum(
            e["val"]["verdict"] == "helped"
            for e in summary["bn_minus_plain"].values()
        ),
        "bn_hurt_val": sum(
            e["val"]["verdict"] == "hurt"
            for e in summary["bn_minus_plain"].values()
        ),
        "bn_cells": len(summary["bn_minus_plain"]),
        "runs_total": sum(summary["status_counts"].values()),
        **{
            f"runs_{status.replace(' ', '_')}": n
            for status, n in summary["status_counts"].items()
        },
    }
    for name, lr in summary["highest_lr_reaching_target"].items():
        found[f"highest_lr_{short(name)}"] = "none" if lr is None else lr
    for m in cfg["momenta"]:
        found[f"ceiling_{short(f'momentum={m:g}')}"] = ceiling_words(
            *(
                summary["highest_lr_reaching_target"][
                    f"momentum={m:g} bn={bn}"
                ]
                for bn in (0, 1)
            )
        )
        # the rates at which every seed reached the target
        for bn in (0, 1):
            found[f"reaching_lrs_{short(f'momentum={m:g} bn={bn}')}"] = [
                lr
                for lr in cfg["lrs"]
                if summary["cells"][key(m, bool(bn), lr)][
                    "epochs_to_target_mean"
                ]
                is not None
            ]
    for name, effect in summary["bn_minus_plain"].items():
        for split, diff in effect.items():
            found[f"bn_effect_{short(name)}_{split}_diff"] = stats.cell(
                diff
            )
            found[f"bn_effect_{short(name)}_{split}_verdict"] = diff[
                "verdict"
            ]
    for name, cell in summary["cells"].items():
        # A table cell: the mean epochs when every seed got there, else
        # how many seeds did.
        mean = cell["epochs_to_target_mean"]
        missed = f"missed ({cell['seeds_reaching']} of {n_seeds})"
        found[f"epochs_{short(name)}"] = (
            missed if mean is None else f"{mean:.1f}"
        )
        found[f"acc_{short(name)}"] = cell["final_val_acc_mean"]
    return found


def main() -> None:
    # --8<-- [start:demo]
    highest = load_results(NAME)["summary"]["highest_lr_reaching_target"]
    print("highest learning rate at which every seed reaches the target:")
    #> highest learning rate at which every seed reaches the target:
    for setting, lr in highest.items():
        print(f"  {setting}: {lr}")
        #>   momentum=0 bn=0: 0.3
        #>   momentum=0 bn=1: 0.3
        #>   momentum=0.9 bn=0: 0.03
        #>   momentum=0.9 bn=1: 0.1
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
