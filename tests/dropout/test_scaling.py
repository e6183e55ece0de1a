"""The scaling figure: one step doubles the survivors and zeroes the rest; many steps average back to h."""

import math

import pytest
import torch
import torch.nn.functional as F

from snippets.dropout import scaling
from tests.svg import assert_committed_is_fresh, assert_transparent, render, small_svg_ids


@pytest.mark.claim("dropout/scaling-figure")
@pytest.mark.parametrize("seed", [scaling.SEED, 2, 3])
def test_one_step_scales_survivors_and_the_average_returns_to_h(seed):
    h = torch.tensor(scaling.H, dtype=torch.float64)
    step, average = scaling.one_step_and_average(seed=seed)
    kept = step != 0
    torch.testing.assert_close(step[kept], h[kept] / (1 - scaling.P))
    assert 0 < kept.sum() < len(h)
    # the mean of DRAWS outputs: within 4 standard errors of h, unit by unit
    standard_error = h * math.sqrt(scaling.P / (1 - scaling.P) / scaling.DRAWS)
    assert ((average - h).abs() <= 4 * standard_error).all()


def test_a_step_is_what_f_dropout_would_give_with_the_same_mask():
    h = torch.tensor(scaling.H, dtype=torch.float64)
    step, _ = scaling.one_step_and_average()
    mask = (step != 0).to(h.dtype)
    torch.testing.assert_close(step, F.dropout(h, 0.0) * mask / (1 - scaling.P))


def test_facts():
    facts = scaling.facts()
    assert (facts["units"], facts["kept"], facts["scale"]) == (8, 4, 2.0)
    assert facts["largest_gap"] < 0.3


@pytest.fixture(scope="module")
def fresh_figure(tmp_path_factory):
    return render(scaling.save_figure, "dropout-scaling.svg", tmp_path_factory)


def test_figure_has_three_panels_and_no_background(fresh_figure):
    ids = small_svg_ids(fresh_figure)
    assert {"panel-eval", "panel-one", "panel-average"} <= ids
    assert_transparent(fresh_figure)


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert_committed_is_fresh(fresh_figure, "snippets.dropout.scaling")
