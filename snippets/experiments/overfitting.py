"""Experiment 1: a CNN with no regularization on 100 digits, and the
signature of overfitting."""

import matplotlib.pyplot as plt
import numpy as np

from snippets.experiments import plotting, stats
from snippets.experiments.data import digit_splits
from snippets.experiments.models import digit_cnn
from snippets.experiments.results import load_results, load_seconds
from snippets.experiments.training import fit, seed_list

NAME = "overfitting"
FIGURE = "experiments-overfitting.svg"


# --8<-- [start:config]
def config(quick: bool = False, seeds: int | None = None) -> dict:
    """100 training images (10 per class) and a network of 13,706
    weights: room to memorise."""
    return {
        "quick": quick,
        "n_train": 100,
        "epochs": 40 if quick else 100,
        "batch_size": 10,
        "optimizer": "adam",
        "lr": 0.002,
        "seeds": seed_list(seeds, 1 if quick else 10),
    }


# --8<-- [end:config]


def total_epochs(cfg: dict) -> int:
    return cfg["epochs"] * len(cfg["seeds"])


# --8<-- [start:run]
def run(cfg: dict, progress=lambda epochs: None) -> dict:
    data = digit_splits(n_train=cfg["n_train"])
    return {
        "histories": [
            fit(
                digit_cnn,
                data,
                epochs=cfg["epochs"],
                lr=cfg["lr"],
                batch_size=cfg["batch_size"],
                optimizer=cfg["optimizer"],
                seed=seed,
                progress=progress,
            )
            for seed in cfg["seeds"]
        ]
    }


def summarize(cfg: dict, runs: dict) -> dict:
    """Read the signature off the mean curves; early stopping would pick
    the best epoch."""
    curves = {
        key: np.array([h[key] for h in runs["histories"]])
        for key in ("train_loss", "val_loss", "train_acc", "val_acc")
    }
    mean = {key: curve.mean(axis=0) for key, curve in curves.items()}
    # index of the epoch with the lowest validation loss
    best = int(mean["val_loss"].argmin())
    return {
        "best_epoch": best + 1,
        "best_epoch_per_seed": [
            int(i) + 1 for i in curves["val_loss"].argmin(axis=1)
        ],
        "val_loss_best": mean["val_loss"][best],
        "val_loss_last": mean["val_loss"][-1],
        "val_loss_rise_pct": 100
        * (mean["val_loss"][-1] / mean["val_loss"][best] - 1),
        "train_loss_at_best": mean["train_loss"][best],
        "train_loss_last": mean["train_loss"][-1],
        "val_acc_at_best": 100 * mean["val_acc"][best],
        "val_acc_last": 100 * mean["val_acc"][-1],
        "train_acc_last": 100 * mean["train_acc"][-1],
        "seeds_rising": int(
            (
                curves["val_loss"][:, -1] > curves["val_loss"].min(axis=1)
            ).sum()
        ),
        # Paired intervals need two seeds at least; --seeds 1 gets none.
        "early_stopping": early_stopping(runs["histories"])
        if len(cfg["seeds"]) > 1
        else {},
    }


def early_stopping(histories: list[dict]) -> dict:
    """Each run's best-validation-loss weights minus its last ones, seed
    by seed."""
    at_best = {
        "val_acc": [
            100 * h["val_acc"][h["best_epoch"] - 1] for h in histories
        ],
        "test_acc": [100 * h["test_acc_at_best"] for h in histories],
        "val_loss": [min(h["val_loss"]) for h in histories],
    }
    last = {
        "val_acc": [100 * h["val_acc"][-1] for h in histories],
        "test_acc": [100 * h["test_acc"] for h in histories],
        "val_loss": [h["val_loss"][-1] for h in histories],
    }
    out = {}
    for metric in at_best:  # noqa: PLC0206 (a key of two dicts)
        diff = stats.paired_difference(at_best[metric], last[metric])
        higher_is_better = metric != "val_loss"
        out[metric] = {
            **diff,
            "verdict": stats.verdict(diff, higher_is_better),
        }
    return out


# --8<-- [end:run]


def draw(histories: list[dict], best_epoch: int, alt: str) -> bytes:
    """Both losses (log scale), validation loss up close, and accuracy:
    the mean over seeds +- 1 std."""
    # One column of three panels, a phone's width (plotting.PHONE_STYLE).
    with plt.rc_context(plotting.PHONE_STYLE):
        fig, (loss_ax, zoom_ax, acc_ax) = plt.subplots(
            3, 1, figsize=(4.6, 8.6), layout="constrained", sharex=True
        )
        for key, label, color in (
            ("train", "training", plotting.COLORS[0]),
            ("val", "validation", plotting.COLORS[1]),
        ):
            plotting.band(
                loss_ax, [h[f"{key}_loss"] for h in histories], label, color
            )
            plotting.band(
                acc_ax,
                [100 * np.array(h[f"{key}_acc"]) for h in histories],
                label,
                color,
            )
        val = np.array([h["val_loss"] for h in histories])
        epochs = np.arange(1, val.shape[1] + 1)
        # each seed, then their mean
        zoom_ax.plot(
            epochs,
            val.T,
            color=plotting.COLORS[1],
            linewidth=0.8,
            alpha=0.45,
        )
        zoom_ax.plot(epochs, val.mean(axis=0), color=plotting.COLORS[1])
        # close enough that the rise shows
        zoom_ax.set_ylim(0.9 * val.min(), 1.25 * val[:, -1].max())
        for ax in (loss_ax, zoom_ax, acc_ax):
            ax.axvline(
                best_epoch, color=plotting.INK, linestyle="--", linewidth=1
            )
        acc_ax.set_xlabel("epoch")
        zoom_ax.annotate(
            f"lowest: epoch {best_epoch}",
            (best_epoch, 0.97),
            va="top",
            xycoords=("data", "axes fraction"),
            xytext=(5, 0),
            textcoords="offset points",
            color=plotting.INK,
        )
        loss_ax.set(
            yscale="log",
            ylabel="loss (nats, log scale)",
            title="training and validation loss",
        )
        loss_ax.minorticks_off()
        zoom_ax.set(ylabel="loss (nats)", title="validation loss, up close")
        acc_ax.set(ylabel="accuracy (%)", ylim=(0, 102), title="accuracy")
        for ax in (loss_ax, zoom_ax, acc_ax):
            ax.title.set(color=plotting.INK, fontsize=13)
        loss_ax.legend(loc="lower left")
        return plotting.svg_bytes(fig, alt)


def figures(doc: dict) -> list[tuple[str, bytes]]:
    summary = doc["summary"]
    alt = (
        "Training loss falls towards zero while validation loss bottoms "
        f"out at epoch {summary['best_epoch']} and then rises; validation "
        "accuracy levels off."
    )
    return [
        (FIGURE, draw(doc["runs"]["histories"], summary["best_epoch"], alt))
    ]


def facts() -> dict:
    doc = load_results(NAME)
    cfg = doc["config"]
    per_seed = doc["summary"]["best_epoch_per_seed"]
    return {
        **doc["summary"],
        **stats.comparison_facts({"es": doc["summary"]["early_stopping"]}),
        "best_epoch_first": min(per_seed),
        "best_epoch_last": max(per_seed),
        "n_train": cfg["n_train"],
        "n_per_class": cfg["n_train"] // 10,
        "epochs": cfg["epochs"],
        "lr": cfg["lr"],
        "batch_size": cfg["batch_size"],
        "n_seeds": len(cfg["seeds"]),
        "seconds": load_seconds(NAME),
    }


def main() -> None:
    # --8<-- [start:demo]
    # the committed results file, docs/experiments/results/overfitting.json
    result = facts()
    print(
        f"validation loss: lowest {result['val_loss_best']:.3f} "
        f"at epoch {result['best_epoch']}, "
        f"{result['val_loss_last']:.3f} at epoch {result['epochs']}"
    )
    #> validation loss: lowest 0.328 at epoch 34, 0.379 at epoch 100
    print(
        f"training loss: {result['train_loss_at_best']:.4f} "
        f"at epoch {result['best_epoch']}, "
        f"{result['train_loss_last']:.4f} at epoch {result['epochs']}"
    )
    #> training loss: 0.0143 at epoch 34, 0.0010 at epoch 100
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
