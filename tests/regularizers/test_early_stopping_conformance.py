"""EarlyStopping edge cases (ties, min_delta boundary, NaN/inf losses, tensors, bad settings,
aliasing, module modes) and the quadratic-loss link between early stopping and L2."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.regularizers import early_stopping as es


def run(losses, patience, min_delta=0.0):
    stopper = es.EarlyStopping(patience, min_delta)
    for loss in losses:
        if stopper.step(loss, nn.Linear(1, 1)):
            break
    return stopper


def reference(losses, patience, min_delta):
    """Direct count: (stop epoch or None, best epoch); NaN is never an improvement."""
    best, best_epoch, bad = math.inf, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if not math.isnan(loss) and loss < best - min_delta:
            best, best_epoch, bad = loss, epoch, 0
        else:
            bad += 1
        if bad >= patience:
            return epoch, best_epoch
    return None, best_epoch


@given(
    losses=st.lists(st.one_of(st.floats(0.0, 4.0), st.just(math.nan), st.just(math.inf)), min_size=1, max_size=20),
    patience=st.integers(1, 4),
    min_delta=st.sampled_from([0.0, 0.25, 0.5]),
)
@settings(max_examples=25, deadline=None)
def test_matches_a_direct_count_with_min_delta_nan_and_inf(losses, patience, min_delta):
    stopper = run(losses, patience, min_delta)
    stop, best_epoch = reference(losses, patience, min_delta)
    assert stopper.best_epoch == best_epoch
    assert (stopper.epoch if stopper.bad_epochs >= patience else None) == stop


def test_a_tie_is_not_an_improvement():
    assert run([1.0, 1.0], patience=1).epoch == 2
    assert run([1.0, 1.0], patience=1).best_epoch == 1


def test_an_improvement_of_exactly_min_delta_does_not_count():
    # 1.0, 0.75 and 0.25 are exact in binary: the boundary is tested exactly.
    assert run([1.0, 0.75], patience=1, min_delta=0.25).best_epoch == 1
    assert run([1.0, 0.7], patience=1, min_delta=0.25).best_epoch == 2


@pytest.mark.claim("regularizers/nan-never-improves")
def test_nan_losses_never_improve_and_never_overwrite_the_best_weights():
    model = nn.Linear(2, 1)
    stopper = es.EarlyStopping(patience=2)
    for epoch, loss in enumerate([0.5, math.nan, math.nan], start=1):
        es.fake_epoch(model, epoch)
        stop = stopper.step(loss, model)
    assert stop and stopper.best_epoch == 1 and stopper.best_loss == 0.5
    stopper.restore(model)
    assert torch.equal(model.weight, torch.ones(1, 2))
    only_nan = run([math.nan, math.nan], patience=5)
    with pytest.raises(RuntimeError, match="needs a step"):
        only_nan.restore(nn.Linear(1, 1))


def test_a_tensor_loss_is_stored_as_a_float_without_its_graph():
    w = torch.ones(1, requires_grad=True)
    stopper = es.EarlyStopping(patience=1)
    stopper.step((w * 0.5).sum(), nn.Linear(1, 1))
    stopper.step(torch.tensor([0.25]), nn.Linear(1, 1))
    assert type(stopper.best_loss) is float and stopper.best_loss == 0.25


@pytest.mark.parametrize("loss", [True, None, "0.5", torch.tensor([0.1, 0.2])])
def test_a_loss_that_is_not_one_number_is_refused(loss):
    with pytest.raises(TypeError, match="val_loss must be a number"):
        es.EarlyStopping(2).step(loss, nn.Linear(1, 1))


@pytest.mark.parametrize(
    ("patience", "min_delta", "error", "match"),
    [
        (True, 0.0, TypeError, "patience must be an int"),
        (2.5, 0.0, TypeError, "patience must be an int"),
        (None, 0.0, TypeError, "patience must be an int"),
        (2, math.nan, ValueError, "min_delta must be a finite"),
        (2, math.inf, ValueError, "min_delta must be a finite"),
        (2, None, TypeError, "min_delta must be a float"),
        (2, False, TypeError, "min_delta must be a float"),
    ],
)
def test_bad_settings_are_refused(patience, min_delta, error, match):
    with pytest.raises(error, match=match):
        es.EarlyStopping(patience, min_delta)


def test_the_saved_and_restored_weights_never_alias_the_live_tensors():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    stopper = es.EarlyStopping(patience=1)
    es.fake_epoch(model, 1)
    stopper.step(0.1, model)
    snapshot = {k: v.clone() for k, v in model.state_dict().items()}
    live = {t.data_ptr() for t in model.state_dict().values()}
    assert not live & {t.data_ptr() for t in stopper.best_state.values()}
    stopper.restore(model)
    es.fake_epoch(model, 7)  # training goes on after a restore, in place
    assert all(torch.equal(v, snapshot[k]) for k, v in stopper.best_state.items())
    stopper.restore(model)  # and a second restore still gives epoch 1
    assert torch.equal(model[0].weight, torch.ones(2, 3))


def test_module_modes_are_left_alone():
    model = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5), nn.BatchNorm1d(2))
    model.train()
    model[1].eval()  # a mixed set of modes, on purpose
    stopper = es.EarlyStopping(patience=1)
    stopper.step(0.1, model)
    stopper.restore(model)
    assert [m.training for m in model] == [True, False, True] and model.training


@pytest.mark.claim("regularizers/patience-can-change-the-result")
def test_more_patience_can_find_a_later_better_epoch():
    losses = [1.0, 0.5, 0.6, 0.7, 0.8, 0.4]
    assert run(losses, patience=3).best_epoch == 2
    assert run(losses, patience=5).best_epoch == 6


def least_squares(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(40, 4, generator=g, dtype=torch.float64) * torch.tensor([3.0, 1.0, 0.3, 0.1], dtype=torch.float64)
    y = x @ torch.randn(4, generator=g, dtype=torch.float64) + 0.3 * torch.randn(40, generator=g, dtype=torch.float64)
    return x, y


@pytest.mark.claim("regularizers/early-stopping-l2-quadratic")
def test_kept_fractions_are_what_gradient_descent_and_ridge_really_do():
    """Linear regression (a quadratic loss): gradient descent from 0 and the ridge solution, both
    written in the eigenbasis of the Hessian, keep exactly the fractions kept_fractions gives."""
    x, y = least_squares()
    n, d = x.shape
    hessian = 2 * x.T @ x / n  # of J(w) = mean((x @ w - y)^2)
    mu, q = torch.linalg.eigh(hessian)
    w_star = torch.linalg.solve(hessian, 2 * x.T @ y / n)
    lr, steps = 0.9 / mu.max().item(), 50
    w = torch.zeros(d, dtype=torch.float64)
    for _ in range(steps):
        w = w - lr * 2 * x.T @ (x @ w - y) / n
    alpha = 1 / (lr * steps)
    ridge = torch.linalg.solve(hessian + alpha * torch.eye(d, dtype=torch.float64), 2 * x.T @ y / n)
    early, l2 = es.kept_fractions(mu, lr, steps)
    torch.testing.assert_close(q.T @ w, early * (q.T @ w_star))
    torch.testing.assert_close(q.T @ ridge, l2 * (q.T @ w_star))


@pytest.mark.claim("regularizers/early-stopping-l2-quadratic")
def test_the_two_agree_far_from_mu_equal_alpha_and_not_near_it():
    lr, steps = 0.01, 100
    alpha = 1 / (lr * steps)
    for ratio in (1e-3, 1e-2):  # flat directions: both keep about mu / alpha
        early, l2 = es.kept_fractions(ratio * alpha, lr, steps)
        assert early == pytest.approx(l2.item(), rel=0.02)
    for ratio in (30.0, 99.0):  # steep directions: both keep nearly everything
        early, l2 = es.kept_fractions(ratio * alpha, lr, steps)
        assert early == pytest.approx(1, abs=1e-6) and l2 == pytest.approx(1, abs=0.04)
    early, l2 = es.kept_fractions(alpha, lr, steps)  # mu = alpha: 1 - 1/e against 1/2
    assert early - l2 > 0.1
    facts = es.facts()
    assert facts["gap_at_alpha"] == pytest.approx((early - l2).item()) and facts["small_rel_gap"] < 0.01


@pytest.mark.claim("regularizers/early-stopping-overshoot")
def test_a_step_larger_than_one_over_mu_overshoots_where_no_penalty_can():
    lr = 0.01
    early, l2 = es.kept_fractions(1.5 / lr, lr, 1)  # lr * mu = 1.5
    assert early == pytest.approx(1.5) and l2 < 1
    assert es.facts()["overshoot"] == pytest.approx(1.5)
    mu = torch.logspace(-3, 3, 50, dtype=torch.float64)
    assert (es.kept_fractions(mu, lr, 10)[1] < 1).all()  # an L2 minimum never passes w*
