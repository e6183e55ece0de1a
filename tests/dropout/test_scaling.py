"""The scaling figure: one step doubles the survivors and zeroes the rest; many steps average back to h."""

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from snippets.dropout import scaling
from tests.svg import small_svg_ids

FIGURE = Path(__file__).resolve().parents[2] / "docs" / "assets" / "figures" / "dropout-scaling.svg"


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
    path = tmp_path_factory.mktemp("fig") / "dropout-scaling.svg"
    scaling.save_figure(path)
    return path


def test_figure_has_three_panels_and_no_background(fresh_figure):
    ids = small_svg_ids(fresh_figure)
    assert {"panel-eval", "panel-one", "panel-average"} <= ids
    root = ET.fromstring(fresh_figure.read_bytes())
    background = next(root.iter("{http://www.w3.org/2000/svg}path"))
    assert "fill: none" in background.get("style"), "transparent background"


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert FIGURE.read_bytes() == fresh_figure.read_bytes(), (
        're-render: python -c "from snippets.dropout.scaling import save_figure; '
        "save_figure('docs/assets/figures/dropout-scaling.svg')\""
    )
