"""The overfitting signature, measured on a real training run: train loss keeps falling while
validation loss falls, bottoms out, and rises again."""

from pathlib import Path

import pytest
import torch

from snippets.basics import overfitting


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The tensors here are tiny: extra threads only add synchronisation, and on a busy
    2-core machine they make a 0.5 s training run take 20 s."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SOURCES = [Path(overfitting.__file__)]  # what the runs below depend on, with the platform


# The page's run and the runs with other seeds train the same code that the printed-output
# test (tests/site/test_outputs.py) and the short runs below measure for the coverage gate:
# they go untraced (tests/conftest.py).
untraced = pytest.mark.untraced


@pytest.fixture(scope="module")
def facts(one_thread, store):
    """The facts of the page's run, trained once for this code on this platform (the store)."""
    return store.json("basics-overfitting-facts", SOURCES, overfitting.facts)


@untraced
@pytest.mark.claim("basics/overfitting-signature")
def test_train_loss_keeps_falling_past_the_validation_minimum(facts):
    assert facts["train_end"] < facts["train_at_best"] < facts["train_start"]
    assert facts["train_end"] < 0.2 * facts["train_at_best"]


@untraced
@pytest.mark.claim("basics/overfitting-signature")
def test_validation_loss_falls_then_rises_by_a_clear_margin(facts):
    assert facts["val_best"] < 0.5 * facts["val_start"]  # it did learn something first
    assert facts["val_end"] > 1.5 * facts["val_best"]  # then got clearly worse
    assert facts["val_rise"] == pytest.approx(facts["val_end"] / facts["val_best"])
    assert 0 < facts["best_epoch"] < facts["last_epoch"] // 2  # the minimum is early, not the end
    assert facts["last_epoch"] == facts["epochs"] == 1000


@untraced
@pytest.mark.claim("basics/fits-the-noise")
def test_the_network_memorises_the_noise(facts):
    # Even the true function cannot predict the noise; the trained net beats it on the
    # training set by a wide margin, so it must have fitted the noise itself.
    assert facts["oracle_train"] == pytest.approx(facts["noise_var"], rel=0.3)
    assert facts["train_end"] < 0.2 * facts["oracle_train"]
    assert facts["val_end"] > 2 * facts["oracle_val"]


@untraced
@pytest.mark.claim("basics/overparameterised")
def test_the_model_is_heavily_overparameterised(facts):
    assert facts["n_params"] == 1 * 64 + 64 + 64 * 64 + 64 + 64 + 1 == 4353
    assert facts["params_per_point"] > 200
    assert (facts["n_train"], facts["n_val"], facts["noise"], facts["width"]) == (20, 200, 0.3, 64)


@untraced
@pytest.mark.claim("basics/overfitting-signature")
@pytest.mark.parametrize("seed", [1, 3, 4])
def test_the_signature_does_not_depend_on_the_seed(seed, store):
    sig = store.json(
        f"basics-overfitting-seed-{seed}", SOURCES, lambda: overfitting.signature(overfitting.train(seed=seed))
    )
    assert sig["best_epoch"] < sig["last_epoch"] // 2
    assert sig["train_end"] < 0.6 * sig["train_at_best"]
    assert sig["val_end"] > 1.3 * sig["val_best"]


def test_facts_are_the_numbers_of_one_run(monkeypatch):
    """facts() on a short run (the stored facts above may come from an earlier test run)."""
    short = overfitting.train(epochs=20)
    monkeypatch.setattr(overfitting, "train", lambda: short)
    facts = overfitting.facts()
    assert facts == {
        **overfitting.signature(short),
        "val_rise": facts["val_end"] / facts["val_best"],
        "n_train": 20,
        "n_val": 200,
        "noise": 0.3,
        "noise_var": 0.3**2,
        "width": 64,
        "epochs": 1000,
        "lr": 0.01,
        "n_params": 4353,
        "params_per_point": 4353 / 20,
        "oracle_train": short["oracle_train"],
        "oracle_val": short["oracle_val"],
    }


def test_training_is_deterministic_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = overfitting.train(epochs=5)
    b = overfitting.train(epochs=5)
    assert torch.equal(a["train"], b["train"]) and torch.equal(a["val"], b["val"])
    assert len(a["train"]) == 6
    assert torch.equal(torch.rand(1), before)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        overfitting.train(epochs=0)
    with pytest.raises(ValueError, match="n must be at least 1"):
        overfitting.make_data(0, 0.1, torch.Generator())
