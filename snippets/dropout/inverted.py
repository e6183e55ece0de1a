"""Why plain dropout shrinks the expected activation, and how inverted
dropout fixes it."""

import torch

from snippets.dropout.bernoulli import (
    apply_mask,
    bernoulli_mask,
    check_drop_prob,
    check_floating,
    check_probability,
)


# --8<-- [start:expectation]
def outcomes(
    h: float, p: float, inverted: bool
) -> list[tuple[int, float, float]]:
    """Every (r, probability, output) one unit can produce under dropout."""
    keep_prob = 1.0 - check_drop_prob(p)
    kept_value = h / keep_prob if inverted else h
    return [(1, keep_prob, kept_value), (0, p, 0.0)]


def expected_output(h: float, p: float, inverted: bool) -> float:
    """E[h~] = sum over outcomes of probability * output."""
    return sum(prob * out for _, prob, out in outcomes(h, p, inverted))


# --8<-- [end:expectation]


# --8<-- [start:inverted]
def inverted_dropout(
    h: torch.Tensor, mask: torch.Tensor, p: float
) -> torch.Tensor:
    """h~ = h * r / (1 - p): survivors are scaled up during training,
    so E[h~] = h and inference can use h as it is."""
    keep_prob = 1.0 - check_drop_prob(p)
    # Scale the mask first, then multiply: the same rounding as PyTorch.
    return apply_mask(h, mask.to(h.dtype) / keep_prob)


def dropout_layer(
    h: torch.Tensor, p: float, training: bool, generator=None
) -> torch.Tensor:
    """What F.dropout(h, p, training) computes: a fresh mask and
    rescaling in training, the identity otherwise."""
    p = check_probability(p, "p", allow_one=True)  # PyTorch accepts 1
    if not training or p == 0.0:
        return h
    check_floating(h)  # PyTorch raises for integer tensors too
    if p == 1.0:  # every unit dropped: PyTorch returns h * 0, no 0 / 0
        return h * 0.0
    mask = bernoulli_mask(h.shape, p, generator, h.device, h.dtype)
    return inverted_dropout(h, mask, p)


# --8<-- [end:inverted]


H, P = 10.0, 0.5
GAP_UNITS, GAP_SEED = 4, 0


@torch.no_grad()
def nonlinearity_gap(seed: int = GAP_SEED) -> dict:
    """Exact averages over all 2**n masks (no sampling) for a random dense
    layer W:
    E[W h~] equals W h, but E[relu(W h~)] differs from relu(W h)."""
    from torch import nn

    from snippets.dropout.ensemble import ensemble_average

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        h = torch.rand(GAP_UNITS, dtype=torch.float64) + 0.5
        linear = nn.Linear(GAP_UNITS, 1, bias=False).double()
    relu_layer = nn.Sequential(linear, nn.ReLU())
    return {
        "linear_mean": ensemble_average(h, linear, P).item(),
        "linear_of_mean": linear(h).item(),
        "relu_mean": ensemble_average(h, relu_layer, P).item(),
        "relu_of_mean": relu_layer(h).item(),
    }


def monte_carlo_mean(
    h: float, p: float, samples: int = 100_000, seed: int = 0
) -> float:
    generator = torch.Generator().manual_seed(seed)
    values = dropout_layer(
        torch.full((samples,), h), p, training=True, generator=generator
    )
    return values.mean().item()


def facts() -> dict:
    plain = outcomes(H, P, inverted=False)
    inv = outcomes(H, P, inverted=True)
    return {
        "h": H,
        "p": P,
        "keep_prob": 1 - P,
        "plain_expected": expected_output(H, P, inverted=False),
        "plain_kept": plain[0][2],
        "inverted_kept": inv[0][2],
        "inverted_dropped": inv[1][2],
        "inverted_expected": expected_output(H, P, inverted=True),
        "mc_mean": monte_carlo_mean(H, P),
        "gap_units": GAP_UNITS,
        **{f"gap_{k}": v for k, v in nonlinearity_gap().items()},
    }


def main() -> None:
    # --8<-- [start:demo-expectation]
    for r, prob, out in outcomes(h=10.0, p=0.5, inverted=False):
        print(f"plain:    r={r} with probability {prob}: output {out}")
        #> plain:    r=1 with probability 0.5: output 10.0
        #> plain:    r=0 with probability 0.5: output 0.0
    print("plain:    E[h~] =", expected_output(10.0, 0.5, inverted=False))
    #> plain:    E[h~] = 5.0
    for r, prob, out in outcomes(h=10.0, p=0.5, inverted=True):
        print(f"inverted: r={r} with probability {prob}: output {out}")
        #> inverted: r=1 with probability 0.5: output 20.0
        #> inverted: r=0 with probability 0.5: output 0.0
    print("inverted: E[h~] =", expected_output(10.0, 0.5, inverted=True))
    #> inverted: E[h~] = 10.0
    # --8<-- [end:demo-expectation]

    # --8<-- [start:demo-inverted]
    h = torch.tensor([5.0, 3.0, 7.0, 1.0])
    mask = torch.tensor([1.0, 0.0, 1.0, 0.0])
    print(inverted_dropout(h, mask, p=0.5))
    #> tensor([10.,  0., 14.,  0.])
    print(dropout_layer(h, p=0.5, training=False))  # inference: untouched
    #> tensor([5., 3., 7., 1.])
    mean = monte_carlo_mean(10.0, 0.5)
    print(f"mean of 100,000 draws of h~ for h = 10: {mean:.2f}")
    #> mean of 100,000 draws of h~ for h = 10: 9.98
    # --8<-- [end:demo-inverted]


if __name__ == "__main__":
    main()
