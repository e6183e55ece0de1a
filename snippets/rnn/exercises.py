"""Solutions to the exercises of the RNN chapter."""

import math

import torch
from torch import nn

from snippets.rnn.naive import check_rate
from snippets.rnn.variational import LockedDropout
from snippets.rnn.zoneout import memory_reaching_the_end, zoneout_lstm


def check_forgetting(p, share) -> None:
    check_rate(p)
    if isinstance(share, bool) or not isinstance(share, (int, float)):
        raise TypeError(f"share must be a float, got share={share!r}")
    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be in (0, 1), got share={share}")
    if p == 0.0:
        raise ValueError("with p=0 nothing is ever forgotten")


def check_time_axis(x: torch.Tensor, time_axis: int) -> None:
    if not -x.dim() <= time_axis < x.dim():
        raise ValueError(
            f"time_axis={time_axis} is not an axis of a {x.dim()}-D tensor"
        )
    if x.shape[time_axis] == 0:
        raise ValueError(
            f"the time axis {time_axis} is empty: shape {tuple(x.shape)}"
        )


def check_limit(limit) -> None:
    """clip_grad_value_ with a negative clip_value sets every entry to
    -clip_value, and clip_grad_norm_ with a negative max_norm flips the
    gradient: refuse both."""
    if isinstance(limit, bool) or not isinstance(limit, (int, float)):
        raise TypeError(f"limit must be a number, got limit={limit!r}")
    if not limit > 0:
        raise ValueError(f"limit must be positive, got limit={limit}")


# --8<-- [start:forgotten]
def steps_until_forgotten(p: float, share: float) -> int:
    """Smallest T with (1 - p)^T < share: after T fresh masks on the cell
    state, fewer than `share` of the units still hold what they stored at
    step 0."""
    check_forgetting(p, share)
    if p == 1.0:
        return 1  # the first mask drops every unit
    # ln s / ln(1 - p) may round either way: start just below the answer
    # and step up to the first T that really is below the share.
    steps = max(1, math.floor(math.log(share) / math.log(1.0 - p)) - 1)
    while (1.0 - p) ** steps >= share:
        steps += 1
    return steps


# --8<-- [end:forgotten]


# --8<-- [start:is-locked]
def is_locked(dropped_ones: torch.Tensor, time_axis: int = 0) -> bool:
    """Given dropout applied to a tensor of ones: did all time steps share
    one mask?"""
    check_time_axis(dropped_ones, time_axis)
    # narrow keeps the time axis (size 1), so the first step broadcasts
    first_step = dropped_ones.narrow(time_axis, 0, 1)
    return bool((dropped_ones == first_step).all())


# --8<-- [end:is-locked]


# --8<-- [start:zoneout-zero]
def zoneout_zero_is_plain_lstm(seed: int = 0) -> bool:
    """With p_c = p_h = 0 no unit is ever zoned out: zoneout_lstm is
    nn.LSTM."""
    torch.manual_seed(seed)
    cell, x = nn.LSTMCell(3, 5), torch.randn(9, 2, 3)
    lstm = nn.LSTM(3, 5)
    state = cell.state_dict()
    lstm.load_state_dict({f"{name}_l0": w for name, w in state.items()})
    ours = zoneout_lstm(x, cell, p_c=0.0, p_h=0.0, training=True)
    return torch.allclose(ours, lstm(x)[0], atol=1e-6)


# --8<-- [end:zoneout-zero]


# --8<-- [start:count]
def mask_sizes(lstm: nn.LSTM, batch: int, steps: int) -> dict:
    """Bernoulli draws per forward pass for three ways to regularize the
    recurrence, summed over the layers and directions of the LSTM."""
    w_hh = [
        w
        for name, w in lstm.named_parameters()
        if name.startswith("weight_hh")
    ]
    units = sum(w.shape[1] for w in w_hh)  # the size of each h_{t-1}
    return {
        "weight drop (W_hh entries)": sum(w.numel() for w in w_hh),
        "variational (per sequence)": batch * units,
        "naive (per step)": steps * batch * units,
    }


# --8<-- [end:count]


# --8<-- [start:clip-value]
def clip_both_ways(grad: list[float], limit: float):
    """One gradient clipped by total norm and by value, with each result's
    cosine similarity to the original."""
    check_limit(limit)
    original = torch.tensor(grad)
    by_norm = nn.Parameter(torch.zeros_like(original))
    by_value = nn.Parameter(torch.zeros_like(original))
    by_norm.grad, by_value.grad = original.clone(), original.clone()
    nn.utils.clip_grad_norm_([by_norm], max_norm=limit)
    nn.utils.clip_grad_value_([by_value], clip_value=limit)
    cosine = nn.functional.cosine_similarity
    return (
        by_norm.grad,
        cosine(by_norm.grad, original, dim=0).item(),
        by_value.grad,
        cosine(by_value.grad, original, dim=0).item(),
    )


# --8<-- [end:clip-value]


# salesforce/awd-lstm-lm defaults
EMBED, HIDDEN, BATCH, STEPS = 400, 1150, 80, 70
GRAD, LIMIT = [3.0, 4.0], 1.0


def facts() -> dict:
    sizes = mask_sizes(nn.LSTM(EMBED, HIDDEN), batch=BATCH, steps=STEPS)
    by_norm, cos_norm, by_value, cos_value = clip_both_ways(GRAD, LIMIT)
    return {
        "embed": EMBED,
        "hidden": HIDDEN,
        "batch": BATCH,
        "steps": STEPS,
        "grad": GRAD,
        "grad_norm": torch.tensor(GRAD).norm().item(),
        "limit": LIMIT,
        "forget_p": 0.25,
        "forget_share": 0.01,
        "forget_steps": steps_until_forgotten(0.25, 0.01),
        "weight_drop": sizes["weight drop (W_hh entries)"],
        "variational": sizes["variational (per sequence)"],
        "naive": sizes["naive (per step)"],
        "by_norm": by_norm,
        "cos_norm": cos_norm,
        "by_value": by_value,
        "cos_value": cos_value,
    }


def main() -> None:
    # --8<-- [start:demo-forgotten]
    steps = steps_until_forgotten(p=0.25, share=0.01)
    print("steps:", steps, "  (1 - p)^T =", round(0.75**steps, 4))
    #> steps: 17   (1 - p)^T = 0.0075
    simulated = memory_reaching_the_end("naive", p=0.25, steps=steps)
    share = (simulated != 0).float().mean()
    print(f"simulated share still remembering: {share:.4f}")
    #> simulated share still remembering: 0.0086
    # --8<-- [end:demo-forgotten]

    # --8<-- [start:demo-is-locked]
    torch.manual_seed(0)
    ones = torch.ones(5, 3, 8)  # (T, B, H)
    print("LockedDropout:", is_locked(LockedDropout(0.5)(ones)))
    #> LockedDropout: True
    print("nn.Dropout:   ", is_locked(nn.Dropout(0.5)(ones)))
    #> nn.Dropout:    False
    batch_first = LockedDropout(0.5, batch_first=True)(torch.ones(3, 5, 8))
    print("batch_first:  ", is_locked(batch_first, time_axis=1))
    #> batch_first:   True
    # --8<-- [end:demo-is-locked]

    # --8<-- [start:demo-zoneout-zero]
    print("zoneout with p = 0 is nn.LSTM:", zoneout_zero_is_plain_lstm())
    #> zoneout with p = 0 is nn.LSTM: True
    # --8<-- [end:demo-zoneout-zero]

    # --8<-- [start:demo-count]
    sizes = mask_sizes(nn.LSTM(400, 1150), batch=80, steps=70)
    for name, n in sizes.items():
        print(f"{name:27}: {n:>9,}")
        #> weight drop (W_hh entries) : 5,290,000
        #> variational (per sequence) :    92,000
        #> naive (per step)           : 6,440,000
    # --8<-- [end:demo-count]

    # --8<-- [start:demo-clip-value]
    by_norm, cos_norm, by_value, cos_value = clip_both_ways([3.0, 4.0], 1.0)
    print("by norm: ", by_norm, f"cosine {cos_norm:.4f}")
    #> by norm:  tensor([0.6000, 0.8000]) cosine 1.0000
    print("by value:", by_value, f"cosine {cos_value:.4f}")
    #> by value: tensor([1., 1.]) cosine 0.9899
    # --8<-- [end:demo-clip-value]


if __name__ == "__main__":
    main()
