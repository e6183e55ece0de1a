"""DropBlock: dropped regions are unions of block_size x block_size squares, kept values are
rescaled so that the mean is preserved, eval mode is the identity, bad arguments are refused."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from snippets.cnn import dropblock
from tests.svg import small_svg_ids

FIGURE = Path(__file__).resolve().parents[2] / "docs" / "assets" / "figures" / "cnn-dropblock.svg"


@st.composite
def maps_and_blocks(draw):
    height, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    block_size = draw(st.sampled_from([b for b in (1, 3, 5, 7) if b <= min(height, width)]))
    return height, width, block_size


def union_of_squares_inside(dropped: torch.Tensor, block_size: int) -> torch.Tensor:
    """The union of every block_size x block_size square that lies inside the map and is
    entirely dropped (erosion then dilation, written with avg_pool and conv_transpose so that
    it does not reuse the max_pool trick under test)."""
    ones = torch.ones(1, 1, block_size, block_size)
    full_squares = (F.avg_pool2d(dropped, block_size, stride=1) > 1 - 1e-6).float()
    return F.conv_transpose2d(full_squares, ones) > 0


@given(shape=maps_and_blocks(), p=st.floats(0.0, 0.9), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_every_dropped_region_is_a_union_of_whole_blocks(shape, p, seed):
    height, width, block_size = shape
    y = dropblock.dropblock(
        torch.ones(3, 2, height, width), p, block_size, generator=torch.Generator().manual_seed(seed)
    )
    dropped = (y == 0).float().flatten(0, 1).unsqueeze(1)
    assert torch.equal(union_of_squares_inside(dropped, block_size), dropped.bool())


@given(shape=maps_and_blocks(), data=st.data())
@settings(max_examples=40, deadline=None)
def test_a_single_seed_drops_exactly_one_square_around_it(shape, data):
    height, width, block_size = shape
    row = data.draw(st.integers(0, height - block_size))
    col = data.draw(st.integers(0, width - block_size))
    seeds = torch.zeros(1, 1, height - block_size + 1, width - block_size + 1)
    seeds[0, 0, row, col] = 1.0
    mask = dropblock.block_mask(seeds, block_size)[0, 0]
    expected = torch.ones(height, width)
    expected[row : row + block_size, col : col + block_size] = 0.0  # centred on (row + b//2, col + b//2)
    assert torch.equal(mask, expected)


@given(shape=maps_and_blocks(), p=st.floats(0.0, 0.9), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=25, deadline=None)
def test_kept_values_are_rescaled_so_the_mean_is_preserved(shape, p, seed):
    height, width, block_size = shape
    x = torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(seed)) + 0.5
    y = dropblock.dropblock(x, p, block_size, generator=torch.Generator().manual_seed(seed))
    kept = y != 0
    assume(kept.any())
    scale = x.numel() / kept.sum().item()
    torch.testing.assert_close(y[kept], x[kept] * scale)
    ones = dropblock.dropblock(torch.ones_like(x), p, block_size, generator=torch.Generator().manual_seed(seed))
    assert ones.mean().item() == pytest.approx(1.0, abs=1e-5)


def test_everything_dropped_gives_zeros_not_nan():
    x = torch.ones(1, 1, 3, 3)  # block 3 on a 3 x 3 map: one possible centre, dropped with probability p
    outputs = [dropblock.dropblock(x, 0.5, 3, generator=torch.Generator().manual_seed(s)) for s in range(20)]
    assert any(torch.equal(y, torch.zeros_like(x)) for y in outputs)
    assert all(torch.isfinite(y).all() for y in outputs)


@given(height=st.integers(1, 30), width=st.integers(1, 30), p=st.floats(0.0, 0.99), data=st.data())
def test_gamma_formula_and_its_limits(height, width, p, data):
    block_size = data.draw(st.integers(1, min(height, width)))
    gamma = dropblock.seed_rate(p, block_size, height, width)
    valid = (height - block_size + 1) * (width - block_size + 1)
    assert gamma * valid * block_size**2 == pytest.approx(p * height * width)  # expected dropped values
    assert gamma <= p + 1e-12  # a probability, even for p close to 1
    if block_size == 1 or (block_size == height == width):
        assert gamma == pytest.approx(p)


def test_block_size_one_is_element_wise_and_full_size_is_channel_wise():
    gen = torch.Generator().manual_seed(0)
    element = dropblock.dropblock(torch.ones(500, 1, 4, 4), 0.3, 1, generator=gen)
    assert (element == 0).float().mean().item() == pytest.approx(0.3, abs=0.02)
    channel = dropblock.dropblock(torch.ones(500, 2, 5, 5), 0.3, 5, generator=gen)
    zeros = (channel == 0).flatten(2).float().mean(dim=2)
    assert set(zeros.unique().tolist()) == {0.0, 1.0}  # whole channels, like Dropout2d
    assert zeros.mean().item() == pytest.approx(0.3, abs=0.03)


def test_eval_mode_and_p_zero_are_the_identity():
    x = torch.randn(2, 3, 9, 9)
    assert dropblock.dropblock(x, 0.3, 3, training=False) is x
    assert dropblock.dropblock(x, 0.0, 3) is x
    layer = dropblock.DropBlock2d(0.3, 3)
    assert torch.equal(layer.eval()(x), x)
    torch.manual_seed(0)
    assert not torch.equal(layer.train()(x), x)


def test_page_numbers():
    facts = dropblock.facts()
    assert facts["gamma_example"] == pytest.approx(0.1 / 9 * 64 / 36)
    assert facts["gamma_paper"] == pytest.approx(0.1 / 49 * 196 / 64)
    assert (facts["paper_block_size"], facts["valid_paper"]) == (7, 8)
    assert (facts["demo_kept"], facts["demo_mean"]) == (48, pytest.approx(1.0))
    assert facts["demo_scale"] == pytest.approx(64 / 48)
    assert 0.08 < facts["share_7"] < facts["share_p"] and 0.08 < facts["share_3"] < facts["share_p"]
    assert dropblock.dropped_share(0.1, 1, 16) == pytest.approx(0.1, abs=0.005)
    assert (facts["fig_p"], facts["fig_size"]) == (0.25, 15)
    assert (facts["example_size"], facts["example_block"], facts["paper_map"]) == (8, 3, 14)
    assert (facts["demo_values"], facts["share_map"]) == (64, 16)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"block_size": 2}, "block_size must be a positive odd number, got block_size=2"),
        ({"block_size": 0}, "block_size must be a positive odd number"),
        ({"block_size": 9}, "block_size=9 is larger than the 8 x 7 feature map"),
        ({"p": 1.0}, "drop probability p must be in"),
        ({"p": -0.1}, "drop probability p must be in"),
        ({"x": torch.ones(3, 8, 7)}, r"x must be a batch of feature maps \(N, C, H, W\)"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    args = {"x": torch.ones(1, 1, 8, 7), "p": 0.1, "block_size": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        dropblock.dropblock(**args)


def test_layer_refuses_bad_p_when_built():
    with pytest.raises(ValueError, match="drop probability p"):
        dropblock.DropBlock2d(1.0, 3)


@pytest.fixture(scope="module")
def fresh_figure(tmp_path_factory):
    path = tmp_path_factory.mktemp("fig") / "cnn-dropblock.svg"
    dropblock.save_figure(path)
    return path


def test_figure_is_a_small_svg_with_four_panels(fresh_figure):
    ids = small_svg_ids(fresh_figure)
    assert {f"panel-{name}" for name in dropblock.PANEL_IDS} <= ids


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert FIGURE.read_bytes() == fresh_figure.read_bytes(), (
        're-render: python -c "from snippets.cnn.dropblock import save_figure; '
        "save_figure('docs/assets/figures/cnn-dropblock.svg')\""
    )
