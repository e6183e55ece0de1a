"""Recurrent dropout without memory loss (dropout on the candidate only) and
zoneout."""

import torch
from torch import nn

from snippets.rnn.naive import check_rate, check_sequence, inverted_mask


def check_same_shape(previous, new) -> None:
    """torch.where would broadcast (H,) against (B, H) without a word:
    refuse it."""
    if previous.shape != new.shape:
        raise ValueError(
            "previous and new must have the same shape, "
            f"got {tuple(previous.shape)} and {tuple(new.shape)}"
        )


# --8<-- [start:gates]
def lstm_gates(x_t, h, cell: nn.LSTMCell):
    """Input gate i, forget gate f, candidate g and output gate o, in
    PyTorch's order (a cell built with bias=False has no b_ih, b_hh)."""
    pre = x_t @ cell.weight_ih.T + h @ cell.weight_hh.T
    if cell.bias:
        pre = pre + cell.bias_ih + cell.bias_hh
    i, f, g, o = pre.chunk(4, dim=-1)
    sigmoid = torch.sigmoid
    return sigmoid(i), sigmoid(f), torch.tanh(g), sigmoid(o)


# --8<-- [end:gates]


# --8<-- [start:semeniuta]
def semeniuta_step(x_t, h, c, cell: nn.LSTMCell, g_mask):
    """c_t = f * c_{t-1} + i * (m * g): the mask touches the candidate,
    never c_{t-1}."""
    i, f, g, o = lstm_gates(x_t, h, cell)
    c = f * c + i * (g_mask * g)
    return o * torch.tanh(c), c


def semeniuta_lstm(
    x, cell: nn.LSTMCell, p: float, training: bool, generator=None
):
    """An LSTM layer over x (T, B, n_in), recurrent dropout on g_t."""
    check_rate(p)
    check_sequence(x)
    h = x.new_zeros(x.shape[1], cell.hidden_size)
    c = torch.zeros_like(h)
    outputs = []
    for x_t in x:
        if training and p > 0:
            mask = inverted_mask(h.shape, p, generator, like=h)
        else:
            mask = torch.ones_like(h)
        h, c = semeniuta_step(x_t, h, c, cell, mask)
        outputs.append(h)
    return torch.stack(outputs)


# --8<-- [end:semeniuta]


# --8<-- [start:zoneout]
def zoneout(previous, new, p: float, training: bool, generator=None):
    """Each unit keeps its previous value with probability p, else takes
    the new one. Training: h_t = m * h_{t-1} + (1 - m) * h_new with
    m ~ Bernoulli(p), no rescaling. Inference: the expectation,
    p * h_{t-1} + (1 - p) * h_new."""
    check_rate(p)
    check_same_shape(previous, new)
    if not training:
        return p * previous + (1 - p) * new
    rand = torch.rand(new.shape, generator=generator, device=new.device)
    updates = rand < 1.0 - p  # False (probability p): zoned out
    return torch.where(updates, new, previous)


def zoneout_lstm(
    x, cell: nn.LSTMCell, p_c, p_h, training: bool, generator=None
):
    """An LSTM layer with zoneout on the cell state (rate p_c) and on the
    hidden state (rate p_h)."""
    check_rate(p_c, "p_c"), check_rate(p_h, "p_h")
    check_sequence(x)
    h = x.new_zeros(x.shape[1], cell.hidden_size)
    c = torch.zeros_like(h)
    outputs = []
    for x_t in x:
        h_new, c_new = cell(x_t, (h, c))
        c = zoneout(c, c_new, p_c, training, generator)
        h = zoneout(h, h_new, p_h, training, generator)
        outputs.append(h)
    return torch.stack(outputs)


# --8<-- [end:zoneout]


# --8<-- [start:memory]
def memory_reaching_the_end(
    rule: str, p: float, steps: int, units=10_000, seed=0
):
    """d c_T / d c_0 per unit when the forget gate is 1 (the cell was told
    to remember).

    rule "naive" drops the whole new cell state, "semeniuta" only the
    candidate, "zoneout" makes units keep c_{t-1}. The update is
    element-wise, so the gradient of c_T.sum() with respect to c_0 is, unit
    by unit, how much of c_0 is still in c_T."""
    g = torch.Generator().manual_seed(seed)
    c0 = torch.randn(units, generator=g).requires_grad_()
    c = c0
    for _ in range(steps):
        f = torch.ones(units)  # remember everything
        i = torch.rand(units, generator=g)
        cand = torch.randn(units, generator=g).tanh()
        if rule == "naive":
            c = inverted_mask(units, p, g) * (f * c + i * cand)
        elif rule == "semeniuta":
            c = f * c + i * (inverted_mask(units, p, g) * cand)
        elif rule == "zoneout":
            c = zoneout(c, f * c + i * cand, p, training=True, generator=g)
        else:
            raise ValueError(
                "rule must be naive, semeniuta or zoneout, "
                f"got rule={rule!r}"
            )
    (grad,) = torch.autograd.grad(c.sum(), c0)
    return grad


# --8<-- [end:memory]


# --8<-- [start:copy-path]
def copy_path_gradient(
    mask_on, p=0.25, steps=10, units=100, batch=100, seed=0
):
    """d c_T / d c_0 of a real nn.LSTMCell in its copy regime (forget gate
    saturated open, input gate saturated shut), with a fresh dropout mask
    at every step on h_{t-1} (mask_on="h"), on c_{t-1} ("c") or nowhere."""
    if mask_on not in ("h", "c", None):
        raise ValueError(f"mask_on must be 'h', 'c' or None, got {mask_on}")
    g = torch.Generator().manual_seed(seed)
    cell = nn.LSTMCell(8, units)
    with torch.no_grad():  # PyTorch's gate order: i, f, g, o
        cell.bias_ih[:units] = -20.0  # i = sigmoid(-20) ~ 2e-9: shut
        cell.bias_ih[units : 2 * units] = 20.0  # f = 1 - 2e-9: remember
    c0 = torch.randn(batch, units, generator=g).requires_grad_()
    h, c = torch.zeros(batch, units), c0
    for _ in range(steps):
        mask = inverted_mask((batch, units), p, g)  # a fresh mask per step
        if mask_on == "h":
            h = mask * h  # only the gates see h_{t-1}
        elif mask_on == "c":
            c = mask * c  # the memory itself is cut
        h, c = cell(torch.randn(batch, 8, generator=g), (h, c))
    (grad,) = torch.autograd.grad(c.sum(), c0)
    return grad


# --8<-- [end:copy-path]


P, STEPS = 0.25, 10


def share_of_ones(weights: torch.Tensor) -> float:
    return (weights == 1).float().mean().item()


PREVIOUS, NEW = [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]


def facts() -> dict:
    naive = memory_reaching_the_end("naive", P, STEPS)
    previous, new = torch.tensor(PREVIOUS), torch.tensor(NEW)
    return {
        "demo_p": 0.5,
        "previous": PREVIOUS,
        "new": NEW,
        "demo_train": zoneout(
            previous, new, 0.5, True, torch.Generator().manual_seed(2)
        ),
        "demo_eval": zoneout(previous, new, 0.5, False),
        "p": P,
        "steps": STEPS,
        "units": 10_000,
        "naive_share": (naive != 0).float().mean().item(),
        "naive_expected": (1 - P) ** STEPS,
        "naive_scale": naive.max().item(),
        "semeniuta_share": share_of_ones(
            memory_reaching_the_end("semeniuta", P, STEPS)
        ),
        "zoneout_share": share_of_ones(
            memory_reaching_the_end("zoneout", P, STEPS)
        ),
        **copy_path_facts(),
    }


def copy_path_facts() -> dict:
    """Share of units whose c_0 reaches c_T; range of d c_T / d c_0."""
    out = {}
    for name, mask_on in [("none", None), ("h", "h"), ("c", "c")]:
        grad = copy_path_gradient(mask_on, P, STEPS)
        out[f"copy_{name}_share"] = (
            (grad.abs() > 1e-3).float().mean().item()
        )
        out[f"copy_{name}_min"] = grad.abs().min().item()
        out[f"copy_{name}_max"] = grad.abs().max().item()
    return out


def main() -> None:
    # --8<-- [start:demo-memory]
    print("units where c_0 survives 10 steps, and its weight there:")
    #> units where c_0 survives 10 steps, and its weight there:
    for rule in ["naive", "semeniuta", "zoneout"]:
        weight = memory_reaching_the_end(rule, p=0.25, steps=10)
        share = (weight != 0).float().mean()
        print(f"{rule:9}: {share:6.1%}  x{weight.max():5.2f}")
        #> naive    :   5.6%  x17.76
        #> semeniuta: 100.0%  x 1.00
        #> zoneout  : 100.0%  x 1.00
    print(f"(1 - p)^10 = {0.75**10:.3f}")
    #> (1 - p)^10 = 0.056
    # --8<-- [end:demo-memory]

    # --8<-- [start:demo-copy-path]
    print("fresh mask on  c_0 reaches c_10  |d c_10 / d c_0|: min   max")
    #> fresh mask on  c_0 reaches c_10  |d c_10 / d c_0|: min   max
    for mask_on in [None, "h", "c"]:
        grad = copy_path_gradient(mask_on, p=0.25, steps=10).abs()
        share = (grad > 1e-3).float().mean()
        low, high = grad.min(), grad.max()
        print(f"{mask_on!s:13} {share:15.1%} {low:17.4f} {high:7.4f}")
        #> None                   100.0%            1.0000  1.0000
        #> h                      100.0%            1.0000  1.0000
        #> c                        5.4%            0.0000 17.7577
    # --8<-- [end:demo-copy-path]

    # --8<-- [start:demo-zoneout]
    g = torch.Generator().manual_seed(2)
    previous = torch.tensor([1.0, 2.0, 3.0, 4.0])
    new = torch.tensor([5.0, 6.0, 7.0, 8.0])
    print("train:", zoneout(previous, new, 0.5, training=True, generator=g))
    #> train: tensor([1., 6., 3., 8.])
    print("eval: ", zoneout(previous, new, p=0.5, training=False))
    #> eval:  tensor([3., 4., 5., 6.])
    # --8<-- [end:demo-zoneout]


if __name__ == "__main__":
    main()
