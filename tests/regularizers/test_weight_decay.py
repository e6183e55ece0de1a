"""Weight decay: for SGD an L2 penalty in the loss and weight_decay are the same step; for Adam
they are not, and AdamW's decay is a separate shrink w * (1 - lr * lambda)."""

import functools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.regularizers import weight_decay as wd

rates = st.floats(1e-3, 0.5)
decays = st.floats(1e-3, 0.5)


@given(lr=rates, lam=decays, steps=st.integers(1, 4))
@settings(max_examples=30, deadline=None)
def test_sgd_with_l2_penalty_equals_sgd_weight_decay(lr, lam, steps):
    penalty = wd.train(torch.optim.SGD, lr, steps, l2_in_loss=lam)
    builtin = wd.train(torch.optim.SGD, lr, steps, weight_decay=lam)
    # atol 1e-7 plus float32's default rtol: equal up to the last bit or so (lam * w is
    # rounded differently when autograd computes it as (lam / 2) * 2w).
    torch.testing.assert_close(penalty, builtin, atol=1e-7, rtol=1.3e-6)


def test_one_sgd_step_by_hand():
    """w1 = w0 - lr * (grad + lam * w0) = (1 - lr * lam) * w0 - lr * grad."""
    lr, lam = 0.1, 0.1
    inputs, targets = wd.toy_problem()
    w0 = torch.tensor(wd.W_START, requires_grad=True)
    ((inputs @ w0 - targets) ** 2).mean().backward()
    by_hand = (1 - lr * lam) * w0.detach() - lr * w0.grad
    torch.testing.assert_close(wd.train(torch.optim.SGD, lr, 1, weight_decay=lam), by_hand, atol=1e-7, rtol=0)


def test_adam_l2_differs_from_adamw():
    adam = wd.train(torch.optim.Adam, 0.1, 5, weight_decay=0.1)
    adamw = wd.train(torch.optim.AdamW, 0.1, 5, weight_decay=0.1)
    assert (adam - adamw).abs().max().item() > 1e-2
    # Adam's weight_decay is exactly "L2 in the loss": the penalty's gradient goes through Adam.
    torch.testing.assert_close(adam, wd.train(torch.optim.Adam, 0.1, 5, l2_in_loss=0.1), atol=1e-6, rtol=0)


@given(lr=rates, lam=decays, steps=st.integers(1, 6))
@settings(max_examples=30, deadline=None)
def test_adamw_is_adam_plus_a_separate_shrink(lr, lam, steps):
    adamw = wd.train(torch.optim.AdamW, lr, steps, weight_decay=lam)
    by_hand = wd.train(torch.optim.Adam, lr, steps, decay_by_hand=lam)
    torch.testing.assert_close(adamw, by_hand, atol=1e-6, rtol=1e-6)


def test_one_adamw_step_is_the_adam_step_minus_lr_lambda_w():
    lr, lam = 0.05, 0.2
    adamw = wd.train(torch.optim.AdamW, lr, 1, weight_decay=lam)
    adam = wd.train(torch.optim.Adam, lr, 1)
    w0 = torch.tensor(wd.W_START)
    torch.testing.assert_close(adamw, adam - lr * lam * w0, atol=1e-7, rtol=0)


def test_idle_weight_adam_ignores_the_size_of_lambda_adamw_does_not():
    for lam in (1e-4, 1e-2, 1e-1):
        assert wd.idle_weight_after_one_step(torch.optim.Adam, lam) == pytest.approx(0.99, abs=1e-5)
        assert wd.idle_weight_after_one_step(torch.optim.AdamW, lam) == pytest.approx(1 - 0.01 * lam, abs=1e-7)


def test_decay_groups_cover_every_parameter_once():
    model = wd.small_cnn()
    decay, no_decay = wd.decay_groups(model, 0.05)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {id(model[0].weight), id(model[5].weight)}
    everything = [id(p) for p in decay["params"] + no_decay["params"]]
    assert sorted(everything) == sorted(id(p) for p in model.parameters())
    bn = model[1]
    assert {id(bn.weight), id(bn.bias), id(model[5].bias)} == {id(p) for p in no_decay["params"]}
    torch.optim.AdamW(wd.decay_groups(model, 0.05))  # accepted as it is by an optimizer


def test_negative_weight_decay_is_refused():
    with pytest.raises(ValueError, match="weight_decay must be a finite float >= 0"):
        wd.decay_groups(nn.Linear(2, 2), -0.1)


def test_page_numbers():
    facts = wd.facts()
    assert (facts["lam"], facts["lr"], facts["steps"], facts["shrink"]) == (0.1, 0.1, 5, pytest.approx(0.99))
    assert facts["sgd_gap"] <= 1e-7 and facts["adam_gap"] > 1e-2
    assert facts["idle_adam_small"] == pytest.approx(facts["idle_adam_big"], abs=1e-5)
    assert facts["idle_adamw_big"] == pytest.approx(0.999) and facts["idle_adamw_small"] == pytest.approx(0.9999990)
    assert (facts["adamw_default"], facts["adam_default"]) == (0.01, 0)
    assert (facts["decayed_tensors"], facts["skipped_tensors"], facts["sgd_example"]) == (2, 3, 5e-4)


def test_sgd_with_momentum_also_agrees():
    momentum_sgd = functools.partial(torch.optim.SGD, momentum=0.9)
    penalty = wd.train(momentum_sgd, 0.05, 5, l2_in_loss=0.1)
    builtin = wd.train(momentum_sgd, 0.05, 5, weight_decay=0.1)
    torch.testing.assert_close(penalty, builtin, atol=1e-6, rtol=0)
