"""The masks over time of the figure: what nn.Dropout and LockedDropout really draw."""

import pytest
import torch

from snippets.rnn import time_masks
from tests.svg import assert_committed_is_fresh, assert_transparent, render, small_svg_ids


@pytest.mark.claim("rnn/time-masks")
@pytest.mark.parametrize("seed", range(4))
def test_dropout_draws_a_mask_per_step_locked_dropout_one_per_sequence(seed):
    masks = time_masks.masks_over_time(seed=seed)
    fresh, locked = masks["nn.Dropout"], masks["LockedDropout"]
    for mask in (fresh, locked):
        assert mask.shape == (time_masks.STEPS, time_masks.UNITS)
        assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert (locked == locked[0]).all()  # every step the same
    assert len({tuple(r.tolist()) for r in fresh}) > 1  # not one mask reused


def test_the_masks_are_what_the_layers_output_on_ones():
    """An input of ones comes out as mask / (1 - p): the figure shows the layers' real masks."""
    torch.manual_seed(time_masks.SEED)
    out = torch.nn.Dropout(time_masks.P).train()(torch.ones(time_masks.STEPS, 1, time_masks.UNITS))
    assert set((out * (1 - time_masks.P)).unique().tolist()) <= {0.0, 1.0}
    assert torch.equal((out[:, 0] * (1 - time_masks.P)).round(), time_masks.masks_over_time()["nn.Dropout"])


def test_facts():
    facts = time_masks.facts()
    assert (facts["distinct_rows_fresh"], facts["distinct_rows_locked"]) == (8, 1)
    assert 0.3 < facts["kept_fraction_fresh"] < 0.7


@pytest.fixture(scope="module")
def fresh_figure(tmp_path_factory):
    return render(time_masks.save_figure, "rnn-time-masks.svg", tmp_path_factory)


def test_figure_has_both_panels_and_no_background(fresh_figure):
    ids = small_svg_ids(fresh_figure)
    assert {"panel-nn.Dropout", "panel-LockedDropout"} <= ids
    assert_transparent(fresh_figure)


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert_committed_is_fresh(fresh_figure, "snippets.rnn.time_masks")
