import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.batchnorm import exercises as ex


def test_exercise_1_by_hand_numbers():
    facts = ex.facts()
    assert (facts["mu"], facts["sum_squares"], facts["var"], facts["std"]) == (4.0, 36.0, 9.0, 3.0)
    torch.testing.assert_close(
        facts["x_hat"], torch.tensor([-1, -1 / 3, -1 / 3, 5 / 3], dtype=torch.float64), atol=1e-5, rtol=0
    )
    torch.testing.assert_close(facts["y"], 0.5 * facts["x_hat"] + 2.0)
    # the page says: x_hat has mean 0 and variance 1
    assert facts["x_hat"].mean().item() == pytest.approx(0.0, abs=1e-12)
    assert facts["x_hat"].var(correction=0).item() == pytest.approx(1.0, abs=1e-5)
    assert facts["unbiased"] == 12.0
    assert facts["running_mean_1"] == pytest.approx(0.4) and facts["running_var_1"] == pytest.approx(2.1)
    assert (facts["init_mean"], facts["init_var"]) == (0.0, 1.0)


@given(x=st.lists(st.floats(-100, 100), min_size=2, max_size=12), gamma=st.floats(-3, 3), beta=st.floats(-3, 3))
@settings(max_examples=50, deadline=None)
def test_by_hand_equals_nn_batchnorm(x, gamma, beta):
    bn = nn.BatchNorm1d(1).double()
    with torch.no_grad():
        bn.weight.fill_(gamma)
        bn.bias.fill_(beta)
        expected = bn(torch.tensor(x, dtype=torch.float64).view(-1, 1)).flatten()
    torch.testing.assert_close(ex.bn_by_hand(x, gamma, beta)[3], expected, atol=1e-6, rtol=1e-6)


@given(k=st.integers(0, 60), momentum=st.floats(0.01, 1.0), value=st.floats(-5, 5))
@settings(max_examples=40, deadline=None)
def test_closed_form_running_mean_equals_pytorch(k, momentum, value):
    bn = nn.BatchNorm1d(1, momentum=momentum)
    batch = torch.tensor([[value - 1.0], [value + 1.0]])
    with torch.no_grad():
        for _ in range(k):
            bn(batch)
    assert bn.running_mean.item() == pytest.approx(ex.running_after(k, 0.0, value, momentum), abs=1e-4)
    assert bn.running_var.item() == pytest.approx(ex.running_after(k, 1.0, 2.0, momentum), abs=1e-4)


def test_exercise_2_numbers():
    facts = ex.facts()
    assert facts["running_mean_k"] == pytest.approx(4 * (1 - 0.9**10))
    assert facts["running_var_k"] == pytest.approx(12 - 11 * 0.9**10)
    assert facts["steps_1pct"] == 44
    assert 0.9**43 > 0.01 >= 0.9**44


def test_exercise_3_bias_cancels_in_training_and_is_absorbed_in_eval():
    facts = ex.facts()
    assert facts["bias_train_gap"] < 1e-5
    assert facts["bias_eval_gap_few"] > 1.0
    assert facts["bias_eval_gap_many"] < 1e-5
    assert facts["wasted"] == 960


@given(seed=st.integers(0, 500), steps=st.integers(1, 30))
@settings(max_examples=20, deadline=None)
def test_folded_conv_equals_conv_then_bn_in_eval_mode(seed, steps):
    conv, bn = ex.trained_conv_bn(seed, steps)
    folded = ex.fold_bn(conv, bn)
    x = torch.randn(3, 3, 7, 5, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        torch.testing.assert_close(folded(x), bn(conv(x)), atol=1e-5, rtol=1e-5)


def test_folding_a_conv_without_bias():
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(2, 3, 3, bias=False), nn.BatchNorm2d(3)
    with torch.no_grad():
        bn(conv(torch.randn(4, 2, 5, 5) + 3))
    bn.eval()
    x = torch.randn(1, 2, 5, 5)
    with torch.no_grad():
        torch.testing.assert_close(ex.fold_bn(conv, bn)(x), bn(conv(x)), atol=1e-5, rtol=1e-5)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="x needs at least 2 values"):
        ex.bn_by_hand([1.0], 1.0, 0.0)
    with pytest.raises(ValueError, match="k must be >= 0"):
        ex.running_after(-1, 0.0, 1.0)
    with pytest.raises(ValueError, match="momentum must be in"):
        ex.running_after(1, 0.0, 1.0, momentum=1.5)
    assert ex.running_after(3, 2.0, 9.0, momentum=0.0) == 2.0  # PyTorch accepts momentum=0
    with pytest.raises(ValueError, match="train_steps must be >= 1"):
        ex.bias_gap(1.0, train_steps=0)
    with pytest.raises(ValueError, match="bn must be in eval mode"):
        ex.fold_bn(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))
