"""The CNN of the image experiments, with every regularizer they compare as a switch."""

from torch import nn


def check_probability(name: str, p: float) -> None:
    if not 0.0 <= p < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {name}={p}")


# --8<-- [start:cnn]
def digit_cnn(batchnorm: bool = False, head_dropout: float = 0.0,
              conv1_dropout: float = 0.0, channel_dropout: float = 0.0) -> nn.Sequential:
    """Two conv blocks, Conv -> [BN] -> ReLU -> [dropout] -> MaxPool, then a dense head."""
    for name, p in [("head_dropout", head_dropout), ("conv1_dropout", conv1_dropout),
                    ("channel_dropout", channel_dropout)]:
        check_probability(name, p)

    def block(c_in: int, c_out: int, first: bool) -> list[nn.Module]:
        layers = [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1)]
        layers += [nn.BatchNorm2d(c_out)] if batchnorm else []  # BN before the ReLU
        layers.append(nn.ReLU())
        if first and conv1_dropout:  # element-wise: single pixels of the first feature maps
            layers.append(nn.Dropout(conv1_dropout))
        if channel_dropout:  # whole feature maps, in both conv blocks
            layers.append(nn.Dropout2d(channel_dropout))
        return layers + [nn.MaxPool2d(2)]  # 8x8 -> 4x4 -> 2x2

    head_drop = [nn.Dropout(head_dropout)] if head_dropout else []
    return nn.Sequential(
        *block(1, 16, first=True), *block(16, 32, first=False),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), *head_drop, nn.Linear(64, 10),
    )
# --8<-- [end:cnn]


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def facts() -> dict:
    return {"cnn_parameters": n_parameters(digit_cnn()),
            "bn_parameters": n_parameters(digit_cnn(batchnorm=True)) - n_parameters(digit_cnn())}


def main() -> None:
    # --8<-- [start:demo]
    print(digit_cnn(batchnorm=True, head_dropout=0.5))
    #> Sequential(
    #>   (0): Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    #>   (1): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    #>   (2): ReLU()
    #>   (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    #>   (4): Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    #>   (5): BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    #>   (6): ReLU()
    #>   (7): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    #>   (8): Flatten(start_dim=1, end_dim=-1)
    #>   (9): Linear(in_features=128, out_features=64, bias=True)
    #>   (10): ReLU()
    #>   (11): Dropout(p=0.5, inplace=False)
    #>   (12): Linear(in_features=64, out_features=10, bias=True)
    #> )
    print(f"{n_parameters(digit_cnn()):,} parameters without BN")
    #> 13,706 parameters without BN
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
