"""Masks over time: fresh masks change at every step, a locked mask never does, and the
odds the widget shows match sampling."""

import pytest
import torch

from snippets.playground import time_masks as tm


def test_locked_masks_are_constant_over_time_and_fresh_ones_are_not():
    generator = torch.Generator().manual_seed(0)
    locked = tm.locked_masks(50, 8, 0.5, generator)
    fresh = tm.fresh_masks(50, 8, 0.5, generator)
    assert (locked == locked[0]).all()
    assert not (fresh == fresh[0]).all()


@pytest.mark.parametrize("locked", [False, True])
def test_odds_match_sampling(locked):
    p, steps, sequences = 0.3, 6, 20_000
    generator = torch.Generator().manual_seed(1)
    make = tm.locked_masks if locked else tm.fresh_masks
    masks = torch.stack([make(steps, 8, p, generator) for _ in range(sequences // 8)])
    kept_all = masks.amin(dim=1).mean().item()
    flips = (masks[:, 1:] != masks[:, :-1]).sum(dim=1).float().mean().item()
    assert kept_all == pytest.approx(tm.kept_throughout(p, steps, locked), abs=0.02)
    assert flips == pytest.approx(tm.expected_flips(p, steps, locked), abs=0.05)


def test_page_numbers():
    facts = tm.facts()
    assert round(facts["fresh_kept_all"], 4) == 0.0138 and facts["locked_kept_all"] == 0.7
    assert round(facts["fresh_flips"], 2) == 4.62 and facts["locked_flips"] == 0.0
    assert (facts["locked_rows"] == facts["locked_rows"][0]).all()


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="steps must be at least 1"):
        tm.fresh_masks(0, 8, 0.5)
    with pytest.raises(ValueError, match="drop probability p"):
        tm.kept_throughout(1.0, 3, locked=True)
