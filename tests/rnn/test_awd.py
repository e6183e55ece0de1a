"""Weight drop: single entries of W_hh are dropped, by one mask per forward pass used at
every step, and dropped entries get no gradient. Embedding dropout: a dropped word is the
zero vector at every occurrence in the batch; kept rows are scaled by 1/(1 - p)."""

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.rnn import awd, naive


def lstm_with(layer: awd.WeightDropLSTM, w_hh: torch.Tensor) -> nn.LSTM:
    plain = nn.LSTM(layer.lstm.input_size, layer.lstm.hidden_size)
    plain.load_state_dict({**layer.lstm.state_dict(), "weight_hh_l0": w_hh})
    return plain


@pytest.mark.claim("rnn/weight-drop-one-mask")
@given(steps=st.integers(1, 8), batch=st.integers(1, 3), p=st.floats(0.1, 0.8), seed=st.integers(0, 999))
@settings(max_examples=20, deadline=None)
def test_one_thinned_w_hh_serves_every_step(steps, batch, p, seed):
    """The output equals an ordinary nn.LSTM whose W_hh is multiplied by one mask: had a
    new mask been drawn at any step, the outputs from that step on would differ."""
    torch.manual_seed(seed)
    layer, x = awd.WeightDropLSTM(3, 4, p), torch.randn(steps, batch, 3)
    with torch.no_grad():
        out, (_, c) = layer(x, generator=torch.Generator().manual_seed(seed))
        mask = naive.inverted_mask((16, 4), p, torch.Generator().manual_seed(seed))
        expected, (_, c2) = lstm_with(layer, layer.lstm.weight_hh_l0 * mask)(x)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(c, c2)


@pytest.mark.claim("rnn/dropconnect-single-entries")
def test_mask_drops_single_entries_not_whole_units():
    torch.manual_seed(0)
    layer = awd.WeightDropLSTM(8, 32, p=0.5)
    mask = naive.inverted_mask(layer.lstm.weight_hh_l0.shape, 0.5, torch.Generator().manual_seed(0))
    assert mask.shape == (4 * 32, 32)
    assert (mask == 0).float().mean().item() == pytest.approx(0.5, abs=0.03)
    mixed_columns = ((mask == 0).any(dim=0) & (mask != 0).any(dim=0)).sum().item()
    assert mixed_columns == 32  # every column has dropped and kept entries: DropConnect, not dropout


@pytest.mark.claim("rnn/weight-drop-zero-gradient")
def test_dropped_entries_get_no_gradient_and_w_ih_is_untouched():
    torch.manual_seed(0)
    layer = awd.WeightDropLSTM(3, 4, p=0.5)
    out, _ = layer(torch.randn(6, 2, 3), generator=torch.Generator().manual_seed(3))
    out.sum().backward()
    mask = naive.inverted_mask((16, 4), 0.5, torch.Generator().manual_seed(3))
    grad = layer.lstm.weight_hh_l0.grad
    assert torch.all(grad[mask == 0] == 0) and torch.all(grad[mask != 0] != 0)
    assert torch.all(layer.lstm.weight_ih_l0.grad != 0)


@pytest.mark.claim("rnn/weight-drop-one-mask")
def test_each_forward_pass_draws_a_new_mask_and_eval_draws_none():
    torch.manual_seed(0)
    layer, x = awd.WeightDropLSTM(3, 4, p=0.5), torch.randn(5, 2, 3)
    with torch.no_grad():
        first, second = layer(x)[0], layer(x)[0]
        assert not torch.allclose(first, second)
        layer.eval()
        torch.testing.assert_close(layer(x)[0], layer.lstm(x)[0])
        layer.train().p = 0.0
        torch.testing.assert_close(layer(x)[0], layer.lstm(x)[0])


def test_no_warning_about_non_contiguous_weights():
    torch.manual_seed(0)
    layer = awd.WeightDropLSTM(3, 4, p=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer(torch.randn(5, 2, 3))


def test_bad_rate_is_refused():
    with pytest.raises(ValueError, match="drop probability p"):
        awd.WeightDropLSTM(3, 4, p=1.01)
    with pytest.raises(ValueError, match="drop probability p"):
        awd.embedding_dropout(nn.Embedding(5, 2), torch.tensor([1]), p=1.5, training=True)


@pytest.mark.claim("rnn/embedding-dropout-whole-words")
@given(p=st.floats(0.1, 0.9), seed=st.integers(0, 10_000))
@settings(max_examples=30, deadline=None)
def test_a_dropped_word_vanishes_everywhere_and_kept_rows_are_scaled(p, seed):
    torch.manual_seed(seed)
    embedding = nn.Embedding(20, 6)
    tokens = torch.randint(0, 20, (7, 5))  # every id occurs many times in the batch
    with torch.no_grad():
        out = embedding_out = awd.embedding_dropout(
            embedding, tokens, p, training=True, generator=torch.Generator().manual_seed(seed)
        )
    row_mask = naive.inverted_mask((20, 1), p, torch.Generator().manual_seed(seed))
    zero = (embedding_out == 0).all(dim=-1)
    for word in tokens.unique():
        where = tokens == word
        assert zero[where].all() or not zero[where].any()  # all occurrences share a fate
        assert bool(zero[where].all()) == bool(row_mask[word] == 0)
    kept = ~zero
    torch.testing.assert_close(out[kept], embedding.weight[tokens][kept] / (1 - p))


def test_embedding_dropout_in_eval_is_the_plain_lookup():
    embedding, tokens = nn.Embedding(10, 3), torch.tensor([[1, 2, 1]])
    assert torch.equal(awd.embedding_dropout(embedding, tokens, 0.5, training=False), embedding(tokens))
    assert torch.equal(awd.embedding_dropout(embedding, tokens, 0.0, training=True), embedding(tokens))


def test_page_numbers():
    facts = awd.facts()
    assert facts["w_hh_entries"] == 4 * 1150 * 1150 == 5_290_000
    assert facts["gates"] == 4
    assert (facts["dropoute"], facts["wdrop"], facts["clip"]) == (0.1, 0.5, 0.25)


def test_forward_pass_leaves_the_parameter_unchanged():
    """The mask acts on a copy for one call; masking the parameter in place would be permanent."""
    torch.manual_seed(0)
    layer = awd.WeightDropLSTM(3, 4, p=0.5)
    before = layer.lstm.weight_hh_l0.detach().clone()
    for _ in range(5):
        layer(torch.randn(4, 2, 3))
    assert torch.equal(layer.lstm.weight_hh_l0, before)
