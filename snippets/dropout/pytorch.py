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


# --8<-- [start:paper-rates]
# Keep probabilities as the sources give them: Srivastava et al. (2014),
# section 1, appendix A.4 and appendix B.2 (the SVHN network: 3 conv and
# 2 fully connected layers); Zaremba et al. (2014), their medium and large
# Penn Tree Bank LSTMs (50 % and 65 % dropout).
KEEP_PROBABILITIES = {
    "inputs (pixels, speech frames)": 0.8,
    "hidden, fully connected (low)": 0.5,
    "hidden, fully connected (high)": 0.8,
    "SVHN CNN: input": 0.9,
    "SVHN CNN: conv 1 and 2": 0.75,
    "SVHN CNN: conv 3 and fully connected": 0.5,
    "LSTM, non-recurrent (medium)": 0.5,
    "LSTM, non-recurrent (large)": 0.35,
}


def torch_rates() -> dict:
    """The same table as nn.Dropout's p: the share DROPPED."""
    return {
        layer: round(torch_p_from_keep_prob(keep), 10)
        for layer, keep in KEEP_PROBABILITIES.items()
    }


# --8<-- [end:paper-rates]


# --8<-- [start:input-dropout]
def mlp_with_input_dropout(
    n_in: int,
    hidden: int,
    n_out: int,
    p_input: float = 0.2,
    p_hidden: float = 0.5,
) -> nn.Sequential:
    """Srivastava et al.'s recipe in PyTorch terms: keep 80 % of the
    inputs and 50 % of the hidden units."""
    return nn.Sequential(
        nn.Dropout(p_input),  # on the input features themselves
        nn.Linear(n_in, hidden),
        nn.ReLU(),
        nn.Dropout(p_hidden),
        nn.Linear(hidden, n_out),
    )


# --8<-- [end:input-dropout]


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
        "keep": list(KEEP_PROBABILITIES.values()),
        "torch_p": list(torch_rates().values()),
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

    # --8<-- [start:demo-input-dropout]
    torch.manual_seed(0)
    model = mlp_with_input_dropout(n_in=64, hidden=128, n_out=10)
    image = torch.ones(1, 64)  # an 8 x 8 image of ones, flattened
    seen = model[0](image)  # what the first linear layer receives
    print(f"{(seen == 0).sum().item()} of 64 pixels zeroed")
    #> 12 of 64 pixels zeroed
    print(torch_rates()["inputs (pixels, speech frames)"])
    #> 0.2
    # --8<-- [end:demo-input-dropout]


if __name__ == "__main__":
    main()
