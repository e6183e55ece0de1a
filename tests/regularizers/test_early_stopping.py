"""EarlyStopping: stops after `patience` epochs without an improvement larger than min_delta,
and restores exactly the weights of the best epoch."""

from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from snippets.regularizers import early_stopping as es
from tests.svg import small_svg_ids

FIGURE = Path(__file__).resolve().parents[2] / "docs" / "assets" / "figures" / "regularizers-early-stopping.svg"


def run(losses, patience, min_delta=0.0):
    """The epoch at which the helper says stop (None if it never does)."""
    stopper, model = es.EarlyStopping(patience, min_delta), nn.Linear(1, 1)
    for loss in losses:
        if stopper.step(loss, model):
            return stopper.epoch
    return None


def test_stops_after_exactly_patience_epochs_without_improvement():
    losses = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert run(losses, patience=1) == 3
    assert run(losses, patience=3) == 5
    assert run(losses, patience=5) is None
    assert run([1.0, 0.9, 0.8, 0.7], patience=1) is None  # always improving: never stops


@given(losses=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=30), patience=st.integers(1, 5))
def test_stop_epoch_matches_a_direct_count(losses, patience):
    best, bad, expected = float("inf"), 0, None
    for epoch, loss in enumerate(losses, start=1):
        best, bad = (loss, 0) if loss < best else (best, bad + 1)
        if bad >= patience:
            expected = epoch
            break
    assert run(losses, patience) == expected


def test_improvements_smaller_than_min_delta_do_not_count():
    losses = [1.0, 0.995, 0.99, 0.985]  # steps of 0.005
    assert run(losses, patience=2) is None
    assert run(losses, patience=2, min_delta=0.01) == 3


def test_restores_exactly_the_best_weights():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    stopper = es.EarlyStopping(patience=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    snapshots = []
    for loss in [0.9, 0.4, 0.6, 0.7]:
        optimizer.zero_grad()
        model(torch.randn(8, 4)).pow(2).mean().backward()  # a real, in-place training step
        optimizer.step()
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        if stopper.step(loss, model):
            break
    assert stopper.best_epoch == 2 and stopper.epoch == 4
    assert not torch.equal(model[0].weight, snapshots[1]["0.weight"])  # training moved on
    stopper.restore(model)
    for name, value in model.state_dict().items():  # BN running statistics included
        assert torch.equal(value, snapshots[1][name]), name


def test_page_demo_restores_epoch_six():
    model, _ = es.train_with_early_stopping(es.VAL_LOSSES, patience=3)
    assert torch.equal(model.weight, torch.full((1, 2), 6.0)) and torch.equal(model.bias, torch.full((1,), 6.0))


def test_page_numbers():
    facts = es.facts()
    assert (facts["best_epoch"], facts["best_loss"], facts["stop_epoch"]) == (6, 0.515, 9)
    assert (facts["strict_best_epoch"], facts["strict_best_loss"], facts["strict_stop_epoch"]) == (5, 0.52, 8)
    assert (facts["patience"], facts["min_delta"], facts["epochs"], facts["saved_epochs"]) == (3, 0.01, 12, 3)
    assert facts["stop_epoch"] - facts["best_epoch"] == facts["patience"]
    assert facts["first_bad_epoch"] == 7


@pytest.mark.parametrize("patience", [0, -1])
def test_bad_patience_is_refused(patience):
    with pytest.raises(ValueError, match=f"patience must be at least 1 epoch, got patience={patience}"):
        es.EarlyStopping(patience)


def test_negative_min_delta_is_refused():
    with pytest.raises(ValueError, match="min_delta must be a finite float >= 0"):
        es.EarlyStopping(2, min_delta=-0.1)


def test_restore_before_any_epoch_is_refused():
    with pytest.raises(RuntimeError, match=r"needs a step\(\) that improved first"):
        es.EarlyStopping(2).restore(nn.Linear(1, 1))


@pytest.fixture(scope="module")
def fresh_figure(tmp_path_factory):
    path = tmp_path_factory.mktemp("fig") / "regularizers-early-stopping.svg"
    es.save_figure(path)
    return path


def test_figure_is_a_small_valid_svg(fresh_figure):
    assert "panel-curve" in small_svg_ids(fresh_figure)


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert FIGURE.read_bytes() == fresh_figure.read_bytes(), (
        're-render: python -c "from snippets.regularizers.early_stopping import save_figure; '
        "save_figure('docs/assets/figures/regularizers-early-stopping.svg')\""
    )


def test_a_run_that_never_stops_early_ends_with_the_best_weights_too():
    model, stopper = es.train_with_early_stopping([1.0, 0.9, 0.95], patience=2)
    assert (stopper.epoch, stopper.best_epoch) == (3, 2)
    assert torch.equal(model.weight, torch.full((1, 2), 2.0))
