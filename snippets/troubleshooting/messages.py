"""The errors and warnings learners paste: trigger each one for real,
then show the fix."""

import textwrap
import warnings

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


# --8<-- [start:catch]
def error_text(run) -> str:
    """The message of the error that run() raises."""
    try:
        run()
    except (RuntimeError, ValueError) as error:
        return str(error)
    raise AssertionError("run() raised no error")


def warning_texts(run) -> list[str]:
    """The messages of the warnings that run() gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # even if already shown once
        run()
    return [str(warning.message) for warning in caught]


def wrap(message: str) -> str:
    return textwrap.fill(message, width=64)  # for the page's width


# --8<-- [end:catch]


# --8<-- [start:one-value]
def batch_sizes(n_examples: int, batch_size: int, drop_last: bool):
    """The size of every batch a DataLoader hands out in one epoch."""
    data = TensorDataset(torch.randn(n_examples, 3))
    loader = DataLoader(data, batch_size=batch_size, drop_last=drop_last)
    return [len(inputs) for (inputs,) in loader]


def pooled_head(channels: int = 8) -> nn.Module:
    """BatchNorm after global average pooling: one value per channel
    and example, so a batch of one leaves nothing to average over."""
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.BatchNorm2d(channels))


# --8<-- [end:one-value]


# --8<-- [start:wrong-channels]
def conv_block(bn_features: int) -> nn.Module:
    """Conv2d with 4 output channels, then BatchNorm2d(bn_features)."""
    return nn.Sequential(
        nn.Conv2d(3, 4, kernel_size=3, padding=1),
        nn.BatchNorm2d(bn_features),  # must equal out_channels = 4
    )


# --8<-- [end:wrong-channels]


# --8<-- [start:channels-last]
def normalise_sequence(bn: nn.BatchNorm1d, x: torch.Tensor):
    """x is (N, L, C), as an embedding or a batch_first LSTM gives it.
    BatchNorm1d wants the channels in dim 1: (N, C, L)."""
    return bn(x.transpose(1, 2)).transpose(1, 2)


# --8<-- [end:channels-last]


def main() -> None:
    # --8<-- [start:demo-one-value]
    print(batch_sizes(9, batch_size=4, drop_last=False))
    #> [4, 4, 1]
    head = pooled_head()
    print(wrap(error_text(lambda: head(torch.randn(1, 8, 5, 5)))))
    #> Expected more than 1 value per channel when training, got input
    #> size torch.Size([1, 8, 1, 1])
    print(batch_sizes(9, batch_size=4, drop_last=True))  # fix 1
    #> [4, 4]
    print(head.eval()(torch.randn(1, 8, 5, 5)).shape)  # fix 2: predict
    #> torch.Size([1, 8, 1, 1])
    # --8<-- [end:demo-one-value]

    # --8<-- [start:demo-lstm]
    print(wrap(warning_texts(lambda: nn.LSTM(16, 32, dropout=0.3))[0]))
    #> dropout option adds dropout after all but last recurrent layer,
    #> so non-zero dropout expects num_layers greater than 1, but got
    #> dropout=0.3 and num_layers=1
    print(warning_texts(lambda: nn.LSTM(16, 32, num_layers=2, dropout=0.3)))
    #> []
    # --8<-- [end:demo-lstm]

    # --8<-- [start:demo-dropout2d-3d]
    sequences = torch.ones(4, 16, 50)  # (N, C, L): 16 channels over time
    print(wrap(warning_texts(lambda: nn.Dropout2d(0.5)(sequences))[0]))
    #> dropout2d: Received a 3D input to dropout2d and assuming that
    #> channel-wise 1D dropout behavior is desired - input is
    #> interpreted as shape (N, C, L), where C is the channel dim. This
    #> behavior will change in a future release to interpret the input
    #> as one without a batch dimension, i.e. shape (C, H, W). To
    #> maintain the 1D channel-wise dropout behavior, please switch to
    #> using dropout1d instead.
    print(warning_texts(lambda: nn.Dropout1d(0.5)(sequences)))  # fix
    #> []
    image = torch.ones(16, 8, 8)  # ONE image (C, H, W): add the batch dim
    print(warning_texts(lambda: nn.Dropout2d(0.5)(image.unsqueeze(0))))
    #> []
    # --8<-- [end:demo-dropout2d-3d]

    # --8<-- [start:demo-dropout2d-2d]
    features = torch.ones(4, 16)  # (N, C), e.g. after nn.Flatten()
    print(wrap(warning_texts(lambda: nn.Dropout2d(0.5)(features))[0]))
    #> dropout2d: Received a 2-D input to dropout2d, which is
    #> deprecated and will result in an error in a future release. To
    #> retain the behavior and silence this warning, please use dropout
    #> instead. Note that dropout2d exists to provide channel-wise
    #> dropout on inputs with 2 spatial dimensions, a channel
    #> dimension, and an optional batch dimension (i.e. 3D or 4D
    #> inputs).
    print(warning_texts(lambda: nn.Dropout(0.5)(features)))  # fix
    #> []
    # --8<-- [end:demo-dropout2d-2d]

    # --8<-- [start:demo-wrong-channels]
    images = torch.randn(2, 3, 8, 8)
    print(wrap(error_text(lambda: conv_block(bn_features=8)(images))))
    #> running_mean should contain 4 elements not 8
    print(conv_block(bn_features=4)(images).shape)  # fix
    #> torch.Size([2, 4, 8, 8])
    # --8<-- [end:demo-wrong-channels]

    # --8<-- [start:demo-channels-last]
    bn = nn.BatchNorm1d(8)  # 8 features per time step
    tokens = torch.randn(2, 5, 8)  # (N, L, C): 5 steps of 8 features
    print(wrap(error_text(lambda: bn(tokens))))
    #> running_mean should contain 5 elements not 8
    print(normalise_sequence(bn, tokens).shape)  # fix
    #> torch.Size([2, 5, 8])
    # --8<-- [end:demo-channels-last]

    # --8<-- [start:demo-dims]
    one_image = torch.randn(3, 8, 8)  # (C, H, W), no batch dim
    print(wrap(error_text(lambda: nn.BatchNorm2d(3)(one_image))))
    #> expected 4D input (got 3D input)
    conv_output = torch.randn(2, 3, 8, 8)  # (N, C, H, W)
    print(wrap(error_text(lambda: nn.BatchNorm1d(3)(conv_output))))
    #> expected 2D or 3D input (got 4D input)
    # --8<-- [end:demo-dims]

    # --8<-- [start:demo-inplace]
    x = torch.randn(3, 4, requires_grad=True)
    drop = nn.Dropout(0.5, inplace=True)
    print(wrap(error_text(lambda: drop(torch.sigmoid(x)).sum().backward())))
    #> one of the variables needed for gradient computation has been
    #> modified by an inplace operation: [torch.FloatTensor [3, 4]],
    #> which is output 0 of Sigmoid, is at version 1; expected version
    #> 0 instead. Hint: enable anomaly detection to find the operation
    #> that failed to compute its gradient, with
    #> torch.autograd.set_detect_anomaly(True, check_nan=False).
    nn.Dropout(0.5)(torch.sigmoid(x)).sum().backward()  # fix: a copy
    # --8<-- [end:demo-inplace]

    # --8<-- [start:demo-p]
    print(wrap(error_text(lambda: nn.Dropout(p=20))))  # 20 %? p is a share
    #> dropout probability has to be between 0 and 1, but got 20
    # --8<-- [end:demo-p]

    # --8<-- [start:demo-groupnorm]
    print(wrap(error_text(lambda: nn.GroupNorm(3, 8))))
    #> num_channels (8) must be divisible by num_groups (3)
    print(nn.GroupNorm(4, 8)(torch.randn(1, 8, 5, 5)).shape)  # fix, batch 1
    #> torch.Size([1, 8, 5, 5])
    # --8<-- [end:demo-groupnorm]

    # --8<-- [start:demo-instancenorm]
    pooled = torch.randn(2, 8, 1, 1)  # after global pooling
    print(wrap(error_text(lambda: nn.InstanceNorm2d(8)(pooled))))
    #> Expected more than 1 spatial element when training, got input
    #> size torch.Size([2, 8, 1, 1])
    # --8<-- [end:demo-instancenorm]

    # --8<-- [start:demo-state-dict]
    saved = nn.Sequential(nn.BatchNorm1d(4)).state_dict()
    rebuilt = nn.Sequential(nn.BatchNorm1d(4, track_running_stats=False))
    print(wrap(error_text(lambda: rebuilt.load_state_dict(saved))))
    #> Error(s) in loading state_dict for Sequential:
    #> Unexpected key(s) in state_dict: "0.running_mean",
    #> "0.running_var", "0.num_batches_tracked".
    # --8<-- [end:demo-state-dict]


if __name__ == "__main__":
    main()
