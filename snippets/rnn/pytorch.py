"""nn.LSTM/nn.GRU(dropout=p) drops only between stacked layers;
gradient-norm clipping."""

import numbers
import textwrap
import warnings

import torch
import torch.nn.functional as F
from torch import nn

RNN_KINDS = (nn.LSTM, nn.GRU, nn.RNN)


def check_splittable(rnn) -> None:
    """split_layers copies the three built-in recurrent modules, nothing
    else: a subclass may compute something else with the same weights."""
    if type(rnn) not in RNN_KINDS:
        raise TypeError(
            "rnn must be an nn.LSTM, nn.GRU or nn.RNN, "
            f"got {type(rnn).__name__}"
        )


def one_layer_like(rnn: nn.RNNBase, input_size: int) -> nn.RNNBase:
    """A one-layer module of the same kind, size, options, dtype and device
    as rnn."""
    w = rnn.weight_ih_l0
    options = dict(
        bias=rnn.bias,
        batch_first=rnn.batch_first,
        bidirectional=rnn.bidirectional,
        device=w.device,
        dtype=w.dtype,
    )
    if isinstance(rnn, nn.LSTM):
        options["proj_size"] = rnn.proj_size
    if isinstance(rnn, nn.RNN):
        options["nonlinearity"] = rnn.nonlinearity
    return type(rnn)(input_size, rnn.hidden_size, num_layers=1, **options)


def check_max_norm(max_norm) -> None:
    """clip_grad_norm_ does not check max_norm: 0 zeroes every gradient and
    a negative max_norm flips their sign. Both are surely mistakes, so they
    are refused here."""
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
        raise TypeError(
            f"max_norm must be a number, got max_norm={max_norm!r}"
        )
    if not max_norm > 0:
        raise ValueError(
            f"max_norm must be positive, got max_norm={max_norm}"
        )


# --8<-- [start:stacked]
def split_layers(rnn: nn.RNNBase) -> list:
    """The layers of a stacked nn.LSTM, nn.GRU or nn.RNN as one-layer
    modules with the same weights and the same configuration."""
    check_splittable(rnn)
    width = rnn.proj_size or rnn.hidden_size  # what a layer outputs
    width *= 2 if rnn.bidirectional else 1  # both directions, side by side
    layers = []
    for k in range(rnn.num_layers):
        layer = one_layer_like(rnn, rnn.input_size if k == 0 else width)
        for name in layer.state_dict():  # weight_hh_l0 <- weight_hh_l{k}
            source = name.replace("_l0", f"_l{k}")
            layer.state_dict()[name].copy_(rnn.state_dict()[source])
        layers.append(layer.train(rnn.training))
    return layers


def run_stacked(
    layers: list, x: torch.Tensor, p: float, training: bool
) -> torch.Tensor:
    """Dropout on the output of every layer but the last, nowhere inside."""
    for k, layer in enumerate(layers):
        x, _ = layer(x)  # the recurrence h_{t-1} -> h_t runs without a mask
        if k < len(layers) - 1:
            x = F.dropout(x, p, training=training)
    return x


# --8<-- [end:stacked]


# --8<-- [start:zaremba-stack]
class ZarembaLSTM(nn.Module):
    """Dropout on all L + 1 non-recurrent connections (Zaremba et al.):
    nn.LSTM(dropout=p) supplies the L - 1 between the layers; the input of
    layer 1 and the output of layer L need their own nn.Dropout."""

    def __init__(self, input_size, hidden_size, num_layers, p):
        super().__init__()
        self.drop_in = nn.Dropout(p)  # 1: what enters layer 1
        between = p if num_layers > 1 else 0.0  # 0 avoids the warning
        # L - 1: between layers
        self.lstm = nn.LSTM(
            input_size, hidden_size, num_layers, dropout=between
        )
        self.drop_out = nn.Dropout(p)  # 1: what layer L hands on

    def forward(self, x):
        out, state = self.lstm(self.drop_in(x))
        return self.drop_out(out), state


def masks_drawn(module: nn.Module, x: torch.Tensor, seed: int = 0) -> int:
    """How many dropout masks of x's shape one forward pass draws: replay
    F.dropout until the random number generator is where the pass left
    it."""
    torch.manual_seed(seed)
    module(x)
    after = torch.get_rng_state()
    torch.manual_seed(seed)
    for count in range(10):
        if torch.equal(torch.get_rng_state(), after):
            return count
        F.dropout(torch.ones_like(x), 0.5)
    raise RuntimeError("more than 9 masks, or masks of another shape")


# --8<-- [end:zaremba-stack]


# --8<-- [start:warning]
def single_layer_lstm(p: float):
    """nn.LSTM(num_layers=1, dropout=p), and the warnings PyTorch gives
    while building it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lstm = nn.LSTM(input_size=3, hidden_size=4, num_layers=1, dropout=p)
    return lstm, [str(w.message) for w in caught]


# --8<-- [end:warning]


# --8<-- [start:clip]
def total_norm(grads: list, norm_type: float = 2.0) -> torch.Tensor:
    """The norm of all gradients taken together, as if they were one long
    vector: the norm of the per-tensor norms (inf: the largest |entry|)."""
    grads = [g for g in grads if g is not None]  # parameters without grad
    if not grads:
        return torch.tensor(0.0)
    norms = [torch.linalg.vector_norm(g, norm_type) for g in grads]
    return torch.linalg.vector_norm(torch.stack(norms), norm_type)


def clip_by_total_norm(
    grads: list,
    max_norm: float,
    norm_type=2.0,
    error_if_nonfinite: bool = False,
):
    """Scale every gradient by one factor so that the total norm is at most
    max_norm. Returns the clipped gradients and the norm before clipping,
    like clip_grad_norm_ (which works in place)."""
    check_max_norm(max_norm)
    norm = total_norm(grads, norm_type)
    if error_if_nonfinite and not torch.isfinite(norm):
        raise RuntimeError(f"the total norm of the gradients is {norm}")
    scale = torch.clamp(max_norm / (norm + 1e-6), max=1.0)  # 1: no clip
    return [None if g is None else g * scale.to(g) for g in grads], norm


# --8<-- [end:clip]


def exploding_gradients(seed: int = 0) -> nn.Module:
    """An RNN with a large recurrent matrix after one backward pass: big
    gradients."""
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
        "zaremba_masks": [
            masks_drawn(ZarembaLSTM(4, 4, n, 0.5), torch.ones(3, 2, 4))
            for n in (1, 2, 3)
        ],
    }


def main() -> None:
    # --8<-- [start:demo-stacked]
    torch.manual_seed(0)
    lstm = nn.LSTM(input_size=3, hidden_size=4, num_layers=2, dropout=0.5)
    layers = split_layers(lstm)  # first: building modules draws numbers
    x = torch.randn(6, 2, 3)
    torch.manual_seed(1)
    packaged, _ = lstm(x)
    torch.manual_seed(1)  # the same random numbers for the hand-made stack
    by_hand = run_stacked(layers, x, p=0.5, training=True)
    print("2 layers, dropout between them:", torch.equal(packaged, by_hand))
    #> 2 layers, dropout between them: True
    # --8<-- [end:demo-stacked]

    # --8<-- [start:demo-zaremba-stack]
    x = torch.randn(6, 2, 4)  # input_size = hidden_size: masks of one shape
    for layers in [1, 2, 3]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the one-layer warning, below
            plain = nn.LSTM(4, 4, num_layers=layers, dropout=0.5)
        zaremba = ZarembaLSTM(4, 4, num_layers=layers, p=0.5)
        n_plain, n_zaremba = masks_drawn(plain, x), masks_drawn(zaremba, x)
        print(
            f"L = {layers}: nn.LSTM(dropout=p) draws {n_plain}, "
            f"ZarembaLSTM {n_zaremba}"
        )
        #> L = 1: nn.LSTM(dropout=p) draws 0, ZarembaLSTM 2
        #> L = 2: nn.LSTM(dropout=p) draws 1, ZarembaLSTM 3
        #> L = 3: nn.LSTM(dropout=p) draws 2, ZarembaLSTM 4
    # --8<-- [end:demo-zaremba-stack]

    # --8<-- [start:demo-warning]
    torch.manual_seed(0)
    one_layer, messages = single_layer_lstm(p=0.5)
    for message in messages:
        print(textwrap.fill(message, width=60))
        #> dropout option adds dropout after all but last recurrent
        #> layer, so non-zero dropout expects num_layers greater than
        #> 1, but got dropout=0.5 and num_layers=1
    x = torch.randn(6, 2, 3)
    same = torch.equal(one_layer(x)[0], one_layer.eval()(x)[0])
    print("1 layer, train == eval:", same)
    #> 1 layer, train == eval: True
    # --8<-- [end:demo-warning]

    # --8<-- [start:demo-clip]
    rnn = exploding_gradients()
    before = total_norm([q.grad for q in rnn.parameters()])
    returned = nn.utils.clip_grad_norm_(rnn.parameters(), max_norm=1.0)
    after = total_norm([q.grad for q in rnn.parameters()])
    print(
        f"norm before {before:.2f}, returned {returned:.2f}, "
        f"after {after:.4f}"
    )
    #> norm before 81.93, returned 81.93, after 1.0000
    # --8<-- [end:demo-clip]


if __name__ == "__main__":
    main()
