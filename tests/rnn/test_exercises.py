import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from snippets.rnn import exercises
from snippets.rnn.variational import LockedDropout


@given(p=st.floats(0.01, 0.95), share=st.floats(1e-6, 0.99))
def test_steps_until_forgotten_is_the_first_step_below_the_share(p, share):
    steps = exercises.steps_until_forgotten(p, share)
    assert (1 - p) ** steps < share * (1 + 1e-9)
    assert steps == 1 or (1 - p) ** (steps - 1) >= share * (1 - 1e-12)


def test_forgetting_example_matches_the_simulation():
    steps = exercises.steps_until_forgotten(0.25, 0.01)
    assert steps == 17 == math.ceil(math.log(0.01) / math.log(0.75))
    share = (exercises.memory_reaching_the_end("naive", 0.25, steps) != 0).float().mean().item()
    assert share == pytest.approx(0.75**17, abs=0.003)


@pytest.mark.parametrize(
    "p, share, message",
    [
        (0.3, 0.0, "share must be in"),
        (0.3, 1.0, "share must be in"),
        (0.0, 0.5, "with p=0"),
        (1.5, 0.5, "drop probability p"),
    ],
)
def test_forgetting_bad_input(p, share, message):
    with pytest.raises(ValueError, match=message):
        exercises.steps_until_forgotten(p, share)


def test_is_locked_tells_locked_from_fresh():
    torch.manual_seed(0)
    ones = torch.ones(6, 4, 10)
    assert exercises.is_locked(LockedDropout(0.5)(ones))
    assert not exercises.is_locked(nn.Dropout(0.5)(ones))
    assert exercises.is_locked(LockedDropout(0.5, batch_first=True)(ones), time_axis=1)
    assert not exercises.is_locked(LockedDropout(0.5, batch_first=True)(ones), time_axis=0)


def test_zoneout_with_zero_rates_is_the_plain_lstm():
    assert exercises.zoneout_zero_is_plain_lstm(seed=0)
    assert exercises.zoneout_zero_is_plain_lstm(seed=7)


def test_mask_counts():
    sizes = exercises.mask_sizes(nn.LSTM(400, 1150), batch=80, steps=70)
    assert list(sizes.values()) == [4 * 1150 * 1150, 80 * 1150, 70 * 80 * 1150]
    facts = exercises.facts()
    assert (facts["weight_drop"], facts["variational"], facts["naive"]) == (5_290_000, 92_000, 6_440_000)


def test_clip_by_norm_keeps_direction_clip_by_value_does_not():
    by_norm, cos_norm, by_value, cos_value = exercises.clip_both_ways([3.0, 4.0], 1.0)
    torch.testing.assert_close(by_norm, torch.tensor([0.6, 0.8]), atol=1e-6, rtol=0)
    assert torch.equal(by_value, torch.tensor([1.0, 1.0]))
    assert cos_norm == pytest.approx(1.0) and cos_value == pytest.approx(7 / (5 * 2**0.5))
    assert exercises.facts()["forget_steps"] == 17


def test_page_inputs():
    facts = exercises.facts()
    assert (facts["embed"], facts["hidden"], facts["batch"], facts["steps"]) == (400, 1150, 80, 70)
    assert facts["grad_norm"] == 5.0 and facts["limit"] == 1.0
