"""Recurrent dropout without memory loss (dropout on the candidate only) and zoneout."""

import torch
from torch import nn

from snippets.dropout.bernoulli import bernoulli_mask, check_drop_prob
from snippets.rnn.naive import inverted_mask


# --8<-- [start:gates]
def lstm_gates(x_t, h, cell: nn.LSTMCell):
    """Input gate i, forget gate f, candidate g and output gate o, in PyTorch's order."""
    pre = x_t @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    i, f, g, o = pre.chunk(4, dim=-1)
    return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
# --8<-- [end:gates]


# --8<-- [start:semeniuta]
def semeniuta_step(x_t, h, c, cell: nn.LSTMCell, g_mask):
    """c_t = f * c_{t-1} + i * (m * g): the mask touches the candidate, never c_{t-1}."""
    i, f, g, o = lstm_gates(x_t, h, cell)
    c = f * c + i * (g_mask * g)
    return o * torch.tanh(c), c


def semeniuta_lstm(x, cell: nn.LSTMCell, p: float, training: bool, generator=None):
    """An LSTM layer over x (T, B, n_in) with recurrent dropout on the candidate g_t."""
    check_drop_prob(p)
    batch = x.shape[1]
    h = x.new_zeros(batch, cell.hidden_size)
    c = torch.zeros_like(h)
    ones = torch.ones_like(h)
    outputs = []
    for x_t in x:
        mask = inverted_mask(h.shape, p, generator) if training and p > 0 else ones
        h, c = semeniuta_step(x_t, h, c, cell, mask)
        outputs.append(h)
    return torch.stack(outputs)
# --8<-- [end:semeniuta]


# --8<-- [start:zoneout]
def zoneout(previous, new, p: float, training: bool, generator=None):
    """Each unit keeps its previous value with probability p, else takes the new one.

    Training: h_t = m * h_{t-1} + (1 - m) * h_new with m ~ Bernoulli(p), no rescaling.
    Inference: the expectation, p * h_{t-1} + (1 - p) * h_new."""
    check_drop_prob(p)
    if not training:
        return p * previous + (1 - p) * new
    updates = bernoulli_mask(new.shape, p, generator).bool()  # False (prob. p): zoned out
    return torch.where(updates, new, previous)


def zoneout_lstm(x, cell: nn.LSTMCell, p_c, p_h, training: bool, generator=None):
    """An LSTM layer with zoneout on the cell state (rate p_c) and hidden state (p_h)."""
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
def memory_reaching_the_end(rule: str, p: float, steps: int, units=10_000, seed=0):
    """d c_T / d c_0 per unit when the forget gate is 1 (the cell was told to remember).

    rule "naive" drops the whole new cell state, "semeniuta" only the candidate,
    "zoneout" makes units keep c_{t-1}. The update is element-wise, so the gradient of
    c_T.sum() with respect to c_0 is, unit by unit, how much of c_0 is still in c_T."""
    g = torch.Generator().manual_seed(seed)
    c0 = torch.randn(units, generator=g).requires_grad_()
    c = c0
    for _ in range(steps):
        f = torch.ones(units)  # remember everything
        i, cand = torch.rand(units, generator=g), torch.randn(units, generator=g).tanh()
        if rule == "naive":
            c = inverted_mask(units, p, g) * (f * c + i * cand)
        elif rule == "semeniuta":
            c = f * c + i * (inverted_mask(units, p, g) * cand)
        elif rule == "zoneout":
            c = zoneout(c, f * c + i * cand, p, training=True, generator=g)
        else:
            raise ValueError(f"rule must be naive, semeniuta or zoneout, got rule={rule!r}")
    (grad,) = torch.autograd.grad(c.sum(), c0)
    return grad
# --8<-- [end:memory]


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
        "demo_train": zoneout(previous, new, 0.5, True, torch.Generator().manual_seed(2)),
        "demo_eval": zoneout(previous, new, 0.5, False),
        "p": P,
        "steps": STEPS,
        "units": 10_000,
        "naive_share": (naive != 0).float().mean().item(),
        "naive_expected": (1 - P) ** STEPS,
        "naive_scale": naive.max().item(),
        "semeniuta_share": share_of_ones(memory_reaching_the_end("semeniuta", P, STEPS)),
        "zoneout_share": share_of_ones(memory_reaching_the_end("zoneout", P, STEPS)),
    }


def main() -> None:
    # --8<-- [start:demo-memory]
    print("units where c_0 survives 10 steps, and its weight there:")
    #> units where c_0 survives 10 steps, and its weight there:
    for rule in ["naive", "semeniuta", "zoneout"]:
        weight = memory_reaching_the_end(rule, p=0.25, steps=10)
        print(f"{rule:9}: {(weight != 0).float().mean():6.1%}  x{weight.max():5.2f}")
        #> naive    :   5.6%  x17.76
        #> semeniuta: 100.0%  x 1.00
        #> zoneout  : 100.0%  x 1.00
    print(f"(1 - p)^10 = {0.75**10:.3f}")
    #> (1 - p)^10 = 0.056
    # --8<-- [end:demo-memory]

    # --8<-- [start:demo-zoneout]
    g = torch.Generator().manual_seed(2)
    previous, new = torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([5.0, 6.0, 7.0, 8.0])
    print("train:", zoneout(previous, new, p=0.5, training=True, generator=g))
    #> train: tensor([1., 6., 3., 8.])
    print("eval: ", zoneout(previous, new, p=0.5, training=False))
    #> eval:  tensor([3., 4., 5., 6.])
    # --8<-- [end:demo-zoneout]


if __name__ == "__main__":
    main()
