"""Keras and TensorFlow conventions in PyTorch: the dropout rate,
BatchNormalization's momentum and epsilon, LSTM dropout, noise_shape and
the training argument."""

import torch
import torch.nn.functional as F
from torch import nn

from snippets.dropout.pytorch import torch_p_from_keep_prob
from snippets.rnn.naive import check_rate
from snippets.rnn.variational import LockedDropout


# --8<-- [start:dropout]
def torch_p_from_keras_rate(rate: float) -> float:
    """keras.layers.Dropout(rate) and nn.Dropout(p) both name the share
    DROPPED; TensorFlow 1's tf.nn.dropout(x, keep_prob) named the share
    kept (torch_p_from_keep_prob)."""
    return check_rate(rate, "rate")


# --8<-- [end:dropout]


# --8<-- [start:batchnorm]
def batchnorm_from_keras(
    num_features: int, momentum: float = 0.99, epsilon: float = 1e-3
) -> nn.BatchNorm1d:
    """nn.BatchNorm1d that keeps statistics as
    keras.layers.BatchNormalization(momentum, epsilon) does. Keras's
    momentum is the weight of the OLD value, PyTorch's that of the NEW one.
    """
    # rounded: in floating point, 1 - 0.99 is a little more than 0.01
    torch_momentum = round(1.0 - momentum, 12)
    return nn.BatchNorm1d(
        num_features, momentum=torch_momentum, eps=epsilon
    )


# --8<-- [end:batchnorm]


# --8<-- [start:update-rules]
def keras_update(moving, batch_stat, momentum: float = 0.99):
    """Keras: moving = moving * momentum + batch * (1 - momentum)."""
    return moving * momentum + batch_stat * (1 - momentum)


def torch_update(running, batch_stat, momentum: float = 0.01):
    """PyTorch: running = (1 - momentum) * running + momentum * batch."""
    return (1 - momentum) * running + momentum * batch_stat


def keras_moving_stats(batches, momentum: float = 0.99):
    """Keras's moving mean and variance after the batches, by hand. The
    batch variance is the biased one (divided by N)."""
    mean = torch.zeros(batches[0].shape[1])
    var = torch.ones(batches[0].shape[1])
    for batch in batches:
        mean = keras_update(mean, batch.mean(0), momentum)
        var = keras_update(var, batch.var(0, correction=0), momentum)
    return mean, var


def torch_running_stats(batches, momentum: float = 0.01):
    """nn.BatchNorm1d's running mean and variance after the same batches:
    its batch variance is the unbiased one (divided by N - 1)."""
    bn = nn.BatchNorm1d(batches[0].shape[1], momentum=momentum).train()
    with torch.no_grad():
        for batch in batches:
            bn(batch)
    return bn.running_mean, bn.running_var


# --8<-- [end:update-rules]


# --8<-- [start:lstm]
class KerasStyleLSTM(nn.Module):
    """keras.layers.LSTM(units, dropout=p, return_sequences=True) on
    (N, T, F): ONE input mask per sequence, used at every time step."""

    def __init__(self, input_size: int, units: int, dropout: float = 0.0):
        super().__init__()
        self.input_dropout = LockedDropout(dropout, batch_first=True)
        self.lstm = nn.LSTM(input_size, units, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm(self.input_dropout(x))[0]


def load_keras_lstm_weights(lstm: nn.LSTM, kernel, recurrent_kernel, bias):
    """Keras stores (F, 4U) and (U, 4U) matrices and one bias; PyTorch the
    transposes and two biases. The gate order, i, f, c, o, is the same."""
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.as_tensor(kernel).T)
        lstm.weight_hh_l0.copy_(torch.as_tensor(recurrent_kernel).T)
        lstm.bias_ih_l0.copy_(torch.as_tensor(bias))
        lstm.bias_hh_l0.zero_()


# --8<-- [end:lstm]


# --8<-- [start:noise-shape]
def keras_noise_shape_dropout(x, p: float, training: bool):
    """Dropout(p, noise_shape=(None, 1, features)) on (N, T, F): one mask
    per sequence and feature, the same at every step: locked dropout."""
    return LockedDropout(p, batch_first=True).train(training)(x)


def keras_spatial_dropout_1d(x, p: float, training: bool):
    """SpatialDropout1D(p) on (N, T, C) drops whole channels: it is
    nn.Dropout1d on the channels-first (N, C, T)."""
    return F.dropout1d(x.transpose(1, 2), p, training).transpose(1, 2)


# --8<-- [end:noise-shape]


# --8<-- [start:training]
def call(module: nn.Module, x: torch.Tensor, training: bool = False):
    """Keras's layer(x, training=...) for a PyTorch module. A Keras layer
    called without `training` is in inference mode; a PyTorch module is in
    train mode from the moment it is created."""
    was_training = module.training
    module.train(training)
    try:
        return module(x)
    finally:
        module.train(was_training)


# --8<-- [end:training]


def bn_batches(count: int = 5, batch: int = 16, seed: int = 0) -> list:
    generator = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, 4, generator=generator) * 3 + 1
        for _ in range(count)
    ]


def facts() -> dict:
    batches = bn_batches()
    keras_mean, keras_var = keras_moving_stats(batches)
    torch_mean, torch_var = torch_running_stats(batches)
    batch = batches[0].shape[0]
    # a channel whose batch variance is 0.01: how far the two epsilons
    # set the normalised values apart
    small_var = 0.01
    eps_ratio = ((small_var + 1e-5) / (small_var + 1e-3)) ** 0.5
    return {
        "batches": len(batches),
        "batch": batch,
        "bessel": batch / (batch - 1),
        "mean_gap": (keras_mean - torch_mean).abs().max().item(),
        "var_gap": (keras_var - torch_var).abs().max().item(),
        "small_var": small_var,
        "eps_shrink": 1 - eps_ratio,
        "keep_prob_p": torch_p_from_keep_prob(0.8),
    }


def main() -> None:
    # --8<-- [start:demo-dropout]
    print(nn.Dropout(p=torch_p_from_keras_rate(0.3)))  # Dropout(0.3)
    #> Dropout(p=0.3, inplace=False)
    keep_prob = 0.7  # tf.nn.dropout(x, keep_prob=0.7), TensorFlow 1
    print(f"nn.Dropout(p={torch_p_from_keep_prob(keep_prob):.1f})")
    #> nn.Dropout(p=0.3)
    # --8<-- [end:demo-dropout]

    # --8<-- [start:demo-batchnorm]
    keras_like = batchnorm_from_keras(8)  # BatchNormalization() defaults
    print(f"momentum={keras_like.momentum}, eps={keras_like.eps}")
    #> momentum=0.01, eps=0.001
    own = nn.BatchNorm1d(8)  # PyTorch's own defaults
    print(f"momentum={own.momentum}, eps={own.eps}")
    #> momentum=0.1, eps=1e-05
    # --8<-- [end:demo-batchnorm]

    # --8<-- [start:demo-update-rules]
    batches = bn_batches()  # 5 batches of 16 examples, 4 features
    keras_mean, keras_var = keras_moving_stats(batches, momentum=0.99)
    torch_mean, torch_var = torch_running_stats(batches, momentum=0.01)
    print(torch.allclose(keras_mean, torch_mean))  # the means agree
    #> True
    print(keras_var)  # Keras: biased batch variance
    #> tensor([1.2735, 1.3980, 1.2797, 1.3004])
    print(torch_var)  # PyTorch: unbiased, a little larger
    #> tensor([1.2950, 1.4278, 1.3017, 1.3237])
    # --8<-- [end:demo-update-rules]

    # --8<-- [start:demo-training]
    torch.manual_seed(0)
    dropout = nn.Dropout(0.5)
    x = torch.ones(1, 6)
    print(dropout(x))  # a fresh PyTorch module is in train mode
    #> tensor([[0., 0., 2., 0., 0., 0.]])
    print(call(dropout, x))  # like Keras's dropout(x): inference
    #> tensor([[1., 1., 1., 1., 1., 1.]])
    print(call(dropout, x, training=True))  # dropout(x, training=True)
    #> tensor([[2., 2., 0., 2., 2., 2.]])
    # --8<-- [end:demo-training]


if __name__ == "__main__":
    main()
