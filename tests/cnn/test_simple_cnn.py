"""The SimpleCNN example: output sizes, shapes at every stage, parameter counts, and dropout
switched on by train() and off by eval()."""

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.cnn import simple_cnn


@pytest.fixture(scope="module")
def facts():
    return simple_cnn.facts()


@pytest.mark.claim("cnn/output-size-formula")
def test_output_size_without_padding(facts):
    assert facts["side"] == simple_cnn.conv_output_size(28, 3) == 28 - 3 + 1 == 26
    assert facts["flat"] == 16 * 26 * 26 == 10_816


@pytest.mark.claim("cnn/output-size-formula")
@given(size=st.integers(1, 40), kernel=st.integers(1, 7), padding=st.integers(0, 3), stride=st.integers(1, 3))
@example(size=1, kernel=3, padding=0, stride=1)  # always the kernel that does not fit (coverage gate)
@settings(max_examples=60, deadline=None)  # building Conv2d modules is slow on a busy machine
def test_output_size_formula_matches_conv2d(size, kernel, padding, stride):
    if size + 2 * padding < kernel:
        with pytest.raises(ValueError, match="does not fit"):
            simple_cnn.conv_output_size(size, kernel, padding, stride)
        return
    conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)
    out = conv(torch.zeros(1, 1, size, size))
    assert out.shape[-1] == simple_cnn.conv_output_size(size, kernel, padding, stride)


@pytest.mark.parametrize("kwargs", [{"kernel": 0}, {"kernel": 3, "stride": 0}, {"kernel": 3, "padding": -1}])
def test_bad_conv_arguments_are_refused(kwargs):
    with pytest.raises(ValueError, match="need kernel >= 1"):
        simple_cnn.conv_output_size(28, **kwargs)


def test_shapes_at_every_stage(facts):
    assert facts["shape_input"] == (8, 1, 28, 28)
    assert facts["shape_conv"] == (8, 16, 26, 26)
    assert facts["shape_flatten"] == (8, 10_816)
    assert facts["shape_fc"] == (8, 10)
    model = simple_cnn.make_model()
    names = [name for name, _ in simple_cnn.stage_shapes(model, torch.zeros(2, 1, 28, 28))]
    assert names == ["input", "conv", "relu", "flatten", "dropout", "fc"]


def test_walking_the_layers_is_the_forward_pass():
    """stage_shapes() relies on the layers being registered in forward order."""
    model = simple_cnn.make_model().eval()
    x = torch.randn(3, 1, 28, 28)
    y = x
    for layer in model.children():
        y = layer(y)
    torch.testing.assert_close(y, model(x))


@pytest.mark.claim("cnn/dense-layer-share")
def test_parameter_counts(facts):
    assert facts["conv_weights"] == 16 * 1 * 3 * 3 == 144
    assert facts["conv_params"] == 144 + 16 == 160
    assert facts["fc_weights"] == 10_816 * 10 == 108_160
    assert facts["fc_params"] == 108_160 + 10 == 108_170
    assert facts["total_params"] == 108_330 == sum(p.numel() for p in simple_cnn.make_model().parameters())
    assert facts["fc_share"] == pytest.approx(108_170 / 108_330)
    assert facts["fc_share"] > 0.998 and facts["conv_share"] < 0.002


@pytest.mark.claim("cnn/eval-passes-agree", "cnn/train-passes-differ")
def test_dropout_is_on_in_train_and_off_in_eval(facts):
    assert facts["eval_equal"] is True
    assert facts["train_equal"] is False and facts["train_max_diff"] > 0.01
    assert facts["p"] == 0.3 and facts["keep_prob"] == 0.7 and facts["batch"] == 8


@pytest.mark.claim("cnn/dropout-on-flat-features")
def test_dropout_acts_on_the_flat_features():
    model = simple_cnn.make_model().train()
    features = model.flatten(model.relu(model.conv(torch.rand(64, 1, 28, 28) + 0.5)))
    torch.manual_seed(0)
    dropped = model.dropout(features)
    alive = features != 0
    zeroed = (dropped == 0) & alive
    assert zeroed.float().sum() / alive.float().sum() == pytest.approx(0.3, abs=0.01)
    kept = dropped != 0
    torch.testing.assert_close(dropped[kept], features[kept] / 0.7)


def test_make_model_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    a, b = simple_cnn.make_model(), simple_cnn.make_model()
    assert torch.equal(a.conv.weight, b.conv.weight)
    assert torch.equal(torch.rand(1), expected)
