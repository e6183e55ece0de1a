"""Experiment 6: the modern regularizers on a small residual CNN - the pieces of the training
step, the model, and the claims of the page on the committed runs."""

import pytest
import torch

from snippets.experiments import modern as experiment
from snippets.experiments import stats

NONE = stats.NO_DIFFERENCE
TECHNIQUES = [v for v in experiment.VARIANTS if v != "none"]


@pytest.mark.slow  # a quick run of its own: tests/experiments/conftest.py
def test_a_quick_run_trains_every_variant(quick):
    doc = quick("modern")
    assert set(doc["runs"]) == set(experiment.VARIANTS)
    assert doc["summary"]["comparisons"] == {}  # one seed: nothing to pair


def test_stochastic_depth_leaves_the_initial_weights_as_they_are():
    """Same seed, same initial weights with and without drop paths: the pairs differ in the
    regularizer only."""
    torch.manual_seed(0)
    plain = experiment.residual_cnn(0.0).state_dict()
    torch.manual_seed(0)
    dropping = experiment.residual_cnn(0.2)
    assert all(torch.equal(plain[k], v) for k, v in dropping.state_dict().items())
    assert [b.p for b in dropping if hasattr(b, "p")] == pytest.approx([0.1, 0.2])
    assert experiment.residual_cnn()(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


@pytest.mark.parametrize("variant", ["none", "mixup", "cutmix", "trivial_augment", "combination"])
def test_the_training_batch_keeps_shapes_and_gives_distributions(variant):
    from kornia.augmentation.auto import TrivialAugment

    switches = experiment.VARIANTS[variant]
    x = torch.rand(6, 1, 8, 8)
    y = torch.arange(6) % 10
    augment = TrivialAugment() if switches.get("trivial_augment") else None
    torch.manual_seed(1)
    images, targets = experiment.training_batch(x, y, switches, augment, torch.Generator().manual_seed(1))
    assert images.shape == x.shape and targets.shape == (6, 10)
    assert torch.allclose(targets.sum(1), torch.ones(6))
    if variant == "none":
        assert images is x and torch.equal(targets.argmax(1), y)
    torch.manual_seed(1)
    again = experiment.training_batch(x, y, switches, augment, torch.Generator().manual_seed(1))
    assert torch.equal(again[0], images) and torch.equal(again[1], targets)


def test_cutmix_targets_weigh_the_pasted_share():
    """Image 0 is all zeros, image 1 all ones: the mean of mixed image 0 is the share pasted from
    image 1, and that is the weight its target gives label 1 (0 when it drew itself)."""
    x = torch.stack([torch.zeros(1, 8, 8), torch.ones(1, 8, 8)])
    y = torch.tensor([0, 1])
    shares = []
    for seed in range(8):
        torch.manual_seed(seed)
        mixing = torch.Generator().manual_seed(seed)
        images, targets = experiment.training_batch(x, y, {"cutmix_alpha": 1.0}, None, mixing)
        shares.append(images[0].mean().item())
        assert targets[0, 1].item() == pytest.approx(shares[-1])
    assert any(0 < share < 1 for share in shares)


def test_the_best_epoch_is_the_first_with_the_lowest_validation_loss(monkeypatch):
    """A validation loss that never improves keeps epoch 1 (and its weights) as the best."""
    monkeypatch.setattr(experiment, "evaluate", lambda model, split: (1.0, 0.5))
    data = experiment.digit_splits(n_train=10)
    cfg = {**experiment.config(quick=True), "epochs": 2}
    history = experiment.train({}, data, cfg, seed=0)
    assert history["best_epoch"] == 1 and history["val_loss"] == [1.0, 1.0]


def test_one_seed_draws_an_empty_figure():
    ((name, svg),) = experiment.figures({"summary": {"comparisons": {}}})
    assert name == experiment.FIGURE and svg.startswith(b"<?xml")


# ------------------------------------------------------------------ the page, on the committed runs
@pytest.fixture(scope="module")
def comparisons():
    return experiment.load_results(experiment.NAME)["summary"]["comparisons"]


@pytest.mark.claim("experiments/modern-nothing-helped")
def test_no_technique_helped_on_any_metric(comparisons):
    assert set(comparisons) == set(TECHNIQUES)
    for variant, metrics in comparisons.items():
        assert set(metrics) == set(stats.METRICS)
        for metric, diff in metrics.items():
            assert diff["verdict"] != "helped", (variant, metric)


@pytest.mark.claim("experiments/modern-test-last")
def test_on_test_at_the_last_epoch_four_hurt_and_two_are_undetectable(comparisons):
    verdicts = {v: comparisons[v]["test_acc"]["verdict"] for v in TECHNIQUES}
    assert {v for v, w in verdicts.items() if w == "hurt"} == {"stochastic_depth", "mixup", "ema", "combination"}
    for variant in ("cutmix", "trivial_augment"):
        diff = comparisons[variant]["test_acc"]
        assert diff["low"] <= 0 <= diff["high"] and diff["verdict"] == NONE, variant


def test_the_validation_split_names_other_techniques(comparisons):
    hurt_val = {v for v in TECHNIQUES if comparisons[v]["val_acc"]["verdict"] == "hurt"}
    hurt_test = {v for v in TECHNIQUES if comparisons[v]["test_acc"]["verdict"] == "hurt"}
    assert hurt_val == {"mixup", "cutmix", "trivial_augment", "combination"} and hurt_val != hurt_test
    facts = experiment.facts()
    assert facts["val_acc_none"] == "stochastic depth, EMA of the weights"


@pytest.mark.claim("experiments/modern-early-stop")
def test_at_the_early_stopping_epoch_the_augmentations_are_undetectable(comparisons):
    for variant in ("mixup", "cutmix", "trivial_augment"):
        assert comparisons[variant]["test_acc_es"]["verdict"] == NONE, variant
    for variant in ("stochastic_depth", "ema", "combination"):
        assert comparisons[variant]["test_acc_es"]["verdict"] == "hurt", variant


@pytest.mark.claim("experiments/modern-val-loss")
def test_every_technique_raised_the_lowest_validation_loss(comparisons):
    for variant in TECHNIQUES:
        diff = comparisons[variant]["best_val_loss"]
        assert diff["low"] > 0 and diff["verdict"] == "hurt", variant
    worst = max(TECHNIQUES, key=lambda v: comparisons[v]["best_val_loss"]["mean"])
    assert worst == "combination"


def test_the_facts_and_the_table():
    facts = experiment.facts()
    assert facts["n_seeds"] >= 10 and facts["n_techniques"] == 6
    assert facts["differences_table"].count("\n") == 1 + len(TECHNIQUES)
    assert facts["n_test_acc_helped"] == 0 and facts["test_acc_helped"] == "none"
    assert 0 < facts["cpu_seconds"] < 6 * 60  # the experiment's share of the budget
