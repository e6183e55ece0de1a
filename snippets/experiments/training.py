"""One training loop for every experiment: seeded, deterministic, and
measured after each epoch."""

import copy
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from snippets.experiments.data import Digits, Split


# --8<-- [start:deterministic]
@contextmanager
def deterministic(threads: int = 1) -> Iterator[None]:
    """Same seed, same numbers: deterministic kernels and a fixed thread
    count (sums in one order)."""
    saved = (
        torch.get_num_threads(),
        torch.are_deterministic_algorithms_enabled(),
    )
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(saved[0])
        torch.use_deterministic_algorithms(saved[1])


# --8<-- [end:deterministic]


def evaluate(model: nn.Module, split: Split) -> tuple[float, float]:
    """Mean cross-entropy and accuracy in eval mode: no dropout, and BN
    uses its running statistics."""
    model.eval()
    with torch.no_grad():
        logits = model(split.x)
    return F.cross_entropy(logits, split.y).item(), (
        logits.argmax(1) == split.y
    ).float().mean().item()


def make_optimizer(
    name: str, params, lr: float, momentum: float
) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    raise ValueError(
        f"optimizer must be 'adam' or 'sgd', got optimizer={name!r}"
    )


# --8<-- [start:fit]
def fit(
    make_model: Callable[[], nn.Module],
    data: Digits,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    optimizer: str = "adam",
    momentum: float = 0.0,
    progress: Callable[[int], object] = lambda epochs: None,
) -> dict:
    """Train a fresh model; after every epoch, measure train and validation.

    The test split is measured twice, at the very end: the last weights,
    and the weights of the epoch with the lowest validation loss (the ones
    early stopping keeps). Nothing is ever chosen by a test number.
    """
    history = {
        "train_loss": [],
        "train_acc": [],
        "val_loss": [],
        "val_acc": [],
        "diverged_at": None,
        "best_epoch": None,
        "test_acc": None,
        "test_acc_at_best": None,
    }
    # The seed fixes init and dropout masks, and leaves the caller's alone.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = make_model()
        opt = make_optimizer(optimizer, model.parameters(), lr, momentum)
        order = torch.Generator().manual_seed(seed)  # mini-batch order
        n, best = len(data.train.y), None
        for epoch in range(1, epochs + 1):
            model.train()
            for batch in torch.randperm(n, generator=order).split(
                batch_size
            ):
                x, y = data.train.x[batch], data.train.y[batch]
                loss = F.cross_entropy(model(x), y)
                if not math.isfinite(loss.item()):  # nothing left to learn
                    history["diverged_at"] = epoch
                    progress(epochs - epoch + 1)
                    return history
                opt.zero_grad()
                loss.backward()
                opt.step()
            for split, name in ((data.train, "train"), (data.val, "val")):
                loss_value, accuracy = evaluate(model, split)
                history[f"{name}_loss"].append(loss_value)
                history[f"{name}_acc"].append(accuracy)
            if history["val_loss"][-1] < min(
                history["val_loss"][:-1], default=math.inf
            ):
                history["best_epoch"] = epoch
                best = copy.deepcopy(model.state_dict())
            progress(1)
        history["test_acc"] = evaluate(model, data.test)[1]
        if best is not None:  # None: no finite validation loss, ever
            # a copy: the caller's model keeps its last weights
            kept = copy.deepcopy(model)
            kept.load_state_dict(best)
            history["test_acc_at_best"] = evaluate(kept, data.test)[1]
    return history


# --8<-- [end:fit]


def seed_list(seeds: int | None, default: int) -> list[int]:
    """Seeds 0, 1, ..., n - 1; n is the experiment's default unless the
    command line says otherwise."""
    n = default if seeds is None else seeds
    if n < 1:
        raise ValueError(f"seeds must be at least 1, got seeds={n}")
    return list(range(n))


# --8<-- [start:summary]
def final_summary(histories: list[dict]) -> dict:
    """Mean and spread over seeds of where training ended, and of the
    best validation loss."""
    last = {
        key: np.array([h[key][-1] for h in histories])
        for key in ("train_loss", "train_acc", "val_loss", "val_acc")
    }
    best_val_loss = np.array([min(h["val_loss"]) for h in histories])
    return {
        "val_acc_mean": 100 * last["val_acc"].mean(),
        "val_acc_std": 100 * last["val_acc"].std(),
        # train minus validation
        "acc_gap": 100 * (last["train_acc"] - last["val_acc"]).mean(),
        "loss_gap": (last["val_loss"] - last["train_loss"]).mean(),
        "best_val_loss_mean": best_val_loss.mean(),
        "best_val_loss_std": best_val_loss.std(),
        "test_acc_mean": 100 * np.mean([h["test_acc"] for h in histories]),
        "test_acc_at_best_mean": 100
        * np.mean([h["test_acc_at_best"] for h in histories]),
        "best_epoch_mean": np.mean([h["best_epoch"] for h in histories]),
    }


# --8<-- [end:summary]


def main() -> None:
    from snippets.experiments.data import digit_splits
    from snippets.experiments.models import digit_cnn

    # --8<-- [start:demo]
    data = digit_splits(n_train=100)
    with deterministic():
        runs = [
            fit(digit_cnn, data, epochs=3, lr=2e-3, batch_size=10, seed=0)
            for _ in range(2)
        ]
    print([f"{loss:.4f}" for loss in runs[0]["val_loss"]])
    #> ['2.2946', '2.2720', '2.2375']
    print("two runs, identical histories:", runs[0] == runs[1])
    #> two runs, identical histories: True
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
