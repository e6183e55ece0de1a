"""Dropout right before BatchNorm: BN learns the training-time variance,
then sees a smaller one."""

import functools

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
def train_then_eval(dropout_first: bool, p: float, batches, seed=0):
    """Train-mode passes over the batches fill BN's running statistics;
    then the same data goes through in eval mode.
    Returns (BN's running variance, eval output variance)."""
    check_batches(batches)
    # momentum=None: running_var is the plain average over all
    # batches, without the moving average's noise
    bn = nn.BatchNorm1d(batches.shape[-1], momentum=None)
    dropout = nn.Dropout(p)
    layers = (dropout, bn) if dropout_first else (bn, dropout)
    block = nn.Sequential(*layers).train()
    with torch.random.fork_rng():  # seeded masks; global RNG untouched
        torch.manual_seed(seed)
        for batch in batches:  # one "epoch"
            block(batch)
    out = block.eval()(batches.flatten(0, 1))
    return bn.running_var.mean().item(), out.var().item()


# --8<-- [end:block]


def check_batches(batches) -> None:
    if not torch.is_tensor(batches) or batches.dim() != 3:
        raise ValueError(
            "batches must have shape (steps, batch, features), "
            f"got {tuple(getattr(batches, 'shape', ()))}"
        )


def activations(
    seed: int = 0, steps: int = 200, batch: int = 64, features: int = 16
) -> torch.Tensor:
    """Zero-mean, unit-variance inputs, shaped (steps, batch, features)."""
    return torch.randn(
        steps,
        batch,
        features,
        generator=torch.Generator().manual_seed(seed),
    )


@torch.no_grad()
def measured_dropout_variance(
    x: torch.Tensor, p: float, seed: int = 0
) -> tuple[float, float]:
    """Variance of nn.Dropout(p)'s output on x in train mode and in eval
    mode."""
    dropout = nn.Dropout(p)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        train = dropout.train()(x).var().item()
    return train, dropout.eval()(x).var().item()


# --8<-- [start:width]
def predicted_shift(width: int, p: float, shared: float) -> float:
    """Eval over train variance after Dropout(p) -> the mean of `width`
    inputs, each of variance 1, with correlation `shared` between any
    two. The inputs' common part adds up over the width; dropout's
    noise, independent per input, averages out like 1 / width."""
    keep = 1.0 - check_drop_prob(p)
    signal = shared + (1.0 - shared) / width  # the variance in eval mode
    noise = (1.0 - keep) / keep / width  # what dropout adds in training
    return signal / (signal + noise)


@torch.no_grad()
def measured_shift(width: int, p: float, shared: float, seed=0) -> float:
    """The same, measured: Dropout -> Linear (the mean) -> BN, trained
    on correlated inputs; BN's eval output variance is the ratio."""
    g = torch.Generator().manual_seed(seed)
    common = torch.randn(50, 256, 1, generator=g)
    own = torch.randn(50, 256, width, generator=g)
    x = shared**0.5 * common + (1 - shared) ** 0.5 * own
    mean = nn.Linear(width, 1, bias=False)
    mean.weight.fill_(1.0 / width)
    block = nn.Sequential(
        nn.Dropout(p), mean, nn.BatchNorm1d(1, momentum=None)
    )
    return train_then_eval_block(block, x, seed)


# --8<-- [end:width]


@torch.no_grad()
def train_then_eval_block(
    block: nn.Module, batches, seed: int = 0
) -> float:
    """Train-mode passes over the batches, then the variance of the
    eval-mode output on the same data."""
    block.train()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for batch in batches:
            block(batch)
    return block.eval()(batches.flatten(0, 1)).var().item()


WIDTHS = (1, 16, 256)


@functools.cache
def shift_table(shared: float) -> tuple[float, ...]:
    """measured_shift at each of WIDTHS, p = 0.5
    (computed once per process)."""
    return tuple(measured_shift(w, 0.5, shared) for w in WIDTHS)


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
        "widths": list(WIDTHS),
        "shared": 0.5,
        "shift_shared": list(shift_table(0.5)),
        "shift_independent": list(shift_table(0.0)),
        "predicted_shared": [predicted_shift(w, 0.5, 0.5) for w in WIDTHS],
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
        #> dropout -> BN: running var 1.99, eval out 0.50
        #> BN -> dropout: running var 1.00, eval out 1.00
    # --8<-- [end:demo]

    # --8<-- [start:demo-width]
    for width in (1, 16, 256):
        shared = measured_shift(width, p=0.5, shared=0.5)
        alone = measured_shift(width, p=0.5, shared=0.0)
        print(
            f"width {width:3d}: eval/train variance",
            f"{shared:.2f} correlated, {alone:.2f} independent",
        )
        #> width   1: eval/train variance 0.51 correlated, 0.51 independent
        #> width  16: eval/train variance 0.90 correlated, 0.49 independent
        #> width 256: eval/train variance 0.99 correlated, 0.50 independent
    # --8<-- [end:demo-width]


if __name__ == "__main__":
    main()
