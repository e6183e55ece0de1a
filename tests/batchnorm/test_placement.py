"""Conv -> BN -> ReLU: the conv bias is cancelled by BN, bias=False saves out_channels
parameters, and dropout before BN shifts the variance BN sees between train and eval."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.batchnorm import placement

F64 = torch.float64


def test_block_computes_relu_of_bn_of_conv():
    torch.manual_seed(0)
    block = placement.ConvBNReLU(3, 8)
    x = torch.randn(4, 3, 6, 6)
    out = block(x)
    expected = torch.relu(block.bn(block.conv(x)))
    torch.testing.assert_close(out, expected)
    assert out.shape == (4, 8, 6, 6) and (out >= 0).all()
    assert block.conv.bias is None


@pytest.mark.claim("batchnorm/conv-bias-cancelled")
@given(
    in_ch=st.integers(1, 4),
    out_ch=st.integers(1, 6),
    k=st.sampled_from([1, 3]),
    seed=st.integers(0, 2**31 - 1),
    bias_scale=st.floats(0.0, 100.0),
)
@settings(max_examples=30, deadline=None)
def test_conv_bias_is_cancelled_exactly_by_train_mode_bn(in_ch, out_ch, k, seed, bias_scale):
    g = torch.Generator().manual_seed(seed)
    with_bias = nn.Conv2d(in_ch, out_ch, k, bias=True).double()
    without_bias = nn.Conv2d(in_ch, out_ch, k, bias=False).double()
    bn = nn.BatchNorm2d(out_ch).double().train()
    with torch.no_grad():
        without_bias.weight.copy_(with_bias.weight)
        with_bias.bias.copy_(torch.randn(out_ch, generator=g, dtype=F64) * bias_scale)
        x = torch.randn(3, in_ch, 5, 5, generator=g, dtype=F64)
        torch.testing.assert_close(bn(with_bias(x)), bn(without_bias(x)), rtol=1e-6, atol=1e-6)


@pytest.mark.claim("batchnorm/conv-bias-cancelled")
def test_conv_bias_gets_no_gradient_through_train_mode_bn():
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(3, 4, 3, bias=True).double(), nn.BatchNorm2d(4).double().train()
    x = torch.randn(5, 3, 6, 6, dtype=F64)
    (bn(conv(x)) ** 3).sum().backward()  # any loss
    assert conv.weight.grad.abs().max() > 1e-3
    torch.testing.assert_close(conv.bias.grad, torch.zeros(4, dtype=F64), rtol=0, atol=1e-10)


@pytest.mark.claim("batchnorm/bias-false-saves")
@given(in_ch=st.integers(1, 8), out_ch=st.integers(1, 64), k=st.sampled_from([1, 3, 5]))
@settings(max_examples=30, deadline=None)
def test_bias_false_saves_exactly_out_channels_parameters(in_ch, out_ch, k):
    with_bias = placement.n_params(placement.ConvBNReLU(in_ch, out_ch, k, conv_bias=True))
    without_bias = placement.n_params(placement.ConvBNReLU(in_ch, out_ch, k))
    assert with_bias - without_bias == out_ch
    assert without_bias == out_ch * in_ch * k * k + 2 * out_ch  # conv weights + gamma and beta


@pytest.mark.claim("batchnorm/bias-false-saves")
def test_page_parameter_counts():
    facts = placement.facts()
    assert (facts["in_channels"], facts["out_channels"], facts["kernel"]) == (3, 16, 3)
    assert facts["conv_weights"] == 432 and facts["bn_params"] == 32
    assert (facts["params_with_bias"], facts["params_without_bias"], facts["saved"]) == (480, 464, 16)


@pytest.mark.claim("batchnorm/variance-shift")
def test_dropout_variance_differs_between_train_and_eval():
    facts = placement.facts()
    assert facts["p"] == 0.5 and facts["predicted_train_var"] == 2.0
    assert facts["train_var"] == pytest.approx(2.0, abs=0.05)
    assert facts["eval_var"] == pytest.approx(1.0, abs=0.02)
    assert facts["train_var"] / facts["eval_var"] == pytest.approx(1 / (1 - facts["p"]), rel=0.03)


@pytest.mark.parametrize("mean, p", [(0.0, 0.2), (1.5, 0.5), (-2.0, 0.1)])
def test_predicted_train_variance_matches_sampling(mean, p):
    x = torch.randn(200_000, generator=torch.Generator().manual_seed(1)) * 0.5 + mean
    measured = placement.dropout_variance(x, p, training=True, seed=3)
    assert measured == pytest.approx(placement.predicted_train_variance(mean, 0.25, p), rel=0.03)
    assert placement.dropout_variance(x, p, training=False) == pytest.approx(x.var().item())


def test_dropout_variance_leaves_the_global_generator_alone():
    x = torch.ones(10)
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    placement.dropout_variance(x, 0.5, training=True)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.claim("batchnorm/variance-shift")
def test_dropout_before_bn_shifts_bn_eval_variance_and_after_bn_does_not():
    facts = placement.facts()
    assert facts["dropout_then_bn"] == pytest.approx(0.5, abs=0.05)  # 1 / (train variance 2)
    assert facts["bn_then_dropout"] == pytest.approx(1.0, abs=0.05)


def test_bad_p_is_refused():
    with pytest.raises(ValueError, match="drop probability p"):
        placement.predicted_train_variance(0.0, 1.0, 1.0)


def test_recommended_net_puts_dropout_after_the_last_bn():
    net = placement.recommended_net()
    assert placement.dropout_after_last_bn(net)
    assert net(torch.randn(2, 3, 16, 16)).shape == (2, 10)
    assert not placement.dropout_after_last_bn(nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(4)))
    assert placement.dropout_after_last_bn(nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)))  # no BN at all


@pytest.mark.claim("batchnorm/relu-order-outputs")
def test_what_each_order_hands_the_next_layer():
    facts = placement.relu_order_facts()
    # BN first: the ReLU cuts a normalised channel, half zeros, mean 1/sqrt(2 pi)
    assert facts["bn_relu_zeros"] == pytest.approx(0.5, abs=0.03)
    assert facts["bn_relu_mean"] == pytest.approx((2 * math.pi) ** -0.5, abs=0.03)
    assert facts["bn_relu_std"] == pytest.approx((0.5 - 1 / (2 * math.pi)) ** 0.5, abs=0.03)
    # ReLU first: normalised, no exact zeros, and the ReLU's zeros one negative value per channel
    assert (facts["relu_bn_mean"], facts["relu_bn_std"], facts["relu_bn_zeros"]) == (0.0, 1.0, 0.0)
    torch.manual_seed(0)
    block = placement.ConvReLUBN(3, 4).train()
    out = block(torch.randn(16, 3, 8, 8))
    for channel in range(4):
        values = out[:, channel]
        low = values.min()
        assert low < 0 and (values == low).float().mean().item() > 0.3, channel
