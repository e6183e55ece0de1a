"""What torch.nn.Dropout(p) really does: p is the drop probability, and
survivors are divided by 1 - p."""

import numbers

import torch
from torch import nn


# --8<-- [start:mapping]
def torch_p_from_keep_prob(keep_prob: float) -> float:
    """Texts that write r ~ Bernoulli(p) with p = keep probability need
    nn.Dropout(1 - p)."""
    is_number = isinstance(keep_prob, numbers.Real)
    if isinstance(keep_prob, bool) or not is_number:
        raise TypeError(
            f"keep_prob must be a real number, got {keep_prob!r}"
        )
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(
            f"keep_prob must be in (0, 1], got keep_prob={keep_prob}"
        )
    return 1.0 - keep_prob


# --8<-- [end:mapping]


def train_and_eval_outputs(x: torch.Tensor, p: float, seed: int = 0):
    """nn.Dropout(p) applied to x once in train mode, once in eval mode."""
    torch.manual_seed(seed)
    layer = nn.Dropout(p)
    layer.train()
    trained = layer(x)
    layer.eval()
    return trained, layer(x)


def facts() -> dict:
    ones = torch.ones(100_000)
    trained, _ = train_and_eval_outputs(ones, p=0.3)
    return {
        "p": 0.3,
        "keep_prob": 0.7,
        "scale": 1 / 0.7,
        "wrong_scale": 1 / 0.3,
        "zero_fraction": (trained == 0).float().mean().item(),
        "kept_mean": trained.mean().item(),
        "seed_keep": 0.75,
        "seed_torch_p": torch_p_from_keep_prob(0.75),
    }


def main() -> None:
    # --8<-- [start:train-eval]
    torch.manual_seed(0)
    dropout = nn.Dropout(p=0.3)  # p = probability of ZEROING an element
    x = torch.ones(2, 4)

    # modules start in training mode; model.train() sets it too
    dropout.train()
    print(dropout(x))
    #> tensor([[0.0000, 0.0000, 1.4286, 0.0000],
    #>         [1.4286, 0.0000, 1.4286, 1.4286]])
    print(
        f"survivors are x / (1 - p) = x / 0.7 = {1 / 0.7:.4f},",
        f"not x / p = {1 / 0.3:.4f}",
    )
    #> survivors are x / (1 - p) = x / 0.7 = 1.4286, not x / p = 3.3333

    dropout.eval()  # model.eval() switches every dropout layer off
    print(dropout(x))
    #> tensor([[1., 1., 1., 1.],
    #>         [1., 1., 1., 1.]])
    # --8<-- [end:train-eval]

    # --8<-- [start:demo-mapping]
    # "keep 75 % of the units", in keep-probability notation
    keep_prob = 0.75
    print(nn.Dropout(p=torch_p_from_keep_prob(keep_prob)))
    #> Dropout(p=0.25, inplace=False)
    # --8<-- [end:demo-mapping]


if __name__ == "__main__":
    main()
