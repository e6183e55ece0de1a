"""Experiment 4: an LSTM reads digits row by row - where its dropout mask
is drawn matters."""

import torch
import torch.nn.functional as F
from torch import nn

from snippets.experiments import plotting, stats
from snippets.experiments.data import digit_splits
from snippets.experiments.results import (
    load_results,
    load_seconds,
    variant_facts,
)
from snippets.experiments.training import final_summary, fit, seed_list

NAME = "rnn_dropout"
FIGURE = "experiments-rnn-dropout.svg"
VARIANTS = ("none", "fresh_mask", "locked_mask", "weight_drop")
LABELS = {
    "none": "no dropout",
    "fresh_mask": "new mask every step",
    "locked_mask": "one mask for all steps",
    "weight_drop": "weight drop on W_hh",
}


# --8<-- [start:model]
class DigitLSTM(nn.Module):
    """An LSTM unrolled by hand, so that dropout can reach the hidden
    state between steps."""

    def __init__(
        self, variant: str = "none", p: float = 0.0, hidden: int = 64
    ):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(
                f"variant must be one of {VARIANTS}, "
                f"got variant={variant!r}"
            )
        if not 0.0 <= p < 1.0:
            raise ValueError(f"p must be in [0, 1), got p={p}")
        self.variant, self.p, self.hidden = variant, p, hidden
        # the input, forget, cell and output gates
        self.input_to_gates = nn.Linear(8, 4 * hidden)
        self.hidden_to_gates = nn.Linear(hidden, 4 * hidden, bias=False)
        self.classifier = nn.Linear(hidden, 10)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        # rows: (batch, 8 steps, 8 pixels)
        batch, steps, _ = rows.shape
        # every step's input part in one product
        from_input = self.input_to_gates(rows)
        h = c = rows.new_zeros(batch, self.hidden)
        w_hh, drop = (
            self.hidden_to_gates.weight,
            self.training and self.p > 0,
        )
        # drawn once per sequence, reused at every step
        if drop and self.variant == "locked_mask":
            mask = torch.bernoulli(h.new_full(h.shape, 1 - self.p)) / (
                1 - self.p
            )
        # DropConnect: one mask on the weights, per batch
        if drop and self.variant == "weight_drop":
            w_hh = F.dropout(w_hh, self.p)
        for t in range(steps):
            h_in = h
            if drop and self.variant == "fresh_mask":
                h_in = F.dropout(h, self.p)  # a new mask at every step
            elif drop and self.variant == "locked_mask":
                h_in = h * mask
            i, f, g, o = (from_input[:, t] + h_in @ w_hh.T).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return self.classifier(h)


# --8<-- [end:model]


def config(quick: bool = False, seeds: int | None = None) -> dict:
    """200 training sequences (20 per class); dropout p = 0.3 on the
    recurrent path only."""
    return {
        "quick": quick,
        "n_train": 200,
        "epochs": 15 if quick else 60,
        "batch_size": 20,
        "optimizer": "adam",
        "lr": 0.003,
        "p": 0.3,
        "hidden": 64,
        "variants": list(VARIANTS),
        "seeds": seed_list(seeds, 1 if quick else 20),
    }


def total_epochs(cfg: dict) -> int:
    return cfg["epochs"] * len(cfg["seeds"]) * len(cfg["variants"])


# --8<-- [start:run]
def run(cfg: dict, progress=lambda epochs: None) -> dict:
    data = digit_splits(n_train=cfg["n_train"], sequences=True)
    return {
        variant: [
            fit(
                # fit calls the lambda before the loop moves on
                lambda: DigitLSTM(
                    variant,  # noqa: B023
                    0.0 if variant == "none" else cfg["p"],  # noqa: B023
                    cfg["hidden"],
                ),
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
        for variant in cfg["variants"]
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
        # The claim proper: one mask per sequence, or a new one per step?
        "locked_vs_fresh": stats.compare(
            {v: runs[v] for v in ("fresh_mask", "locked_mask")},
            baseline="fresh_mask",
        )
        if len(cfg["seeds"]) > 1
        else {},
    }


def figures(doc: dict) -> list[tuple[str, bytes]]:
    summary = doc["summary"]
    alt = (
        "Validation loss per epoch of an LSTM with four kinds of recurrent "
        "dropout, and their final validation accuracy; "
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
    cfg, summary = doc["config"], doc["summary"]
    found = {
        **variant_facts(summary["variants"]),
        **stats.comparison_facts(summary["comparisons"]),
    }
    found["locked_minus_fresh_acc"] = (
        found["locked_mask_val_acc_mean"] - found["fresh_mask_val_acc_mean"]
    )
    found.update(
        {
            f"locked_vs_fresh_{key}": value
            for key, value in stats.comparison_facts(
                summary["locked_vs_fresh"]
            ).items()
        }
    )
    found["differences_table"] = stats.table(summary["comparisons"], LABELS)
    return {
        **found,
        "epochs": cfg["epochs"],
        "n_train": cfg["n_train"],
        "n_per_class": cfg["n_train"] // 10,
        "p": cfg["p"],
        "hidden": cfg["hidden"],
        "n_seeds": len(cfg["seeds"]),
        "seconds": load_seconds(NAME),
    }


def main() -> None:
    # --8<-- [start:demo]
    # docs/experiments/results/rnn_dropout.json, made by `run`:
    pairs = load_results(NAME)["summary"]["comparisons"]
    for variant, metrics in pairs.items():  # each against "none"
        test = metrics["test_acc_es"]  # test accuracy, early-stopping epoch
        print(
            f"{variant:11} {test['mean']:+5.1f} points "
            f"[{test['low']:+5.1f}, {test['high']:+5.1f}] {test['verdict']}"
        )
        #> fresh_mask   +1.2 points [ +0.7,  +1.8] helped
        #> locked_mask  +2.2 points [ +1.5,  +2.9] helped
        #> weight_drop  +1.2 points [ +0.7,  +1.7] helped
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
