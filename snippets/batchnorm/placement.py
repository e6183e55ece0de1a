"""Conv -> BN -> ReLU: why the conv needs no bias, and why dropout belongs
after the last BN."""

import torch
from torch import nn

DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


# --8<-- [start:block]
class ConvBNReLU(nn.Module):
    """y = ReLU(BN(Conv(x))), the basic unit of most modern CNNs."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        conv_bias: bool = False,
    ):
        super().__init__()
        # bias=False: BN subtracts each channel's batch mean, which removes
        # any per-channel constant the conv adds; BN's beta shifts instead.
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            padding=kernel_size // 2,
            bias=conv_bias,
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --8<-- [end:block]


# --8<-- [start:variance-shift]
def predicted_train_variance(mean: float, var: float, p: float) -> float:
    """Var of inverted dropout x * r / (1 - p) for x with this mean and
    variance. E[out] = mean, E[out^2] = (var + mean^2) / (1 - p); in eval
    mode the variance stays var."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"drop probability p must be in [0, 1), got p={p}")
    return (var + mean**2) / (1 - p) - mean**2


def dropout_variance(x, p: float, training: bool, seed: int = 0) -> float:
    """Variance of nn.Dropout(p)(x) in train or eval mode."""
    with torch.random.fork_rng():  # seeded here; the global RNG untouched
        torch.manual_seed(seed)
        return nn.Dropout(p).train(training)(x).var().item()


def bn_eval_variance(
    model: nn.Sequential, features: int, steps=100, seed: int = 0
) -> float:
    """Train `model` (forward passes only: BN learns its running stats)
    on N(0, 1) batches, then return the variance of its eval-mode output
    on fresh N(0, 1) data."""
    with torch.random.fork_rng(), torch.no_grad():
        torch.manual_seed(seed)
        model.train()
        for _ in range(steps):
            model(torch.randn(256, features))
        model.eval()
        return model(torch.randn(10_000, features)).var().item()


# --8<-- [end:variance-shift]


# --8<-- [start:head]
def recommended_net(num_classes: int = 10, p: float = 0.5) -> nn.Sequential:
    """Conv-BN-ReLU blocks without dropout; dropout only in the head,
    after the last BN: the safe default."""
    return nn.Sequential(
        ConvBNReLU(3, 16),
        nn.MaxPool2d(2),
        ConvBNReLU(16, 32),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        # no BN comes after this: no running statistic sees the noise
        nn.Dropout(p),
        nn.Linear(32, num_classes),
    )


def dropout_after_last_bn(model: nn.Module) -> bool:
    """True if every dropout layer comes after the last BN layer (in
    registration order, which for nn.Sequential is the forward order)."""
    kinds = [
        type(m)
        for m in model.modules()
        if isinstance(m, DROPOUTS + BATCHNORMS)
    ]
    bn_positions = [
        i for i, kind in enumerate(kinds) if issubclass(kind, BATCHNORMS)
    ]
    last_bn = bn_positions[-1] if bn_positions else -1
    return all(
        i > last_bn
        for i, kind in enumerate(kinds)
        if issubclass(kind, DROPOUTS)
    )


# --8<-- [end:head]


# --8<-- [start:relu-order]
class ConvReLUBN(ConvBNReLU):
    """The other order, y = BN(ReLU(Conv(x))): the next layer receives
    normalised values, negative ones included."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.relu(self.conv(x)))


def what_the_next_layer_sees(block: nn.Module, x: torch.Tensor) -> dict:
    """Mean, standard deviation and share of zeros of a block's output in
    train mode, over all channels and positions."""
    with torch.no_grad():
        out = block.train()(x)
    return {
        "mean": round(out.mean().item(), 2),
        "std": round(out.std().item(), 2),
        "zeros": round((out == 0).float().mean().item(), 2),
    }


# --8<-- [end:relu-order]


IN_CHANNELS, OUT_CHANNELS, KERNEL = 3, 16, 3
P = 0.5


def facts() -> dict:
    with_bias = n_params(
        ConvBNReLU(IN_CHANNELS, OUT_CHANNELS, KERNEL, conv_bias=True)
    )
    without_bias = n_params(ConvBNReLU(IN_CHANNELS, OUT_CHANNELS, KERNEL))
    x = torch.randn(100_000, generator=torch.Generator().manual_seed(0))
    return {
        "in_channels": IN_CHANNELS,
        "out_channels": OUT_CHANNELS,
        "kernel": KERNEL,
        "conv_weights": OUT_CHANNELS * IN_CHANNELS * KERNEL * KERNEL,
        "bn_params": 2 * OUT_CHANNELS,
        "params_with_bias": with_bias,
        "params_without_bias": without_bias,
        "saved": with_bias - without_bias,
        "p": P,
        "predicted_train_var": predicted_train_variance(0.0, 1.0, P),
        "train_var": dropout_variance(x, P, training=True),
        "eval_var": dropout_variance(x, P, training=False),
        "dropout_then_bn": bn_eval_variance(
            nn.Sequential(nn.Dropout(P), nn.BatchNorm1d(4)), 4
        ),
        "bn_then_dropout": bn_eval_variance(
            nn.Sequential(nn.BatchNorm1d(4), nn.Dropout(P)), 4
        ),
        **relu_order_facts(),
    }


def relu_order_facts(seed: int = 0) -> dict:
    torch.manual_seed(seed)
    x = torch.randn(64, IN_CHANNELS, 8, 8)
    before = what_the_next_layer_sees(ConvBNReLU(IN_CHANNELS, 16), x)
    torch.manual_seed(seed)  # the same convolution weights
    after = what_the_next_layer_sees(ConvReLUBN(IN_CHANNELS, 16), x)
    return {f"bn_relu_{k}": v for k, v in before.items()} | {
        f"relu_bn_{k}": v for k, v in after.items()
    }


def main() -> None:
    # --8<-- [start:demo-bias]
    torch.manual_seed(0)
    with_bias = nn.Conv2d(3, 4, kernel_size=3, bias=True)
    without_bias = nn.Conv2d(3, 4, kernel_size=3, bias=False)
    with torch.no_grad():
        # identical except for the bias
        without_bias.weight.copy_(with_bias.weight)
    x = torch.randn(8, 3, 6, 6)
    # train mode: normalises with the batch's per-channel mean
    bn = nn.BatchNorm2d(4)
    gap = (with_bias(x) - without_bias(x)).detach()[0, :, 0, 0]
    print("conv outputs differ by:", gap)
    #> conv outputs differ by: tensor([-0.0106,  0.0289, -0.0788,  0.1142])
    agree = torch.allclose(bn(with_bias(x)), bn(without_bias(x)), atol=1e-5)
    print("after BN they agree:", agree)
    #> after BN they agree: True
    block_with = ConvBNReLU(3, 16, conv_bias=True)
    block_without = ConvBNReLU(3, 16)
    n_with, n_without = n_params(block_with), n_params(block_without)
    print(n_with, "-", n_without, "=", n_with - n_without)
    #> 480 - 464 = 16
    # --8<-- [end:demo-bias]

    # --8<-- [start:demo-variance-shift]
    # mean 0, variance 1
    x = torch.randn(100_000, generator=torch.Generator().manual_seed(0))
    train_var = dropout_variance(x, 0.5, training=True)
    eval_var = dropout_variance(x, 0.5, training=False)
    print(f"dropout(p=0.5), train mode: variance {train_var:.2f}")
    #> dropout(p=0.5), train mode: variance 1.99
    print(f"dropout(p=0.5), eval mode:  variance {eval_var:.2f}")
    #> dropout(p=0.5), eval mode:  variance 1.00
    # BN after dropout stores the train-mode variance, then meets the
    # eval-mode one.
    model = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(4))
    shifted = bn_eval_variance(model, features=4)
    print(f"Dropout -> BN, eval output variance: {shifted:.2f}")
    #> Dropout -> BN, eval output variance: 0.50
    # BN before dropout learns from data dropout has not touched (and in
    # eval mode dropout is the identity).
    model = nn.Sequential(nn.BatchNorm1d(4), nn.Dropout(0.5))
    consistent = bn_eval_variance(model, features=4)
    print(f"BN -> Dropout, eval output variance: {consistent:.2f}")
    #> BN -> Dropout, eval output variance: 1.00
    # --8<-- [end:demo-variance-shift]

    # --8<-- [start:demo-head]
    model = recommended_net()
    out = model(torch.randn(8, 3, 32, 32))
    print(out.shape, dropout_after_last_bn(model))
    #> torch.Size([8, 10]) True
    flagged = nn.Sequential(
        ConvBNReLU(3, 16), nn.Dropout2d(0.2), ConvBNReLU(16, 32)
    )
    print(dropout_after_last_bn(flagged))
    #> False
    # --8<-- [end:demo-head]

    # --8<-- [start:demo-relu-order]
    torch.manual_seed(0)
    x = torch.randn(64, 3, 8, 8)
    print(what_the_next_layer_sees(ConvBNReLU(3, 16), x))
    #> {'mean': 0.4, 'std': 0.59, 'zeros': 0.5}
    torch.manual_seed(0)
    print(what_the_next_layer_sees(ConvReLUBN(3, 16), x))
    #> {'mean': 0.0, 'std': 1.0, 'zeros': 0.0}
    # --8<-- [end:demo-relu-order]


if __name__ == "__main__":
    main()
