"""Why batch statistics fit recurrent networks badly, and layer
normalization fits well."""

import textwrap

import torch
from torch import nn

from snippets.rnn.naive import check_sequence, rnn_states


def check_lengths(lengths) -> None:
    if not isinstance(lengths, torch.Tensor) or lengths.dim() != 1:
        raise ValueError(
            "lengths must be a 1-D tensor of sequence lengths, "
            f"got {lengths!r}"
        )


SHOWN_STEPS = [1, 2, 3, 10, 30]
LENGTHS = [30, 22, 15, 9, 6, 4, 3, 2]
BATCH = 256


# --8<-- [start:per-step]
def preactivations(x, w_ih, w_hh):
    """a_t = W_ih x_t + W_hh h_{t-1} at every step of a tanh RNN (T, B, H):
    what a normalization layer inside the cell would receive."""
    h = rnn_states(x, w_ih, w_hh)
    h_prev = torch.cat([torch.zeros_like(h[:1]), h[:-1]])  # h_0 = 0
    return x @ w_ih.T + h_prev @ w_hh.T


def per_step_std(a: torch.Tensor) -> torch.Tensor:
    """At each step: the batch standard deviation of every unit, averaged
    over the units."""
    return a.std(dim=1).mean(dim=-1)


def still_running(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """How many sequences of a padded batch still have a real token at
    t = 1..steps."""
    check_lengths(lengths)
    t = torch.arange(1, steps + 1)
    return (lengths[None, :] >= t[:, None]).sum(dim=1)


def rnn_example(seed=0, steps=30, batch=BATCH, size=32, n_in=8):
    """Random inputs and weights for a tanh RNN whose recurrent matrix has
    gain 1.5."""
    g = torch.Generator().manual_seed(seed)
    w_ih = torch.randn(size, n_in, generator=g) / n_in**0.5
    w_hh = 1.5 * torch.randn(size, size, generator=g) / size**0.5
    return torch.randn(steps, batch, n_in, generator=g), w_ih, w_hh


# --8<-- [end:per-step]


# --8<-- [start:layernorm-rnn]
class LayerNormRNN(nn.Module):
    """h_t = tanh(LN(W_ih x_t + W_hh h_{t-1})): each example is normalized
    over its own units, so no statistic crosses the batch or the time axis
    (Ba et al., 2016)."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.w_ih = nn.Linear(input_size, hidden_size, bias=False)
        self.w_hh = nn.Linear(hidden_size, hidden_size, bias=False)
        self.norm = nn.LayerNorm(hidden_size)  # its beta acts as the bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_sequence(x)
        h = x.new_zeros(x.shape[1], self.w_hh.in_features)
        states = []
        for x_t in x:
            h = torch.tanh(self.norm(self.w_ih(x_t) + self.w_hh(h)))
            states.append(h)
        return torch.stack(states)


# --8<-- [end:layernorm-rnn]


# --8<-- [start:batch-dependence]
def output_of_first(norm: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """What norm makes of example 0, given the rest of its batch."""
    return norm(batch)[0]


def batch_gaps(seed: int = 0) -> dict:
    """Example 0 normalized inside two different batches: its largest
    change, under LayerNorm and under BatchNorm."""
    torch.manual_seed(seed)
    example = torch.randn(1, 16)
    batch_a = torch.cat([example, torch.randn(7, 16)])
    # other examples, on another scale:
    batch_b = torch.cat([example, 3 + torch.randn(7, 16)])
    gaps = {}
    norms = [("layer", nn.LayerNorm(16)), ("batch", nn.BatchNorm1d(16))]
    for name, norm in norms:
        first_a = output_of_first(norm, batch_a)
        diff = first_a - output_of_first(norm, batch_b)
        gaps[name] = diff.abs().max().item()
    return gaps


# --8<-- [end:batch-dependence]


def facts() -> dict:
    stds = per_step_std(preactivations(*rnn_example()))
    running = still_running(torch.tensor(LENGTHS), 30)
    gaps = batch_gaps()
    return {
        "batch_size": BATCH,
        "shown_steps": SHOWN_STEPS,
        "stds": stds[[s - 1 for s in SHOWN_STEPS]],
        "std_first": stds[0].item(),
        "std_last": stds[-1].item(),
        "lengths": LENGTHS,
        "batch": len(LENGTHS),
        "running_10": running[9].item(),
        "running_20": running[19].item(),
        "running_25": running[24].item(),
        "ln_gap": gaps["layer"],
        "bn_gap": gaps["batch"],
    }


def main() -> None:
    # --8<-- [start:demo-per-step]
    x, w_ih, w_hh = rnn_example()  # 256 sequences of 30 steps, 32 units
    stds = per_step_std(preactivations(x, w_ih, w_hh))
    for t in [1, 2, 3, 10, 30]:
        print(f"step {t:2d}: batch std of a_t = {stds[t - 1]:.2f}")
        #> step  1: batch std of a_t = 0.88
        #> step  2: batch std of a_t = 1.33
        #> step  3: batch std of a_t = 1.47
        #> step 10: batch std of a_t = 1.48
        #> step 30: batch std of a_t = 1.49
    lengths = torch.tensor([30, 22, 15, 9, 6, 4, 3, 2])
    running = still_running(lengths, 30)
    for t in [1, 10, 20, 25]:
        print(f"step {t:2d}: {running[t - 1]} of 8 sequences still running")
        #> step  1: 8 of 8 sequences still running
        #> step 10: 3 of 8 sequences still running
        #> step 20: 2 of 8 sequences still running
        #> step 25: 1 of 8 sequences still running
    # --8<-- [end:demo-per-step]

    # --8<-- [start:demo-one-left]
    bn = nn.BatchNorm1d(32)  # training mode
    try:
        bn(torch.randn(1, 32))  # step 25: one sequence left in the batch
    except ValueError as err:
        print(textwrap.fill(str(err), 64))
        #> Expected more than 1 value per channel when training, got input
        #> size torch.Size([1, 32])
    # --8<-- [end:demo-one-left]

    # --8<-- [start:demo-batch-dependence]
    gaps = batch_gaps()
    print(
        f"LayerNorm: example 0 moves by {gaps['layer']:.4f} "
        "when its batch changes"
    )
    #> LayerNorm: example 0 moves by 0.0000 when its batch changes
    print(f"BatchNorm: example 0 moves by {gaps['batch']:.4f}")
    #> BatchNorm: example 0 moves by 3.0686
    torch.manual_seed(0)
    rnn, x = LayerNormRNN(3, 5), torch.randn(7, 4, 3)  # 4 sequences
    alone = rnn(x[:, :1])  # sequence 0 on its own
    same = torch.allclose(alone[:, 0], rnn(x)[:, 0], atol=1e-6)
    print("LN-RNN, sequence 0 alone == in the batch:", same)
    #> LN-RNN, sequence 0 alone == in the batch: True
    same = torch.equal(rnn.train()(x), rnn.eval()(x))
    print("LN-RNN, train == eval:", same)
    #> LN-RNN, train == eval: True
    # --8<-- [end:demo-batch-dependence]


if __name__ == "__main__":
    main()
