"""Validation loss below training loss: dropout is on while the training
loss is measured, and the training loss is an average over an epoch
during which the weights improved."""

import functools

import torch
import torch.nn.functional as F
from torch import nn


def noisy_xor(n: int = 512, seed: int = 0):
    """Two classes by the sign of x0 * x1, with 10 % of the labels
    flipped so that no model gets the loss to zero."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=generator)
    y = (x[:, 0] * x[:, 1] > 0).long()
    flip = torch.rand(n, generator=generator) < 0.1
    return x, torch.where(flip, 1 - y, y)


def dropout_mlp(p: float = 0.5) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(), nn.Dropout(p), nn.Linear(64, 2)
    )


# --8<-- [start:epoch]
def train_epoch(model, optimizer, x, y, batch_size: int = 32) -> float:
    """One epoch; returns what most training loops report: the mean of
    the batch losses, each computed with dropout on and with the
    weights of that moment."""
    model.train()
    losses = []
    for start in range(0, len(x), batch_size):
        loss = F.cross_entropy(
            model(x[start : start + batch_size]),
            y[start : start + batch_size],
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@torch.no_grad()
def eval_loss(model, x, y) -> float:
    """The loss a validation step reports: eval mode, final weights."""
    model.eval()
    return F.cross_entropy(model(x), y).item()


# --8<-- [end:epoch]


# --8<-- [start:modes]
@torch.no_grad()
def train_mode_loss(model, x, y) -> float:
    """The same weights, the same data, dropout on."""
    model.train()
    return F.cross_entropy(model(x), y).item()


# --8<-- [end:modes]


@functools.cache
def run(epochs: int = 5, p: float = 0.5) -> dict:
    """Train a small net; per epoch the reported training loss, the
    loss of the end-of-epoch weights on the training data in eval and in
    train mode, and the validation loss."""
    (x, y), (x_val, y_val) = noisy_xor(512, seed=0), noisy_xor(512, seed=1)
    model = dropout_mlp(p)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    history = []
    for _ in range(epochs):
        reported = train_epoch(model, optimizer, x, y)
        history.append(
            {
                "reported": reported,
                "train_eval_mode": eval_loss(model, x, y),
                "train_train_mode": train_mode_loss(model, x, y),
                "val": eval_loss(model, x_val, y_val),
            }
        )
    return history


def facts() -> dict:
    history = run()
    first, last = history[0], history[-1]
    return {
        "epochs": len(history),
        "first_reported": first["reported"],
        "first_end": first["train_eval_mode"],
        "last_reported": last["reported"],
        "last_train_eval": last["train_eval_mode"],
        "last_train_train": last["train_train_mode"],
        "last_val": last["val"],
    }


def main() -> None:
    # --8<-- [start:demo]
    history = run()  # 5 epochs, dropout p = 0.5
    first, last = history[0], history[-1]
    # epoch 1: the weights improve during the epoch
    print(first["reported"] > first["train_eval_mode"])
    #> True
    # at the end: the reported loss is above the validation loss ...
    print(last["reported"] > last["val"])
    #> True
    # ... and the training data in eval mode is below the validation loss
    print(last["train_eval_mode"] < last["val"])
    #> False
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
