"""A fresh mask on h_{t-1} makes the error compound step after step (by 1/(1 - p) in
variance, for a linear recurrence), dropout on the inputs does not; Zaremba's LSTM is an
ordinary LSTM run on dropped inputs, with its output dropped."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.rnn import naive


@pytest.fixture(scope="module")
def deviations():
    inputs, hidden, clean = naive.deviation_by_step(p=0.2, steps=50, draws=1000)
    return inputs, hidden, naive.predicted_deviation(0.2, clean)


@pytest.mark.claim("rnn/recurrent-error-compounds")
def test_fresh_recurrent_mask_error_compounds(deviations):
    _, hidden, _ = deviations
    assert hidden[0] == 0.0  # h_0 = 0: nothing to drop at the first step
    assert hidden[9] > 1.0 and hidden[49] > 20 * hidden[9]  # grows without bound
    # The squared error is multiplied by at least 1 / (1 - p) = 1.25 per step, on average.
    ratio = (hidden[49] / hidden[9]) ** 2
    assert ratio ** (1 / 40) > 1.2


@pytest.mark.claim("rnn/input-dropout-error-flat")
def test_input_dropout_error_stays_flat(deviations):
    inputs, _, _ = deviations
    level = (0.2 / 0.8) ** 0.5  # sqrt(p / (1 - p)), the error of one dropped input
    assert torch.all((inputs - level).abs() < 0.25 * level)
    assert inputs[-10:].mean() < 1.2 * inputs[:10].mean()  # no growth over 50 steps


@pytest.mark.claim("rnn/recurrent-error-compounds")
def test_simulation_matches_the_recursion(deviations):
    _, hidden, predicted = deviations
    torch.testing.assert_close(hidden[1:30], predicted[1:30], rtol=0.1, atol=0.0)


@pytest.mark.claim("rnn/input-dropout-error-flat", "rnn/recurrent-error-compounds")
def test_page_numbers():
    facts = naive.facts()
    assert facts["growth"] == 1.25 and facts["input_level"] == pytest.approx(0.5)
    assert facts["shown_steps"] == [1, 5, 10, 20, 50]
    assert facts["hidden"][-1] > 50 * facts["inputs"][-1]
    assert (facts["zaremba_medium"], facts["zaremba_large"]) == (0.5, 0.65)
    assert facts["zaremba_medium_growth"] == 2.0
    assert facts["zaremba_large_growth"] == pytest.approx(1 / 0.35)


@pytest.mark.parametrize("shape", [(3, 2, 4), (1, 2, 4)])
def test_mask_shapes_fresh_and_reused(shape):
    """rnn_states with a mask applies exactly m * h_{t-1}, fresh or broadcast over time."""
    torch.manual_seed(0)
    x, w_ih, w_hh = torch.randn(3, 2, 5), torch.randn(4, 5), torch.randn(4, 4)
    mask = naive.inverted_mask(shape, 0.5, torch.Generator().manual_seed(1))
    states = naive.rnn_states(x, w_ih, w_hh, hidden_mask=mask)
    h = torch.zeros(2, 4)
    for t in range(3):
        h = torch.tanh(x[t] @ w_ih.T + (mask[t % shape[0]] * h) @ w_hh.T)
        torch.testing.assert_close(states[t], h)


def test_rnn_states_equals_nn_rnn_without_masks():
    torch.manual_seed(0)
    rnn, x = nn.RNN(5, 4, bias=False), torch.randn(7, 3, 5)
    with torch.no_grad():
        ours = naive.rnn_states(x, rnn.weight_ih_l0, rnn.weight_hh_l0)
        torch.testing.assert_close(ours, rnn(x)[0])


def test_bad_shapes_and_rates_are_refused():
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, input_size\)"):
        naive.rnn_states(torch.ones(3, 4), torch.ones(2, 4), torch.ones(2, 2))
    with pytest.raises(ValueError, match="drop probability p"):
        naive.deviation_by_step(p=1.5, steps=3)
    with pytest.raises(ValueError, match="drop probability p"):
        naive.zaremba_lstm(torch.ones(2, 1, 3), nn.LSTMCell(3, 2), p=-0.1, training=True)


def copy_to_lstm(cell: nn.LSTMCell) -> nn.LSTM:
    lstm = nn.LSTM(cell.input_size, cell.hidden_size)
    lstm.load_state_dict({f"{name}_l0": w for name, w in cell.state_dict().items()})
    return lstm


@pytest.mark.claim("rnn/zaremba-recurrence-untouched")
@given(steps=st.integers(1, 6), batch=st.integers(1, 3), p=st.floats(0.0, 0.8), seed=st.integers(0, 999))
@settings(max_examples=25, deadline=None)
def test_zaremba_lstm_is_nn_lstm_on_dropped_inputs(steps, batch, p, seed):
    """The only randomness is on x_t and on the output: redraw both masks and nn.LSTM,
    which has no mask inside, gives the same result. So h_{t-1} -> h_t is never masked."""
    torch.manual_seed(seed)
    cell, x = nn.LSTMCell(3, 4), torch.randn(steps, batch, 3)
    with torch.no_grad():
        ours = naive.zaremba_lstm(x, cell, p, training=True, generator=torch.Generator().manual_seed(seed))
        g = torch.Generator().manual_seed(seed)
        if p > 0:
            in_mask = naive.inverted_mask(x.shape, p, g)
            out_mask = naive.inverted_mask((steps, batch, 4), p, g)
        else:
            in_mask = out_mask = 1.0
        expected = copy_to_lstm(cell)(x * in_mask)[0] * out_mask
    torch.testing.assert_close(ours, expected, atol=1e-6, rtol=1e-5)


@pytest.mark.claim("rnn/zaremba-recurrence-untouched")
def test_zaremba_lstm_at_inference_is_the_plain_lstm():
    torch.manual_seed(0)
    cell, x = nn.LSTMCell(3, 4), torch.randn(5, 2, 3)
    with torch.no_grad():
        torch.testing.assert_close(naive.zaremba_lstm(x, cell, 0.5, training=False), copy_to_lstm(cell)(x)[0])
