"""AWD-LSTM's weight drop (DropConnect on W_hh) and embedding dropout."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from snippets.rnn.naive import check_rate, inverted_mask


# --8<-- [start:weight-drop]
class WeightDropLSTM(nn.Module):
    """An nn.LSTM whose hidden-to-hidden matrices W_hh lose random entries.

    A new mask is drawn once per forward pass; every time step of that pass
    uses the same thinned matrix, so nothing in the recurrence changes from
    step to step. Keyword arguments go to nn.LSTM (bias, batch_first...)."""

    def __init__(
        self, input_size: int, hidden_size: int, p: float, **lstm_options
    ):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, **lstm_options)
        self.p = check_rate(p)

    def forward(self, x, hx=None, generator: torch.Generator | None = None):
        if not self.training or self.p == 0.0:
            return self.lstm(x, hx)
        weights = dict(self.lstm.named_parameters())
        for name, w in weights.items():  # weight_hh_l0, weight_hh_l1, ...
            if name.startswith("weight_hh"):  # one draw per forward pass
                mask = inverted_mask(w.shape, self.p, generator, like=w)
                weights[name] = w * mask
        # Run nn.LSTM with the thinned matrices in place of its own, for
        # this call only: the parameters themselves are left as they are.
        return functional_call(self.lstm, weights, (x, hx))


# --8<-- [end:weight-drop]


# --8<-- [start:embedding]
def embedding_dropout(
    embedding: nn.Embedding, tokens, p, training: bool, generator=None
):
    """Drop whole rows of the embedding matrix: a dropped word is the zero
    vector at every position where it occurs in the batch; kept rows are
    scaled by 1 / (1 - p). The embedding's other options still apply."""
    check_rate(p)
    if not training or p == 0.0:
        return embedding(tokens)
    w = embedding.weight
    row_mask = inverted_mask((w.shape[0], 1), p, generator, like=w)
    return F.embedding(
        tokens,
        w * row_mask,  # one coin per word
        embedding.padding_idx,
        embedding.max_norm,
        embedding.norm_type,
        embedding.scale_grad_by_freq,
        embedding.sparse,
    )


# --8<-- [end:embedding]


# Defaults of the reference implementation
# (salesforce/awd-lstm-lm, main.py).
AWD_DEFAULTS = {
    "dropoute": 0.1,  # embedding dropout: whole words
    "dropouti": 0.65,  # locked dropout on the embedded input
    "wdrop": 0.5,  # weight drop on W_hh
    "dropouth": 0.3,  # locked dropout between LSTM layers
    "dropout": 0.4,  # locked dropout on the last LSTM layer's output
    "clip": 0.25,  # gradient-norm clipping
}


def facts() -> dict:
    lstm = nn.LSTM(400, 1150)
    return {
        **AWD_DEFAULTS,
        "w_hh_entries": lstm.weight_hh_l0.numel(),
        "hidden": 1150,
        "embed": 400,
        "gates": lstm.weight_hh_l0.shape[0] // 1150,
    }


def main() -> None:
    # --8<-- [start:demo-weight-drop]
    torch.manual_seed(0)
    layer = WeightDropLSTM(input_size=3, hidden_size=2, p=0.5)
    x = torch.randn(5, 1, 3)  # 5 steps, 1 sequence
    out, _ = layer(x, generator=torch.Generator().manual_seed(1))
    # Draw the same mask again; give an ordinary nn.LSTM the thinned W_hh.
    w_hh = layer.lstm.weight_hh_l0
    mask = inverted_mask(w_hh.shape, 0.5, torch.Generator().manual_seed(1))
    print("mask on W_hh, transposed (2 columns x 8 rows):")
    #> mask on W_hh, transposed (2 columns x 8 rows):
    print(mask.T)
    #> tensor([[0., 2., 2., 2., 0., 0., 0., 2.],
    #>         [2., 0., 0., 0., 2., 0., 2., 2.]])
    thinned = nn.LSTM(3, 2)
    state = {**layer.lstm.state_dict(), "weight_hh_l0": w_hh * mask}
    thinned.load_state_dict(state)
    same = torch.allclose(out, thinned(x)[0])
    print("one thinned matrix for all 5 steps:", same)
    #> one thinned matrix for all 5 steps: True
    # --8<-- [end:demo-weight-drop]

    # --8<-- [start:demo-embedding]
    sentence = ["the", "cat", "sat", "on", "the", "mat"]
    vocab = sorted(set(sentence))  # ['cat', 'mat', 'on', 'sat', 'the']
    tokens = torch.tensor([vocab.index(w) for w in sentence])
    embedding = nn.Embedding(len(vocab), 4)
    with torch.no_grad():
        g = torch.Generator().manual_seed(18)
        vectors = embedding_dropout(
            embedding, tokens, p=0.4, training=True, generator=g
        )
    for word, v in zip(sentence, vectors):
        print(f"{word:>4}: {'dropped' if (v == 0).all() else 'kept'}")
        #>  the: dropped
        #>  cat: kept
        #>  sat: dropped
        #>   on: kept
        #>  the: dropped
        #>  mat: kept
    # --8<-- [end:demo-embedding]


if __name__ == "__main__":
    main()
