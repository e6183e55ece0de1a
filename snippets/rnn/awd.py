"""AWD-LSTM's weight drop (DropConnect on W_hh) and embedding dropout."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from snippets.dropout.bernoulli import check_drop_prob
from snippets.rnn.naive import inverted_mask


# --8<-- [start:weight-drop]
class WeightDropLSTM(nn.Module):
    """One LSTM layer whose hidden-to-hidden matrix W_hh loses random entries.

    A new mask is drawn once per forward pass; every time step of that pass uses the
    same thinned matrix, so nothing in the recurrence changes from step to step."""

    def __init__(self, input_size: int, hidden_size: int, p: float):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size)
        self.p = check_drop_prob(p)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        if not self.training or self.p == 0.0:
            return self.lstm(x)
        w_hh = self.lstm.weight_hh_l0
        mask = inverted_mask(w_hh.shape, self.p, generator)  # one draw per forward pass
        weights = {**dict(self.lstm.named_parameters()), "weight_hh_l0": w_hh * mask}
        # Run nn.LSTM with the thinned matrix in place of its own, for this call only.
        return functional_call(self.lstm, weights, (x,))
# --8<-- [end:weight-drop]


# --8<-- [start:embedding]
def embedding_dropout(embedding: nn.Embedding, tokens, p, training: bool, generator=None):
    """Drop whole rows of the embedding matrix: a dropped word is the zero vector at
    every position where it occurs in the batch; kept rows are scaled by 1 / (1 - p)."""
    check_drop_prob(p)
    if not training or p == 0.0:
        return embedding(tokens)
    row_mask = inverted_mask((embedding.num_embeddings, 1), p, generator)  # a coin per word
    weight = embedding.weight * row_mask
    return F.embedding(tokens, weight, padding_idx=embedding.padding_idx)
# --8<-- [end:embedding]


# Defaults of the reference implementation (salesforce/awd-lstm-lm, main.py).
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
    # Draw the same mask again and give an ordinary nn.LSTM the thinned W_hh.
    w_hh = layer.lstm.weight_hh_l0
    mask = inverted_mask(w_hh.shape, 0.5, torch.Generator().manual_seed(1))
    print("mask on W_hh, transposed (2 columns x 8 rows):")
    #> mask on W_hh, transposed (2 columns x 8 rows):
    print(mask.T)
    #> tensor([[0., 2., 2., 2., 0., 0., 0., 2.],
    #>         [2., 0., 0., 0., 2., 0., 2., 2.]])
    thinned = nn.LSTM(3, 2)
    thinned.load_state_dict({**layer.lstm.state_dict(), "weight_hh_l0": w_hh * mask})
    print("one thinned matrix for all 5 steps:", torch.allclose(out, thinned(x)[0]))
    #> one thinned matrix for all 5 steps: True
    # --8<-- [end:demo-weight-drop]

    # --8<-- [start:demo-embedding]
    sentence = "the cat sat on the mat".split()
    vocab = sorted(set(sentence))  # ['cat', 'mat', 'on', 'sat', 'the']
    tokens = torch.tensor([vocab.index(w) for w in sentence])
    embedding = nn.Embedding(len(vocab), 4)
    with torch.no_grad():
        vectors = embedding_dropout(embedding, tokens, p=0.4, training=True,
                                    generator=torch.Generator().manual_seed(18))
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
