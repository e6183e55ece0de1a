"""Solutions to the dropout exercises, each checked by exact enumeration
and by PyTorch."""

import itertools
import math
import numbers

import torch
from torch import nn

from snippets.dropout.bernoulli import check_drop_prob, check_probability
from snippets.dropout.ensemble import all_masks
from snippets.dropout.pytorch import torch_p_from_keep_prob


# --8<-- [start:moments]
def inverted_dropout_moments(h: float, p: float) -> tuple[float, float]:
    """E[h~] and Var[h~] of h~ = h r / (1 - p), from its two outcomes:
    h / (1 - p) with probability 1 - p, and 0 with probability p."""
    keep_prob = 1.0 - check_drop_prob(p)
    kept = h / keep_prob
    mean = keep_prob * kept  # + p * 0
    second_moment = keep_prob * kept**2  # E[h~^2]
    return mean, second_moment - mean**2  # Var = E[h~^2] - E[h~]^2


# --8<-- [end:moments]


@torch.no_grad()
def sampled_moments(
    h: float, p: float, samples: int = 200_000, seed: int = 0
) -> tuple[float, float]:
    """The same two numbers, estimated from nn.Dropout(p) in train mode."""
    torch.manual_seed(seed)
    out = nn.Dropout(p).train()(torch.full((samples,), h))
    return out.mean().item(), out.var().item()


# --8<-- [start:translate]
PAPERS = {  # how a text states its rate -> the keep probability it means
    "Bernoulli(0.8), r = 1 keeps": 0.8,
    "retain with probability 0.9": 0.9,
    "dropout rate 0.3": 1 - 0.3,  # a rate is already a drop probability
}


def survivor_scale(layer: nn.Dropout) -> float:
    """What nn.Dropout multiplies a kept value by in training
    (with p = 1 nothing is kept: PyTorch multiplies everything by 0)."""
    return 0.0 if layer.p == 1 else 1.0 / (1.0 - layer.p)


# --8<-- [end:translate]


# --8<-- [start:count]
def count_subnetworks(droppable_units: int) -> int:
    """One sub-network per keep/drop pattern: 2 ** n.
    (Python integers never overflow.)"""
    if type(droppable_units) is not int:  # not 3.5, not True
        raise TypeError(
            f"droppable_units must be an int, got {droppable_units!r}"
        )
    if droppable_units < 0:
        raise ValueError(
            f"droppable_units must be >= 0, got {droppable_units=}"
        )
    return 2**droppable_units


def digits(n: int) -> int:
    return len(str(n))


# --8<-- [end:count]


MAX_VALUES = 16  # 2**16 masks to enumerate at most


def check_values(x) -> None:
    """x: a short list of finite numbers. A dropped NaN or inf comes out of
    nn.Dropout as NaN (NaN * 0), not 0, so the table would be wrong."""
    if not 1 <= len(x) <= MAX_VALUES:
        raise ValueError(
            f"x must hold 1 to {MAX_VALUES} values, got {len(x)}"
        )
    for v in x:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"x must hold real numbers, got {v!r}")
        if not math.isfinite(v):
            raise ValueError(f"x must be finite, got {v}")


# --8<-- [start:outcomes]
def output_distribution(x: list[float], p: float) -> dict:
    """Every output nn.Dropout(p) can give for x in training,
    mapped to its probability."""
    check_values(x)
    keep_prob = 1.0 - check_probability(p, "p", allow_one=True)
    table = {}
    for mask in itertools.product([1, 0], repeat=len(x)):
        prob = math.prod(keep_prob if r else p for r in mask)
        if prob == 0.0:  # p = 0 or p = 1: this mask never happens
            continue
        out = tuple(v / keep_prob if r else 0.0 for v, r in zip(x, mask))
        # Two masks give the same output where x has a 0: add them up.
        table[out] = table.get(out, 0.0) + prob
    return table


# --8<-- [end:outcomes]


@torch.no_grad()
def sampled_frequencies(
    x: list[float], p: float, samples: int = 40_000, seed: int = 0
) -> dict:
    """How often each output appears over many train-mode calls of
    nn.Dropout(p)."""
    torch.manual_seed(seed)
    out = nn.Dropout(p).train()(torch.tensor(x).expand(samples, -1))
    rows, counts = out.unique(dim=0, return_counts=True)
    return {
        tuple(round(v, 4) for v in row.tolist()): c.item() / samples
        for row, c in zip(rows, counts)
    }


H, P = 4.0, 0.2
VAR_PS = (0.1, 0.5, 0.9)
HIDDEN = (512, 256)
EPOCHS, TRAIN_SIZE = 100, 60_000
X, P_OUT = [3.0, 6.0], 0.25
ZERO_X = [0.0, 6.0]


def facts() -> dict:
    mean, var = inverted_dropout_moments(H, P)
    sample_mean, sample_var = sampled_moments(H, P)
    table = output_distribution(X, P_OUT)
    zero_table = output_distribution(ZERO_X, P_OUT)
    return {
        "h": H,
        "p": P,
        "keep_prob": 1 - P,
        "kept": H / (1 - P),
        "mean": mean,
        "second_moment": (1 - P) * (H / (1 - P)) ** 2,
        "var": var,
        "var_ps": list(VAR_PS),
        "var_of_p": [inverted_dropout_moments(1.0, p)[1] for p in VAR_PS],
        "sample_mean": sample_mean,
        "sample_var": sample_var,
        "paper_keep": list(PAPERS.values()),
        "paper_p": [torch_p_from_keep_prob(k) for k in PAPERS.values()],
        "paper_scale": [1 / k for k in PAPERS.values()],
        "mlp": [784, *HIDDEN, 10],
        "hidden": list(HIDDEN),
        "droppable": sum(HIDDEN),
        "subnet_digits": digits(count_subnetworks(sum(HIDDEN))),
        "small_units": 3,
        "small_count": count_subnetworks(3),
        "epochs": EPOCHS,
        "train_size": TRAIN_SIZE,
        "visited": EPOCHS
        * TRAIN_SIZE,  # at most one new mask per example and epoch
        "x": X,
        "p_out": P_OUT,
        "keep_out": 1 - P_OUT,
        "scaled_x": [xi / (1 - P_OUT) for xi in X],
        "n_outcomes": len(table),
        "prob_both": table[tuple(xi / (1 - P_OUT) for xi in X)],
        "prob_none": table[(0.0, 0.0)],
        "prob_one": (1 - P_OUT) * P_OUT,
        "zero_x": ZERO_X,
        "zero_outcomes": len(zero_table),
        "zero_probs": list(zero_table.values()),
    }


def main() -> None:
    # --8<-- [start:demo-moments]
    print(inverted_dropout_moments(h=4.0, p=0.2))
    #> (4.0, 4.0)
    mean, var = sampled_moments(4.0, 0.2)  # nn.Dropout, 200,000 draws
    print(f"sampled: ({mean:.3f}, {var:.3f})")
    #> sampled: (3.998, 4.005)
    for p in (0.1, 0.5, 0.9):  # for h = 1 the variance is p / (1 - p)
        print(f"p = {p}: Var = {inverted_dropout_moments(1.0, p)[1]:.3f}")
        #> p = 0.1: Var = 0.111
        #> p = 0.5: Var = 1.000
        #> p = 0.9: Var = 9.000
    # --8<-- [end:demo-moments]

    # --8<-- [start:demo-translate]
    for text, keep_prob in PAPERS.items():
        layer = nn.Dropout(p=torch_p_from_keep_prob(keep_prob))
        scale = survivor_scale(layer)
        print(f"{text}: nn.Dropout(p={layer.p:.2g}), scale {scale:.4f}")
        #> Bernoulli(0.8), r = 1 keeps: nn.Dropout(p=0.2), scale 1.2500
        #> retain with probability 0.9: nn.Dropout(p=0.1), scale 1.1111
        #> dropout rate 0.3: nn.Dropout(p=0.3), scale 1.4286
    # --8<-- [end:demo-translate]

    # --8<-- [start:demo-count]
    masks = ["".join(map(str, m)) for m in all_masks(3).int().tolist()]
    print(count_subnetworks(3), "sub-networks:", *masks)  # 1 = unit kept
    #> 8 sub-networks: 000 001 010 011 100 101 110 111
    n = 512 + 256  # both hidden layers of a 784-512-256-10 MLP
    print(f"2**{n} has {digits(count_subnetworks(n))} digits")
    #> 2**768 has 232 digits
    # --8<-- [end:demo-count]

    # --8<-- [start:demo-outcomes]
    for output, prob in output_distribution([3.0, 6.0], p=0.25).items():
        print(output, f"probability {prob:.4f}")
        #> (4.0, 8.0) probability 0.5625
        #> (4.0, 0.0) probability 0.1875
        #> (0.0, 8.0) probability 0.1875
        #> (0.0, 0.0) probability 0.0625
    sampled = sampled_frequencies([3.0, 6.0], p=0.25)
    for output, share in sorted(sampled.items(), reverse=True):
        print(output, f"sampled {share:.5f}")
        #> (4.0, 8.0) sampled 0.56180
        #> (4.0, 0.0) sampled 0.18800
        #> (0.0, 8.0) sampled 0.18705
        #> (0.0, 0.0) sampled 0.06315
    print(nn.Dropout(0.25).eval()(torch.tensor([3.0, 6.0])))  # untouched
    #> tensor([3., 6.])
    # --8<-- [end:demo-outcomes]


if __name__ == "__main__":
    main()
