"""Dropout as a Bernoulli mask: each unit is kept (r = 1) or zeroed (r = 0) by a biased coin."""

import torch


# --8<-- [start:mask]
def check_drop_prob(p: float) -> float:
    """p is the probability of dropping a unit, as in torch.nn.Dropout(p)."""
    if not 0.0 <= p < 1.0:
        # p = 1 would drop every unit, and inverted dropout would divide by 1 - p = 0.
        raise ValueError(f"drop probability p must be in [0, 1), got p={p}")
    return p


def bernoulli_mask(shape, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A 0/1 tensor: each entry is 1 (keep) with probability 1 - p, independently."""
    keep_prob = 1.0 - check_drop_prob(p)
    return (torch.rand(shape, generator=generator) < keep_prob).float()


def apply_mask(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """h~ = h * r, element by element: kept units pass unchanged, dropped units become 0."""
    if h.shape != mask.shape:
        raise ValueError(f"mask shape {tuple(mask.shape)} does not match h shape {tuple(h.shape)}")
    return h * mask
# --8<-- [end:mask]


COIN_KEEP_PROB = 0.7
COIN_FLIPS = 10_000
SINGLE_H = 6.0
LAYER_H = [4.0, 2.0, 8.0, 6.0]
PRIMER_H = [5.0, 3.0, 7.0, 1.0]
MASK = [1.0, 0.0, 1.0, 0.0]


def coin_heads_fraction(seed: int = 0) -> float:
    """Share of heads in COIN_FLIPS tosses of a coin that lands heads with probability 0.7."""
    generator = torch.Generator().manual_seed(seed)
    # A coin that comes up heads 70 % of the time "drops" with probability p = 0.3.
    flips = bernoulli_mask((COIN_FLIPS,), p=1 - COIN_KEEP_PROB, generator=generator)
    return flips.mean().item()


def facts() -> dict:
    mask = torch.tensor(MASK)
    return {
        "coin_keep": COIN_KEEP_PROB,
        "coin_flips": COIN_FLIPS,
        "coin_heads": coin_heads_fraction(),
        "single_h": SINGLE_H,
        "layer_h": LAYER_H,
        "primer_h": PRIMER_H,
        "mask": MASK,
        "layer_out": apply_mask(torch.tensor(LAYER_H), mask),
        "primer_out": apply_mask(torch.tensor(PRIMER_H), mask),
    }


def main() -> None:
    # --8<-- [start:coin]
    generator = torch.Generator().manual_seed(0)
    flips = bernoulli_mask((10,), p=0.3, generator=generator)  # heads (1) with probability 0.7
    print(flips)
    #> tensor([1., 0., 1., 1., 1., 1., 1., 0., 1., 1.])
    print(f"heads in 10,000 flips: {coin_heads_fraction():.3f}")
    #> heads in 10,000 flips: 0.703
    # --8<-- [end:coin]

    # --8<-- [start:single]
    h = torch.tensor(6.0)
    for r in (torch.tensor(1.0), torch.tensor(0.0)):
        print(f"r = {r.item():.0f}: h~ = {apply_mask(h, r).item():.0f}")
    #> r = 1: h~ = 6
    #> r = 0: h~ = 0
    # --8<-- [end:single]

    # --8<-- [start:layer]
    mask = torch.tensor([1.0, 0.0, 1.0, 0.0])
    print(apply_mask(torch.tensor([4.0, 2.0, 8.0, 6.0]), mask))
    #> tensor([4., 0., 8., 0.])
    print(apply_mask(torch.tensor([5.0, 3.0, 7.0, 1.0]), mask))
    #> tensor([5., 0., 7., 0.])
    # --8<-- [end:layer]


if __name__ == "__main__":
    main()
