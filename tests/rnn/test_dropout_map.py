"""The map of where each RNN dropout acts: the rules the pages state, and the figure drawn from it."""

import pytest

from snippets.rnn import dropout_map as dm
from tests.svg import assert_committed_is_fresh, assert_transparent, render, small_svg_ids


@pytest.mark.parametrize("layers, steps", [(1, 1), (2, 3), (4, 5)])
def test_the_unrolled_network_has_every_arrow_once(layers, steps):
    arrows = dm.connections(layers, steps)
    assert len(arrows) == len(set(arrows)) == (layers + 1) * steps + layers * (steps - 1)


@pytest.mark.claim("rnn/dropout-map")
@pytest.mark.parametrize("layers, steps", [(1, 4), (2, 3), (3, 2)])
def test_zaremba_drops_the_l_plus_1_vertical_rows_with_a_fresh_mask_each_step(layers, steps):
    masks = dm.dropout_map("zaremba", layers, steps)
    assert {kind for kind, _, _ in masks} == {"up"}  # never a recurrent arrow
    assert {row for _, row, _ in masks} == set(range(layers + 1))  # L + 1 rows
    assert len(set(masks.values())) == len(masks) == (layers + 1) * steps  # no mask reused


def test_variational_drops_every_arrow_with_one_mask_per_row_for_the_whole_sequence():
    masks = dm.dropout_map("variational")
    assert set(masks) == set(dm.connections())
    for (kind, row, _), mask in masks.items():
        assert mask == f"{kind}{row}" and not dm.fresh_every_step(mask)
    assert len(set(masks.values())) == (dm.LAYERS + 1) + dm.LAYERS


def test_weight_drop_and_zoneout_act_on_the_recurrent_arrows_only():
    for variant in ("weight_drop", "zoneout"):
        masks = dm.dropout_map(variant)
        assert {kind for kind, _, _ in masks} == {"across"}, variant
        assert len(masks) == dm.LAYERS * (dm.STEPS - 1), variant
    assert len(set(dm.dropout_map("weight_drop").values())) == dm.LAYERS  # one W_hh mask per layer
    zoneout = dm.dropout_map("zoneout")
    assert all(dm.step_of(mask) == t + 1 for (_, _, t), mask in zoneout.items())  # the step it decides


def test_an_unknown_variant_is_refused_by_name():
    with pytest.raises(ValueError, match=r"variant must be one of .*'zaremba'.*, got 'naive'"):
        dm.dropout_map("naive")


def test_facts():
    facts = dm.facts()
    assert facts["zaremba_rows"] == facts["layers"] + 1 == 3
    assert (facts["masks_zaremba"], facts["masks_variational"], facts["masks_weight_drop"]) == (9, 5, 2)
    assert (facts["arrows_variational"], facts["arrows_zoneout"]) == (13, 4)


@pytest.fixture(scope="module")
def fresh_figure(tmp_path_factory):
    return render(dm.save_figure, "rnn-dropout-map.svg", tmp_path_factory)


def test_figure_marks_every_mask_of_every_panel_and_has_no_background(fresh_figure):
    ids = small_svg_ids(fresh_figure, limit=90_000)
    assert {f"panel-{v}" for v in dm.VARIANTS} <= ids
    for variant in dm.VARIANTS:
        assert {f"mask-{m}" for m in dm.dropout_map(variant).values()} <= ids, variant
    assert_transparent(fresh_figure)


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert_committed_is_fresh(fresh_figure, "snippets.rnn.dropout_map")
