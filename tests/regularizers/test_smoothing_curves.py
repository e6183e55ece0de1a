"""The label-smoothing figure: the targets it draws and the loss curves, against PyTorch's own loss."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from snippets.regularizers import smoothing_curves as sc
from snippets.regularizers.label_smoothing import EPS, K
from tests.svg import assert_committed_is_fresh, assert_transparent, render, small_svg_ids


def test_the_curves_are_pytorchs_cross_entropy_with_label_smoothing():
    for eps, values in sc.curves().items():
        for g, value in zip(sc.GAPS, values):
            logits = torch.zeros(1, K)
            logits[0, 0] = g
            expected = F.cross_entropy(logits, torch.tensor([0]), label_smoothing=eps).item()
            assert value == pytest.approx(expected, abs=1e-6), (eps, g)


@pytest.mark.claim("regularizers/smoothing-curves")
def test_without_smoothing_the_loss_only_falls_with_it_there_is_a_minimum():
    curves = sc.curves()
    plain, smoothed = curves[0.0], curves[EPS]
    assert all(b < a for a, b in itertools.pairwise(plain))  # falls at every step of g
    low = min(range(len(smoothed)), key=smoothed.__getitem__)
    assert 0 < low < len(smoothed) - 1  # a minimum inside the range...
    assert abs(sc.GAPS[low] - sc.facts()["best_gap"]) <= 0.25  # ...at g* (grid step 0.25)
    assert smoothed[-1] > 2 * min(smoothed)  # and rising again beyond it
    facts = sc.facts()
    assert facts["plain_at_10"] < 1e-3 and facts["smoothed_at_10"] > 0.5


@pytest.fixture(scope="module")
def fresh_figure(tmp_path_factory):
    return render(sc.save_figure, "regularizers-label-smoothing.svg", tmp_path_factory)


def test_figure_has_both_panels_the_two_curves_and_the_minimum(fresh_figure):
    ids = small_svg_ids(fresh_figure)
    assert {"panel-targets", "panel-loss", "curve-eps-0", f"curve-eps-{EPS:g}", "minimum"} <= ids
    assert_transparent(fresh_figure)


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert_committed_is_fresh(fresh_figure, "snippets.regularizers.smoothing_curves")
