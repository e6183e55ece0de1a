"""Dropout trains an ensemble of sub-networks that share one set of weights.

With n droppable units there are 2**n masks, so 2**n "thinned" networks.
Each one is a slice of the same weight matrix. For a linear layer after
dropout, averaging all of them (weighted by how likely each mask is) gives
exactly what eval mode computes in one pass.
"""

import itertools

import torch
from torch import nn

from snippets.dropout.bernoulli import check_drop_prob

# 2**16 sub-networks: enumerating more is too slow to be useful
MAX_UNITS = 16


def check_one_example(h: torch.Tensor) -> int:
    """h must be one 1-D example: a batch (B, n) would broadcast against the
    (2**n, n) masks whenever B happens to equal 2**n, silently."""
    if not isinstance(h, torch.Tensor) or h.dim() != 1:
        shape = (
            tuple(h.shape)
            if isinstance(h, torch.Tensor)
            else type(h).__name__
        )
        raise ValueError(
            f"h must be one example of shape (n,), got {shape}"
        )
    if not 1 <= h.shape[0] <= MAX_UNITS:
        raise ValueError(
            f"h must have 1 to {MAX_UNITS} units, got {h.shape[0]}"
        )
    return h.shape[0]


# --8<-- [start:ensemble]
def all_masks(n_units: int) -> torch.Tensor:
    """Every 0/1 keep-mask over n units: shape (2**n, n)."""
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n_units)))


def ensemble_average(
    h: torch.Tensor, layer: nn.Module, p: float
) -> torch.Tensor:
    """Exact expectation over all sub-networks of
    layer(inverted_dropout(h)), for one example h of n units."""
    n = check_one_example(h)
    keep_prob = 1.0 - check_drop_prob(p)
    masks = all_masks(n).to(h)  # same dtype and device as h
    kept = masks.sum(dim=1)
    prob = keep_prob**kept * p ** (n - kept)  # probability of each mask
    # One row per sub-network, all with the same weights:
    outputs = layer(h * (masks / keep_prob))
    return (prob[:, None] * outputs).sum(dim=0)


# --8<-- [end:ensemble]


def facts() -> dict:
    return {
        "n_units": 4,
        "n_subnets": len(all_masks(4)),
        "n_units_big": 512,
    }


def main() -> None:
    # --8<-- [start:demo]
    torch.manual_seed(0)
    h = torch.tensor([4.0, 2.0, 8.0, 6.0])
    layer = nn.Linear(4, 3)
    print("sub-networks:", len(all_masks(4)))
    #> sub-networks: 16
    with torch.no_grad():
        print(ensemble_average(h, layer, p=0.5))
        #> tensor([-5.4562,  1.4661, -1.9175])
        # eval mode: dropout is the identity, one forward pass
        print(layer(h))
        #> tensor([-5.4562,  1.4661, -1.9175])
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
