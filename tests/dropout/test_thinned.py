"""The thinned networks of the figure: real Bernoulli masks, and only the connections between survivors."""

import xml.etree.ElementTree as ET

import pytest
import torch

from snippets.dropout import thinned
from snippets.dropout.bernoulli import bernoulli_mask
from tests.svg import assert_committed_is_fresh, assert_transparent, render, small_svg_ids


@pytest.mark.parametrize("seed", [0, *thinned.SEEDS])
def test_hidden_masks_are_bernoulli_masks_and_the_ends_are_always_kept(seed):
    masks = thinned.step_masks(seed)
    generator = torch.Generator().manual_seed(seed)
    expected = [bernoulli_mask((w,), thinned.P, generator) for w in thinned.WIDTHS[1:-1]]
    for got, want in zip(masks[1:-1], expected):
        assert torch.equal(got, want)
    assert masks[0].all() and masks[-1].all()
    assert [len(m) for m in masks] == list(thinned.WIDTHS)


@pytest.mark.claim("dropout/thinned-network")
@pytest.mark.parametrize("seed", range(5))
def test_a_thinned_network_keeps_exactly_the_connections_between_survivors(seed):
    masks = thinned.step_masks(seed)
    kept = set(thinned.edges(masks))
    full = set(thinned.edges([torch.ones(w) for w in thinned.WIDTHS]))
    assert kept <= full and len(full) == sum(a * b for a, b in zip(thinned.WIDTHS, thinned.WIDTHS[1:]))
    for layer, a, b in full:
        assert ((layer, a, b) in kept) == bool(masks[layer][a] and masks[layer + 1][b])


def test_facts():
    facts = thinned.facts()
    assert facts["edges_full"] == 4 * 6 + 6 * 6 + 6 * 2 == 72 and facts["hidden_units"] == 12
    assert facts["kept_units"] == [7, 6] and facts["edges_kept"] == [32, 27]
    # what the figure's alt text says: 3 and 4 hidden units kept, then 3 and 3
    per_layer = [[int(m.sum()) for m in thinned.step_masks(s)[1:-1]] for s in thinned.SEEDS]
    assert per_layer == [[3, 4], [3, 3]]
    assert all(e < facts["edges_full"] for e in facts["edges_kept"])


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_a_bad_rate_is_refused_by_the_mask_it_uses(p):
    with pytest.raises(ValueError, match="p"):
        thinned.step_masks(0, p=p)


@pytest.fixture(scope="module")
def fresh_figure(tmp_path_factory):
    return render(thinned.save_figure, "dropout-thinned.svg", tmp_path_factory)


def test_figure_draws_each_masks_units_and_edges(fresh_figure):
    ids = small_svg_ids(fresh_figure, limit=90_000)
    for seed in thinned.SEEDS:
        masks = thinned.step_masks(seed)
        for layer, mask in enumerate(masks):
            for unit, kept in enumerate(mask.tolist()):
                assert f"unit-{layer}-{unit}-{'kept' if kept else 'dropped'}" in ids
    root = ET.fromstring(fresh_figure.read_bytes())
    edges_drawn = sum(1 for e in root.iter() if (e.get("id") or "").startswith("edge-"))
    assert edges_drawn == 72 + 32 + 27  # the full network, then the two steps' kept edges
    assert_transparent(fresh_figure)


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert_committed_is_fresh(fresh_figure, "snippets.dropout.thinned")
