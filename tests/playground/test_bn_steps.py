"""The calculator's batch-norm arithmetic (the chapter's functions, one channel at a time)
equals nn.BatchNorm1d, running statistics and evaluation mode included."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.playground import bn_steps

values = st.lists(st.floats(-100, 100, allow_nan=False), min_size=2, max_size=8)


def torch_layer(gamma, beta, eps, momentum):
    layer = nn.BatchNorm1d(1, eps=eps, momentum=momentum).double()
    with torch.no_grad():
        layer.weight.fill_(gamma)
        layer.bias.fill_(beta)
    return layer


@given(x=values, gamma=st.floats(-3, 3), beta=st.floats(-3, 3), eps=st.floats(1e-6, 1.0), momentum=st.floats(0.0, 1.0))
@settings(max_examples=40, deadline=None)
def test_calculator_equals_pytorch_in_train_and_eval(x, gamma, beta, eps, momentum):
    layer = torch_layer(gamma, beta, eps, momentum).train()
    expected = layer(bn_steps.column(x))[:, 0].detach()
    torch.testing.assert_close(bn_steps.calculator_steps(x, gamma, beta, eps)["y"], expected)

    ((mean, var),) = bn_steps.training_run([x], momentum)
    torch.testing.assert_close(mean, layer.running_mean[0])
    torch.testing.assert_close(var, layer.running_var[0])
    layer.eval()
    torch.testing.assert_close(
        bn_steps.calculator_eval(x, mean, var, gamma, beta, eps), layer(bn_steps.column(x))[:, 0].detach()
    )


def test_running_statistics_over_several_batches_equal_pytorch():
    batches = [[2.0, 4.0, 6.0, 8.0], [1.0, 3.0], [-1.0, 0.0, 4.0]]
    layer = torch_layer(1.0, 0.0, 1e-5, 0.5).train()
    for (mean, var), batch in zip(bn_steps.training_run(batches, momentum=0.5), batches):
        layer(bn_steps.column(batch))
        assert mean.item() == pytest.approx(layer.running_mean.item())
        assert var.item() == pytest.approx(layer.running_var.item())


def test_worked_example():
    facts = bn_steps.facts()
    assert facts["x_text"] == "2, 4, 6, 8" and facts["eps"] == 10.0 ** facts["eps_exponent"] == 1e-5
    assert facts["momentum"] == nn.BatchNorm1d(1).momentum  # the page calls it PyTorch's default
    assert (facts["mean"].item(), facts["var"].item(), facts["unbiased_var"].item()) == pytest.approx((5, 5, 20 / 3))
    assert facts["centred"].tolist() == [-3, -1, 1, 3]
    assert facts["y"].numpy().round(4).tolist() == [-1.6833, 0.1056, 1.8944, 3.6833]
    assert facts["running_mean"].item() == pytest.approx(0.5)
    assert facts["running_var"].item() == pytest.approx(0.9 + 0.1 * 20 / 3)
    # One step from a fresh layer: evaluation mode is still far from the training output.
    assert facts["eval_y"].numpy().round(4).tolist() == [3.3968, 6.5925, 9.7883, 12.984]


def test_constant_batch_gives_beta():
    out = bn_steps.calculator_steps([10, 10, 10, 10], 0.5, -2.0, 1e-3)
    assert out["y"].tolist() == [-2.0] * 4 and out["var"].item() == 0.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: bn_steps.calculator_steps([4.0], 1, 0, 1e-5), "needs more than 1 value per channel"),
        (lambda: bn_steps.calculator_steps([4.0, 5.0], 1, 0, 0.0), "eps must be a finite number > 0"),
        (lambda: bn_steps.training_run([[1.0, 2.0]], 1.5), "momentum must be in"),
    ],
)
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
