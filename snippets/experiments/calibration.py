"""Experiment 5: do the CNN's probabilities mean what they say? Plain,
dropout (one pass and MC), label smoothing."""

import copy
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from snippets.experiments import plotting, stats
from snippets.experiments.data import Digits, digit_splits
from snippets.experiments.models import digit_cnn
from snippets.experiments.results import load_results, load_seconds
from snippets.experiments.training import evaluate, seed_list

NAME = "calibration"
FIGURE = "experiments-calibration.svg"
# What is scored: the trained network, and how it predicts.
METHODS = {
    "plain": ("plain", "one_pass"),
    "dropout": ("dropout", "one_pass"),
    "mc_dropout": ("dropout", "mc"),
    "label_smoothing": ("label_smoothing", "one_pass"),
}
LABELS = {
    "plain": "no regularization",
    "dropout": "dropout, one pass",
    "mc_dropout": "MC dropout",
    "label_smoothing": "label smoothing",
}
# Lower is better for the calibration error and the NLL.
LOWER_IS_BETTER = {"ece": True, "nll": True, "acc": False}


# --8<-- [start:config]
def config(quick: bool = False, seeds: int | None = None) -> dict:
    """Experiment 2's data and training (100 images, Adam, 60 epochs);
    three networks per seed, four ways of predicting."""
    return {
        "quick": quick,
        "n_train": 100,
        "epochs": 5 if quick else 60,
        "batch_size": 10,
        "optimizer": "adam",
        "lr": 0.002,
        "head_dropout": 0.5,
        "label_smoothing": 0.1,
        "mc_passes": 5 if quick else 30,
        "bins": 15,
        "seeds": seed_list(seeds, 1 if quick else 12),
    }


# --8<-- [end:config]


def trained(cfg: dict) -> dict:
    """The networks each seed trains: (dropout rate, label smoothing)."""
    return {
        "plain": (0.0, 0.0),
        "dropout": (cfg["head_dropout"], 0.0),
        "label_smoothing": (0.0, cfg["label_smoothing"]),
    }


def total_epochs(cfg: dict) -> int:
    return cfg["epochs"] * len(cfg["seeds"]) * len(trained(cfg))


# --8<-- [start:ece]
def calibration_bins(
    probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15
) -> dict:
    """Sort the predictions by confidence (the top probability) into
    n_bins equal-width bins (a, b]; per bin: how many, the sum of their
    confidences, how many were right."""
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    if (
        probs.ndim != 2
        or labels.shape != probs.shape[:1]
        or not len(labels)
    ):
        raise ValueError(
            "probs must be (N, classes) and labels (N,), N >= 1; got "
            f"{tuple(probs.shape)} and {tuple(labels.shape)}"
        )
    confidence, predicted = probs.max(dim=1)
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    index = torch.bucketize(confidence.double(), edges[1:-1])
    correct = (predicted == labels).double()
    return {
        "count": torch.bincount(index, minlength=n_bins).tolist(),
        "confidence": torch.zeros(n_bins, dtype=torch.float64)
        .index_add(0, index, confidence.double())
        .tolist(),
        "correct": torch.zeros(n_bins, dtype=torch.float64)
        .index_add(0, index, correct)
        .tolist(),
    }


def expected_calibration_error(bins: dict) -> float:
    """Sum over bins of (share of predictions) x |accuracy - mean
    confidence| (Guo et al., 2017): 0 when every bin's confidence is
    its accuracy."""
    n = sum(bins["count"])
    return sum(
        abs(correct - confidence) / n
        for confidence, correct in zip(bins["confidence"], bins["correct"])
    )


# --8<-- [end:ece]


# --8<-- [start:mc]
@torch.no_grad()
def log_probabilities(
    model: nn.Module, x: torch.Tensor, passes: int = 1
) -> torch.Tensor:
    """One eval-mode pass (passes=1), or the log of the mean probability
    of `passes` passes with only the dropout modules in train mode."""
    model.eval()  # BN (if any) keeps its running statistics
    if passes == 1:
        return F.log_softmax(model(x), dim=1)
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.train()
    stacked = torch.stack(
        [F.log_softmax(model(x), dim=1) for _ in range(passes)]
    )
    model.eval()
    # log of the mean of the probabilities, without underflow
    return torch.logsumexp(stacked, dim=0) - math.log(passes)


# --8<-- [end:mc]


def scores(log_probs: torch.Tensor, labels: torch.Tensor, n_bins: int):
    """ECE (in points of %), NLL (nats), accuracy (%), and the bins."""
    bins = calibration_bins(log_probs.exp(), labels, n_bins)
    return {
        "ece": 100 * expected_calibration_error(bins),
        "nll": F.nll_loss(log_probs, labels).item(),
        "acc": 100 * sum(bins["correct"]) / len(labels),
        "bins": bins,
    }


def score_all(model: nn.Module, data: Digits, cfg: dict) -> dict:
    """Validation and test, one pass and (with dropout) MC."""
    ways = {"one_pass": 1}
    if any(isinstance(m, nn.Dropout) for m in model.modules()):
        ways["mc"] = cfg["mc_passes"]
    return {
        way: {
            name: scores(
                log_probabilities(model, split.x, passes),
                split.y,
                cfg["bins"],
            )
            for name, split in (("val", data.val), ("test", data.test))
        }
        for way, passes in ways.items()
    }


# --8<-- [start:train]
def train(
    dropout: float,
    smoothing: float,
    data: Digits,
    cfg: dict,
    seed: int,
    progress=lambda epochs: None,
) -> dict:
    """training.fit's loop with a label-smoothed loss; each network is
    scored at the last epoch and at the lowest validation loss."""
    history = {"train_loss": [], "train_acc": [], "val_loss": []}
    history.update(val_acc=[], diverged_at=None, best_epoch=None)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = digit_cnn(head_dropout=dropout)
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        order = torch.Generator().manual_seed(seed)  # mini-batch order
        n, best = len(data.train.y), None
        for epoch in range(1, cfg["epochs"] + 1):
            model.train()
            for batch in torch.randperm(n, generator=order).split(
                cfg["batch_size"]
            ):
                x, y = data.train.x[batch], data.train.y[batch]
                loss = F.cross_entropy(
                    model(x), y, label_smoothing=smoothing
                )
                opt.zero_grad()
                loss.backward()
                opt.step()
            for split, name in ((data.train, "train"), (data.val, "val")):
                loss_value, accuracy = evaluate(model, split)
                history[f"{name}_loss"].append(loss_value)
                history[f"{name}_acc"].append(accuracy)
            if history["val_loss"][-1] < min(
                history["val_loss"][:-1], default=math.inf
            ):
                history["best_epoch"] = epoch
                best = copy.deepcopy(model.state_dict())
            progress(1)
        history["scores"] = {"last": score_all(model, data, cfg)}
        model.load_state_dict(best)
        history["scores"]["es"] = score_all(model, data, cfg)
    return history


# --8<-- [end:train]


# --8<-- [start:run]
def run(cfg: dict, progress=lambda epochs: None) -> dict:
    data = digit_splits(n_train=cfg["n_train"])
    return {
        network: [
            train(dropout, smoothing, data, cfg, seed, progress)
            for seed in cfg["seeds"]
        ]
        for network, (dropout, smoothing) in trained(cfg).items()
    }


# --8<-- [end:run]


def per_seed(runs: dict, method: str, when: str, split: str, metric: str):
    network, way = METHODS[method]
    return [h["scores"][when][way][split][metric] for h in runs[network]]


def measures() -> list[tuple[str, str, str]]:
    """(epoch, split, metric): 'last' or 'es' (lowest validation loss)."""
    return [
        (when, split, metric)
        for when in ("last", "es")
        for split in ("test", "val")
        for metric in LOWER_IS_BETTER
    ]


def paired(runs: dict, treated: str, baseline: str) -> dict:
    out = {}
    for when, split, metric in measures():
        diff = stats.paired_difference(
            per_seed(runs, treated, when, split, metric),
            per_seed(runs, baseline, when, split, metric),
        )
        better = not LOWER_IS_BETTER[metric]
        out[f"{split}_{metric}_{when}"] = {
            **diff,
            "verdict": stats.verdict(diff, higher_is_better=better),
        }
    return out


def pooled_bins(runs: dict, method: str, when: str, split: str) -> dict:
    """One method's bins summed over the seeds: every test prediction of
    every network."""
    bins = per_seed(runs, method, when, split, "bins")
    return {
        key: np.sum([b[key] for b in bins], axis=0).tolist()
        for key in ("count", "confidence", "correct")
    }


def summarize(cfg: dict, runs: dict) -> dict:
    means = {
        method: {
            f"{split}_{metric}_{when}": float(
                np.mean(per_seed(runs, method, when, split, metric))
            )
            for when, split, metric in measures()
        }
        for method in METHODS
    }
    several = len(cfg["seeds"]) > 1  # an interval needs two seeds
    return {
        "methods": means,
        "best_epoch_mean": {
            network: float(np.mean([h["best_epoch"] for h in histories]))
            for network, histories in runs.items()
        },
        "comparisons": {
            method: paired(runs, method, "plain")
            for method in METHODS
            if method != "plain"
        }
        if several
        else {},
        # the same networks, predicting two ways
        "mc_vs_one_pass": paired(runs, "mc_dropout", "dropout")
        if several
        else {},
        "reliability": {
            method: pooled_bins(runs, method, "last", "test")
            for method in METHODS
        },
    }


# Bins with fewer pooled predictions are left out of the diagram.
MIN_COUNT = 20


def draw(reliability: dict, alt: str) -> bytes:
    """Accuracy against confidence per bin, pooled over the seeds, on the
    test split: on the diagonal, a confidence means what it says."""
    style = {**plotting.STYLE, "font.size": 13, "lines.linewidth": 2.2}
    with plt.rc_context(style):
        fig, ax = plt.subplots(figsize=(4.6, 5.4), layout="constrained")
        ax.plot([0, 100], [0, 100], color=plotting.INK, linestyle=":")
        markers = ("o", "s", "^", "D")
        # METHODS' order: the results file stores its keys sorted
        for method, color, marker in zip(METHODS, plotting.COLORS, markers):
            bins = reliability[method]
            kept = [
                (100 * conf / n, 100 * right / n)
                for n, conf, right in zip(
                    bins["count"], bins["confidence"], bins["correct"]
                )
                if n >= MIN_COUNT
            ]
            ax.plot(
                *zip(*kept),
                marker=marker,
                color=color,
                label=LABELS[method],
                markersize=6,
            )
        ax.set(
            xlim=(30, 100),
            ylim=(30, 100),
            xlabel="confidence (%)",
            ylabel="accuracy (%)",
            aspect="equal",
        )
        ax.text(
            97,
            33,
            "below the line:\nover-confident",
            ha="right",
            va="bottom",
        )
        fig.legend(loc="outside lower center", ncols=2, fontsize=12)
        return plotting.svg_bytes(fig, alt)


def figures(doc: dict) -> list[tuple[str, bytes]]:
    alt = (
        "Reliability diagram on the test split: accuracy against "
        "confidence per bin for no regularization, dropout with one pass, "
        "MC dropout and label smoothing, pooled over the seeds; the "
        "dotted diagonal is perfect calibration."
    )
    return [(FIGURE, draw(doc["summary"]["reliability"], alt))]


DIGITS = {"ece": 1, "nll": 3, "acc": 1}


def table(comparisons: dict, when: str) -> str:
    """Markdown: each method minus no regularization, test and
    validation; bold where the interval excludes 0."""
    columns = [
        (split, metric) for split in ("test", "val") for metric in DIGITS
    ]
    names = {"ece": "ECE", "nll": "NLL", "acc": "accuracy"}
    splits = {"test": "test", "val": "validation"}
    rows = [
        "| Against no regularization | "
        + " | ".join(f"{splits[s]} {names[m]}" for s, m in columns)
        + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for method in [m for m in METHODS if m in comparisons]:
        metrics = comparisons[method]
        cells = [
            stats.cell(metrics[f"{s}_{m}_{when}"], DIGITS[m], bold=True)
            for s, m in columns
        ]
        rows.append(f"| {LABELS[method]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def facts() -> dict:
    doc = load_results(NAME)
    cfg, summary = doc["config"], doc["summary"]
    found = {
        f"{method}_{key}": value
        for method, numbers in summary["methods"].items()
        for key, value in numbers.items()
    }
    pairs = {
        **summary["comparisons"],
        "mc_vs_one": summary["mc_vs_one_pass"],
    }
    for method, metrics in pairs.items():
        for key, diff in metrics.items():
            digits = DIGITS[key.split("_")[1]]
            found[f"{method}_{key}_diff"] = stats.cell(diff, digits)
            found[f"{method}_{key}_verdict"] = diff["verdict"]
    return {
        **found,
        "table_last": table(summary["comparisons"], "last"),
        "table_es": table(summary["comparisons"], "es"),
        **{
            f"{network}_best_epoch": epoch
            for network, epoch in summary["best_epoch_mean"].items()
        },
        "test_predictions": sum(summary["reliability"]["plain"]["count"]),
        # the share of test predictions in the top bin, (14/15, 1]
        **{
            f"{method}_top_bin_pct": 100
            * bins["count"][-1]
            / sum(bins["count"])
            for method, bins in summary["reliability"].items()
        },
        "min_count": MIN_COUNT,
        **{
            key: cfg[key]
            for key in (
                "epochs",
                "n_train",
                "head_dropout",
                "label_smoothing",
                "mc_passes",
                "bins",
            )
        },
        "n_seeds": len(cfg["seeds"]),
        "seconds": load_seconds(NAME),
        "cpu_seconds": load_seconds(NAME, key="cpu_seconds"),
    }


def main() -> None:
    # --8<-- [start:demo]
    # docs/experiments/results/calibration.json, made by `run`:
    pairs = load_results(NAME)["summary"]["comparisons"]
    for method, metrics in pairs.items():  # each against "plain"
        ece = metrics["test_ece_last"]  # test split, last epoch
        print(
            f"{method:15} ECE {ece['mean']:+5.1f} points "
            f"[{ece['low']:+5.1f}, {ece['high']:+5.1f}] {ece['verdict']}"
        )
        #> dropout         ECE  -1.4 points [ -2.1,  -0.7] helped
        #> label_smoothing ECE  +9.4 points [ +8.4, +10.4] hurt
        #> mc_dropout      ECE  +3.6 points [ +2.2,  +5.1] hurt
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
