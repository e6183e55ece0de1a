"""Variational (locked) dropout: one mask per sequence, reused at every time
step."""

import torch
from torch import nn

from snippets.rnn.naive import (
    check_rate,
    check_sequence,
    inverted_mask,
    rnn_states,
)


def check_layout(x) -> None:
    """LockedDropout reads 3-D sequences; with T = 0 or B = 0 there is
    nothing to mask, and the output is the empty input, as nn.Dropout
    gives."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a tensor, got {type(x).__name__}")
    if x.dim() != 3:
        shape = tuple(x.shape)
        raise ValueError(
            f"x must be 3-D, (T, B, H) or (B, T, H), got shape {shape}"
        )


# --8<-- [start:locked]
class LockedDropout(nn.Module):
    """Dropout that draws one mask per sequence and uses it at every step.

    Input (T, B, H), or (B, T, H) with batch_first=True. The mask has size 1
    on the time axis, so broadcasting hands the same mask to every step."""

    def __init__(self, p: float = 0.5, batch_first: bool = False):
        super().__init__()
        self.p = check_rate(p)
        self.batch_first = batch_first

    def forward(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        check_layout(x)
        if not self.training or self.p == 0.0:
            return x
        shape = list(x.shape)
        shape[1 if self.batch_first else 0] = 1  # one mask per sequence
        return x * inverted_mask(shape, self.p, generator, like=x)


# --8<-- [end:locked]


# --8<-- [start:variational-rnn]
def variational_rnn(x, w_ih, w_hh, p: float, generator=None):
    """Gal & Ghahramani's RNN: a mask on x_t and one on h_{t-1}, fixed for
    the whole sequence."""
    check_rate(p)
    check_sequence(x)
    _, batch, n_in = x.shape
    n_hidden = w_hh.shape[0]
    input_mask = inverted_mask((1, batch, n_in), p, generator, like=x)
    hidden_mask = inverted_mask((1, batch, n_hidden), p, generator, like=x)
    return rnn_states(x, w_ih, w_hh, input_mask, hidden_mask)


def thinned(w: torch.Tensor, unit_mask: torch.Tensor) -> torch.Tensor:
    """W with column k scaled by mask[k]: dropping unit k removes it."""
    return w * unit_mask


# --8<-- [end:variational-rnn]


def facts() -> dict:
    return {"p": 0.5, "scale": 1 / (1 - 0.5), "steps": 4, "units": 6}


def main() -> None:
    # --8<-- [start:demo-locked]
    torch.manual_seed(0)
    x = torch.ones(4, 2, 6)  # (T, B, H): 4 steps, 2 sequences, 6 units
    locked = LockedDropout(p=0.5)(x)
    print("locked, sequence 0, one row per step:")
    #> locked, sequence 0, one row per step:
    print(locked[:, 0])
    #> tensor([[2., 0., 2., 2., 2., 0.],
    #>         [2., 0., 2., 2., 2., 0.],
    #>         [2., 0., 2., 2., 2., 0.],
    #>         [2., 0., 2., 2., 2., 0.]])
    print("locked, sequence 1:", locked[0, 1])
    #> locked, sequence 1: tensor([2., 0., 2., 0., 2., 2.])
    print("nn.Dropout, sequence 0:")
    #> nn.Dropout, sequence 0:
    print(nn.Dropout(p=0.5)(x)[:, 0])
    #> tensor([[2., 2., 0., 2., 2., 2.],
    #>         [0., 0., 2., 0., 2., 0.],
    #>         [0., 0., 2., 2., 2., 0.],
    #>         [0., 2., 0., 2., 0., 2.]])
    # --8<-- [end:demo-locked]

    # --8<-- [start:demo-thinned]
    torch.manual_seed(0)
    w_ih, w_hh = torch.randn(5, 3), torch.randn(5, 5) / 5**0.5
    x = torch.randn(8, 1, 3)  # one sequence of 8 steps
    g = torch.Generator().manual_seed(1)
    out = variational_rnn(x, w_ih, w_hh, p=0.5, generator=g)
    g = torch.Generator().manual_seed(1)  # draw the same two masks again
    m_x, m_h = inverted_mask((3,), 0.5, g), inverted_mask((5,), 0.5, g)
    # no masks, thinner weights:
    same = rnn_states(x, thinned(w_ih, m_x), thinned(w_hh, m_h))
    equal = torch.allclose(out, same, atol=1e-6)
    print("equal to a fixed thinned network:", equal)
    #> equal to a fixed thinned network: True
    print("hidden units dropped:", (m_h == 0).nonzero().flatten().tolist())
    #> hidden units dropped: [0, 2, 4]
    # --8<-- [end:demo-thinned]


if __name__ == "__main__":
    main()
