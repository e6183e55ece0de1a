"""The data of every experiment: scikit-learn's 8x8 digits, split once
with a fixed seed."""

from dataclasses import dataclass

import torch
from sklearn.datasets import load_digits

SPLIT_SEED = 0
# 20 % of the 1,797 images each; the other 1,077 form the training pool
N_TEST = N_VAL = 360
N_CLASSES = 10


@dataclass(frozen=True)
class Split:
    x: torch.Tensor
    y: torch.Tensor


@dataclass(frozen=True)
class Digits:
    train: Split
    val: Split
    test: Split


# --8<-- [start:splits]
def digit_splits(
    n_train: int | None = None, sequences: bool = False
) -> Digits:
    """Test, validation and training sets; n_train keeps a class-balanced
    subset of the pool."""
    # 1,797 images that ship inside scikit-learn: nothing to download
    digits = load_digits()
    # pixel values 0..16 -> 0..1
    x = torch.tensor(digits.images, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target)
    order = torch.randperm(
        len(y), generator=torch.Generator().manual_seed(SPLIT_SEED)
    )
    test, val, pool = (
        order[:N_TEST],
        order[N_TEST : N_TEST + N_VAL],
        order[N_TEST + N_VAL :],
    )
    if n_train is not None:
        pool = balanced_subset(pool, y, n_train)
    # A CNN sees a 1x8x8 image; an RNN reads the same image as 8 steps
    # of 8 pixels (its rows).
    x = x if sequences else x.unsqueeze(1)
    return Digits(*(Split(x[rows], y[rows]) for rows in (pool, val, test)))


def balanced_subset(
    indices: torch.Tensor, labels: torch.Tensor, n: int
) -> torch.Tensor:
    """The first n / 10 indices of every class, in the shuffled order:
    same seed, same subset."""
    per_class = n // N_CLASSES
    available = min(
        int((labels[indices] == c).sum()) for c in range(N_CLASSES)
    )
    if n % N_CLASSES or not 1 <= per_class <= available:
        largest = available * N_CLASSES
        raise ValueError(
            f"n_train must be a multiple of 10 from 10 to {largest}, "
            f"got n_train={n}"
        )
    return torch.cat(
        [
            indices[labels[indices] == c][:per_class]
            for c in range(N_CLASSES)
        ]
    )


# --8<-- [end:splits]


def facts() -> dict:
    full = digit_splits()
    return {
        "n_images": len(load_digits().target),
        "n_pool": len(full.train.y),
        "n_val": len(full.val.y),
        "n_test": len(full.test.y),
    }


def main() -> None:
    # --8<-- [start:demo]
    full = digit_splits()
    print(
        f"train pool {len(full.train.y)}, validation {len(full.val.y)}, "
        f"test {len(full.test.y)}"
    )
    #> train pool 1077, validation 360, test 360
    small = digit_splits(n_train=100, sequences=True)
    print(tuple(small.train.x.shape), small.train.y.bincount().tolist())
    #> (100, 8, 8) [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
