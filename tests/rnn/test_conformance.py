"""Conformance of the RNN chapter's hand-made code with the PyTorch ops it is said to equal
or to behave like: dtypes, the meta device, edge shapes, p = 0 and p = 1, bad input,
gradients, no mutation of inputs or weights, module modes."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.rnn import awd, exercises, naive, normalization, pytorch, variational, zoneout

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
BAD_RATES = [
    (-0.1, ValueError),
    (1.5, ValueError),
    (float("nan"), ValueError),
    (None, TypeError),
    (True, TypeError),
    ("0.5", TypeError),
]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def lstm_from_cell(cell: nn.LSTMCell) -> nn.LSTM:
    w = cell.weight_ih
    lstm = nn.LSTM(cell.input_size, cell.hidden_size, bias=cell.bias, dtype=w.dtype)
    lstm.load_state_dict({f"{name}_l0": t for name, t in cell.state_dict().items()})
    return lstm


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("p, error", BAD_RATES)
def test_every_rate_is_checked_and_named(p, error):
    x = torch.ones(2, 1, 3)
    calls = [
        lambda: naive.check_rate(p),
        lambda: variational.LockedDropout(p),
        lambda: awd.WeightDropLSTM(3, 2, p),
        lambda: awd.embedding_dropout(nn.Embedding(4, 2), torch.tensor([1]), p, True),
        lambda: naive.zaremba_lstm(x, nn.LSTMCell(3, 2), p, True),
        lambda: zoneout.semeniuta_lstm(x, nn.LSTMCell(3, 2), p, True),
        lambda: zoneout.zoneout(torch.ones(2), torch.ones(2), p, True),
        lambda: variational.variational_rnn(x, torch.ones(2, 3), torch.ones(2, 2), p),
    ]
    for call in calls:
        with pytest.raises(error, match="drop probability p"):
            call()
    with pytest.raises(error, match="p_h"):
        zoneout.zoneout_lstm(x, nn.LSTMCell(3, 2), 0.1, p, True)


def test_nn_dropout_accepts_p_one_and_so_do_we():
    """PyTorch: nn.Dropout(1.0) returns zeros (NaN stays NaN: 0 * NaN). The same here."""
    x = torch.tensor([[[1.0, float("nan"), 2.0]]])
    torch.testing.assert_close(F.dropout(x, 1.0), x * 0, equal_nan=True)
    torch.testing.assert_close(variational.LockedDropout(1.0)(x), x * 0, equal_nan=True)
    assert torch.equal(naive.inverted_mask((3,), 1.0), torch.zeros(3))
    assert torch.equal(naive.inverted_mask((3,), 0.0), torch.ones(3))


@pytest.mark.parametrize("bad", [torch.ones(0, 2, 3), torch.ones(2, 3), torch.ones(1, 2, 3, 4)])
def test_sequences_of_the_wrong_shape_are_refused(bad):
    """nn.LSTM refuses T = 0 too (RuntimeError); a 2-D x would be read as (T, n) here."""
    with pytest.raises(ValueError, match="x must have shape"):
        naive.rnn_states(bad, torch.ones(2, 3), torch.ones(2, 2))
    with pytest.raises(ValueError, match="x must have shape"):
        naive.zaremba_lstm(bad, nn.LSTMCell(3, 2), 0.5, True)
    with pytest.raises(ValueError, match="x must have shape"):
        zoneout.zoneout_lstm(bad, nn.LSTMCell(3, 2), 0.1, 0.1, True)
    with pytest.raises(ValueError, match="x must have shape"):
        zoneout.semeniuta_lstm(bad, nn.LSTMCell(3, 2), 0.1, True)
    with pytest.raises(RuntimeError, match="sequence length"):
        nn.LSTM(3, 2)(torch.ones(0, 2, 3))
    with pytest.raises(TypeError, match="x must be a tensor"):
        naive.rnn_states([[1.0]], torch.ones(2, 3), torch.ones(2, 2))
    with pytest.raises(TypeError, match="x must be a tensor"):
        variational.LockedDropout(0.5)([[1.0]])


@pytest.mark.parametrize("shape", [(2, 1, 4), (3, 1, 4), (1, 4), (4,), (2, 2, 4), (1, 1, 4, 1)])
def test_masks_that_would_broadcast_silently_are_refused(shape):
    """A (B, n) or (n,) mask, or one with a batch of 1 for a batch of 2, broadcasts."""
    x, w_ih, w_hh = torch.ones(3, 2, 5), torch.ones(4, 5), torch.ones(4, 4)
    with pytest.raises(ValueError, match="hidden_mask must have shape"):
        naive.rnn_states(x, w_ih, w_hh, hidden_mask=torch.ones(shape))
    with pytest.raises(ValueError, match="input_mask must have shape"):
        naive.rnn_states(x, w_ih, w_hh, input_mask=torch.ones(shape[:-1] + (5,)))


def test_zoneout_refuses_shapes_that_broadcast():
    with pytest.raises(ValueError, match="previous and new must have the same shape"):
        zoneout.zoneout(torch.ones(4), torch.ones(2, 4), 0.5, True)
    with pytest.raises(ValueError, match="previous and new must have the same shape"):
        zoneout.zoneout(torch.ones(2, 1), torch.ones(2, 4), 0.5, False)


# ---------------------------------------------------------------- masks: dtype, device


@pytest.mark.parametrize("dtype", DTYPES)
def test_inverted_mask_follows_like(dtype):
    like = torch.ones(2, dtype=dtype)
    mask = naive.inverted_mask((50, 40), 0.25, gen(), like=like)
    assert mask.dtype == dtype
    same_draws = naive.inverted_mask((50, 40), 0.25, gen())  # float32, same coins
    assert torch.equal(mask == 0, same_draws == 0)
    assert torch.all((mask == 0) | (mask == torch.tensor(4 / 3, dtype=dtype)))
    meta = naive.inverted_mask((3, 4), 0.5, like=torch.empty(1, device="meta", dtype=dtype))
    assert meta.is_meta and meta.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_locked_dropout_keeps_dtype_device_and_is_nn_dropout_with_one_mask(dtype):
    x = torch.randn(5, 3, 8, dtype=dtype)
    before = x.clone()
    out = variational.LockedDropout(0.5)(x, generator=gen(3))
    assert out.dtype == dtype and torch.equal(x, before)  # no mutation
    ones = variational.LockedDropout(0.5)(torch.ones_like(x), generator=gen(3))
    assert exercises.is_locked(ones)
    torch.testing.assert_close(out, x * ones)  # x times one locked mask
    meta = variational.LockedDropout(0.5)(torch.empty(5, 3, 8, device="meta", dtype=dtype))
    assert meta.is_meta and meta.dtype == dtype and meta.shape == (5, 3, 8)


def test_locked_dropout_matches_dropout1d_on_the_transposed_layout():
    """nn.Dropout1d on (B, H, T) drops whole channels, i.e. a unit for all steps: with
    batch_first data that is locked dropout, so both have the same kind of mask."""
    ones = torch.ones(4, 20, 16)  # (B, T, H)
    torch.manual_seed(0)
    theirs = F.dropout1d(ones.transpose(1, 2), 0.5, training=True).transpose(1, 2)
    ours = variational.LockedDropout(0.5, batch_first=True)(ones)
    for out in (theirs, ours):
        assert exercises.is_locked(out, time_axis=1)
        assert set(out.unique().tolist()) == {0.0, 2.0}


@given(batch_first=st.booleans(), steps=st.integers(1, 4), batch=st.integers(1, 3), seed=st.integers(0, 99))
@settings(max_examples=20, deadline=None)
def test_locked_dropout_gradient_is_the_mask(batch_first, steps, batch, seed):
    shape = (batch, steps, 6) if batch_first else (steps, batch, 6)
    x = torch.randn(shape, dtype=torch.float64).transpose(0, 1).contiguous().transpose(0, 1)
    x.requires_grad_()
    layer = variational.LockedDropout(0.4, batch_first=batch_first)
    out = layer(x, generator=gen(seed))
    (grad,) = torch.autograd.grad(out.sum(), x)
    mask = layer(torch.ones_like(x), generator=gen(seed))
    torch.testing.assert_close(grad, mask)


def test_locked_dropout_keeps_the_mode_and_empty_sequences():
    layer = variational.LockedDropout(0.5).eval()
    x = torch.randn(3, 2, 4)
    assert layer(x) is x and not layer.training
    empty = torch.ones(2, 0, 4)
    assert variational.LockedDropout(0.5).train()(empty).shape == (2, 0, 4)


# ---------------------------------------------------------------- rnn_states, Zaremba


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("steps, batch", [(1, 1), (4, 3)])
def test_rnn_states_equals_nn_rnn_in_every_dtype(dtype, steps, batch):
    """Without masks the result keeps x's dtype (the default mask used to be a float32
    tensor of ones, which promoted bfloat16 to float32) and equals nn.RNN."""
    torch.manual_seed(0)
    rnn = nn.RNN(5, 4, bias=False, dtype=dtype)
    x = torch.randn(batch, steps, 5, dtype=dtype).transpose(0, 1)  # non-contiguous
    with torch.no_grad():
        ours = naive.rnn_states(x, rnn.weight_ih_l0, rnn.weight_hh_l0)
        assert ours.dtype == dtype
        tol = {"atol": 2e-2, "rtol": 2e-2} if dtype == torch.bfloat16 else {}
        torch.testing.assert_close(ours, rnn(x)[0], **tol)


def test_rnn_states_on_meta():
    x = torch.empty(3, 2, 5, device="meta")
    w_ih, w_hh = torch.empty(4, 5, device="meta"), torch.empty(4, 4, device="meta")
    mask = naive.inverted_mask((1, 2, 4), 0.5, like=x)
    out = naive.rnn_states(x, w_ih, w_hh, hidden_mask=mask)
    assert out.is_meta and out.shape == (3, 2, 4)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_zaremba_lstm_keeps_dtype_and_equals_nn_lstm(dtype):
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 4, dtype=dtype)
    x = torch.randn(5, 2, 3, dtype=dtype)
    with torch.no_grad():
        ours = naive.zaremba_lstm(x, cell, 0.5, True, gen(1))
        g = gen(1)
        in_mask = naive.inverted_mask(x.shape, 0.5, g, like=x)
        out_mask = naive.inverted_mask((5, 2, 4), 0.5, g, like=x)
        expected = lstm_from_cell(cell)(x * in_mask)[0] * out_mask
    assert ours.dtype == dtype
    tol = {"atol": 3e-2, "rtol": 3e-2} if dtype in (torch.float16, torch.bfloat16) else {}
    torch.testing.assert_close(ours, expected, **tol)


def test_zaremba_lstm_gradients_equal_autograd_through_nn_lstm():
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 4, dtype=torch.float64)
    lstm = lstm_from_cell(cell)
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    naive.zaremba_lstm(x, cell, 0.3, True, gen(2)).pow(2).sum().backward()
    g = gen(2)
    in_mask = naive.inverted_mask(x.shape, 0.3, g, like=x)
    out_mask = naive.inverted_mask((4, 2, 4), 0.3, g, like=x)
    x2 = x.detach().clone().requires_grad_()
    (lstm(x2 * in_mask)[0] * out_mask).pow(2).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(cell.weight_hh.grad, lstm.weight_hh_l0.grad)


def test_zaremba_lstm_on_meta_and_with_p_one():
    cell = nn.LSTMCell(3, 4, device="meta")
    out = naive.zaremba_lstm(torch.empty(5, 2, 3, device="meta"), cell, 0.5, True)
    assert out.is_meta and out.shape == (5, 2, 4)
    out = naive.zaremba_lstm(torch.randn(3, 2, 3), nn.LSTMCell(3, 4), 1.0, True)
    assert torch.equal(out, torch.zeros(3, 2, 4))  # nn.Dropout(1) would give zeros too


# ---------------------------------------------------------------- zoneout, Semeniuta


def zoneout_by_hand(previous, new, p, seed):
    """The definition, unit by unit, with the same coins."""
    coins = torch.rand(new.shape, generator=gen(seed))
    out = previous.clone()
    for idx in itertools.product(*map(range, new.shape)):
        if coins[idx] < 1 - p:  # the unit updates
            out[idx] = new[idx]
    return out


@given(p=st.sampled_from([0.0, 0.3, 1.0]), seed=st.integers(0, 99), dtype=st.sampled_from(DTYPES))
@settings(max_examples=25, deadline=None)
def test_zoneout_train_is_the_definition_and_eval_the_expectation(p, seed, dtype):
    previous = torch.randn(3, 4, dtype=dtype)
    new = torch.randn(4, 3, dtype=dtype).T  # non-contiguous
    before = (previous.clone(), new.clone())
    out = zoneout.zoneout(previous, new, p, True, gen(seed))
    assert out.dtype == dtype and torch.equal(out, zoneout_by_hand(previous, new, p, seed))
    expectation = zoneout.zoneout(previous, new, p, False)
    assert expectation.dtype == dtype
    torch.testing.assert_close(expectation, p * previous + (1 - p) * new)
    assert torch.equal(previous, before[0]) and torch.equal(new, before[1])
    if p == 0.0:
        assert torch.equal(out, new)
    if p == 1.0:
        assert torch.equal(out, previous)


def test_zoneout_gradient_goes_to_the_value_that_was_kept():
    previous = torch.randn(200, requires_grad=True)
    new = torch.randn(200, requires_grad=True)
    out = zoneout.zoneout(previous, new, 0.5, True, gen(4))
    out.sum().backward()
    held = zoneout_by_hand(previous.detach(), new.detach(), 0.5, 4) == previous.detach()
    assert torch.equal(previous.grad, held.float()) and torch.equal(new.grad, (~held).float())


def test_zoneout_on_meta():
    out = zoneout.zoneout(torch.empty(2, 3, device="meta"), torch.empty(2, 3, device="meta"), 0.5, True)
    assert out.is_meta and out.shape == (2, 3)
    cell = nn.LSTMCell(3, 4, device="meta")
    out = zoneout.zoneout_lstm(torch.empty(5, 2, 3, device="meta"), cell, 0.1, 0.2, True)
    assert out.is_meta and out.shape == (5, 2, 4)
    out = zoneout.semeniuta_lstm(torch.empty(5, 2, 3, device="meta"), cell, 0.3, True)
    assert out.is_meta and out.shape == (5, 2, 4)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32, torch.float64])
def test_semeniuta_step_without_mask_is_nn_lstmcell(bias, dtype):
    """lstm_gates used to read cell.bias_ih, which is None for LSTMCell(bias=False)."""
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 5, bias=bias, dtype=dtype)
    x, h, c = (torch.randn(2, n, dtype=dtype) for n in (3, 5, 5))
    with torch.no_grad():
        ours = zoneout.semeniuta_step(x, h, c, cell, torch.ones(2, 5, dtype=dtype))
    tol = {"atol": 2e-2, "rtol": 2e-2} if dtype == torch.bfloat16 else {}
    for mine, theirs in zip(ours, cell(x, (h, c))):
        assert mine.dtype == dtype
        torch.testing.assert_close(mine, theirs, **tol)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64])
def test_semeniuta_and_zoneout_lstm_keep_dtype(dtype):
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 4, dtype=dtype)
    x = torch.randn(1, 1, 3, dtype=dtype)  # one step, batch of one
    with torch.no_grad():
        assert zoneout.semeniuta_lstm(x, cell, 0.5, True, gen()).dtype == dtype
        assert zoneout.zoneout_lstm(x, cell, 0.5, 0.5, True, gen()).dtype == dtype


def test_zoneout_lstm_with_rates_one_never_updates():
    """p_c = p_h = 1: every unit is zoned out at every step and keeps h_0 = 0."""
    out = zoneout.zoneout_lstm(torch.randn(4, 2, 3), nn.LSTMCell(3, 5), 1.0, 1.0, True)
    assert torch.equal(out, torch.zeros(4, 2, 5))


# ---------------------------------------------------------------- weight drop


def thinned_lstm(layer: awd.WeightDropLSTM, seed: int) -> nn.LSTM:
    """An ordinary nn.LSTM with every W_hh multiplied by the masks of one forward pass."""
    plain = nn.LSTM(
        layer.lstm.input_size,
        layer.lstm.hidden_size,
        num_layers=layer.lstm.num_layers,
        bias=layer.lstm.bias,
        batch_first=layer.lstm.batch_first,
        dtype=layer.lstm.weight_hh_l0.dtype,
    )
    state = layer.lstm.state_dict()
    g = gen(seed)
    for name, w in layer.lstm.named_parameters():
        if name.startswith("weight_hh"):
            state[name] = w.detach() * naive.inverted_mask(w.shape, layer.p, g, like=w)
    plain.load_state_dict(state)
    return plain


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_weight_drop_keeps_dtype_and_equals_the_thinned_lstm(dtype):
    torch.manual_seed(0)
    layer = awd.WeightDropLSTM(3, 4, 0.5, dtype=dtype)
    x = torch.randn(5, 2, 3, dtype=dtype)
    with torch.no_grad():
        out, (_, c) = layer(x, generator=gen(1))
        expected, (_, c2) = thinned_lstm(layer, 1)(x)
    assert out.dtype == dtype
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(c, c2)


@pytest.mark.parametrize("options", [dict(bias=False), dict(batch_first=True), dict(num_layers=2)])
def test_weight_drop_forwards_the_lstm_options_and_an_initial_state(options):
    torch.manual_seed(0)
    layer = awd.WeightDropLSTM(3, 4, 0.5, **options)
    layers = options.get("num_layers", 1)
    x = torch.randn(2, 5, 3)  # 2 sequences of 5 steps, batch first
    hx = (torch.randn(layers, 2, 4), torch.randn(layers, 2, 4))
    if not options.get("batch_first"):
        x = x.transpose(0, 1)  # (T, B, n), and not contiguous
    with torch.no_grad():
        out = layer(x, hx, generator=gen(2))[0]
        torch.testing.assert_close(out, thinned_lstm(layer, 2)(x, hx)[0])


def test_weight_drop_gradients_equal_autograd_through_the_thinned_weight():
    torch.manual_seed(0)
    layer = awd.WeightDropLSTM(3, 4, 0.4, dtype=torch.float64)
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    layer(x, generator=gen(5))[0].pow(2).sum().backward()
    w_hh = layer.lstm.weight_hh_l0
    mask = naive.inverted_mask(w_hh.shape, 0.4, gen(5), like=w_hh)
    leaf = w_hh.detach().clone().requires_grad_()
    params = {**{k: v.detach() for k, v in layer.lstm.named_parameters()}, "weight_hh_l0": leaf * mask}
    out = torch.func.functional_call(layer.lstm, params, (x,))[0]
    out.pow(2).sum().backward()
    torch.testing.assert_close(w_hh.grad, leaf.grad)


def test_weight_drop_preserves_weights_and_modes():
    torch.manual_seed(0)
    layer = awd.WeightDropLSTM(3, 4, 0.5)
    before = {k: v.detach().clone() for k, v in layer.state_dict().items()}
    layer.train()
    layer.lstm.eval()  # submodule modes are the user's: keep them as they are
    layer(torch.randn(4, 2, 3))
    assert layer.training and not layer.lstm.training
    assert all(torch.equal(before[k], v) for k, v in layer.state_dict().items())
    assert set(dict(layer.named_parameters())) == set(before)  # nothing replaced or added


def test_weight_drop_on_meta_and_with_p_one():
    layer = awd.WeightDropLSTM(3, 4, 0.5, device="meta")
    out, _ = layer(torch.empty(5, 2, 3, device="meta"))
    assert out.is_meta and out.shape == (5, 2, 4)
    torch.manual_seed(0)
    layer, x = awd.WeightDropLSTM(3, 4, 1.0), torch.randn(5, 2, 3)
    no_recurrence = nn.LSTM(3, 4)
    no_recurrence.load_state_dict({**layer.lstm.state_dict(), "weight_hh_l0": torch.zeros(16, 4)})
    with torch.no_grad():
        torch.testing.assert_close(layer(x)[0], no_recurrence(x)[0])


# ---------------------------------------------------------------- embedding dropout


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_dropout_keeps_dtype_and_equals_f_embedding_on_a_masked_weight(dtype):
    """Known bug: the float32 row mask promoted float16/bfloat16 weights to float32."""
    torch.manual_seed(0)
    embedding = nn.Embedding(10, 4, dtype=dtype)
    tokens = torch.randint(0, 10, (3, 5))
    with torch.no_grad():
        out = awd.embedding_dropout(embedding, tokens, 0.4, True, gen(7))
        row_mask = naive.inverted_mask((10, 1), 0.4, gen(7), like=embedding.weight)
        expected = F.embedding(tokens, embedding.weight * row_mask)
    assert out.dtype == embedding(tokens).dtype == dtype
    assert torch.equal(out, expected)


def test_embedding_dropout_gradient_and_padding_idx():
    torch.manual_seed(0)
    embedding = nn.Embedding(8, 3, padding_idx=0, dtype=torch.float64)
    tokens = torch.tensor([[0, 1, 2, 1], [3, 0, 2, 7]])
    before = embedding.weight.detach().clone()
    awd.embedding_dropout(embedding, tokens, 0.5, True, gen(1)).pow(2).sum().backward()
    leaf = before.clone().requires_grad_()
    row_mask = naive.inverted_mask((8, 1), 0.5, gen(1), like=leaf)
    F.embedding(tokens, leaf * row_mask, padding_idx=0).pow(2).sum().backward()
    torch.testing.assert_close(embedding.weight.grad, leaf.grad)
    assert torch.equal(embedding.weight.grad[0], torch.zeros(3))  # padding gets no gradient
    assert torch.equal(embedding.weight.detach(), before)  # the weight is not mutated


def test_embedding_dropout_keeps_the_embeddings_options():
    """max_norm and scale_grad_by_freq of the nn.Embedding used to be ignored in training."""
    torch.manual_seed(0)
    embedding = nn.Embedding(6, 3, max_norm=0.5, scale_grad_by_freq=True)
    tokens = torch.tensor([1, 1, 2, 3, 4, 5, 0])
    with torch.no_grad():
        out = awd.embedding_dropout(embedding, tokens, 0.2, True, gen(0))
    kept = out.norm(dim=-1) > 0
    assert torch.all(out[kept].norm(dim=-1) <= 0.5 / 0.8 + 1e-5)  # renormed, then scaled


def test_embedding_dropout_on_meta_and_p_one():
    embedding = nn.Embedding(6, 3, device="meta")
    out = awd.embedding_dropout(embedding, torch.tensor([1, 2], device="meta"), 0.5, True)
    assert out.is_meta and out.shape == (2, 3)
    out = awd.embedding_dropout(nn.Embedding(6, 3), torch.tensor([1, 2]), 1.0, True)
    assert torch.equal(out, torch.zeros(2, 3))


# ---------------------------------------------------------------- split_layers

CONFIGS = [
    (nn.LSTM, dict(bias=False)),
    (nn.LSTM, dict(batch_first=True)),
    (nn.LSTM, dict(proj_size=2)),
    (nn.LSTM, dict(bidirectional=True)),
    (nn.LSTM, dict(bidirectional=True, proj_size=3, bias=False)),
    (nn.GRU, dict(bidirectional=True, batch_first=True)),
    (nn.RNN, dict(nonlinearity="relu")),
    (nn.RNN, dict(bias=False)),
    (nn.LSTM, dict(dtype=torch.float64)),
]


@pytest.mark.parametrize("kind, options", CONFIGS)
@pytest.mark.parametrize("num_layers", [1, 3])
def test_split_layers_copies_every_option(kind, options, num_layers):
    """Known bug: the layers were built with defaults, so bias=False, the dtype, proj_size,
    nonlinearity='relu' were lost (or split_layers refused bidirectional/batch_first)."""
    torch.manual_seed(0)
    rnn = kind(3, 5, num_layers=num_layers, dropout=0.4 if num_layers > 1 else 0.0, **options)
    layers = pytorch.split_layers(rnn)
    assert len(layers) == num_layers
    n_params = sum(q.numel() for q in rnn.parameters())
    assert sum(q.numel() for layer in layers for q in layer.parameters()) == n_params
    dtype = options.get("dtype", torch.float32)
    shape = (2, 1, 3) if options.get("batch_first") else (1, 2, 3)  # one step
    x = torch.randn(shape, dtype=dtype)
    for seq in (x, torch.randn(4, 2, 3, dtype=dtype)):
        torch.manual_seed(11)
        packaged, _ = rnn(seq)
        torch.manual_seed(11)
        by_hand = pytorch.run_stacked(layers, seq, p=0.4, training=True)
        assert by_hand.dtype == dtype
        assert torch.equal(packaged, by_hand)


def test_split_layers_keeps_device_and_mode_and_refuses_other_modules():
    layers = pytorch.split_layers(nn.LSTM(3, 4, num_layers=2, device="meta"))
    assert all(q.is_meta for layer in layers for q in layer.parameters())
    rnn = nn.GRU(3, 4, num_layers=2).eval()
    assert not any(layer.training for layer in pytorch.split_layers(rnn))
    before = {k: v.clone() for k, v in rnn.state_dict().items()}
    pytorch.split_layers(rnn)
    assert all(torch.equal(before[k], v) for k, v in rnn.state_dict().items())

    class Peephole(nn.LSTM):
        pass

    for bad in (Peephole(3, 4), nn.LSTMCell(3, 4), nn.Linear(3, 4)):
        with pytest.raises(TypeError, match="rnn must be an nn.LSTM, nn.GRU or nn.RNN"):
            pytorch.split_layers(bad)


def test_split_layers_are_copies_not_views():
    rnn = nn.LSTM(3, 4, num_layers=2)
    layers = pytorch.split_layers(rnn)
    with torch.no_grad():
        layers[1].weight_hh_l0.zero_()
    assert not torch.equal(rnn.weight_hh_l1, torch.zeros(16, 4))


# ---------------------------------------------------------------- gradient clipping


def params_with(grads):
    params = []
    for g in grads:
        q = nn.Parameter(torch.zeros(g.shape, dtype=g.dtype) if g is not None else torch.zeros(2))
        q.grad = None if g is None else g.clone()
        params.append(q)
    return params


@given(
    values=st.lists(st.lists(st.floats(-1e3, 1e3), min_size=0, max_size=5), min_size=0, max_size=4),
    norm_type=st.sampled_from([1.0, 2.0, 3.0, 0.5, math.inf]),
    max_norm=st.floats(1e-3, 1e3),
    missing=st.booleans(),
)
@settings(max_examples=25, deadline=None)
def test_clipping_equals_clip_grad_norm_for_every_norm_type(values, norm_type, max_norm, missing):
    grads = [torch.tensor(v) for v in values] + ([None] if missing else [])
    params = params_with(grads)
    if norm_type == math.inf and any(len(v) == 0 for v in values):
        # The inf norm of an empty tensor has no value: both refuse it.
        with pytest.raises(RuntimeError, match="empty tensor"):
            nn.utils.clip_grad_norm_(params, max_norm, norm_type)
        with pytest.raises(RuntimeError, match="empty tensor"):
            pytorch.clip_by_total_norm(grads, max_norm, norm_type)
        return
    ours, norm = pytorch.clip_by_total_norm([g for g in grads], max_norm, norm_type)
    returned = nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    torch.testing.assert_close(norm, returned)
    torch.testing.assert_close(
        pytorch.total_norm(grads, norm_type), nn.utils.get_total_norm([g for g in grads if g is not None], norm_type)
    )
    for mine, q in zip(ours, params):
        assert (mine is None) == (q.grad is None)
        if mine is not None:
            torch.testing.assert_close(mine, q.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clipping_keeps_dtype_and_does_not_overflow(dtype):
    """Known bug: g.pow(2).sum() overflowed float16 for entries of 300 (300^2 > 65504)."""
    grads = [torch.full((4,), 300.0, dtype=dtype), torch.full((3,), -200.0, dtype=dtype)]
    params = params_with(grads)
    ours, norm = pytorch.clip_by_total_norm(grads, 1.0)
    returned = nn.utils.clip_grad_norm_(params, 1.0)
    assert norm.dtype == returned.dtype == dtype and torch.isfinite(norm)
    tol = {"atol": 1e-2, "rtol": 1e-2} if dtype in (torch.float16, torch.bfloat16) else {}
    torch.testing.assert_close(norm, returned, **tol)
    for mine, q in zip(ours, params):
        assert mine.dtype == dtype
        torch.testing.assert_close(mine, q.grad, **tol)
    assert torch.equal(grads[0], torch.full((4,), 300.0, dtype=dtype))  # input not mutated


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_gradients_like_pytorch(bad):
    grads = [torch.tensor([1.0, bad]), torch.tensor([2.0])]
    params = params_with(grads)
    ours, norm = pytorch.clip_by_total_norm(grads, 1.0)
    returned = nn.utils.clip_grad_norm_(params, 1.0)
    torch.testing.assert_close(norm, returned, equal_nan=True)
    for mine, q in zip(ours, params):
        torch.testing.assert_close(mine, q.grad, equal_nan=True)  # NaN where PyTorch has NaN
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(params_with(grads), 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="total norm"):
        pytorch.clip_by_total_norm(grads, 1.0, error_if_nonfinite=True)


def test_clipping_without_any_gradient_and_on_meta():
    assert nn.utils.clip_grad_norm_([nn.Parameter(torch.ones(2))], 1.0).item() == 0.0
    clipped, norm = pytorch.clip_by_total_norm([None], 1.0)
    assert clipped == [None] and norm.item() == 0.0
    clipped, norm = pytorch.clip_by_total_norm([torch.empty(3, device="meta")], 1.0)
    assert norm.is_meta and clipped[0].is_meta


@pytest.mark.parametrize(
    "max_norm, error",
    [(0.0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), (None, TypeError), (True, TypeError)],
)
def test_bad_max_norm_is_refused_where_pytorch_gives_a_wrong_answer(max_norm, error):
    if isinstance(max_norm, float) and max_norm < 0:
        q = params_with([torch.tensor([3.0, 4.0])])
        nn.utils.clip_grad_norm_(q, max_norm)
        assert torch.all(q[0].grad < 0)  # PyTorch flips the gradient without a word
    with pytest.raises(error, match="max_norm"):
        pytorch.clip_by_total_norm([torch.ones(2)], max_norm)


# ---------------------------------------------------------------- normalization


def layer_norm_by_hand(a, weight, bias, eps=1e-5):
    """The page's formula: mean and biased variance over the units of one example."""
    mu = a.mean(-1, keepdim=True)
    var = ((a - mu) ** 2).mean(-1, keepdim=True)
    return weight * (a - mu) / torch.sqrt(var + eps) + bias


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_page_formula_is_nn_layernorm(dtype):
    torch.manual_seed(0)
    norm = nn.LayerNorm(6, dtype=dtype)
    with torch.no_grad():
        norm.weight.normal_(), norm.bias.normal_()
        a = 100 + 3 * torch.randn(4, 6, dtype=dtype)
        torch.testing.assert_close(layer_norm_by_hand(a, norm.weight, norm.bias), norm(a))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32, torch.float64])
def test_layernorm_rnn_is_the_formula_step_by_step(dtype):
    torch.manual_seed(0)
    rnn = normalization.LayerNormRNN(3, 5).to(dtype)
    x = torch.randn(2, 4, 3, dtype=dtype).transpose(0, 1)  # (T=4, B=2), non-contiguous
    with torch.no_grad():
        out = rnn(x)
        h = torch.zeros(2, 5, dtype=dtype)
        expected = []
        for x_t in x:
            a = x_t @ rnn.w_ih.weight.T + h @ rnn.w_hh.weight.T
            h = torch.tanh(layer_norm_by_hand(a, rnn.norm.weight, rnn.norm.bias))
            expected.append(h)
    assert out.dtype == dtype
    tol = {"atol": 3e-2, "rtol": 3e-2} if dtype == torch.bfloat16 else {}
    torch.testing.assert_close(out, torch.stack(expected), **tol)


def test_layernorm_rnn_edge_cases():
    rnn = normalization.LayerNormRNN(3, 5)
    out = rnn(torch.randn(1, 1, 3))  # one step, batch of one
    assert out.shape == (1, 1, 5)
    meta = normalization.LayerNormRNN(3, 5).to("meta")(torch.empty(2, 3, 3, device="meta"))
    assert meta.is_meta and meta.shape == (2, 3, 5)
    with pytest.raises(ValueError, match="x must have shape"):
        rnn(torch.randn(0, 2, 3))
    rnn.eval()
    rnn(torch.randn(2, 2, 3))
    assert not rnn.training and not rnn.norm.training


def test_still_running_and_preactivations_edge_cases():
    assert normalization.still_running(torch.tensor([1]), 1).tolist() == [1]
    with pytest.raises(ValueError, match="lengths must be a 1-D"):
        normalization.still_running(torch.tensor([[1, 2]]), 2)
    x, w_ih, w_hh = normalization.rnn_example(steps=1, batch=1)
    a = normalization.preactivations(x, w_ih, w_hh)
    torch.testing.assert_close(a, x @ w_ih.T)  # h_0 = 0


# ---------------------------------------------------------------- exercises


@given(p=st.floats(0.001, 0.999), share=st.floats(1e-6, 0.999))
@settings(max_examples=25, deadline=None)
def test_steps_until_forgotten_is_the_brute_force_answer(p, share):
    steps = 1
    while (1 - p) ** steps >= share:
        steps += 1
    assert exercises.steps_until_forgotten(p, share) == steps


@pytest.mark.parametrize("p, power", [(0.1, 2), (0.1, 3), (0.5, 3), (0.75, 3), (0.9, 1)])
def test_steps_until_forgotten_on_exact_powers(p, power):
    """Known bug: floor(log s / log(1 - p)) + 1 answered 2 for p = 0.1, s = 0.9^2, where
    0.9^2 = s is not below s: the ratio of logarithms came out a hair below 2."""
    share = (1 - p) ** power
    steps = 1
    while (1 - p) ** steps >= share:
        steps += 1
    assert steps == power + 1
    assert exercises.steps_until_forgotten(p, share) == steps
    if (p, power) == (0.1, 2):
        assert math.floor(math.log(share) / math.log(1 - p)) + 1 == power  # the old formula
    assert exercises.steps_until_forgotten(1.0, share) == 1


@pytest.mark.parametrize("share, error", [(None, TypeError), (True, TypeError), (float("nan"), ValueError)])
def test_steps_until_forgotten_bad_share(share, error):
    with pytest.raises(error, match="share"):
        exercises.steps_until_forgotten(0.5, share)


def test_is_locked_against_brute_force_and_bad_axes():
    torch.manual_seed(0)
    for out in (variational.LockedDropout(0.5)(torch.ones(4, 3, 5)), F.dropout(torch.ones(4, 3, 5), 0.5)):
        brute = all(torch.equal(out[t], out[0]) for t in range(4))
        assert exercises.is_locked(out) == brute
    assert exercises.is_locked(torch.ones(1, 2, 3))  # one step is trivially locked
    with pytest.raises(ValueError, match="time axis"):
        exercises.is_locked(torch.ones(0, 2, 3))
    with pytest.raises(ValueError, match="time_axis=3"):
        exercises.is_locked(torch.ones(2, 2, 3), time_axis=3)


@pytest.mark.parametrize("options", [{}, dict(num_layers=2), dict(proj_size=3), dict(bidirectional=True)])
def test_mask_sizes_count_the_masks_actually_drawn(options):
    """Brute force: draw the masks the three methods use and count their entries."""
    lstm = nn.LSTM(5, 4, **options)
    sizes = exercises.mask_sizes(lstm, batch=3, steps=7)
    layer = awd.WeightDropLSTM(5, 4, 0.5, **options)
    w_hh = [w for name, w in layer.lstm.named_parameters() if name.startswith("weight_hh")]
    assert sizes["weight drop (W_hh entries)"] == sum(w.numel() for w in w_hh)
    h_size = options.get("proj_size", 4)
    directions = 2 if options.get("bidirectional") else 1
    per_step = 3 * h_size * options.get("num_layers", 1) * directions
    assert sizes["variational (per sequence)"] == per_step
    assert sizes["naive (per step)"] == 7 * per_step


@given(
    grad=st.lists(st.floats(-100, 100).filter(lambda v: abs(v) > 1e-3), min_size=1, max_size=5),
    limit=st.floats(0.01, 50),
)
@settings(max_examples=25, deadline=None)
def test_clip_both_ways_against_brute_force(grad, limit):
    by_norm, cos_norm, by_value, cos_value = exercises.clip_both_ways(grad, limit)
    g = torch.tensor(grad)
    norm = g.norm()
    torch.testing.assert_close(by_norm, g * min(1.0, limit / (norm.item() + 1e-6)))
    torch.testing.assert_close(by_value, g.clamp(-limit, limit))
    assert cos_norm == pytest.approx(1.0, abs=1e-5)
    expected = (by_value @ g / (by_value.norm() * norm)).item()
    assert cos_value == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("limit, error", [(0.0, ValueError), (-1.0, ValueError), (None, TypeError)])
def test_clip_both_ways_refuses_bad_limits(limit, error):
    """clip_grad_value_(clip_value=-1) sets every entry to +1 without a word."""
    if limit == -1.0:
        q = params_with([torch.tensor([3.0, -4.0])])
        nn.utils.clip_grad_value_(q, -1.0)
        assert torch.equal(q[0].grad, torch.tensor([-1.0, -1.0]))
    with pytest.raises(error, match="limit"):
        exercises.clip_both_ways([3.0, 4.0], limit)
