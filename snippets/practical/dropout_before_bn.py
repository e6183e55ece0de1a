"""Dropout right before BatchNorm: BN learns the training-time variance, then sees a smaller one."""

import torch
from torch import nn

from snippets.dropout.bernoulli import check_drop_prob


# --8<-- [start:formula]
def dropout_variance(mean: float, var: float, p: float) -> float:
    """Train-mode variance of inverted dropout's output, for an input
    with this mean and variance. The mean is kept, and
    E[h~^2] = (1 - p) E[h^2] / (1 - p)^2 = E[h^2] / (1 - p)."""
    keep_prob = 1.0 - check_drop_prob(p)
    if var < 0:
        raise ValueError(f"var must be >= 0, got var={var}")
    return (var + mean**2) / keep_prob - mean**2
# --8<-- [end:formula]


# --8<-- [start:block]
@torch.no_grad()
def train_then_eval(dropout_first: bool, p: float, batches):
    """Train-mode passes over the batches fill BN's running statistics;
    then the same data goes through in eval mode.
    Returns (BN's running variance, eval output variance)."""
    # momentum=None: running_var is the plain average over all
    # batches, without the moving average's noise
    bn = nn.BatchNorm1d(batches.shape[-1], momentum=None)
    dropout = nn.Dropout(p)
    layers = (dropout, bn) if dropout_first else (bn, dropout)
    block = nn.Sequential(*layers).train()
    for batch in batches:  # one "epoch"
        block(batch)
    out = block.eval()(batches.flatten(0, 1))
    return bn.running_var.mean().item(), out.var().item()
# --8<-- [end:block]


def activations(seed: int = 0, steps: int = 200, batch: int = 64, features: int = 16) -> torch.Tensor:
    """Zero-mean, unit-variance inputs, shaped (steps, batch, features)."""
    return torch.randn(steps, batch, features, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def measured_dropout_variance(x: torch.Tensor, p: float, seed: int = 0) -> tuple[float, float]:
    """Variance of nn.Dropout(p)'s output on x in train mode and in eval mode."""
    torch.manual_seed(seed)
    dropout = nn.Dropout(p)
    return dropout.train()(x).var().item(), dropout.eval()(x).var().item()


def facts() -> dict:
    x = activations()
    drop_train, drop_eval = measured_dropout_variance(x, 0.5)
    shifted = train_then_eval(True, 0.5, x)
    fine = train_then_eval(False, 0.5, x)
    return {
        "p": 0.5,
        "formula_train": dropout_variance(0.0, 1.0, 0.5),
        "drop_train": drop_train,
        "drop_eval": drop_eval,
        "shifted_running": shifted[0],
        "shifted_out": shifted[1],
        "fine_running": fine[0],
        "fine_out": fine[1],
        "formula_mean1": dropout_variance(1.0, 1.0, 0.5),
    }


def main() -> None:
    # --8<-- [start:demo]
    x = activations()  # mean 0, variance 1
    train_var, eval_var = measured_dropout_variance(x, p=0.5)
    print(f"dropout variance: train {train_var:.2f}, eval {eval_var:.2f}")
    #> dropout variance: train 1.99, eval 1.00
    print("formula for train:", dropout_variance(0.0, 1.0, p=0.5))
    #> formula for train: 2.0

    for dropout_first in (True, False):
        running, out = train_then_eval(dropout_first, 0.5, x)
        order = "dropout -> BN" if dropout_first else "BN -> dropout"
        print(f"{order}: running var {running:.2f}, eval out {out:.2f}")
        #> dropout -> BN: running var 2.01, eval out 0.50
        #> BN -> dropout: running var 1.00, eval out 1.00
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
