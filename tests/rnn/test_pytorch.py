"""nn.LSTM/nn.GRU(dropout=p): dropout on the output of every layer but the last, nothing
inside the recurrence, a warning and no effect for one layer. clip_grad_norm_: the total
norm ends at most max_norm, the direction is kept, the norm before clipping is returned."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.rnn import pytorch


@pytest.mark.claim("rnn/lstm-dropout-between-layers")
@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize("num_layers", [2, 3])
def test_stacked_dropout_is_dropout_between_separate_layers(kind, num_layers):
    """Same weights, same random numbers: the packaged module equals one-layer modules with
    F.dropout between them and none after the last, so the recurrence and the final
    output are never masked."""
    torch.manual_seed(0)
    rnn = kind(3, 5, num_layers=num_layers, dropout=0.4)
    layers = pytorch.split_layers(rnn)
    x = torch.randn(7, 2, 3)
    torch.manual_seed(11)
    packaged, _ = rnn(x)
    torch.manual_seed(11)
    by_hand = pytorch.run_stacked(layers, x, p=0.4, training=True)
    assert torch.equal(packaged, by_hand)
    # The same equality with dropout also after the last layer would fail:
    torch.manual_seed(11)
    over_dropped = nn.functional.dropout(pytorch.run_stacked(layers, x, p=0.4, training=True), 0.4)
    assert not torch.allclose(packaged, over_dropped)


@pytest.mark.claim("rnn/lstm-dropout-between-layers")
def test_the_last_layer_output_has_no_dropout_zeros():
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 64, num_layers=2, dropout=0.5)
    out, _ = lstm(torch.randn(10, 4, 3))
    assert not (out == 0).any()


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU])
def test_eval_output_equals_a_twin_built_with_dropout_zero(kind):
    torch.manual_seed(0)
    noisy = kind(3, 5, num_layers=2, dropout=0.5)
    clean = kind(3, 5, num_layers=2, dropout=0.0)
    clean.load_state_dict(noisy.state_dict())
    x = torch.randn(6, 2, 3)
    with torch.no_grad():
        assert torch.equal(noisy.eval()(x)[0], clean(x)[0])
        assert not torch.equal(noisy.train()(x)[0], clean(x)[0])


def test_one_layer_with_dropout_warns():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, num_layers=1, dropout=0.5)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, num_layers=1, dropout=0.5)


@pytest.mark.claim("rnn/one-layer-dropout-inert")
def test_one_layer_dropout_has_no_effect_at_all():
    torch.manual_seed(0)
    lstm, messages = pytorch.single_layer_lstm(0.5)
    assert len(messages) == 1 and "dropout=0.5 and num_layers=1" in messages[0]
    x = torch.randn(8, 3, 3)
    with torch.no_grad():
        assert torch.equal(lstm.train()(x)[0], lstm.eval()(x)[0])


def test_split_layers_refuses_modules_it_cannot_copy():
    """Configurations are copied (tests/rnn/test_conformance.py); other modules are refused."""
    with pytest.raises(TypeError, match="rnn must be an nn.LSTM, nn.GRU or nn.RNN"):
        pytorch.split_layers(nn.LSTMCell(3, 4))


grads = st.lists(st.lists(st.floats(-50, 50), min_size=1, max_size=6), min_size=1, max_size=4)


@pytest.mark.claim("rnn/clipping-keeps-direction")
@given(values=grads, max_norm=st.floats(0.01, 20))
@settings(max_examples=50, deadline=None)
def test_manual_clipping_equals_clip_grad_norm(values, max_norm):
    params = [nn.Parameter(torch.zeros(len(v))) for v in values]
    for q, v in zip(params, values):
        q.grad = torch.tensor(v)
    ours, norm = pytorch.clip_by_total_norm([q.grad.clone() for q in params], max_norm)
    returned = nn.utils.clip_grad_norm_(params, max_norm)
    torch.testing.assert_close(norm, returned)
    for mine, q in zip(ours, params):
        torch.testing.assert_close(mine, q.grad)


@pytest.mark.claim("rnn/clipping-keeps-direction", "rnn/clip-returns-norm-before")
def test_clipping_properties():
    rnn = pytorch.exploding_gradients()
    before = [q.grad.clone() for q in rnn.parameters()]
    norm_before = pytorch.total_norm(before)
    assert norm_before > 10  # the example really does explode
    returned = nn.utils.clip_grad_norm_(rnn.parameters(), max_norm=1.0)
    after = [q.grad for q in rnn.parameters()]
    assert returned.item() == pytest.approx(norm_before.item())  # the norm BEFORE clipping
    assert pytorch.total_norm(after) <= 1.0
    flat_before, flat_after = torch.cat([g.flatten() for g in before]), torch.cat([g.flatten() for g in after])
    cosine = nn.functional.cosine_similarity(flat_before, flat_after, dim=0)
    assert cosine.item() == pytest.approx(1.0, abs=1e-6)  # same direction: one common factor
    ratios = flat_after[flat_before != 0] / flat_before[flat_before != 0]
    torch.testing.assert_close(ratios, torch.full_like(ratios, ratios[0].item()))


def test_small_gradients_are_left_alone():
    grads = [torch.tensor([0.3, -0.4])]
    clipped, norm = pytorch.clip_by_total_norm(grads, max_norm=1.0)
    assert norm.item() == pytest.approx(0.5)
    assert torch.equal(clipped[0], grads[0])


@pytest.mark.parametrize("max_norm", [0.0, -1.0, float("nan")])
def test_bad_max_norm_is_refused(max_norm):
    with pytest.raises(ValueError, match="max_norm must be positive"):
        pytorch.clip_by_total_norm([torch.ones(2)], max_norm)


def test_page_numbers():
    facts = pytorch.facts()
    assert facts["norm_before"] > 10 * facts["max_norm"]
    assert facts["norm_after"] == pytest.approx(facts["max_norm"], abs=1e-5)
    assert "num_layers=1" in facts["warning"]


@pytest.mark.claim("rnn/lstm-dropout-l-minus-1")
@pytest.mark.parametrize("num_layers", [1, 2, 3, 4])
def test_nn_lstm_draws_l_minus_one_masks(num_layers):
    """Counted from the random number generator: none on the input, none on the output."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lstm = nn.LSTM(4, 4, num_layers=num_layers, dropout=0.5)
    assert pytorch.masks_drawn(lstm, torch.randn(5, 2, 4)) == num_layers - 1
    assert pytorch.masks_drawn(lstm.eval(), torch.randn(5, 2, 4)) == 0


@pytest.mark.claim("rnn/zaremba-l-plus-1")
@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_zaremba_lstm_draws_l_plus_one_masks_where_the_paper_puts_them(num_layers):
    torch.manual_seed(0)
    model = pytorch.ZarembaLSTM(4, 4, num_layers, p=0.5)
    x = torch.randn(5, 2, 4)
    assert pytorch.masks_drawn(model, x) == num_layers + 1
    layers = pytorch.split_layers(model.lstm)
    torch.manual_seed(3)
    out, _ = model(x)
    torch.manual_seed(3)
    by_hand = nn.functional.dropout(x, 0.5)  # the input of layer 1
    by_hand = pytorch.run_stacked(layers, by_hand, 0.5, training=True)  # L - 1 between
    by_hand = nn.functional.dropout(by_hand, 0.5)  # the output of layer L
    assert torch.equal(out, by_hand)
    assert pytorch.facts()["zaremba_masks"] == [2, 3, 4]


def test_masks_drawn_gives_up_on_masks_it_cannot_count():
    with pytest.raises(RuntimeError, match="more than 9 masks"):
        pytorch.masks_drawn(lambda x: nn.functional.dropout(torch.ones(7), 0.5), torch.ones(5, 2, 4))
