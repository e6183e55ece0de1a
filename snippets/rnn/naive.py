"""Why a fresh dropout mask on h_{t-1} compounds over time; Zaremba's rule:
drop between layers."""

import numbers

import torch
from torch import nn


def check_rate(p, name: str = "p") -> float:
    """A drop (or zoneout) probability in [0, 1], as nn.Dropout accepts it.
    p = 1 is allowed, as in nn.Dropout(p=1): everything is dropped and the
    output is zeros."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(
            f"drop probability {name} must be a float, got {name}={p!r}"
        )
    if not 0.0 <= p <= 1.0:  # also refuses NaN
        raise ValueError(
            f"drop probability {name} must be in [0, 1], got {name}={p}"
        )
    return float(p)


def check_sequence(x, name: str = "x") -> None:
    """x must be a (T, B, n) tensor with at least one step, as
    nn.RNN(batch_first=False) reads a batched sequence (it, too, refuses a
    sequence of length 0)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(x).__name__}")
    if x.dim() != 3 or x.shape[0] == 0:
        shape = tuple(x.shape)
        raise ValueError(
            f"{name} must have shape (T, B, input_size) with T >= 1, "
            f"got shape {shape}"
        )


def check_mask(mask, steps: int, batch: int, size: int, name: str) -> None:
    """A mask is (T, B, n), fresh at every step, or (1, B, n), reused at
    every step. Anything else would broadcast silently (one mask shared by
    the whole batch, say)."""
    if mask is None:
        return
    if (
        mask.dim() != 3
        or mask.shape[0] not in (1, steps)
        or tuple(mask.shape[1:]) != (batch, size)
    ):
        shape = tuple(mask.shape)
        raise ValueError(
            f"{name} must have shape ({steps} or 1, {batch}, {size}), "
            f"got shape {shape}"
        )


# --8<-- [start:rnn]
def inverted_mask(shape, p: float, generator=None, like=None):
    """A Bernoulli(1 - p) keep-mask already divided by 1 - p, so that its
    mean is 1; on the device and in the dtype of the tensor `like`."""
    device = None if like is None else like.device
    keep = torch.rand(shape, generator=generator, device=device) < 1.0 - p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)  # p = 1 drops everything
    dtype = torch.get_default_dtype() if like is None else like.dtype
    return keep.to(dtype) * scale


def rnn_states(
    x, w_ih, w_hh, input_mask=None, hidden_mask=None, activation=torch.tanh
):
    """h_t = activation(W_ih (m_x * x_t) + W_hh (m_h * h_{t-1})), h_0 = 0.

    x is (T, B, n_in); the result is (T, B, n_hidden). A mask of shape
    (T, B, n) is fresh at every step; one of shape (1, B, n) is reused at
    every step. activation=None gives a linear recurrence."""
    check_sequence(x)
    steps, batch, n_in = x.shape
    n_hidden = w_hh.shape[0]
    check_mask(input_mask, steps, batch, n_in, "input_mask")
    check_mask(hidden_mask, steps, batch, n_hidden, "hidden_mask")
    if input_mask is not None:
        x = x * input_mask  # broadcasting copies a (1, B, n) mask to all t
    h = x.new_zeros(batch, n_hidden)
    states = []
    for t in range(steps):  # the same weights at every step: shared in time
        if hidden_mask is not None:
            h = hidden_mask[min(t, len(hidden_mask) - 1)] * h
        pre = x[t] @ w_ih.T + h @ w_hh.T
        h = pre if activation is None else activation(pre)
        states.append(h)
    return torch.stack(states)


# --8<-- [end:rnn]


# --8<-- [start:compounding]
def relative_deviation(states, clean) -> torch.Tensor:
    """Per step: RMS distance from the no-dropout states, relative to
    their RMS size."""
    error = (states - clean).pow(2).mean(dim=(1, 2))
    return (error / clean.pow(2).mean(dim=(1, 2))).sqrt()


def deviation_by_step(
    p: float, steps: int, draws: int = 1000, size: int = 32, seed=0
):
    """Relative deviation per step with dropout on the inputs, and with a
    fresh mask on h_{t-1}. The recurrence is linear with an orthogonal
    W_hh: a memory that neither fades nor blows up by itself, so any growth
    comes from the masks. One input sequence is run `draws` times, each
    time with its own random masks."""
    check_rate(p)
    g = torch.Generator().manual_seed(seed)
    w_hh, _ = torch.linalg.qr(torch.randn(size, size, generator=g))
    w_ih = torch.eye(size)
    x = torch.randn(steps, 1, size, generator=g).expand(steps, draws, size)
    clean = rnn_states(x, w_ih, w_hh, activation=None)
    fresh = (steps, draws, size)  # a new mask at every step for every draw
    m_x, m_h = inverted_mask(fresh, p, g), inverted_mask(fresh, p, g)
    inputs = rnn_states(x, w_ih, w_hh, input_mask=m_x, activation=None)
    hidden = rnn_states(x, w_ih, w_hh, hidden_mask=m_h, activation=None)
    return (
        relative_deviation(inputs, clean),
        relative_deviation(hidden, clean),
        clean,
    )


def predicted_deviation(p: float, clean: torch.Tensor) -> torch.Tensor:
    """E|e_t|^2 = E|e_{t-1}|^2 / (1 - p) + p / (1 - p) |h_{t-1}|^2,
    from e_1 = 0."""
    size2 = clean.pow(2).mean(dim=(1, 2))
    err2 = [torch.tensor(0.0)]
    for t in range(1, len(clean)):
        err2.append(err2[-1] / (1 - p) + p / (1 - p) * size2[t - 1])
    return (torch.stack(err2) / size2).sqrt()


# --8<-- [end:compounding]


# --8<-- [start:zaremba]
def zaremba_lstm(
    x, cell: nn.LSTMCell, p: float, training: bool, generator=None
):
    """One LSTM layer regularized as in Zaremba et al. (2014): dropout on
    what comes in (x_t) and on what goes up (h_t), never on h_{t-1} ->
    h_t."""
    check_rate(p)
    check_sequence(x)
    drop = training and p > 0.0
    if drop:  # a fresh mask per step is fine here: x_t is not carried on
        x = x * inverted_mask(x.shape, p, generator, like=x)
    h = x.new_zeros(x.shape[1], cell.hidden_size)
    c = torch.zeros_like(h)
    outputs = []
    for x_t in x:
        h, c = cell(x_t, (h, c))  # h and c reach the next step untouched
        outputs.append(h)
    out = torch.stack(outputs)
    if drop:  # only the copy sent upwards is dropped
        out = out * inverted_mask(out.shape, p, generator, like=out)
    return out


# --8<-- [end:zaremba]


P = 0.2
STEPS = 50
DRAWS = 1000
SHOWN_STEPS = [1, 5, 10, 20, 50]
# Zaremba et al.: large from the authors' main.lua; medium from TensorFlow's
# PTB tutorial, which reproduces the paper's configurations
# (keep_prob 0.5 and 0.35).
ZAREMBA_RATES = {"medium": 0.5, "large": 0.65}


def facts() -> dict:
    inputs, hidden, clean = deviation_by_step(P, STEPS, DRAWS)
    predicted = predicted_deviation(P, clean)
    at = [s - 1 for s in SHOWN_STEPS]
    return {
        "p": P,
        "steps": STEPS,
        "draws": DRAWS,
        "shown_steps": SHOWN_STEPS,
        "inputs": inputs[at],
        "hidden": hidden[at],
        "predicted": predicted[at],
        "growth": 1 / (1 - P),
        "input_level": (P / (1 - P)) ** 0.5,
        "hidden_last": hidden[-1].item(),
        "zaremba_medium": ZAREMBA_RATES["medium"],
        "zaremba_large": ZAREMBA_RATES["large"],
        "zaremba_medium_growth": 1 / (1 - ZAREMBA_RATES["medium"]),
        "zaremba_large_growth": 1 / (1 - ZAREMBA_RATES["large"]),
    }


def main() -> None:
    # --8<-- [start:demo-compounding]
    inputs, hidden, clean = deviation_by_step(p=0.2, steps=50)
    predicted = predicted_deviation(0.2, clean)
    print("step  inputs  h_{t-1}  formula")
    #> step  inputs  h_{t-1}  formula
    for t in [1, 5, 10, 20, 50]:
        i, h, f = inputs[t - 1], hidden[t - 1], predicted[t - 1]
        print(f"{t:4d}  {i:6.2f}  {h:7.2f}  {f:7.2f}")
        #>    1    0.50     0.00     0.00
        #>    5    0.51     0.92     0.92
        #>   10    0.49     1.46     1.47
        #>   20    0.42     3.35     3.42
        #>   50    0.51    77.93    80.48
    # --8<-- [end:demo-compounding]

    # --8<-- [start:demo-zaremba]
    torch.manual_seed(0)
    cell = nn.LSTMCell(input_size=3, hidden_size=4)
    x = torch.randn(6, 2, 3)  # (T, B, features): 6 steps, 2 sequences
    with torch.no_grad():
        train = zaremba_lstm(x, cell, p=0.5, training=True)
        test = zaremba_lstm(x, cell, p=0.5, training=False)
    zeros = int((train == 0).sum())
    print(tuple(train.shape), "zeros in training output:", zeros)
    #> (6, 2, 4) zeros in training output: 24
    print("zeros at inference:", int((test == 0).sum()))
    #> zeros at inference: 0
    # --8<-- [end:demo-zaremba]


if __name__ == "__main__":
    main()
