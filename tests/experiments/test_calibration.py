"""Experiment 5: the calibration error by hand and against scikit-learn, MC dropout's passes, the
training loop against training.fit, and the claims of the calibration page."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from torch import nn

from snippets.experiments import calibration as experiment
from snippets.experiments import dropout_placement
from snippets.experiments.calibration import calibration_bins, expected_calibration_error, log_probabilities
from snippets.experiments.data import digit_splits
from snippets.experiments.models import digit_cnn
from snippets.experiments.results import load_results
from snippets.experiments.training import deterministic, fit


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: a second thread only adds synchronisation (10 ms per BN call when the
    machine is busy)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


HELPED, HURT, NONE = "helped", "hurt", "no detectable difference at this size"

# Four predictions over three classes, none of them on a bin edge.
PROBS = torch.tensor([[0.8, 0.1, 0.1], [0.3, 0.6, 0.1], [0.38, 0.35, 0.27], [0.45, 0.3, 0.25]])
LABELS = torch.tensor([0, 0, 0, 2])  # right, wrong, right, wrong


def ece(probs, labels, n_bins):
    return expected_calibration_error(calibration_bins(probs, labels, n_bins))


def test_the_calibration_error_of_a_case_worked_by_hand():
    # Two bins, (0, 0.5] and (0.5, 1]. Low: 0.38 (right) and 0.45 (wrong), accuracy 1/2, mean
    # confidence 0.415. High: 0.8 (right) and 0.6 (wrong), accuracy 1/2, confidence 0.7.
    # ECE = 2/4 * |0.5 - 0.415| + 2/4 * |0.5 - 0.7| = 0.0425 + 0.1 = 0.1425.
    bins = calibration_bins(PROBS, LABELS, n_bins=2)
    assert bins["count"] == [2, 2] and bins["correct"] == [1.0, 1.0]
    assert bins["confidence"] == pytest.approx([0.83, 1.4])
    assert expected_calibration_error(bins) == pytest.approx(0.1425)
    # One bin: |accuracy - mean confidence| = |0.5 - 2.23 / 4|
    assert ece(PROBS, LABELS, 1) == pytest.approx(0.0575)
    # Ten bins: each prediction alone in its bin, ECE = mean |right - confidence|
    assert ece(PROBS, LABELS, 10) == pytest.approx((0.2 + 0.6 + 0.62 + 0.45) / 4)


def test_confident_right_answers_are_perfectly_calibrated_and_confident_wrong_ones_maximally_not():
    one_hot = torch.eye(10)[torch.arange(20) % 10]
    assert ece(one_hot, torch.arange(20) % 10, 15) == 0
    assert ece(one_hot, (torch.arange(20) + 1) % 10, 15) == 1


def probabilities(draw_logits, n, classes):
    return F.softmax(torch.tensor(draw_logits, dtype=torch.float64).reshape(n, classes), dim=1)


@st.composite
def predictions(draw):
    n, classes = draw(st.integers(1, 40)), draw(st.integers(2, 10))
    logits = draw(st.lists(st.floats(-8, 8), min_size=n * classes, max_size=n * classes))
    labels = draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n))
    return probabilities(logits, n, classes), torch.tensor(labels)


@settings(max_examples=40, deadline=None)
@given(predictions(), st.integers(1, 20))
def test_properties_of_the_calibration_error(prediction, n_bins):
    probs, labels = prediction
    bins = calibration_bins(probs, labels, n_bins)
    value = expected_calibration_error(bins)
    assert sum(bins["count"]) == len(labels) and len(bins["count"]) == n_bins
    assert 0 <= value <= 1
    # Bins can only split the overall gap: ECE >= |accuracy - mean confidence|, with equality
    # for a single bin.
    gap = abs(sum(bins["correct"]) - sum(bins["confidence"])) / len(labels)
    assert value >= gap - 1e-12
    assert ece(probs, labels, 1) == pytest.approx(gap, abs=1e-12)
    # The order of the examples does not matter.
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    assert expected_calibration_error(calibration_bins(probs[order], labels[order], n_bins)) == pytest.approx(value)


@settings(max_examples=30, deadline=None)
@given(predictions(), st.integers(1, 20))
def test_the_bins_are_scikit_learns_calibration_curve_on_top_label_confidence(prediction, n_bins):
    """calibration_curve (uniform strategy) bins a binary forecast the same way: the top-label
    confidence against whether the top label was right."""
    probs, labels = prediction
    bins = calibration_bins(probs, labels, n_bins)
    confidence, predicted = probs.max(dim=1)
    right = (predicted == labels).long().numpy()
    prob_true, prob_pred = calibration_curve(right, confidence.numpy(), n_bins=n_bins, strategy="uniform")
    count = np.array(bins["count"])
    kept = count > 0
    np.testing.assert_allclose(np.array(bins["correct"])[kept] / count[kept], prob_true)
    np.testing.assert_allclose(np.array(bins["confidence"])[kept] / count[kept], prob_pred)
    reference = float(np.sum(count[kept] / len(labels) * np.abs(prob_true - prob_pred)))
    assert expected_calibration_error(bins) == pytest.approx(reference, abs=1e-12)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_every_floating_dtype_gives_the_bins_of_its_values_in_float64(dtype):
    torch.manual_seed(0)
    probs = F.softmax(3 * torch.randn(37, 7), dim=1).to(dtype)  # odd sizes
    labels = torch.randint(0, 7, (37,))
    assert calibration_bins(probs, labels, 15) == calibration_bins(probs.double(), labels, 15)
    assert 0 <= ece(probs, labels, 15) <= 1


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="n_bins must be at least 1"):
        calibration_bins(PROBS, LABELS, 0)
    for probs, labels in ((PROBS[0], LABELS), (PROBS, LABELS[:3]), (PROBS[:0], LABELS[:0])):
        with pytest.raises(ValueError, match=r"probs must be \(N, classes\)"):
            calibration_bins(probs, labels, 15)


def mc_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))


def test_mc_passes_switch_on_dropout_only_and_average_the_probabilities():
    model, x = mc_model(), torch.randn(6, 4)
    model.train()(torch.randn(32, 4))  # some running statistics
    running = model[1].running_mean.clone()
    torch.manual_seed(1)
    mc = log_probabilities(model, x, passes=8)
    assert torch.equal(model[1].running_mean, running), "BN statistics untouched"
    assert not any(m.training for m in model.modules()), "left in eval mode"
    torch.manual_seed(1)  # the same masks, by hand: dropout on, BN in eval mode
    model.eval()
    model[3].train()
    with torch.no_grad():
        by_hand = torch.stack([F.softmax(model(x), dim=1) for _ in range(8)]).mean(0)
    torch.testing.assert_close(mc.exp(), by_hand)
    one = log_probabilities(model, x)
    with torch.no_grad():
        torch.testing.assert_close(one, F.log_softmax(model.eval()(x), dim=1))
    assert not torch.allclose(mc, one), "the passes drop units"


def test_without_dropout_every_mc_pass_is_the_one_pass():
    model = nn.Sequential(nn.Linear(4, 3))
    x = torch.randn(5, 4)
    torch.testing.assert_close(log_probabilities(model, x, passes=4), log_probabilities(model, x))


def test_very_confident_passes_do_not_underflow():
    model = nn.Sequential(nn.Linear(1, 2, bias=False), nn.Dropout(0.5))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[500.0], [-500.0]]))
    log_probs = log_probabilities(model, torch.ones(3, 1), passes=5)
    assert torch.isfinite(log_probs).all(), "log(mean(exp)) of -1000 nats, without -inf"


@pytest.mark.slow  # about 1 s; the committed runs are compared with experiment 2's below
def test_with_no_smoothing_and_no_dropout_the_loop_is_training_fit():
    """Seed for seed, the plain network of this experiment is the one every other experiment
    trains."""
    data = digit_splits(n_train=100)
    cfg = {**experiment.config(quick=True), "epochs": 3}
    with deterministic():
        ours = experiment.train(0.0, 0.0, data, cfg, seed=4)
        theirs = fit(digit_cnn, data, epochs=3, lr=cfg["lr"], batch_size=cfg["batch_size"], seed=4)
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "best_epoch", "diverged_at"):
        assert ours[key] == theirs[key], key
    assert set(ours["scores"]) == {"last", "es"} and set(ours["scores"]["last"]) == {"one_pass"}


@pytest.fixture(scope="module")
def doc():
    return load_results(experiment.NAME)


@pytest.mark.claim("experiments/calibration-same-networks")
def test_the_committed_plain_and_dropout_networks_are_experiment_2s(doc):
    """Same data, loop, seeds and model: the plain and dropout networks are experiment 2's
    'none' and 'head_dropout' runs, epoch for epoch."""
    placement = load_results(dropout_placement.NAME)
    assert doc["platform"] == placement["platform"]
    for ours, theirs in (("plain", "none"), ("dropout", "head_dropout")):
        for mine, other in zip(doc["runs"][ours], placement["runs"][theirs]):
            assert mine["val_loss"] == other["val_loss"] and mine["best_epoch"] == other["best_epoch"]


def test_the_setup_the_page_describes(doc):
    cfg = doc["config"]
    assert (cfg["n_train"], cfg["epochs"], cfg["head_dropout"], cfg["label_smoothing"]) == (100, 60, 0.5, 0.1)
    assert cfg["bins"] == 15 and cfg["mc_passes"] == 30 and len(cfg["seeds"]) >= 10
    facts = experiment.facts()
    assert facts["test_predictions"] == 360 * len(cfg["seeds"])
    assert facts["table_last"].count("\n") == 1 + 3


@pytest.mark.slow  # a quick run of its own: tests/experiments/conftest.py
def test_a_quick_run_scores_four_ways_of_predicting(quick):
    summary = quick("calibration")["summary"]
    assert set(summary["methods"]) == set(experiment.METHODS) == set(summary["reliability"])
    for numbers in summary["methods"].values():
        assert 0 <= numbers["test_ece_last"] <= 100 and numbers["test_nll_last"] > 0
    assert summary["comparisons"] == {}, "one seed: no interval"


def pooled(doc, method):
    """Accuracy minus confidence per diagram bin, and overall, in points of %."""
    bins = doc["summary"]["reliability"][method]
    gaps = [
        100 * (right - conf) / n
        for n, conf, right in zip(bins["count"], bins["confidence"], bins["correct"])
        if n >= experiment.MIN_COUNT
    ]
    return gaps, 100 * (sum(bins["correct"]) - sum(bins["confidence"])) / sum(bins["count"])


@pytest.mark.claim("experiments/calibration-dropout-one-pass")
def test_dropout_with_one_pass_lowers_the_calibration_error_at_the_last_epoch_only(doc):
    dropout = doc["summary"]["comparisons"]["dropout"]
    assert dropout["test_ece_last"]["verdict"] == dropout["test_nll_last"]["verdict"] == HELPED
    assert dropout["test_acc_last"]["verdict"] == NONE
    assert dropout["test_ece_es"]["verdict"] == NONE
    plain = doc["summary"]["methods"]["plain"]
    assert plain["test_ece_es"] < plain["test_ece_last"]
    # both single passes are over-confident: below the diagonal, bin after bin
    for method in ("plain", "dropout"):
        gaps, overall = pooled(doc, method)
        assert overall < 0 and sum(g < 0 for g in gaps) >= len(gaps) - 1, method


@pytest.mark.claim("experiments/calibration-mc-under-confident")
def test_mc_dropout_is_worse_calibrated_than_one_pass_of_the_same_networks_and_under_confident(doc):
    mc = doc["summary"]["mc_vs_one_pass"]
    assert mc["test_ece_last"]["verdict"] == mc["test_ece_es"]["verdict"] == HURT
    assert mc["test_acc_last"]["verdict"] == NONE
    assert doc["summary"]["comparisons"]["mc_dropout"]["test_ece_last"]["verdict"] == HURT
    gaps, overall = pooled(doc, "mc_dropout")
    assert overall > 0 and all(g > 0 for g in gaps), "above the diagonal in every bin"


@pytest.mark.claim("experiments/calibration-label-smoothing")
def test_label_smoothing_helps_accuracy_hurts_the_calibration_error_and_is_under_confident(doc):
    smoothing = doc["summary"]["comparisons"]["label_smoothing"]
    assert smoothing["test_acc_last"]["verdict"] == HELPED
    assert smoothing["test_ece_last"]["verdict"] == HURT
    gaps, overall = pooled(doc, "label_smoothing")
    assert overall > 0 and all(g > 0 for g in gaps)


@pytest.mark.claim("experiments/calibration-nll")
def test_only_dropout_with_one_pass_detectably_lowers_the_test_nll(doc):
    comparisons = doc["summary"]["comparisons"]
    assert comparisons["dropout"]["test_nll_last"]["verdict"] == HELPED
    for method in ("mc_dropout", "label_smoothing"):
        diff = comparisons[method]["test_nll_last"]
        assert diff["low"] <= 0 <= diff["high"] and diff["verdict"] == NONE, method


def test_the_early_stopping_weights_are_those_of_the_lowest_validation_loss():
    """With a learning rate of 0 nothing changes: epoch 1 stays the best, ties do not move it,
    and the two sets of scores agree."""
    full = digit_splits(n_train=10)
    cfg = {**experiment.config(quick=True), "epochs": 2, "lr": 0.0}
    with deterministic():
        history = experiment.train(0.0, 0.0, full, cfg, seed=0)
    assert history["val_loss"][0] == history["val_loss"][1] and history["best_epoch"] == 1
    assert history["scores"]["es"] == history["scores"]["last"]
