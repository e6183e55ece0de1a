"""Experiment 6: what modern CNNs use - stochastic depth, mixup, CutMix,
TrivialAugment, EMA and all of them - on a small residual CNN."""

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from snippets.batchnorm.finetuning import reestimate_bn
from snippets.experiments import plotting, stats
from snippets.experiments.data import N_CLASSES, Digits, digit_splits
from snippets.experiments.results import (
    load_results,
    load_seconds,
    variant_facts,
)
from snippets.experiments.training import evaluate, final_summary, seed_list
from snippets.modern.mixup import (
    cutmix,
    cutmix_box,
    mixed_targets,
    mixup,
    sample_mix,
)
from snippets.modern.stochastic_depth import ResidualBlock, linear_decay
from snippets.modern.weight_averaging import WeightEMA

NAME = "modern"
FIGURE = "experiments-modern.svg"

# --8<-- [start:variants]
# Each switch at a common starting strength; "combination" turns all
# on, with mixup or CutMix for each mini-batch (a coin, as timm does).
VARIANTS = {
    "none": {},
    "stochastic_depth": {"drop_path": 0.2},  # last block; linear decay
    "mixup": {"mixup_alpha": 0.2},
    "cutmix": {"cutmix_alpha": 1.0},
    "trivial_augment": {"trivial_augment": True},
    "ema": {"ema_decay": 0.99},
    "combination": {
        "drop_path": 0.2,
        "mixup_alpha": 0.2,
        "cutmix_alpha": 1.0,
        "trivial_augment": True,
        "ema_decay": 0.99,
    },
}
# --8<-- [end:variants]
LABELS = {
    "none": "no regularization",
    "stochastic_depth": "stochastic depth",
    "mixup": "mixup",
    "cutmix": "CutMix",
    "trivial_augment": "TrivialAugment",
    "ema": "EMA of the weights",
    "combination": "all of them",
}


# --8<-- [start:model]
def residual_cnn(drop_path: float = 0.0, channels: int = 16):
    """A stem, then two residual blocks (the modern chapter's, with
    stochastic depth), each followed by a 2x2 max-pool: 8x8 -> 2x2."""
    rates = linear_decay(drop_path, 2)  # Huang et al.: p/2, then p
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        ResidualBlock(channels, rates[0]),
        nn.MaxPool2d(2),
        ResidualBlock(channels, rates[1]),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(channels * 2 * 2, N_CLASSES),
    )


# --8<-- [end:model]


def config(quick: bool = False, seeds: int | None = None) -> dict:
    """A class-balanced 200-image training set, Adam, seven variants of
    the residual CNN, each with every seed."""
    return {
        "quick": quick,
        "n_train": 200,
        "epochs": 3 if quick else 20,
        "batch_size": 20,
        "optimizer": "adam",
        "lr": 0.003,
        "seeds": seed_list(seeds, 1 if quick else 12),
        "variants": VARIANTS,
    }


def total_epochs(cfg: dict) -> int:
    return cfg["epochs"] * len(cfg["seeds"]) * len(cfg["variants"])


# --8<-- [start:batch]
def training_batch(x, y, switches: dict, augment, mixing):
    """The images and (soft) targets one step trains on: TrivialAugment
    first, then mixup or CutMix (a coin when both are on)."""
    if augment is not None:  # one kornia call: one operation per batch
        x = augment(x)
    alphas = [
        (kind, switches[f"{kind}_alpha"])
        for kind in ("mixup", "cutmix")
        if f"{kind}_alpha" in switches
    ]
    if not alphas:
        return x, F.one_hot(y, N_CLASSES).float()
    kind, alpha = alphas[
        int(torch.rand((), generator=mixing) * len(alphas))
    ]
    lam, partner = sample_mix(len(y), alpha, generator=mixing)
    if kind == "mixup":
        x = mixup(x, partner, lam)
    else:
        height, width = x.shape[-2:]
        cy = int(torch.randint(height, (), generator=mixing))
        cx = int(torch.randint(width, (), generator=mixing))
        x, lam = cutmix(x, partner, cutmix_box(lam, height, width, cy, cx))
    return x, mixed_targets(y, partner, lam, N_CLASSES)


# --8<-- [end:batch]


# --8<-- [start:train]
def train(
    switches: dict,
    data: Digits,
    cfg: dict,
    seed: int,
    progress=lambda epochs: None,
) -> dict:
    """training.fit's loop and history, with soft targets, augmentation
    and an EMA copy; the EMA copy (BN statistics measured again for its
    weights) is the network scored when it is on."""
    from kornia.augmentation.auto import TrivialAugment

    history = {"train_loss": [], "train_acc": [], "val_loss": []}
    history.update(val_acc=[], diverged_at=None, best_epoch=None)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # init, drop paths, lambdas, kornia
        model = residual_cnn(switches.get("drop_path", 0.0))
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        ema = (
            WeightEMA(model, switches["ema_decay"])
            if ("ema_decay" in switches)
            else None
        )
        augment = (
            TrivialAugment() if switches.get("trivial_augment") else None
        )
        order = torch.Generator().manual_seed(seed)  # mini-batch order
        mixing = torch.Generator().manual_seed(seed)  # partners, boxes
        n, best = len(data.train.y), None
        for epoch in range(1, cfg["epochs"] + 1):
            model.train()
            for batch in torch.randperm(n, generator=order).split(
                cfg["batch_size"]
            ):
                x, soft = training_batch(
                    data.train.x[batch],
                    data.train.y[batch],
                    switches,
                    augment,
                    mixing,
                )
                loss = F.cross_entropy(model(x), soft)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if ema is not None:
                    ema.update(model)
            scored = model
            if ema is not None:
                scored = ema.module
                scored.eval()
                reestimate_bn(scored, data.train.x.split(cfg["batch_size"]))
            for split, name in ((data.train, "train"), (data.val, "val")):
                loss_value, accuracy = evaluate(scored, split)
                history[f"{name}_loss"].append(loss_value)
                history[f"{name}_acc"].append(accuracy)
            if history["val_loss"][-1] < min(
                history["val_loss"][:-1], default=math.inf
            ):
                history["best_epoch"] = epoch
                best = copy.deepcopy(scored.state_dict())
            progress(1)
        history["test_acc"] = evaluate(scored, data.test)[1]
        kept = copy.deepcopy(scored)
        kept.load_state_dict(best)
        history["test_acc_at_best"] = evaluate(kept, data.test)[1]
    return history


# --8<-- [end:train]


# --8<-- [start:run]
def run(cfg: dict, progress=lambda epochs: None) -> dict:
    data = digit_splits(n_train=cfg["n_train"])
    return {
        variant: [
            train(switches, data, cfg, seed, progress)
            for seed in cfg["seeds"]
        ]
        for variant, switches in cfg["variants"].items()
    }


# --8<-- [end:run]


def summarize(cfg: dict, runs: dict) -> dict:
    summary = {
        variant: final_summary(histories)
        for variant, histories in runs.items()
    }
    return {
        "variants": summary,
        "ranking": sorted(
            runs, key=lambda v: (-summary[v]["test_acc_mean"], v)
        ),
        # Paired intervals need two seeds at least; --seeds 1 gets none.
        "comparisons": stats.compare(runs, baseline="none")
        if len(cfg["seeds"]) > 1
        else {},
    }


def figures(doc: dict) -> list[tuple[str, bytes]]:
    comparisons = doc["summary"]["comparisons"]
    alt = (
        "For each technique, the mean per-seed difference in accuracy "
        "against the network without regularization, with its 95 % "
        "interval, on the validation and on the test split."
    )
    xlabel = (
        "accuracy minus no regularization\n"
        "(points, last epoch, 95 % interval)"
    )
    svg = plotting.interval_figure(comparisons, LABELS, xlabel, alt, 3.6)
    return [(FIGURE, svg)]


def facts() -> dict:
    doc = load_results(NAME)
    summary, cfg = doc["summary"], doc["config"]
    comparisons = summary["comparisons"]
    # which techniques each verdict covers, per metric: "mixup, CutMix"
    words = {
        "helped": "helped",
        "hurt": "hurt",
        stats.NO_DIFFERENCE: "none",
    }
    by_verdict = {}
    for metric in stats.METRICS:
        for verdict, word in words.items():
            names = [
                LABELS[v]
                for v in LABELS
                if v in comparisons
                and comparisons[v][metric]["verdict"] == verdict
            ]
            by_verdict[f"{metric}_{word}"] = ", ".join(names) or "none"
            by_verdict[f"n_{metric}_{word}"] = len(names)
    return {
        **variant_facts(summary["variants"]),
        **stats.comparison_facts(comparisons),
        "differences_table": stats.table(comparisons, LABELS),
        "epochs": cfg["epochs"],
        "n_train": cfg["n_train"],
        "n_seeds": len(cfg["seeds"]),
        "batch_size": cfg["batch_size"],
        "lr": cfg["lr"],
        "seconds": load_seconds(NAME),
        "cpu_seconds": load_seconds(NAME, key="cpu_seconds"),
        **by_verdict,
        "n_techniques": len(comparisons),
        "parameters": sum(p.numel() for p in residual_cnn().parameters()),
    }


def main() -> None:
    # --8<-- [start:demo]
    # docs/experiments/results/modern.json, made by `run`:
    pairs = load_results(NAME)["summary"]["comparisons"]
    for variant, metrics in pairs.items():  # each against "none"
        test = metrics["test_acc"]  # test accuracy, last epoch
        print(
            f"{variant:17} {test['mean']:+5.1f} points "
            f"[{test['low']:+5.1f}, {test['high']:+5.1f}]\n"
            f"    {test['verdict']}"
        )
        #> combination        -0.9 points [ -1.6,  -0.3]
        #>     hurt
        #> cutmix             -1.7 points [ -3.6,  +0.2]
        #>     no detectable difference at this size
        #> ema                -0.5 points [ -0.9,  -0.1]
        #>     hurt
        #> mixup              -1.7 points [ -2.6,  -0.8]
        #>     hurt
        #> stochastic_depth   -0.8 points [ -1.3,  -0.4]
        #>     hurt
        #> trivial_augment    -0.4 points [ -1.4,  +0.7]
        #>     no detectable difference at this size
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
