"""Solutions to the CNN exercises: conv arithmetic, where dropout goes, and
what a GAP head saves."""

import torch
from torch import nn


# --8<-- [start:conv-size]
def conv_output_side(size, kernel, stride=1, padding=0) -> int:
    """floor((size + 2 * padding - kernel) / stride) + 1"""
    if kernel < 1 or stride < 1 or padding < 0:
        raise ValueError(
            "need kernel >= 1, stride >= 1, padding >= 0, "
            f"got {kernel=}, {stride=}, {padding=}"
        )
    if size + 2 * padding < kernel:
        raise ValueError(f"{kernel=} is larger than the padded input")
    return (size + 2 * padding - kernel) // stride + 1


def conv_params(c_in, c_out, kernel, bias=True) -> int:
    """One kernel x kernel filter per (input, output) channel pair,
    plus one bias per output channel."""
    return c_out * c_in * kernel * kernel + (c_out if bias else 0)


# --8<-- [end:conv-size]


# --8<-- [start:given]
def conv_bn_relu_pool(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.MaxPool2d(2),
    ]


def given_cnn() -> nn.Sequential:
    """The exercise's network, for 3 x 32 x 32 images, without dropout."""
    return nn.Sequential(
        *conv_bn_relu_pool(3, 32),  # -> 32 x 16 x 16
        *conv_bn_relu_pool(32, 64),  # -> 64 x 8 x 8
        nn.Flatten(),  # -> 4096
        nn.Linear(64 * 8 * 8, 256),
        nn.ReLU(),
        nn.Linear(256, 10),
    )


# --8<-- [end:given]


# --8<-- [start:placed]
def regularized_cnn(p_conv=0.1, p_fc=0.5) -> nn.Sequential:
    return nn.Sequential(
        *conv_bn_relu_pool(3, 32),  # edges and colours: no dropout
        *conv_bn_relu_pool(32, 64),
        nn.Dropout2d(p_conv),  # light, whole channels, after last BN
        nn.Flatten(),
        nn.Dropout(p_fc),  # the head holds almost every weight
        nn.Linear(64 * 8 * 8, 256),
        nn.ReLU(),
        nn.Dropout(p_fc),
        nn.Linear(256, 10),
    )


def parameter_split(model: nn.Module) -> tuple[int, int]:
    """(parameters in conv and BN layers, parameters in linear layers)"""

    def count(kinds) -> int:
        return sum(
            p.numel()
            for m in model.modules()
            if isinstance(m, kinds)
            for p in m.parameters()
        )

    return count((nn.Conv2d, nn.BatchNorm2d)), count(nn.Linear)


# --8<-- [end:placed]


# --8<-- [start:switches]
def random_switches(shape: tuple[int, int, int, int]) -> dict[str, int]:
    """How many independent keep/drop decisions each layer draws for one
    batch of feature maps (N, C, H, W)."""
    n, c, h, w = shape
    return {"nn.Dropout": n * c * h * w, "nn.Dropout2d": n * c}


@torch.no_grad()
def channel_planes(y: torch.Tensor) -> tuple[int, int]:
    """Of the N x C planes of y: (how many are all zero,
    how many have some zeros but not all)."""
    zeros = (y == 0).flatten(2)
    all_zero = zeros.all(dim=2)
    return int(all_zero.sum()), int((zeros.any(dim=2) & ~all_zero).sum())


# --8<-- [end:switches]


# --8<-- [start:gap]
def gap_cnn() -> nn.Sequential:
    """The same features, with a global-average-pooling head."""
    return nn.Sequential(
        *conv_bn_relu_pool(3, 32),
        *conv_bn_relu_pool(32, 64),
        nn.AdaptiveAvgPool2d(1),  # 64 x 8 x 8 -> 64 x 1 x 1: map means
        nn.Flatten(),
        nn.Linear(64, 10),
    )


# --8<-- [end:gap]


SHAPE = (32, 64, 16, 16)
P_SWITCH = 0.1


def facts() -> dict:
    conv, head = parameter_split(given_cnn())
    _, gap_head = parameter_split(gap_cnn())
    switches = random_switches(SHAPE)
    return {
        "ex1_in": 32,
        "ex1_c_in": 3,
        "ex1_c_out": 16,
        "ex1_kernel": 5,
        "ex1_stride": 2,
        "ex1_padding": 2,
        "ex1_side": conv_output_side(32, 5, stride=2, padding=2),
        "ex1_weights": conv_params(3, 16, 5, bias=False),
        "ex1_params": conv_params(3, 16, 5),
        "same_kernels": [3, 5, 7],
        "same_padding": [(k - 1) // 2 for k in (3, 5, 7)],
        "conv_params": conv,
        "head_params": head,
        "fc1_params": 64 * 8 * 8 * 256 + 256,
        "total_params": conv + head,
        "head_share": head / (conv + head),
        "shape": list(SHAPE),
        "p_switch": P_SWITCH,
        "element_switches": switches["nn.Dropout"],
        "channel_switches": switches["nn.Dropout2d"],
        "expected_zeros": round(P_SWITCH * switches["nn.Dropout"]),
        "image_side": 32,
        "map_side": 8,
        "channels": 64,
        "classes": 10,
        "kernel": 3,
        "p_fc": 0.5,
        "gap_head": gap_head,
        "head_ratio": head / gap_head,
    }


def main() -> None:
    # --8<-- [start:demo-conv-size]
    conv = nn.Conv2d(3, 16, kernel_size=5, stride=2, padding=2)
    print(conv(torch.randn(1, 3, 32, 32)).shape)
    #> torch.Size([1, 16, 16, 16])
    print(conv_output_side(32, kernel=5, stride=2, padding=2))
    #> 16
    print(sum(p.numel() for p in conv.parameters()), conv_params(3, 16, 5))
    #> 1216 1216
    for k in (3, 5, 7):  # stride 1, padding (k - 1) / 2
        side = conv_output_side(32, kernel=k, padding=(k - 1) // 2)
        print(f"kernel {k}, padding {(k - 1) // 2}: {side} x {side}")
        #> kernel 3, padding 1: 32 x 32
        #> kernel 5, padding 2: 32 x 32
        #> kernel 7, padding 3: 32 x 32
    # --8<-- [end:demo-conv-size]

    # --8<-- [start:demo-placed]
    conv_part, head_part = parameter_split(given_cnn())
    print(f"conv + BN: {conv_part:,}  linear: {head_part:,}")
    #> conv + BN: 19,488  linear: 1,051,402
    print(f"share in the head: {head_part / (conv_part + head_part):.1%}")
    #> share in the head: 98.2%
    model = regularized_cnn()
    # dropout adds no parameters:
    print(parameter_split(model) == (conv_part, head_part))
    #> True
    print(model(torch.randn(4, 3, 32, 32)).shape)
    #> torch.Size([4, 10])
    # --8<-- [end:demo-placed]

    # --8<-- [start:demo-switches]
    print(random_switches((32, 64, 16, 16)))
    #> {'nn.Dropout': 524288, 'nn.Dropout2d': 2048}
    torch.manual_seed(0)
    x = torch.rand(32, 64, 16, 16) + 0.1  # no zeros in the input
    for layer in (nn.Dropout(0.1), nn.Dropout2d(0.1)):
        y = layer(x)
        share = (y == 0).float().mean().item()
        whole, partly = channel_planes(y)  # of the 32 x 64 planes
        print(
            f"{type(layer).__name__}: {share:.3f} zeros; planes all 0: "
            f"{whole}, partly 0: {partly}"
        )
        #> Dropout: 0.099 zeros; planes all 0: 0, partly 0: 2048
        #> Dropout2d: 0.103 zeros; planes all 0: 210, partly 0: 0
    # --8<-- [end:demo-switches]

    # --8<-- [start:demo-gap]
    _, gap_head = parameter_split(gap_cnn())
    print(f"flatten head: {head_part:,}  GAP head: {gap_head:,}")
    #> flatten head: 1,051,402  GAP head: 650
    print(gap_cnn()(torch.randn(4, 3, 32, 32)).shape)
    #> torch.Size([4, 10])
    # --8<-- [end:demo-gap]


if __name__ == "__main__":
    main()
