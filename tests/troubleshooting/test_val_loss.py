"""Validation loss below training loss: the two causes the page names are measured on the same run."""

import pytest

from snippets.troubleshooting import val_loss


@pytest.fixture(scope="module")
def history():
    return val_loss.run()


def test_the_symptom_reported_training_loss_above_validation_loss(history):
    assert history[-1]["reported"] > history[-1]["val"]
    assert len(history) == val_loss.facts()["epochs"] == 5


@pytest.mark.claim("troubleshooting/dropout-raises-the-training-loss")
def test_with_dropout_on_the_same_weights_score_worse_on_the_same_data(history):
    for epoch in history:
        assert epoch["train_train_mode"] > epoch["train_eval_mode"]


def test_without_dropout_the_two_modes_agree():
    for epoch in val_loss.run(epochs=1, p=0.0):
        assert epoch["train_train_mode"] == pytest.approx(epoch["train_eval_mode"], abs=1e-6)


@pytest.mark.claim("troubleshooting/epoch-average-lags")
def test_the_epoch_average_lags_behind_the_weights_at_the_end_of_the_epoch(history):
    first = history[0]
    assert first["reported"] > first["train_train_mode"]  # more than dropout alone explains
    assert first["reported"] > first["train_eval_mode"] + 0.05
