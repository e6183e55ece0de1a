"""Dropout as a Bernoulli mask: a biased coin keeps each unit (r = 1) or
zeroes it (r = 0)."""

import numbers

import torch


def check_probability(value, name: str, allow_one: bool) -> float:
    """A real number in [0, 1) (or [0, 1]); bool, None, NaN and the rest
    are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        # nn.Dropout(True) would silently mean p = 1: refuse, do not guess.
        raise TypeError(
            f"drop probability {name} must be a real number, "
            f"got {name}={value!r}"
        )
    top = "1]" if allow_one else "1)"
    # NaN fails the comparison too
    if not (0.0 <= value <= 1.0 and (allow_one or value < 1.0)):
        raise ValueError(
            f"drop probability {name} must be in [0, {top}, "
            f"got {name}={value}"
        )
    return float(value)


def check_floating(h: torch.Tensor, name: str = "h") -> None:
    """Training-mode dropout needs a float tensor, as in PyTorch (which
    raises on integer tensors)."""
    if not isinstance(h, torch.Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(h).__name__}")
    if not h.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got dtype {h.dtype}"
        )


# --8<-- [start:mask]
def check_drop_prob(p: float) -> float:
    """p is the probability of dropping a unit, as in nn.Dropout(p)."""
    # p = 1 would drop every unit, and inverted dropout would divide
    # by 1 - p = 0 (dropout_layer handles p = 1 itself, as PyTorch does).
    return check_probability(p, "p", allow_one=False)


def bernoulli_mask(
    shape, p: float, generator=None, device=None, dtype=torch.float32
) -> torch.Tensor:
    """A 0/1 tensor: each entry is 1 (keep) with probability 1 - p,
    independently; made on `device` in `dtype`, like the tensor it masks."""
    keep_prob = 1.0 - check_drop_prob(p)
    u = torch.rand(shape, generator=generator, device=device)
    return (u < keep_prob).to(dtype)


def apply_mask(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """h~ = h * r, element-wise: kept units pass, dropped ones are 0."""
    if h.shape != mask.shape:
        raise ValueError(
            f"mask shape {tuple(mask.shape)} does not match "
            f"h shape {tuple(h.shape)}"
        )
    return h * mask.to(h.dtype)  # a float32 mask keeps float16 h float16


# --8<-- [end:mask]


COIN_KEEP_PROB = 0.7
COIN_FLIPS = 10_000
SINGLE_H = 6.0
LAYER_H = [4.0, 2.0, 8.0, 6.0]
PRIMER_H = [5.0, 3.0, 7.0, 1.0]
MASK = [1.0, 0.0, 1.0, 0.0]


def coin_heads_fraction(seed: int = 0) -> float:
    """Share of heads in COIN_FLIPS tosses of a coin that lands heads with
    probability 0.7."""
    generator = torch.Generator().manual_seed(seed)
    # A coin that comes up heads 70 % of the time "drops" with p = 0.3.
    flips = bernoulli_mask(
        (COIN_FLIPS,), p=1 - COIN_KEEP_PROB, generator=generator
    )
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
    # heads (1) with probability 0.7:
    flips = bernoulli_mask((10,), p=0.3, generator=generator)
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
