"""The CNN of the image experiments: each switch adds exactly its layer, in its place."""

import pytest
import torch

from snippets.experiments.models import digit_cnn, facts, n_parameters


def layer_types(model):
    return [type(layer).__name__ for layer in model]


def test_the_plain_network_has_no_regularizer():
    assert layer_types(digit_cnn()) == [
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "Flatten",
        "Linear",
        "ReLU",
        "Linear",
    ]
    assert n_parameters(digit_cnn()) == facts()["cnn_parameters"] == 13_706


def test_each_switch_puts_its_layer_where_the_experiment_says():
    assert layer_types(digit_cnn(head_dropout=0.5))[-2:] == ["Dropout", "Linear"]
    conv1 = layer_types(digit_cnn(conv1_dropout=0.2))
    assert conv1[:4] == ["Conv2d", "ReLU", "Dropout", "MaxPool2d"] and conv1.count("Dropout") == 1
    assert layer_types(digit_cnn(channel_dropout=0.2)).count("Dropout2d") == 2  # both blocks
    bn = layer_types(digit_cnn(batchnorm=True))
    assert bn[:3] == ["Conv2d", "BatchNorm2d", "ReLU"] and bn.count("BatchNorm2d") == 2
    assert facts()["bn_parameters"] == 2 * (16 + 32)  # gamma and beta per channel


def test_eight_by_eight_images_give_ten_logits_and_eval_mode_is_deterministic():
    model = digit_cnn(batchnorm=True, head_dropout=0.5, conv1_dropout=0.2, channel_dropout=0.2).eval()
    x = torch.rand(4, 1, 8, 8)
    assert model(x).shape == (4, 10)
    assert torch.equal(model(x), model(x))


@pytest.mark.parametrize("name", ["head_dropout", "conv1_dropout", "channel_dropout"])
@pytest.mark.parametrize("p", [-0.1, 1.0])
def test_a_drop_probability_outside_0_1_is_refused(name, p):
    with pytest.raises(ValueError, match=f"{name} must be in"):
        digit_cnn(**{name: p})
