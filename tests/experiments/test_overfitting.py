"""Experiment 1: what the overfitting page claims holds on the committed runs and on a quick run."""

import pytest

from snippets.experiments import overfitting


def assert_signature(summary: dict, epochs: int) -> None:
    """Training loss falls to the end; validation loss turns before the end and rises."""
    assert 1 < summary["best_epoch"] < epochs
    assert summary["val_loss_last"] > summary["val_loss_best"]
    assert summary["train_loss_last"] < summary["train_loss_at_best"]


def test_a_quick_run_shows_the_signature(quick):
    doc = quick("overfitting")
    assert_signature(doc["summary"], doc["config"]["epochs"])
    assert doc["summary"]["seeds_rising"] == len(doc["config"]["seeds"])


def test_the_committed_runs_show_what_the_page_says():
    facts = overfitting.facts()
    assert_signature(facts, facts["epochs"])
    # "Every seed shows the turn", between the epochs the page names.
    assert facts["seeds_rising"] == facts["n_seeds"] == 10
    assert facts["best_epoch_first"] <= facts["best_epoch"] <= facts["best_epoch_last"] < facts["epochs"]
    # "the network has memorised its images"; "validation accuracy does not fall".
    assert facts["train_acc_last"] == 100
    assert facts["val_acc_last"] >= facts["val_acc_at_best"]
    # The page calls the rise gentle: more than a few per cent, far from a blow-up.
    assert 5 < facts["val_loss_rise_pct"] < 50
    # "Training loss falls all the way": under a tenth of its value at the best epoch.
    assert facts["train_loss_last"] < facts["train_loss_at_best"] / 10


def test_the_setup_the_page_describes():
    cfg = overfitting.config()
    assert (cfg["n_train"], cfg["optimizer"], len(cfg["seeds"]), cfg["quick"]) == (100, "adam", 10, False)
    assert overfitting.facts()["n_per_class"] == 10
    assert overfitting.total_epochs(cfg) == cfg["epochs"] * 10


@pytest.mark.claim("experiments/early-stopping-test")
def test_early_stopping_keeps_the_loss_lower_but_buys_no_detectable_test_accuracy():
    es = overfitting.load_results(overfitting.NAME)["summary"]["early_stopping"]
    assert es["val_loss"]["verdict"] == "helped" and es["val_loss"]["high"] < 0
    assert es["test_acc"]["verdict"] == "no detectable difference at this size"
    assert es["test_acc"]["low"] <= 0 <= es["test_acc"]["high"]
