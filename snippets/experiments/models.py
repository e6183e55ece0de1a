"""The CNN of the image experiments, with every regularizer they compare
as a switch."""

from torch import nn


def check_probability(name: str, p: float) -> None:
    if not 0.0 <= p < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {name}={p}")


# --8<-- [start:cnn]
def digit_cnn(
    batchnorm: bool = False,
    head_dropout: float = 0.0,
    conv1_dropout: float = 0.0,
    channel_dropout: float = 0.0,
) -> nn.Sequential:
    """Two conv blocks, Conv -> [BN] -> ReLU -> [dropout] -> MaxPool, then
    a dense head."""
    for name, p in [
        ("head_dropout", head_dropout),
        ("conv1_dropout", conv1_dropout),
        ("channel_dropout", channel_dropout),
    ]:
        check_probability(name, p)

    def block(c_in: int, c_out: int, first: bool) -> list[nn.Module]:
        layers = [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1)]
        # BN before the ReLU
        layers += [nn.BatchNorm2d(c_out)] if batchnorm else []
        layers.append(nn.ReLU())
        # element-wise: single pixels of the first feature maps
        if first and conv1_dropout:
            layers.append(nn.Dropout(conv1_dropout))
        if channel_dropout:  # whole feature maps, in both conv blocks
            layers.append(nn.Dropout2d(channel_dropout))
        return layers + [nn.MaxPool2d(2)]  # 8x8 -> 4x4 -> 2x2

    head_drop = [nn.Dropout(head_dropout)] if head_dropout else []
    return nn.Sequential(
        *block(1, 16, first=True),
        *block(16, 32, first=False),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 64),
        nn.ReLU(),
        *head_drop,
        nn.Linear(64, 10),
    )


# --8<-- [end:cnn]


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def facts() -> dict:
    return {
        "cnn_parameters": n_parameters(digit_cnn()),
        "bn_parameters": n_parameters(digit_cnn(batchnorm=True))
        - n_parameters(digit_cnn()),
    }


def main() -> None:
    # --8<-- [start:demo]
    model = digit_cnn(batchnorm=True, head_dropout=0.5)
    for number, layer in enumerate(model):  # each layer and its weights
        name = type(layer).__name__
        print(f"{number:2} {name:11} {n_parameters(layer):5,}")
        #>  0 Conv2d        160
        #>  1 BatchNorm2d    32
        #>  2 ReLU            0
        #>  3 MaxPool2d       0
        #>  4 Conv2d      4,640
        #>  5 BatchNorm2d    64
        #>  6 ReLU            0
        #>  7 MaxPool2d       0
        #>  8 Flatten         0
        #>  9 Linear      8,256
        #> 10 ReLU            0
        #> 11 Dropout         0
        #> 12 Linear        650
    print(f"{n_parameters(digit_cnn()):,} parameters without BN")
    #> 13,706 parameters without BN
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
