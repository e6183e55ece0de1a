"""The Keras page, row by row: Keras 3 on its torch backend beside the PyTorch code.

The tests that import Keras are `slow` (importing it costs several seconds of CPU: it pulls in
torch._dynamo and scikit-learn) and need the `keras` extra (`pip install -e ".[keras]"`); the
PyTorch side is checked in the default run."""

import itertools
import os

import numpy as np
import pytest
import torch
from torch import nn

from snippets.dropout.pytorch import torch_p_from_keep_prob
from snippets.troubleshooting import keras as page

# Keras's torch backend turns tensors into NumPy arrays the NumPy 1 way; not this site's concern
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def keras():
    assert os.environ["KERAS_BACKEND"] == "torch"  # tests/troubleshooting/conftest.py
    module = pytest.importorskip("keras")
    assert module.backend.backend() == "torch"
    return module


def as_torch(keras, value) -> torch.Tensor:
    return torch.as_tensor(keras.ops.convert_to_numpy(value))


# ----------------------------------------------------------------- PyTorch side (default run)
@pytest.mark.claim("troubleshooting/keras-update-rules")
@pytest.mark.parametrize("keras_momentum", [0.99, 0.9, 0.5, 0.0])
def test_the_two_update_rules_agree_when_momenta_add_to_one(keras_momentum):
    old, new = torch.randn(5), torch.randn(5)
    torch.testing.assert_close(
        page.keras_update(old, new, keras_momentum), page.torch_update(old, new, 1 - keras_momentum)
    )
    assert not torch.allclose(page.keras_update(old, new, 0.99), page.torch_update(old, new, 0.99))


@pytest.mark.claim("troubleshooting/keras-bn-variance")
def test_running_means_agree_variances_differ_by_bessel():
    batches = page.bn_batches()
    keras_mean, keras_var = page.keras_moving_stats(batches)
    torch_mean, torch_var = page.torch_running_stats(batches)
    torch.testing.assert_close(keras_mean, torch_mean)
    assert (torch_var > keras_var).all()
    # PyTorch's rule fed the unbiased variance is exactly what nn.BatchNorm1d stores
    n = batches[0].shape[0]
    var = torch.ones(4)
    for batch in batches:
        var = page.torch_update(var, batch.var(0, correction=0) * n / (n - 1), 0.01)
    torch.testing.assert_close(var, torch_var)


def test_batchnorm_from_keras_arguments():
    bn = page.batchnorm_from_keras(3, momentum=0.9, epsilon=1e-4)
    assert (bn.momentum, bn.eps, bn.num_features) == (0.1, 1e-4, 3)
    assert page.batchnorm_from_keras(3).momentum == 0.01


def test_dropout_rate_translations():
    assert page.torch_p_from_keras_rate(0.3) == 0.3
    assert torch_p_from_keep_prob(0.7) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="rate"):
        page.torch_p_from_keras_rate(1.5)


@pytest.mark.claim("troubleshooting/keras-training-default")
def test_call_sets_and_restores_the_mode():
    torch.manual_seed(0)
    layer = nn.Dropout(0.5)
    x = torch.ones(200)
    assert (layer(x) == 0).any()  # a new module trains
    assert torch.equal(page.call(layer, x), x)
    assert layer.training
    out = page.call(layer.eval(), x, training=True)
    assert (out == 0).any() and not layer.training


def test_keras_style_lstm_locks_the_input_mask():
    torch.manual_seed(0)
    model = page.KerasStyleLSTM(3, 2, dropout=0.5)
    x = torch.randn(4, 6, 3)
    masked = model.input_dropout(x)
    ratio = torch.where(x != 0, masked / x, 0)
    assert torch.equal(ratio, ratio[:, :1].expand_as(ratio))
    assert torch.equal(model.eval()(x), model.lstm(x)[0])


def test_keras_layout_weights_give_the_same_lstm():
    """Keras's layout of an LSTM: kernel (F, 4U), recurrent kernel (U, 4U), one bias. (That
    Keras's own weights load so is tested against Keras below.)"""
    torch.manual_seed(0)
    source, target = nn.LSTM(3, 2, batch_first=True), nn.LSTM(3, 2, batch_first=True)
    kernel, recurrent = source.weight_ih_l0.detach().T, source.weight_hh_l0.detach().T
    bias = (source.bias_ih_l0 + source.bias_hh_l0).detach()
    page.load_keras_lstm_weights(target, kernel.numpy(), recurrent.numpy(), bias.numpy())
    x = torch.randn(4, 6, 3)
    torch.testing.assert_close(target(x)[0], source(x)[0])
    assert torch.equal(target.bias_hh_l0, torch.zeros(8))


def test_noise_shape_and_spatial_dropout_drop_along_time():
    torch.manual_seed(0)
    x = torch.ones(8, 5, 3)
    for out in (page.keras_noise_shape_dropout(x, 0.5, True), page.keras_spatial_dropout_1d(x, 0.5, True)):
        assert torch.equal(out, out[:, :1].expand_as(out))
        assert set(out.unique().tolist()) == {0.0, 2.0}
    assert torch.equal(page.keras_noise_shape_dropout(x, 0.5, False), x)
    assert torch.equal(page.keras_spatial_dropout_1d(x, 0.5, False), x)


def test_page_numbers():
    facts = page.facts()
    assert facts["mean_gap"] < 1e-6 and facts["var_gap"] > 0.01
    assert facts["bessel"] == pytest.approx(16 / 15)
    assert 0.04 < facts["eps_shrink"] < 0.05
    assert facts["keep_prob_p"] == pytest.approx(0.2)


def test_lstm_has_no_recurrent_dropout_argument():
    with pytest.raises(TypeError, match="recurrent_dropout"):
        nn.LSTM(3, 4, recurrent_dropout=0.2)


# ----------------------------------------------------------------- Keras 3 itself (slow)
@pytest.mark.slow
@pytest.mark.claim("troubleshooting/keras-dropout-rate")
def test_keras_rate_is_the_share_dropped(keras):
    keras.utils.set_random_seed(0)
    x = np.full((200, 100), 2.0, dtype="float32")
    out = as_torch(keras, keras.layers.Dropout(0.3, seed=0)(x, training=True))
    assert (out == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)
    torch.testing.assert_close(out[out != 0], torch.full_like(out[out != 0], 2.0 / 0.7))
    torch_out = nn.Dropout(page.torch_p_from_keras_rate(0.3))(torch.as_tensor(x))
    assert set(torch_out.unique().tolist()) == set(out.unique().tolist())


@pytest.mark.slow
@pytest.mark.claim("troubleshooting/keras-bn-defaults")
def test_keras_bn_defaults_and_epsilon(keras):
    layer = keras.layers.BatchNormalization()
    assert (layer.momentum, layer.epsilon, layer.axis) == (0.99, 1e-3, -1)
    own = nn.BatchNorm1d(4)
    assert (own.momentum, own.eps) == (0.1, 1e-5)
    x = torch.randn(32, 4) * 0.1  # batch variance about 0.01: epsilon matters
    keras_out = as_torch(keras, layer(x.numpy(), training=True))
    torch.testing.assert_close(keras_out, page.batchnorm_from_keras(4)(x), atol=1e-5, rtol=1e-5)
    assert (keras_out - own(x)).abs().max().item() > 0.01


@pytest.mark.slow
@pytest.mark.claim("troubleshooting/keras-update-rules", "troubleshooting/keras-bn-variance")
def test_keras_moving_statistics_on_the_same_batches(keras):
    batches = page.bn_batches()
    layer = keras.layers.BatchNormalization()
    for batch in batches:
        layer(batch.numpy(), training=True)
    keras_mean, keras_var = as_torch(keras, layer.moving_mean), as_torch(keras, layer.moving_variance)
    hand_mean, hand_var = page.keras_moving_stats(batches)
    torch_mean, torch_var = page.torch_running_stats(batches)
    torch.testing.assert_close(keras_mean, hand_mean)
    torch.testing.assert_close(keras_var, hand_var)
    torch.testing.assert_close(keras_mean, torch_mean)  # momentum 0.99 <-> 0.01
    assert (torch_var - keras_var).min().item() > 0.005  # N - 1 against N


@pytest.mark.slow
@pytest.mark.claim("troubleshooting/keras-bn-channels-last")
def test_keras_bn_on_channels_last_is_batchnorm1d_on_permuted(keras):
    x = torch.randn(4, 7, 3)  # (N, L, C), as Keras lays out sequences
    keras_out = as_torch(keras, keras.layers.BatchNormalization()(x.numpy(), training=True))
    torch_out = page.batchnorm_from_keras(3)(x.permute(0, 2, 1)).permute(0, 2, 1)
    torch.testing.assert_close(keras_out, torch_out, atol=1e-5, rtol=1e-5)


@pytest.mark.slow
@pytest.mark.claim("troubleshooting/keras-trainable-false")
def test_keras_trainable_false_bn_runs_in_inference_mode(keras):
    layer = keras.layers.BatchNormalization()
    layer.build((None, 4))
    layer.trainable = False
    x = torch.randn(16, 4) * 3 + 1
    out = as_torch(keras, layer(x.numpy(), training=True))
    torch.testing.assert_close(out, x / (1 + 1e-3) ** 0.5)  # moving mean 0, variance 1
    torch.testing.assert_close(as_torch(keras, layer.moving_mean), torch.zeros(4))
    # PyTorch: requires_grad=False leaves a BN layer in train mode, statistics moving
    bn = nn.BatchNorm1d(4).requires_grad_(False)
    bn(x)
    assert not torch.equal(bn.running_mean, torch.zeros(4))


@pytest.mark.slow
@pytest.mark.claim("troubleshooting/keras-training-default")
def test_keras_layers_default_to_inference(keras):
    x = np.ones((4, 50), dtype="float32")
    layer = keras.layers.Dropout(0.5, seed=0)
    torch.testing.assert_close(as_torch(keras, layer(x)), torch.ones(4, 50))
    assert (as_torch(keras, layer(x, training=True)) == 0).any()


def keras_lstm_and_copy(keras, x, **kwargs):
    layer = keras.layers.LSTM(2, return_sequences=True, seed=0, **kwargs)
    layer(x.numpy())  # builds the weights
    kernel, recurrent, bias = (as_torch(keras, w) for w in layer.weights)
    lstm = nn.LSTM(x.shape[2], 2, batch_first=True)
    page.load_keras_lstm_weights(lstm, kernel, recurrent, bias)
    return layer, lstm


@pytest.mark.slow
@pytest.mark.claim("troubleshooting/keras-lstm-dropout")
def test_keras_lstm_dropout_is_one_locked_input_mask(keras):
    keras.utils.set_random_seed(0)
    x = torch.randn(8, 5, 3)
    layer, lstm = keras_lstm_and_copy(keras, x, dropout=0.5)
    torch.testing.assert_close(as_torch(keras, layer(x.numpy())), lstm(x)[0], atol=1e-6, rtol=1e-5)
    trained = as_torch(keras, layer(x.numpy(), training=True))
    masks = []
    for n in range(len(x)):
        # every mask that holds one value per feature for the whole sequence
        fits = [
            m
            for m in itertools.product([0.0, 2.0], repeat=3)
            if torch.allclose(lstm(x[n : n + 1] * torch.tensor(m))[0], trained[n : n + 1], atol=1e-5)
        ]
        assert len(fits) == 1, (n, fits)
        masks.append(fits[0])
    assert len(set(masks)) > 1  # a mask per sequence, not one for the batch


@pytest.mark.slow
@pytest.mark.claim("troubleshooting/keras-recurrent-dropout")
def test_keras_recurrent_dropout_acts_on_the_state(keras):
    keras.utils.set_random_seed(0)
    x = torch.randn(8, 5, 3)
    layer, _ = keras_lstm_and_copy(keras, x, recurrent_dropout=0.5)
    evaluated = as_torch(keras, layer(x.numpy()))
    assert not torch.allclose(as_torch(keras, layer(x.numpy(), training=True)), evaluated)
    layer.weights[1].assign(np.zeros((2, 8), dtype="float32"))  # no recurrent weights
    torch.testing.assert_close(as_torch(keras, layer(x.numpy(), training=True)), as_torch(keras, layer(x.numpy())))


@pytest.mark.slow
@pytest.mark.claim("troubleshooting/keras-noise-shape")
def test_keras_noise_shape_and_spatial_dropout_lock_over_time(keras):
    x = torch.rand(6, 5, 3) + 0.5
    for layer in (
        keras.layers.Dropout(0.5, noise_shape=(None, 1, 3), seed=0),
        keras.layers.SpatialDropout1D(0.5, seed=0),
    ):
        ratio = as_torch(keras, layer(x.numpy(), training=True)) / x
        torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))
        assert set(ratio.round(decimals=4).unique().tolist()) == {0.0, 2.0}
    # element-wise by default: the mask changes along time
    ratio = as_torch(keras, keras.layers.Dropout(0.5, seed=0)(x.numpy(), training=True)) / x
    assert not torch.allclose(ratio, ratio[:, :1].expand_as(ratio))
