"""Spatial dropout: whole channels are zeroed or scaled by 1/(1 - p) together; eval mode is the
identity; on a 3-D input PyTorch 2.x drops rows of an (N, C, L) tensor, not channels."""

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.cnn import dropout2d
from tests.svg import small_svg_ids

FIGURE = Path(__file__).resolve().parents[2] / "docs" / "assets" / "figures" / "cnn-dropout2d.svg"
shapes = st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 6), st.integers(1, 6))
probs = st.floats(0.0, 0.9)


def assert_channel_wise(x, y, p):
    """Every (example, channel) of y is all zero or exactly x / (1 - p)."""
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            out = y[n, c]
            assert torch.equal(out, torch.zeros_like(out)) or torch.allclose(out, x[n, c] / (1 - p)), (n, c)


@given(shape=shapes, p=probs, seed=st.integers(0, 2**31 - 1))
@settings(max_examples=40, deadline=None)
def test_pytorch_and_manual_drop_whole_channels(shape, p, seed):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(seed)) + 0.5  # never 0
    torch.manual_seed(seed)
    assert_channel_wise(x, nn.Dropout2d(p).train()(x), p)
    assert_channel_wise(x, dropout2d.spatial_dropout(x, p, generator=torch.Generator().manual_seed(seed)), p)


def test_share_of_dropped_channels_is_p():
    x = torch.ones(200, 50, 2, 2)
    manual = dropout2d.spatial_dropout(x, 0.3, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    builtin = nn.Dropout2d(0.3)(x)
    for y in (manual, builtin):
        dropped = (y == 0).flatten(2).all(dim=2).float().mean().item()
        assert dropped == pytest.approx(0.3, abs=0.02)


def test_eval_mode_and_p_zero_are_the_identity():
    x = torch.randn(2, 3, 4, 4)
    assert torch.equal(nn.Dropout2d(0.5).eval()(x), x)
    assert dropout2d.spatial_dropout(x, 0.5, training=False) is x
    assert dropout2d.spatial_dropout(x, 0.0) is x


def test_unbatched_input_drops_rows_of_an_N_C_L_tensor_not_channels():
    image = torch.ones(8, 16, 5)  # (C, H, W) without a batch dimension
    y, messages = dropout2d.unbatched_dropout2d(image, p=0.5, seed=0)
    assert any("interpreted as shape (N, C, L)" in m for m in messages)
    rows = y.flatten(0, 1)  # each (c, h) row of W values was one "channel" for PyTorch
    assert all(torch.equal(r, torch.zeros(5)) or torch.equal(r, torch.full((5,), 2.0)) for r in rows)
    per_channel = (y == 0).flatten(1).float().mean(dim=1)
    assert ((per_channel > 0) & (per_channel < 1)).any(), "some channel lost only some of its rows"
    torch.manual_seed(0)
    batched = nn.Dropout2d(0.5)(image.unsqueeze(0)).squeeze(0)  # the fix
    assert_channel_wise(image.unsqueeze(0), batched.unsqueeze(0), 0.5)


def test_page_numbers():
    facts = dropout2d.facts()
    assert (facts["p"], facts["scale"], facts["size"], facts["values"], facts["channels"]) == (0.5, 2.0, 8, 64, 4)
    assert all(0 < z < 64 for z in facts["element_zeros"])  # element-wise: holes in every channel
    assert facts["channel_zeros"] == [0, 64, 0, 64] and facts["dropped_channels"] == [1, 3]
    assert facts["unbatched_rows"] == 12 and 0 < facts["unbatched_rows_zeroed"] < 12


def test_feature_maps_never_contain_zero():
    x = dropout2d.feature_maps()
    assert x.shape == (1, 4, 8, 8) and x.min() >= 0.25 and x.max() <= 1.0


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_bad_p_is_refused(p):
    with pytest.raises(ValueError, match="drop probability p"):
        dropout2d.spatial_dropout(torch.ones(1, 2, 3, 3), p)


def test_input_without_batch_dimension_is_refused():
    with pytest.raises(ValueError, match=r"x must be a batch of feature maps \(N, C, H, W\)"):
        dropout2d.spatial_dropout(torch.ones(2, 3, 3), 0.5)


@pytest.fixture(scope="module")
def fresh_figure(tmp_path_factory):
    path = tmp_path_factory.mktemp("fig") / "cnn-dropout2d.svg"
    dropout2d.save_figure(path)
    return path


def test_figure_is_a_small_svg_with_the_twelve_panels(fresh_figure):
    ids = small_svg_ids(fresh_figure)
    panels = {f"panel-{kind}-c{c}" for kind in dropout2d.PANEL_IDS for c in range(4)}
    assert panels <= ids
    root = ET.fromstring(fresh_figure.read_bytes())
    background = next(root.iter("{http://www.w3.org/2000/svg}path"))
    assert "fill: none" in background.get("style"), "transparent background"


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert FIGURE.read_bytes() == fresh_figure.read_bytes(), (
        're-render: python -c "from snippets.cnn.dropout2d import save_figure; '
        "save_figure('docs/assets/figures/cnn-dropout2d.svg')\""
    )


def test_neighbours_recover_element_wise_holes_but_not_dropped_channels():
    facts = dropout2d.facts()
    assert facts["error_element"] < 0.1  # smooth maps: the 3 x 3 neighbourhood knows the value
    assert facts["error_channel"] == pytest.approx(facts["dropped_mean"])  # nothing left to guess from


def test_fill_from_neighbours_keeps_kept_values_and_averages_kept_neighbours():
    y = torch.tensor([[[[2.0, 0.0, 4.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]])  # p = 0.5: kept values doubled
    filled = dropout2d.fill_from_neighbours(y, 0.5)[0, 0]
    assert filled[0, 0] == 1.0 and filled[0, 2] == 2.0  # kept: scaling undone
    assert filled[0, 1] == 1.5 and filled[1, 0] == 1.0  # mean of the kept neighbours
    assert filled[2, 2] == 0.0  # no kept neighbour


@pytest.mark.claim("cnn/dropout1d-whole-channels")
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout1d_zeroes_whole_channels(p):
    torch.manual_seed(0)
    x = torch.rand(16, 6, 9) + 0.5
    out = dropout2d.channel_dropout_1d(x, p)
    zeroed = (out == 0).all(dim=-1)
    kept = ~zeroed
    torch.testing.assert_close(out[kept], x[kept] / (1 - p))
    assert (out[zeroed.unsqueeze(-1).expand_as(out)] == 0).all()
    assert zeroed.float().mean().item() == pytest.approx(p, abs=0.1)


def test_dropout1d_on_batch_first_sequences_locks_the_mask_over_time():
    torch.manual_seed(0)
    x = torch.ones(8, 7, 5)  # (N, L, C)
    out = dropout2d.channel_dropout_1d(x, 0.5, batch_first_seq=True)
    assert out.shape == x.shape
    assert torch.equal(out, out[:, :1].expand_as(out))  # the same at every step
    assert set(out.unique().tolist()) == {0.0, 2.0}
    # without the transpose, the mask would change along time
    wrong = dropout2d.channel_dropout_1d(x, 0.5)
    assert not torch.equal(wrong, wrong[:, :1].expand_as(wrong))
