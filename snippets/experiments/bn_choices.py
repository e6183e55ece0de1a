"""Experiment 7: two BatchNorm choices - BN before or after the ReLU, and
freezing BN when fine-tuning with tiny batches."""

import copy
import functools

import torch
from torch import nn

from snippets.batchnorm.finetuning import FrozenBN, freeze_bn
from snippets.batchnorm.finetuning_digits import new_scanner
from snippets.experiments import plotting, stats
from snippets.experiments.data import (
    N_CLASSES,
    Digits,
    Split,
    balanced_subset,
    digit_splits,
)
from snippets.experiments.models import digit_cnn
from snippets.experiments.results import load_results, load_seconds
from snippets.experiments.training import final_summary, fit, seed_list

NAME = "bn_choices"
FIGURE = "experiments-bn-choices.svg"
ORDERS = ("bn_relu", "relu_bn")
ARMS = ("adapting", "frozen")


# --8<-- [start:model]
def ordered_cnn(order: str = "bn_relu") -> nn.Sequential:
    """The experiments' CNN with bias-free convolutions and BN before
    ("bn_relu") or after ("relu_bn") each conv block's ReLU."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        conv = nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False)
        bn, relu = nn.BatchNorm2d(c_out), nn.ReLU()
        middle = [bn, relu] if order == "bn_relu" else [relu, bn]
        return [conv, *middle, nn.MaxPool2d(2)]  # 8x8 -> 4x4 -> 2x2

    return nn.Sequential(
        *block(1, 16),
        *block(16, 32),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 64),
        nn.ReLU(),
        nn.Linear(64, N_CLASSES),
    )


# --8<-- [end:model]


# --8<-- [start:config]
def config(quick: bool = False, seeds: int | None = None) -> dict:
    """1. The two orders from scratch on 200 digits. 2. A BN CNN trained
    on the other digits, fine-tuned on 160 digits of "another scanner",
    its BN layers adapting or frozen, at each batch size."""
    return {
        "quick": quick,
        "seeds": seed_list(seeds, 1 if quick else 20),
        "optimizer": "adam",
        # 1. the order, from scratch
        "n_train": 200,
        "epochs": 3 if quick else 30,
        "batch_size": 20,
        "lr": 0.002,
        # 2. fine-tuning: the same digits, another domain
        "n_finetune": 160,
        "pretrain_epochs": 1 if quick else 2,
        "pretrain_batch_size": 32,
        "pretrain_lr": 0.005,
        "finetune_epochs": 1 if quick else 5,
        "finetune_batch_sizes": [2, 32] if quick else [2, 8, 32],
        "finetune_lr": 0.001,
    }


# --8<-- [end:config]


def total_epochs(cfg: dict) -> int:
    fine_tuning = len(ARMS) * len(cfg["finetune_batch_sizes"])
    per_seed = (
        len(ORDERS) * cfg["epochs"]
        + cfg["pretrain_epochs"]
        + fine_tuning * cfg["finetune_epochs"]
    )
    return per_seed * len(cfg["seeds"])


def variant(arm: str, batch_size: int) -> str:
    return f"{arm}_bs{batch_size}"


# --8<-- [start:data]
def domains(n_finetune: int) -> tuple[Digits, Digits]:
    """The old domain: the pool's digits, less n_finetune of them. The
    new one: those n_finetune, validation and test, from the other
    scanner (finetuning_digits.new_scanner)."""
    full = digit_splits()
    pool = torch.arange(len(full.train.y))
    kept = balanced_subset(pool, full.train.y, n_finetune)
    rest = pool[~torch.isin(pool, kept)]

    def scanned(split: Split) -> Split:
        return Split(new_scanner(split.x), split.y)

    old = Digits(
        Split(full.train.x[rest], full.train.y[rest]), full.val, full.test
    )
    new = Digits(
        scanned(Split(full.train.x[kept], full.train.y[kept])),
        scanned(full.val),
        scanned(full.test),
    )
    return old, new


# --8<-- [end:data]


# --8<-- [start:finetune]
def pretrain(old: Digits, cfg: dict, seed: int, progress) -> tuple:
    """The experiments' CNN with BN, trained on the old domain by fit."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = digit_cnn(batchnorm=True)
    history = fit(
        lambda: model,  # fit trains this very model
        old,
        epochs=cfg["pretrain_epochs"],
        lr=cfg["pretrain_lr"],
        batch_size=cfg["pretrain_batch_size"],
        seed=seed,
        progress=progress,
    )
    return model, history


def fine_tuned(pretrained: nn.Module, frozen: bool) -> nn.Module:
    """A copy to fine-tune. Frozen: gamma, beta and the running
    statistics stay the pretrained ones, and the override of train()
    keeps the BN layers in eval mode through fit's model.train()."""
    copied = copy.deepcopy(pretrained)
    return freeze_bn(FrozenBN(*copied)) if frozen else copied


def fine_tune(
    pretrained, frozen: bool, batch_size: int, new, cfg, seed, progress
):
    return fit(
        lambda: fine_tuned(pretrained, frozen),
        new,
        epochs=cfg["finetune_epochs"],
        lr=cfg["finetune_lr"],
        batch_size=batch_size,
        seed=seed,  # the same mini-batches for both arms
        progress=progress,
    )


# --8<-- [end:finetune]


# --8<-- [start:run]
def run(cfg: dict, progress=lambda epochs: None) -> dict:
    data = digit_splits(n_train=cfg["n_train"])
    runs = {
        order: [
            fit(
                functools.partial(ordered_cnn, order),  # same seed, weights
                data,
                epochs=cfg["epochs"],
                lr=cfg["lr"],
                batch_size=cfg["batch_size"],
                seed=seed,
                progress=progress,
            )
            for seed in cfg["seeds"]
        ]
        for order in ORDERS
    }
    old, new = domains(cfg["n_finetune"])
    runs["pretrained"] = []
    for seed in cfg["seeds"]:
        model, history = pretrain(old, cfg, seed, progress)
        # before fine-tuning: the new domain, the old statistics
        history["new_test_acc"] = accuracy(model, new.test)
        runs["pretrained"].append(history)
        for batch_size in cfg["finetune_batch_sizes"]:
            for arm in ARMS:
                runs.setdefault(variant(arm, batch_size), []).append(
                    fine_tune(
                        model,
                        arm == "frozen",
                        batch_size,
                        new,
                        cfg,
                        seed,
                        progress,
                    )
                )
    return runs


# --8<-- [end:run]


@torch.no_grad()
def accuracy(model: nn.Module, split: Split) -> float:
    """Eval-mode accuracy on a split (0..1), as fit measures it."""
    model.eval()
    return (model(split.x).argmax(1) == split.y).float().mean().item()


def comparisons(cfg: dict, runs: dict) -> dict:
    """ReLU -> BN minus BN -> ReLU; frozen minus adapting per batch size.
    Paired intervals need two seeds at least; --seeds 1 gets none."""
    if len(cfg["seeds"]) < 2:
        return {}
    pairs = {"order": (runs["relu_bn"], runs["bn_relu"])}
    for batch_size in cfg["finetune_batch_sizes"]:
        pairs[f"bs{batch_size}"] = (
            runs[variant("frozen", batch_size)],
            runs[variant("adapting", batch_size)],
        )
    return {
        name: stats.compare({"a": treated, "b": baseline}, baseline="b")[
            "a"
        ]
        for name, (treated, baseline) in pairs.items()
    }


def summarize(cfg: dict, runs: dict) -> dict:
    pretrained = runs["pretrained"]
    return {
        "variants": {
            name: final_summary(histories)
            for name, histories in runs.items()
        },
        "comparisons": comparisons(cfg, runs),
        # the pretrained networks, before any fine-tuning
        "pretrained_new_test_acc_mean": 100
        * sum(h["new_test_acc"] for h in pretrained)
        / len(pretrained),
    }


def labels(comparisons: dict) -> dict:
    """Row names, in the order of the page."""
    found = {"order": "ReLU → BN minus BN → ReLU"}
    sizes = sorted(int(name[2:]) for name in comparisons if name != "order")
    for size in sizes:
        found[f"bs{size}"] = f"frozen minus adapting, batches of {size}"
    return found


def figures(doc: dict) -> list[tuple[str, bytes]]:
    pairs = doc["summary"]["comparisons"]
    alt = (
        "The mean per-seed difference in accuracy, with its 95 % "
        "interval, on the validation and on the test split: BN after "
        "the ReLU minus BN before it, and frozen minus adapting BN "
        "when fine-tuning with each batch size."
    )
    xlabel = "difference in accuracy\n(points, last epoch, 95 % interval)"
    svg = plotting.interval_figure(pairs, labels(pairs), xlabel, alt, 3.0)
    return [(FIGURE, svg)]


def facts() -> dict:
    doc = load_results(NAME)
    summary, cfg = doc["summary"], doc["config"]
    pairs = summary["comparisons"]
    variants = summary["variants"]
    return {
        **stats.comparison_facts(pairs),
        **{
            f"{name}_{key}": value
            for name, numbers in variants.items()
            for key, value in numbers.items()
        },
        "pretrained_new_test_acc": summary["pretrained_new_test_acc_mean"],
        "differences_table": stats.table(pairs, labels(pairs)),
        **{
            key: cfg[key]
            for key in (
                "n_train",
                "epochs",
                "batch_size",
                "lr",
                "n_finetune",
                "pretrain_epochs",
                "pretrain_batch_size",
                "pretrain_lr",
                "finetune_epochs",
                "finetune_lr",
            )
        },
        "n_pretrain": len(digit_splits().train.y) - cfg["n_finetune"],
        "batch_sizes": ", ".join(map(str, cfg["finetune_batch_sizes"])),
        "n_seeds": len(cfg["seeds"]),
        "seconds": load_seconds(NAME),
        "cpu_seconds": load_seconds(NAME, key="cpu_seconds"),
    }


def main() -> None:
    # --8<-- [start:demo]
    # docs/experiments/results/bn_choices.json, made by `run`:
    pairs = load_results(NAME)["summary"]["comparisons"]
    for name, metrics in pairs.items():  # sorted: bs2, bs32, bs8, order
        test = metrics["test_acc"]  # test accuracy, last epoch
        print(
            f"{name:6} {test['mean']:+5.1f} points "
            f"[{test['low']:+5.1f}, {test['high']:+5.1f}]\n"
            f"    {test['verdict']}"
        )
        #> bs2     -1.3 points [ -1.9,  -0.6]
        #>     hurt
        #> bs32    -0.3 points [ -0.9,  +0.2]
        #>     no detectable difference at this size
        #> bs8     -1.2 points [ -1.6,  -0.7]
        #>     hurt
        #> order   -0.5 points [ -1.1,  +0.1]
        #>     no detectable difference at this size
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
