"""Masks over time in an RNN: a fresh dropout mask at every step, or one
mask locked for the sequence."""

import torch

from snippets.dropout.bernoulli import bernoulli_mask, check_drop_prob


def check_steps(steps: int) -> int:
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got steps={steps}")
    return steps


# --8<-- [start:masks]
def fresh_masks(
    steps: int, units: int, p: float, generator=None
) -> torch.Tensor:
    """Naive dropout: a new coin for every unit at every time step
    (rows are steps)."""
    return bernoulli_mask((check_steps(steps), units), p, generator)


def locked_masks(
    steps: int, units: int, p: float, generator=None
) -> torch.Tensor:
    """Variational (locked) dropout: one coin per unit, reused at every
    step."""
    return bernoulli_mask((1, units), p, generator).expand(
        check_steps(steps), units
    )


# --8<-- [end:masks]


# --8<-- [start:odds]
def kept_throughout(p: float, steps: int, locked: bool) -> float:
    """Probability that a unit is kept at every one of the steps."""
    keep = 1.0 - check_drop_prob(p)
    return keep if locked else keep ** check_steps(steps)


def expected_flips(p: float, steps: int, locked: bool) -> float:
    """Expected number of times a unit's mask changes between consecutive
    steps."""
    # Two independent coins differ with probability 2 p (1 - p).
    return (
        0.0
        if locked
        else (check_steps(steps) - 1) * 2 * check_drop_prob(p) * (1 - p)
    )


# --8<-- [end:odds]


STEPS, UNITS, P = 12, 8, 0.3


def facts() -> dict:
    generator = torch.Generator().manual_seed(0)
    fresh = fresh_masks(STEPS, UNITS, P, generator)
    locked = locked_masks(STEPS, UNITS, P, generator)
    return {
        "steps": STEPS,
        "units": UNITS,
        "p": P,
        "fresh_rows": fresh[:3].int(),
        "locked_rows": locked[:3].int(),
        "fresh_kept_all": kept_throughout(P, STEPS, locked=False),
        "locked_kept_all": kept_throughout(P, STEPS, locked=True),
        "fresh_flips": expected_flips(P, STEPS, locked=False),
        "locked_flips": expected_flips(P, STEPS, locked=True),
    }


def main() -> None:
    # --8<-- [start:demo]
    generator = torch.Generator().manual_seed(0)
    print(fresh_masks(steps=4, units=8, p=0.3, generator=generator).int())
    #> tensor([[1, 0, 1, 1, 1, 1, 1, 0],
    #>         [1, 1, 1, 1, 1, 1, 1, 1],
    #>         [1, 0, 1, 1, 1, 0, 1, 0],
    #>         [1, 1, 0, 1, 1, 1, 1, 0]], dtype=torch.int32)
    print(locked_masks(steps=4, units=8, p=0.3, generator=generator).int())
    #> tensor([[1, 1, 1, 1, 1, 0, 0, 0],
    #>         [1, 1, 1, 1, 1, 0, 0, 0],
    #>         [1, 1, 1, 1, 1, 0, 0, 0],
    #>         [1, 1, 1, 1, 1, 0, 0, 0]], dtype=torch.int32)
    for locked in (False, True):
        kept = kept_throughout(0.3, 12, locked)
        flips = expected_flips(0.3, 12, locked)
        name = "locked" if locked else "fresh "
        print(
            f"{name}: P(kept at all 12 steps) = {kept:.4f},",
            f"{flips:.2f} changes",
        )
        #> fresh : P(kept at all 12 steps) = 0.0138, 4.62 changes
        #> locked: P(kept at all 12 steps) = 0.7000, 0.00 changes
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
