"""nn.LSTM/nn.GRU(dropout=p) drops only between stacked layers; gradient-norm clipping."""

import textwrap
import warnings

import torch
import torch.nn.functional as F
from torch import nn


# --8<-- [start:stacked]
def split_layers(rnn: nn.LSTM | nn.GRU) -> list:
    """The layers of a stacked nn.LSTM or nn.GRU as one-layer modules, same weights."""
    if rnn.bidirectional or rnn.batch_first:
        raise ValueError("rnn must be unidirectional with batch_first=False")
    layers = [type(rnn)(rnn.input_size if k == 0 else rnn.hidden_size, rnn.hidden_size)
              for k in range(rnn.num_layers)]
    for name, weight in rnn.state_dict().items():  # "weight_hh_l1" is in layer 1
        base, k = name.rsplit("_l", 1)
        layers[int(k)].state_dict()[f"{base}_l0"].copy_(weight)
    return layers


def run_stacked(layers: list, x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Dropout on the output of every layer but the last, and nowhere inside a layer."""
    for k, layer in enumerate(layers):
        x, _ = layer(x)  # the recurrence h_{t-1} -> h_t runs without any mask
        if k < len(layers) - 1:
            x = F.dropout(x, p, training=training)
    return x
# --8<-- [end:stacked]


# --8<-- [start:warning]
def single_layer_lstm(p: float):
    """nn.LSTM(num_layers=1, dropout=p), and the warnings PyTorch gives building it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lstm = nn.LSTM(input_size=3, hidden_size=4, num_layers=1, dropout=p)
    return lstm, [str(w.message) for w in caught]
# --8<-- [end:warning]


# --8<-- [start:clip]
def total_norm(grads: list[torch.Tensor]) -> torch.Tensor:
    """The L2 norm of all gradients taken together, as if they were one long vector."""
    return torch.stack([g.pow(2).sum() for g in grads]).sum().sqrt()


def clip_by_total_norm(grads: list[torch.Tensor], max_norm: float):
    """Scale every gradient by the same factor so that the total norm is at most max_norm.
    Returns the clipped gradients and the norm before clipping, like clip_grad_norm_."""
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got max_norm={max_norm}")
    norm = total_norm(grads)
    scale = torch.clamp(max_norm / (norm + 1e-6), max=1.0)  # 1 if already small enough
    return [g * scale for g in grads], norm
# --8<-- [end:clip]


def exploding_gradients(seed: int = 0) -> nn.Module:
    """An RNN with a large recurrent matrix after one backward pass: big gradients."""
    torch.manual_seed(seed)
    rnn = nn.RNN(input_size=3, hidden_size=8)
    with torch.no_grad():
        rnn.weight_hh_l0.mul_(4.0)  # a recurrent matrix that amplifies
    out, _ = rnn(torch.randn(30, 2, 3))
    out.pow(2).sum().backward()
    return rnn


def facts() -> dict:
    rnn = exploding_gradients()
    grads = [q.grad for q in rnn.parameters()]
    clipped, before = clip_by_total_norm(grads, 1.0)
    return {
        "p": 0.5,
        "max_norm": 1.0,
        "norm_before": before.item(),
        "norm_after": total_norm(clipped).item(),
        "warning": single_layer_lstm(0.5)[1][0],
    }


def main() -> None:
    # --8<-- [start:demo-stacked]
    torch.manual_seed(0)
    lstm = nn.LSTM(input_size=3, hidden_size=4, num_layers=2, dropout=0.5)
    layers = split_layers(lstm)  # built first: creating modules uses random numbers too
    x = torch.randn(6, 2, 3)
    torch.manual_seed(1)
    packaged, _ = lstm(x)
    torch.manual_seed(1)  # the same random numbers for the hand-made stack
    by_hand = run_stacked(layers, x, p=0.5, training=True)
    print("2 layers, dropout between them:", torch.equal(packaged, by_hand))
    #> 2 layers, dropout between them: True
    # --8<-- [end:demo-stacked]

    # --8<-- [start:demo-warning]
    torch.manual_seed(0)
    one_layer, messages = single_layer_lstm(p=0.5)
    for message in messages:
        print(textwrap.fill(message, width=60))
        #> dropout option adds dropout after all but last recurrent
        #> layer, so non-zero dropout expects num_layers greater than
        #> 1, but got dropout=0.5 and num_layers=1
    x = torch.randn(6, 2, 3)
    print("1 layer, train == eval:", torch.equal(one_layer(x)[0], one_layer.eval()(x)[0]))
    #> 1 layer, train == eval: True
    # --8<-- [end:demo-warning]

    # --8<-- [start:demo-clip]
    rnn = exploding_gradients()
    before = total_norm([q.grad for q in rnn.parameters()])
    returned = nn.utils.clip_grad_norm_(rnn.parameters(), max_norm=1.0)
    after = total_norm([q.grad for q in rnn.parameters()])
    print(f"norm before {before:.2f}, returned {returned:.2f}, after {after:.4f}")
    #> norm before 81.93, returned 81.93, after 1.0000
    # --8<-- [end:demo-clip]


if __name__ == "__main__":
    main()
