"""The training loop: deterministic, measured after every epoch, stops cleanly on divergence."""

import pytest
import torch

from snippets.experiments.data import digit_splits
from snippets.experiments.models import digit_cnn
from snippets.experiments.training import deterministic, evaluate, final_summary, fit, make_optimizer, seed_list

DATA = digit_splits(n_train=20)


def test_deterministic_sets_and_restores_the_global_settings():
    before = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    with deterministic(threads=1):
        assert torch.get_num_threads() == 1 and torch.are_deterministic_algorithms_enabled()
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == before


def test_the_same_seed_gives_the_same_history_and_another_seed_does_not():
    with deterministic():
        runs = [fit(digit_cnn, DATA, epochs=2, lr=0.01, batch_size=10, seed=seed) for seed in (0, 0, 1)]
    assert runs[0] == runs[1] and runs[0] != runs[2]
    assert set(runs[0]) == {
        "train_loss",
        "train_acc",
        "val_loss",
        "val_acc",
        "diverged_at",
        "best_epoch",
        "test_acc",
        "test_acc_at_best",
    }
    assert len(runs[0]["val_loss"]) == 2 and runs[0]["diverged_at"] is None and 0 <= runs[0]["test_acc"] <= 1


def test_the_test_split_is_measured_at_the_last_and_at_the_early_stopping_epoch():
    """Adam with tiny batches of 20 images: validation loss turns early, so the two differ."""
    built = []
    with deterministic():
        history = fit(lambda: built.append(digit_cnn()) or built[-1], DATA, epochs=16, lr=0.01, batch_size=2, seed=0)
        shorter = fit(digit_cnn, DATA, epochs=history["best_epoch"], lr=0.01, batch_size=2, seed=0)
    assert history["best_epoch"] == history["val_loss"].index(min(history["val_loss"])) + 1
    assert history["best_epoch"] < 16
    # The weights kept for the early-stopping epoch are those a run stopped there ends with.
    assert history["test_acc_at_best"] == shorter["test_acc"] == shorter["test_acc_at_best"]
    assert history["val_loss"][: len(shorter["val_loss"])] == shorter["val_loss"]
    # ... and the caller's model keeps its last weights.
    assert evaluate(built[0], DATA.test)[1] == history["test_acc"] != history["test_acc_at_best"]


class NaNInEval(torch.nn.Module):
    """Trains normally, but its evaluation gives no finite loss."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(64, 10)

    def forward(self, x):
        out = self.linear(x.flatten(1))
        return out if self.training else out * float("nan")


def test_without_a_finite_validation_loss_there_is_no_early_stopping_epoch():
    history = fit(NaNInEval, DATA, epochs=2, lr=0.01, batch_size=10, seed=0)
    assert history["best_epoch"] is None and history["test_acc_at_best"] is None
    assert history["test_acc"] is not None


def test_fit_leaves_the_callers_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    fit(digit_cnn, DATA, epochs=1, lr=0.01, batch_size=10, seed=0)
    assert torch.equal(torch.rand(1), expected)


def test_a_diverging_run_stops_and_reports_the_epoch():
    steps = []
    history = fit(digit_cnn, DATA, epochs=5, lr=1e12, batch_size=10, seed=0, optimizer="sgd", progress=steps.append)
    assert history["diverged_at"] is not None and history["test_acc"] is None
    assert sum(steps) == 5, "the progress bar still reaches its end"
    assert len(history["val_loss"]) == history["diverged_at"] - 1


def test_an_unknown_optimizer_or_seed_count_is_refused():
    with pytest.raises(ValueError, match="optimizer must be 'adam' or 'sgd'"):
        make_optimizer("rmsprop", digit_cnn().parameters(), lr=0.1, momentum=0.0)
    with pytest.raises(ValueError, match="seeds must be at least 1"):
        seed_list(0, default=5)
    assert seed_list(None, default=3) == [0, 1, 2]


def test_final_summary_averages_the_last_epoch_over_seeds():
    histories = [
        {
            "train_loss": [1.0, 0.1],
            "train_acc": [0.5, 1.0],
            "val_loss": [1.2, 0.4],
            "val_acc": [0.4, 0.8],
            "test_acc": 0.7,
            "test_acc_at_best": 0.7,
            "best_epoch": 2,
        },
        {
            "train_loss": [1.0, 0.3],
            "train_acc": [0.5, 0.9],
            "val_loss": [0.9, 0.6],
            "val_acc": [0.5, 0.6],
            "test_acc": 0.9,
            "test_acc_at_best": 0.8,
            "best_epoch": 1,
        },
    ]
    summary = final_summary(histories)
    assert summary["val_acc_mean"] == pytest.approx(70) and summary["val_acc_std"] == pytest.approx(10)
    assert summary["acc_gap"] == pytest.approx(25)  # (100 - 80 + 90 - 60) / 2 points
    assert summary["loss_gap"] == pytest.approx(0.3)
    assert summary["best_val_loss_mean"] == pytest.approx(0.5) and summary["test_acc_mean"] == pytest.approx(80)
    assert summary["test_acc_at_best_mean"] == pytest.approx(75) and summary["best_epoch_mean"] == 1.5
