"""Experiment 2: where dropout belongs in a CNN - six placements, the
same data, several seeds."""

from snippets.experiments import plotting, stats
from snippets.experiments.data import digit_splits
from snippets.experiments.models import digit_cnn
from snippets.experiments.results import (
    load_results,
    load_seconds,
    variant_facts,
)
from snippets.experiments.training import final_summary, fit, seed_list

NAME = "dropout_placement"
FIGURE = "experiments-dropout-placement.svg"

# --8<-- [start:variants]
# Usual starting rates: 0.5 for a dense layer, 0.2 (of 0.1 - 0.3) for
# conv blocks.
VARIANTS = {
    "none": {},
    # before the last Linear layer
    "head_dropout": {"head_dropout": 0.5},
    # element-wise, after the first conv's ReLU
    "conv1_dropout": {"conv1_dropout": 0.2},
    # whole channels, in both conv blocks
    "dropout2d": {"channel_dropout": 0.2},
    "batchnorm": {"batchnorm": True},
    "batchnorm_head_dropout": {"batchnorm": True, "head_dropout": 0.5},
}
# --8<-- [end:variants]
LABELS = {
    "none": "no regularization",
    "head_dropout": "dropout in the dense head",
    "conv1_dropout": "dropout after conv 1",
    "dropout2d": "Dropout2d in conv blocks",
    "batchnorm": "BN",
    "batchnorm_head_dropout": "BN + head dropout",
}


def config(quick: bool = False, seeds: int | None = None) -> dict:
    """Experiment 1's data and optimizer; six variants of the CNN, each
    with every seed."""
    return {
        "quick": quick,
        "n_train": 100,
        "epochs": 20 if quick else 60,
        "batch_size": 10,
        "optimizer": "adam",
        "lr": 0.002,
        "seeds": seed_list(seeds, 1 if quick else 20),
        "variants": VARIANTS,
    }


def total_epochs(cfg: dict) -> int:
    return cfg["epochs"] * len(cfg["seeds"]) * len(cfg["variants"])


# --8<-- [start:run]
def run(cfg: dict, progress=lambda epochs: None) -> dict:
    data = digit_splits(n_train=cfg["n_train"])
    return {
        variant: [
            fit(
                # fit calls the lambda before the loop moves on
                lambda: digit_cnn(**switches),  # noqa: B023
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
        for variant, switches in cfg["variants"].items()
    }


# --8<-- [end:run]


def summarize(cfg: dict, runs: dict) -> dict:
    summary = {
        variant: final_summary(histories)
        for variant, histories in runs.items()
    }
    ranking = sorted(
        runs,
        key=lambda variant: (-summary[variant]["val_acc_mean"], variant),
    )
    return {
        "variants": summary,
        "ranking": ranking,
        # Paired intervals need two seeds at least; --seeds 1 gets none.
        "comparisons": stats.compare(runs, baseline="none")
        if len(cfg["seeds"]) > 1
        else {},
        # Does head dropout add anything once BN is there?
        "bn_head_vs_bn": stats.compare(
            {v: runs[v] for v in ("batchnorm", "batchnorm_head_dropout")},
            baseline="batchnorm",
        )
        if len(cfg["seeds"]) > 1
        else {},
    }


def figures(doc: dict) -> list[tuple[str, bytes]]:
    summary = doc["summary"]
    alt = (
        "Validation loss per epoch for six placements of dropout and batch "
        "normalization, and their final validation accuracy; "
        f"{LABELS[summary['ranking'][0]]} ends highest, "
        f"{LABELS[summary['ranking'][-1]]} lowest."
    )
    return [
        (
            FIGURE,
            plotting.variants_figure(
                doc["runs"], summary["variants"], LABELS, alt
            ),
        )
    ]


def facts() -> dict:
    doc = load_results(NAME)
    summary = doc["summary"]
    extra = {
        f"bn_head_vs_bn_{key}": value
        for key, value in stats.comparison_facts(
            summary["bn_head_vs_bn"]
        ).items()
    }
    return {
        **variant_facts(summary["variants"]),
        **stats.comparison_facts(summary["comparisons"]),
        **extra,
        "differences_table": stats.table(summary["comparisons"], LABELS),
        "head_p": VARIANTS["head_dropout"]["head_dropout"],
        "conv_p": VARIANTS["conv1_dropout"]["conv1_dropout"],
        "epochs": doc["config"]["epochs"],
        "n_train": doc["config"]["n_train"],
        "n_seeds": len(doc["config"]["seeds"]),
        "seconds": load_seconds(NAME),
    }


def main() -> None:
    # --8<-- [start:demo]
    # docs/experiments/results/dropout_placement.json, made by `run`:
    pairs = load_results(NAME)["summary"]["comparisons"]
    for variant, metrics in pairs.items():  # each against "none"
        test = metrics["test_acc_es"]  # test accuracy, early-stopping epoch
        print(
            f"{variant:22} {test['mean']:+5.1f} points "
            f"[{test['low']:+5.1f}, {test['high']:+5.1f}]\n"
            f"    {test['verdict']}"
        )
        #> batchnorm               +2.9 points [ +2.1,  +3.7]
        #>     helped
        #> batchnorm_head_dropout  +3.7 points [ +2.9,  +4.6]
        #>     helped
        #> conv1_dropout           +0.3 points [ -0.3,  +0.9]
        #>     no detectable difference at this size
        #> dropout2d               -0.2 points [ -0.8,  +0.4]
        #>     no detectable difference at this size
        #> head_dropout            +0.8 points [ -0.1,  +1.7]
        #>     no detectable difference at this size
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
