"""Experiment 7: BN before or after the ReLU, and BN frozen or adapting when fine-tuning - the
models, the two domains, the freezing, and the claims of the page on the committed runs."""

import copy
from collections import Counter

import pytest
import torch
from torch import nn

from snippets.batchnorm.finetuning_digits import new_scanner
from snippets.experiments import bn_choices as experiment
from snippets.experiments import stats
from snippets.experiments.data import digit_splits
from snippets.experiments.results import first_seeds, load_results
from snippets.experiments.training import deterministic, fit

NONE = stats.NO_DIFFERENCE
SIZES = (2, 8, 32)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: a second thread only adds synchronisation."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow  # a quick run of its own: tests/experiments/conftest.py
def test_a_quick_run_trains_every_variant(quick):
    doc = quick("bn_choices")
    assert set(doc["runs"]) == {"bn_relu", "relu_bn", "pretrained", "adapting_bs2", "frozen_bs2"} | {
        "adapting_bs32",
        "frozen_bs32",
    }
    assert doc["summary"]["comparisons"] == {}  # one seed: nothing to pair


@pytest.mark.parametrize("order", experiment.ORDERS)
def test_the_order_puts_bn_and_relu_where_it_says_with_bias_free_convolutions(order):
    model = experiment.ordered_cnn(order)
    names = [type(layer).__name__ for layer in model][:4]
    expected = ["BatchNorm2d", "ReLU"] if order == "bn_relu" else ["ReLU", "BatchNorm2d"]
    assert names == ["Conv2d", *expected, "MaxPool2d"]
    convs = [layer for layer in model if isinstance(layer, nn.Conv2d)]
    assert len(convs) == 2 and all(conv.bias is None for conv in convs)
    assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


def test_one_seed_gives_both_orders_the_same_initial_weights():
    torch.manual_seed(0)
    before = experiment.ordered_cnn("bn_relu").state_dict()
    torch.manual_seed(0)
    after = experiment.ordered_cnn("relu_bn").state_dict()
    # the same tensors, under other indices: BN and ReLU swap places
    assert [v.shape for v in before.values()] == [v.shape for v in after.values()]
    assert all(torch.equal(a, b) for a, b in zip(before.values(), after.values()))


def test_an_unknown_order_is_refused():
    with pytest.raises(ValueError, match="order must be one of"):
        experiment.ordered_cnn("bn_bn")


def test_the_two_domains_split_the_pool_and_the_new_one_is_the_other_scanner():
    full = digit_splits()
    old, new = experiment.domains(160)
    assert len(old.train.y) + len(new.train.y) == len(full.train.y)
    assert new.train.y.bincount().tolist() == [16] * 10
    # Every pool image is in exactly one domain's training set, the new one's scanned.
    rows = lambda images: [tuple(x.flatten().tolist()) for x in images]
    unscanned = dict(zip(rows(new_scanner(full.train.x)), rows(full.train.x)))
    split = Counter(rows(old.train.x)) + Counter(unscanned[x] for x in rows(new.train.x))
    assert split == Counter(rows(full.train.x))
    assert all(torch.equal(a, b) for a, b in ((old.val.x, full.val.x), (old.test.x, full.test.x)))
    assert torch.equal(new.test.x, new_scanner(full.test.x)) and torch.equal(new.test.y, full.test.y)
    assert torch.equal(new.val.x, new_scanner(full.val.x)) and torch.equal(new.val.y, full.val.y)


@pytest.fixture(scope="module")
def pretrained():
    old, new = experiment.domains(160)
    cfg = experiment.config(quick=True)
    with deterministic():
        model, history = experiment.pretrain(old, cfg, 0, lambda epochs: None)
    return model, history, new


def test_pretraining_trains_the_model_it_returns(pretrained):
    model, history, new = pretrained
    assert len(history["val_acc"]) == 1 and history["val_acc"][0] > 0.5
    assert 0 <= experiment.accuracy(model, new.test) <= 1


@pytest.mark.parametrize("frozen", [True, False], ids=["frozen", "adapting"])
def test_frozen_bn_keeps_gamma_beta_and_statistics_through_fine_tuning(pretrained, frozen):
    """fit calls model.train() every epoch: the frozen copy's BN layers stay in eval mode, so
    nothing of theirs moves, while the other layers learn; the pretrained model is untouched."""
    model, _, new = pretrained
    original = copy.deepcopy(model.state_dict())
    copied = experiment.fine_tuned(model, frozen)
    with deterministic():
        fit(lambda: copied, new, epochs=1, lr=0.01, batch_size=8, seed=0)
    state = copied.state_dict()
    bn_keys = [k for k in state if k.split(".")[0] in {"1", "5"}]
    assert len(bn_keys) == 10
    assert all(torch.equal(state[k], original[k]) for k in bn_keys) == frozen
    assert not torch.equal(state["0.weight"], original["0.weight"])
    assert all(torch.equal(v, original[k]) for k, v in model.state_dict().items())
    bn_modes = [layer.training for layer in copied.train() if isinstance(layer, nn.BatchNorm2d)]
    assert bn_modes == [not frozen] * 2


def test_one_seed_has_nothing_to_pair_and_draws_an_empty_figure():
    doc = load_results(experiment.NAME)
    cfg = {**doc["config"], "seeds": [0]}
    summary = experiment.summarize(cfg, first_seeds(doc["runs"], 1))
    assert summary["comparisons"] == {} and set(summary["variants"]) == set(doc["runs"])
    ((name, svg),) = experiment.figures({"summary": {"comparisons": {}}})
    assert name == experiment.FIGURE and svg.startswith(b"<?xml")


# ------------------------------------------------------------------ the page, on the committed runs
@pytest.fixture(scope="module")
def comparisons():
    return load_results(experiment.NAME)["summary"]["comparisons"]


def test_every_comparison_is_made_on_every_metric(comparisons):
    assert set(comparisons) == {"order", *(f"bs{size}" for size in SIZES)}
    for name, metrics in comparisons.items():
        assert set(metrics) == set(stats.METRICS), name
        assert all(diff["n"] >= 10 for diff in metrics.values()), name


@pytest.mark.claim("experiments/bn-choices-order")
@pytest.mark.claim("batchnorm/relu-order-measured")
def test_the_order_shows_no_detectable_difference_on_test_and_favours_bn_first_on_validation(comparisons):
    order = comparisons["order"]
    for metric in ("test_acc", "test_acc_es"):
        assert order[metric]["low"] <= 0 <= order[metric]["high"] and order[metric]["verdict"] == NONE, metric
    for metric in ("val_acc", "val_acc_es"):
        assert order[metric]["high"] < 0 and order[metric]["verdict"] == "hurt", metric
    assert order["best_val_loss"]["low"] > 0 and order["best_val_loss"]["verdict"] == "hurt"
    assert order["test_acc"]["mean"] < 0  # "if anything, BN before the ReLU did better"


@pytest.mark.claim("experiments/bn-choices-freezing")
@pytest.mark.claim("batchnorm/freezing-measured")
def test_freezing_never_helped_and_hurt_most_with_the_smallest_batches(comparisons):
    for size in SIZES:
        for metric, diff in comparisons[f"bs{size}"].items():
            assert diff["verdict"] != "helped", (size, metric)
        assert comparisons[f"bs{size}"]["best_val_loss"]["verdict"] == "hurt", size
        assert comparisons[f"bs{size}"]["val_acc"]["verdict"] == "hurt", size
    for size in (2, 8):
        assert comparisons[f"bs{size}"]["test_acc"]["verdict"] == "hurt", size
    assert comparisons["bs32"]["test_acc"]["verdict"] == NONE
    test_means = [comparisons[f"bs{size}"]["test_acc"]["mean"] for size in SIZES]
    assert test_means[0] < test_means[2] and test_means[1] < test_means[2]


def test_the_facts_and_the_table():
    facts = experiment.facts()
    assert facts["n_seeds"] >= 10 and facts["batch_sizes"] == "2, 8, 32"
    assert facts["differences_table"].count("\n") == 1 + 4
    assert facts["n_pretrain"] + facts["n_finetune"] == len(digit_splits().train.y)
    # fine-tuning is needed: the old statistics on the new domain read far fewer digits
    assert facts["pretrained_new_test_acc"] < facts["pretrained_test_acc_mean"] - 20
    assert facts["adapting_bs2_test_acc_mean"] > facts["pretrained_new_test_acc"] + 20
    assert 0 < facts["cpu_seconds"] <= 150  # the experiment's share of the budget
