"""Dropout still active after eval(), or inactive in training: each mistake of the page behaves as
the page says, and each fix works."""

import inspect

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from snippets.troubleshooting import dropout_inactive as di

X = torch.ones(4, 8)


def test_the_probe_tells_a_plain_net_in_each_mode_apart():
    torch.manual_seed(0)
    model = di.plain_dropout_net()
    assert di.dropout_is_active(model, X)
    assert di.dropout_modes(model) == {"1": True}
    assert not di.dropout_is_active(model.eval(), X)
    assert di.dropout_modes(model) == {"1": False}


@pytest.mark.claim("troubleshooting/python-list-invisible")
def test_a_python_list_hides_its_layers_from_eval_and_from_the_state_dict():
    torch.manual_seed(0)
    model = di.PlainList().eval()
    assert model.drops[0].training and di.dropout_is_active(model, X)
    assert di.dropout_modes(model) == {}
    assert list(model.state_dict()) == ["linear.weight", "linear.bias"]
    model.drops = nn.ModuleList(model.drops)  # the fix
    model.eval()
    assert not model.drops[0].training and not di.dropout_is_active(model, X)


@pytest.mark.claim("troubleshooting/functional-dropout-default-training")
def test_functional_dropout_defaults_to_training_true():
    assert inspect.signature(F.dropout).parameters["training"].default is True
    torch.manual_seed(0)
    model = di.FunctionalDropout().eval()
    assert di.dropout_is_active(model, X)


@pytest.mark.claim("troubleshooting/unassigned-dropout-does-nothing")
def test_an_unassigned_dropout_call_does_nothing_even_in_train_mode():
    torch.manual_seed(0)
    model = di.Unassigned()
    assert model.training and not di.dropout_is_active(model, X)
    with torch.no_grad():
        torch.testing.assert_close(model(X), model.linear(X))


@pytest.mark.claim("troubleshooting/evaluate-leaves-eval-mode")
def test_an_evaluation_helper_leaves_dropout_off_for_the_rest_of_training():
    torch.manual_seed(0)
    model = di.plain_dropout_net()
    di.evaluate(model, X)
    assert not model.training and not di.dropout_is_active(model, X)
    model.train()
    assert di.dropout_is_active(model, X)
