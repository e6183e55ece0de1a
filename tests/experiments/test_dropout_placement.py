"""Experiment 2: the claims of the dropout-placement page, on the committed runs and a quick run."""

import pytest

from snippets.experiments import dropout_placement as experiment

REGULARIZED = ["head_dropout", "conv1_dropout", "dropout2d", "batchnorm", "batchnorm_head_dropout"]


@pytest.mark.slow  # a quick run of its own: tests/experiments/conftest.py
def test_a_quick_run_puts_a_batch_normalized_network_first(quick):
    doc = quick("dropout_placement")
    assert doc["summary"]["ranking"][0] in ("batchnorm", "batchnorm_head_dropout")
    assert set(doc["runs"]) == set(experiment.VARIANTS)


@pytest.fixture(scope="module")
def summary():
    return experiment.load_results(experiment.NAME)["summary"]


HELPED, NONE = "helped", "no detectable difference at this size"


@pytest.mark.claim("experiments/placement-val-loss")
def test_every_regularizer_detectably_lowers_the_best_validation_loss(summary):
    for name in REGULARIZED:
        diff = summary["comparisons"][name]["best_val_loss"]
        assert diff["high"] < 0 and diff["verdict"] == HELPED, name


@pytest.mark.claim("experiments/placement-test-split")
def test_on_the_test_split_only_batch_normalization_makes_a_detectable_difference(summary):
    comparisons = summary["comparisons"]
    for name in ("batchnorm", "batchnorm_head_dropout"):
        assert comparisons[name]["test_acc_es"]["verdict"] == HELPED, name
    for name in ("head_dropout", "conv1_dropout", "dropout2d"):
        diff = comparisons[name]["test_acc_es"]
        assert diff["low"] <= 0 <= diff["high"] and diff["verdict"] == NONE, name


def test_validation_at_the_early_stopping_epoch_flatters_every_variant(summary):
    """The page's second point: every validation verdict there is 'helped'."""
    for name in REGULARIZED:
        assert summary["comparisons"][name]["val_acc_es"]["verdict"] == HELPED, name


def test_dropout2d_is_worse_on_test_at_the_last_epoch_only(summary):
    dropout2d = summary["comparisons"]["dropout2d"]
    assert dropout2d["test_acc"]["verdict"] == "hurt"
    assert dropout2d["test_acc_es"]["verdict"] == NONE


def test_batch_normalization_ranks_first_and_the_table_is_generated(summary):
    assert summary["ranking"][0] == "batchnorm" and summary["ranking"][-1] == "none"
    table = experiment.facts()["differences_table"]
    assert table.count("\n") == 1 + len(REGULARIZED)
    for name in REGULARIZED:
        assert experiment.LABELS[name] in table


def test_the_rates_and_the_seeds():
    facts = experiment.facts()
    assert (facts["head_p"], facts["conv_p"]) == (0.5, 0.2)
    assert experiment.config()["n_train"] == 100 and facts["n_seeds"] == 20
