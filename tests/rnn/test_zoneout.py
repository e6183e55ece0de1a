"""Semeniuta et al.: the mask touches only the candidate g, so c_{t-1} always reaches c_t
through f. Zoneout: a zoned unit holds exactly its previous value (never a zero it did not
have), no rescaling, and the eval output is the expectation p h_{t-1} + (1 - p) h_new."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.rnn import zoneout


@pytest.fixture
def cell():
    torch.manual_seed(0)
    return nn.LSTMCell(3, 6)


@given(batch=st.integers(1, 4), seed=st.integers(0, 999))
@settings(max_examples=25, deadline=None)
def test_gates_reproduce_nn_lstmcell(batch, seed):
    torch.manual_seed(seed)
    cell = nn.LSTMCell(3, 6)
    x, h, c = torch.randn(batch, 3), torch.randn(batch, 6), torch.randn(batch, 6)
    with torch.no_grad():
        ours = zoneout.semeniuta_step(x, h, c, cell, torch.ones(batch, 6))
        torch.testing.assert_close(ours, cell(x, (h, c)))


@pytest.mark.claim("rnn/semeniuta-keeps-memory")
def test_dropped_candidate_leaves_exactly_f_times_c(cell):
    """The defining property: with the candidate dropped, c_t = f * c_{t-1}, bit for bit."""
    x, h, c = torch.randn(4, 3), torch.randn(4, 6), torch.randn(4, 6)
    mask = torch.tensor([1.0, 0.0, 2.0, 0.0, 0.0, 2.0]).expand(4, 6)
    with torch.no_grad():
        _, c_new = zoneout.semeniuta_step(x, h, c, cell, mask)
        i, f, g, _ = zoneout.lstm_gates(x, h, cell)
    dropped = mask == 0
    assert torch.equal(c_new[dropped], (f * c)[dropped])
    torch.testing.assert_close(c_new[~dropped], (f * c + i * mask * g)[~dropped])


@pytest.mark.claim("rnn/semeniuta-keeps-memory")
def test_closed_input_gate_also_leaves_f_times_c(cell):
    """Whatever the mask, if i = 0 the cell only forgets: make i = 0 with a huge negative bias."""
    with torch.no_grad():
        cell.bias_ih[:6] = -1e4  # the first quarter of the gates is i in PyTorch's order
        x, h, c = torch.randn(2, 3), torch.randn(2, 6), torch.randn(2, 6)
        i, f, _, _ = zoneout.lstm_gates(x, h, cell)
        _, c_new = zoneout.semeniuta_step(x, h, c, cell, torch.full((2, 6), 2.0))
    assert torch.all(i == 0)
    assert torch.equal(c_new, f * c)


def test_semeniuta_lstm_in_eval_and_with_p_zero_is_nn_lstm(cell):
    lstm = nn.LSTM(3, 6)
    lstm.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x = torch.randn(5, 2, 3)
    with torch.no_grad():
        expected = lstm(x)[0]
        torch.testing.assert_close(zoneout.semeniuta_lstm(x, cell, 0.5, training=False), expected)
        torch.testing.assert_close(zoneout.semeniuta_lstm(x, cell, 0.0, training=True), expected)
        noisy = zoneout.semeniuta_lstm(x, cell, 0.5, training=True, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(noisy, expected)


@pytest.mark.claim("rnn/naive-cell-dropout-erases-memory", "rnn/memory-intact-semeniuta-zoneout")
def test_memory_survives_semeniuta_and_zoneout_but_not_naive_dropout():
    naive = zoneout.memory_reaching_the_end("naive", 0.25, 10)
    kept = naive != 0
    assert kept.float().mean().item() == pytest.approx(0.75**10, abs=0.01)
    torch.testing.assert_close(naive[kept], torch.full_like(naive[kept], (1 / 0.75) ** 10))
    for rule in ("semeniuta", "zoneout"):
        assert torch.equal(zoneout.memory_reaching_the_end(rule, 0.25, 10), torch.ones(10_000))


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="rule must be"):
        zoneout.memory_reaching_the_end("dropconnect", 0.25, 2)


@pytest.mark.claim("rnn/zoneout-no-rescaling")
@given(p=st.floats(0.05, 0.95), seed=st.integers(0, 10_000))
@settings(max_examples=40, deadline=None)
def test_zoned_units_hold_exactly_their_previous_value(p, seed):
    g = torch.Generator().manual_seed(seed)
    previous, new = torch.randn(500, generator=g), torch.randn(500, generator=g)
    out = zoneout.zoneout(previous, new, p, training=True, generator=g)
    held = out == previous
    assert torch.all(held | (out == new))  # each unit is one or the other, unscaled
    assert torch.equal(out[held], previous[held])


def test_zoneout_never_writes_a_zero_unless_the_previous_value_was_zero():
    g = torch.Generator().manual_seed(0)
    previous = torch.tensor([0.0, 1.0, -2.0, 3.0]).repeat(250)
    new = torch.full((1000,), 5.0)
    out = zoneout.zoneout(previous, new, 0.5, training=True, generator=g)
    assert torch.equal(out == 0, (previous == 0) & (out != new))


def test_zoneout_rate_is_p():
    g = torch.Generator().manual_seed(0)
    out = zoneout.zoneout(torch.zeros(100_000), torch.ones(100_000), 0.3, training=True, generator=g)
    assert (out == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)


@pytest.mark.claim("rnn/zoneout-inference-expectation")
def test_zoneout_at_inference_is_the_expectation():
    previous, new = torch.randn(10), torch.randn(10)
    torch.testing.assert_close(zoneout.zoneout(previous, new, 0.3, training=False), 0.3 * previous + 0.7 * new)
    runs = torch.stack(
        [zoneout.zoneout(previous, new, 0.3, True, torch.Generator().manual_seed(s)) for s in range(4000)]
    )
    torch.testing.assert_close(runs.mean(0), 0.3 * previous + 0.7 * new, atol=0.05, rtol=0.0)


def test_zoneout_lstm(cell):
    x = torch.randn(6, 3, 3)
    with torch.no_grad():
        train = zoneout.zoneout_lstm(x, cell, 0.5, 0.5, True, torch.Generator().manual_seed(0))
        test = zoneout.zoneout_lstm(x, cell, 0.5, 0.5, False)
    assert (train[0] == 0).any()  # units zoned out at step 1 hold h_0 = 0
    assert (train[1:] == train[:-1]).any()  # later, held units repeat their value exactly
    assert not (test[1:] == test[:-1]).any()  # at inference every unit moves
    assert not torch.allclose(train, test)


def test_bad_rate_is_refused():
    with pytest.raises(ValueError, match="drop probability p"):
        zoneout.zoneout(torch.ones(2), torch.ones(2), 1.5, training=True)
    with pytest.raises(ValueError, match="drop probability p"):
        zoneout.semeniuta_lstm(torch.ones(2, 1, 3), nn.LSTMCell(3, 2), -0.5, training=True)


@pytest.mark.claim("rnn/naive-cell-dropout-erases-memory", "rnn/memory-intact-semeniuta-zoneout")
def test_page_numbers():
    facts = zoneout.facts()
    assert facts["naive_share"] == pytest.approx(facts["naive_expected"], abs=0.01)
    assert facts["naive_scale"] == pytest.approx((1 / 0.75) ** 10)
    assert facts["semeniuta_share"] == facts["zoneout_share"] == 1.0


@pytest.mark.claim("rnn/zoneout-no-rescaling", "rnn/zoneout-inference-expectation")
def test_demo_numbers_on_the_page():
    facts = zoneout.facts()
    assert facts["demo_train"].tolist() == [1.0, 6.0, 3.0, 8.0]  # units 0 and 2 zoned out
    assert facts["demo_eval"].tolist() == [3.0, 4.0, 5.0, 6.0]


@pytest.mark.claim("rnn/h-mask-keeps-copy-path")
def test_fresh_mask_on_h_leaves_the_copy_path_intact():
    """In the copy regime (f = 1, i = 0) h_{t-1} only feeds the gates, which are saturated:
    d c_T / d c_0 is 1 in every unit with or without a fresh mask on h_{t-1}."""
    for mask_on in (None, "h"):
        grad = zoneout.copy_path_gradient(mask_on, p=0.25, steps=10)
        torch.testing.assert_close(grad, torch.ones_like(grad), atol=1e-6, rtol=0)


@pytest.mark.claim("rnn/c-mask-cuts-copy-path")
def test_fresh_mask_on_c_cuts_the_copy_path():
    grad = zoneout.copy_path_gradient("c", p=0.25, steps=10)
    reached = grad.abs() > 1e-3  # elsewhere only the shut input gate (~2e-9) leaks through
    assert grad[~reached].abs().max() < 1e-6
    assert reached.float().mean().item() == pytest.approx(0.75**10, abs=0.01)
    torch.testing.assert_close(grad[reached], torch.full_like(grad[reached], (1 / 0.75) ** 10))
    facts = zoneout.facts()
    assert facts["copy_h_min"] == facts["copy_h_max"] == facts["copy_none_min"] == 1.0
    assert facts["copy_c_share"] < 0.1 and facts["copy_c_min"] == 0.0


def test_copy_path_refuses_unknown_targets():
    with pytest.raises(ValueError, match="mask_on must be"):
        zoneout.copy_path_gradient("w")
