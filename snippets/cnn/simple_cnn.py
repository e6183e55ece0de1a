"""A small CNN with dropout in its dense head: shapes, parameter counts,
train and eval mode."""

import torch
from torch import nn


# --8<-- [start:size]
def conv_output_size(
    size: int, kernel: int, padding: int = 0, stride: int = 1
) -> int:
    """Side of a conv output: (size + 2 * padding - kernel) // stride + 1.
    With no padding and stride 1 this is size - kernel + 1."""
    if kernel < 1 or stride < 1 or padding < 0:
        raise ValueError(
            "need kernel >= 1, stride >= 1, padding >= 0; "
            f"got kernel={kernel}, stride={stride}, padding={padding}"
        )
    if size + 2 * padding < kernel:
        raise ValueError(
            f"kernel={kernel} does not fit in size={size} "
            f"with padding={padding}"
        )
    return (size + 2 * padding - kernel) // stride + 1


# --8<-- [end:size]


# --8<-- [start:model]
IN_SIZE, CHANNELS, KERNEL, CLASSES, P = 28, 16, 3, 10, 0.3


class SimpleCNN(nn.Module):
    """One conv layer, then a dense classifier with dropout on its input."""

    def __init__(self, p: float = P):
        super().__init__()
        # 28 - 3 + 1 = 26: no padding
        side = conv_output_size(IN_SIZE, KERNEL)
        # Registered in the order forward() uses them, so that
        # stage_shapes() can walk them.
        self.conv = nn.Conv2d(1, CHANNELS, KERNEL)  # 1 channel in, 16 out
        self.relu = nn.ReLU()
        self.flatten = nn.Flatten()  # (B, 16, 26, 26) -> (B, 10816)
        # Dropout guards the dense layer below: almost all the weights.
        self.dropout = nn.Dropout(p)
        self.fc = nn.Linear(CHANNELS * side * side, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.conv(x))
        x = self.dropout(self.flatten(x))  # a no-op in eval mode
        return self.fc(x)  # logits for 10 classes


# --8<-- [end:model]


BATCH = 8


# --8<-- [start:inspect]
def stage_shapes(
    model: nn.Module, x: torch.Tensor
) -> list[tuple[str, tuple[int, ...]]]:
    """The shape of the batch after each layer, in forward order."""
    shapes = [("input", tuple(x.shape))]
    for name, layer in model.named_children():
        x = layer(x)
        shapes.append((name, tuple(x.shape)))
    return shapes


def parameter_counts(model: nn.Module) -> dict[str, int]:
    """Weights + biases of every layer that has any."""
    counts = {}
    for name, layer in model.named_children():
        n = sum(p.numel() for p in layer.parameters())
        if n > 0:  # ReLU, Flatten and Dropout have no parameters
            counts[name] = n
    return counts


# --8<-- [end:inspect]


# --8<-- [start:modes]
def two_passes(model: nn.Module, x: torch.Tensor, training: bool):
    """The same batch through the model twice, in train or in eval mode
    (the mode stays set)."""
    model.train(training)
    with torch.no_grad():
        return model(x), model(x)


# --8<-- [end:modes]


def make_model(seed: int = 0) -> SimpleCNN:
    """A SimpleCNN with seeded weights; the caller's random state is left
    as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return SimpleCNN()


def times(shape: tuple[int, ...]) -> str:
    """(8, 16, 26, 26) as '8 × 16 × 26 × 26', for the prose."""
    return " × ".join(str(n) for n in shape)


def facts() -> dict:
    # replay main()'s random stream, then restore the caller's
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = SimpleCNN()
        x = torch.randn(BATCH, 1, IN_SIZE, IN_SIZE)
        # in train mode: its dropout draws a mask too
        shapes = dict(stage_shapes(model, x))
        eval_a, eval_b = two_passes(model, x, training=False)
        train_a, train_b = two_passes(model, x, training=True)
    counts = parameter_counts(model)
    total = sum(counts.values())
    side = conv_output_size(IN_SIZE, KERNEL)
    return {
        "in_size": IN_SIZE,
        "channels": CHANNELS,
        "kernel": KERNEL,
        "classes": CLASSES,
        "p": P,
        "keep_prob": 1 - P,
        "batch": BATCH,
        "side": side,
        "flat": CHANNELS * side * side,
        **{
            f"shape_{name}_text": times(shape)
            for name, shape in shapes.items()
        },
        "shape_input": shapes["input"],
        "shape_conv": shapes["conv"],
        "shape_flatten": shapes["flatten"],
        "shape_fc": shapes["fc"],
        "conv_weights": CHANNELS * 1 * KERNEL * KERNEL,
        "conv_params": counts["conv"],
        "fc_weights": CHANNELS * side * side * CLASSES,
        "fc_params": counts["fc"],
        "total_params": total,
        "fc_share": counts["fc"] / total,
        "conv_share": counts["conv"] / total,
        "eval_equal": torch.equal(eval_a, eval_b),
        "train_equal": torch.equal(train_a, train_b),
        "train_max_diff": (train_a - train_b).abs().max().item(),
    }


def main() -> None:
    # --8<-- [start:demo-size]
    # no padding, stride 1: 28 - 3 + 1
    print(conv_output_size(28, kernel=3))
    #> 26
    # "same" padding keeps the size
    print(conv_output_size(28, kernel=3, padding=1))
    #> 28
    # --8<-- [end:demo-size]

    # --8<-- [start:demo-shapes]
    torch.manual_seed(0)
    model = SimpleCNN()
    x = torch.randn(8, 1, 28, 28)  # a batch of 8 grayscale 28x28 images
    for name, shape in stage_shapes(model, x):
        print(f"{name:8s} {shape}")
        #> input    (8, 1, 28, 28)
        #> conv     (8, 16, 26, 26)
        #> relu     (8, 16, 26, 26)
        #> flatten  (8, 10816)
        #> dropout  (8, 10816)
        #> fc       (8, 10)
    # --8<-- [end:demo-shapes]

    # --8<-- [start:demo-params]
    counts = parameter_counts(model)
    total = sum(counts.values())
    for name, n in counts.items():
        print(f"{name:5s} {n:7,d}  {n / total:6.2%}")
        #> conv      160   0.15%
        #> fc    108,170  99.85%
    print(f"total {total:7,d}")
    #> total 108,330
    # --8<-- [end:demo-params]

    # --8<-- [start:demo-modes]
    a, b = two_passes(model, x, training=False)
    print("eval:  passes identical?", torch.equal(a, b))
    #> eval:  passes identical? True
    a, b = two_passes(model, x, training=True)
    print("train: passes identical?", torch.equal(a, b))
    #> train: passes identical? False
    print(f"train: largest logit difference {(a - b).abs().max():.3f}")
    #> train: largest logit difference 0.572
    # --8<-- [end:demo-modes]


if __name__ == "__main__":
    main()
