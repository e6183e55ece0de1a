"""Element-wise dropout on conv feature maps: it fragments edges, and on a spatially
correlated map the neighbours still carry the erased values."""

import pytest
import torch
from torch import nn

from snippets.cnn import spatial


@pytest.fixture(scope="module")
def facts():
    return spatial.facts()


@pytest.mark.claim("cnn/edge-fragments")
def test_edge_map_is_the_outline_of_the_square():
    edges = spatial.edge_map(spatial.square_image(10, 2))
    assert edges.shape == (8, 8)
    active = edges > 0
    assert active[:2].all() and active[-2:].all() and active[:, :2].all() and active[:, -2:].all()
    assert not active[2:-2, 2:-2].any()  # the flat inside of the square gives no edge response


def test_draw_marks_active_units_with_blocks():
    rows = spatial.draw(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    assert rows == ["|██  |", "|  ██|"]


@pytest.mark.claim("cnn/edge-fragments")
def test_dropout_fragments_the_edges(facts):
    assert facts["p"] == 0.3 and facts["map_size"] == 8
    assert facts["edge_units"] == 48
    # About p of the edge units disappear; the picture on the page shows which.
    assert 0.15 * 48 < facts["edge_units_dropped"] < 0.45 * 48


@pytest.mark.claim("cnn/smooth-map-leaks")
def test_neighbours_recover_erased_values_only_on_a_smooth_map(facts):
    assert (facts["random_map_size"], facts["smooth_window"]) == (64, 5)
    # Same damage per pixel on both maps...
    assert facts["smooth_pixel"] == pytest.approx(facts["white_pixel"], abs=0.05)
    # ...but on the smooth map a 3x3 average of the dropped map tracks the original,
    assert facts["smooth_neighbours"] > 0.8 and facts["smooth_neighbours"] > facts["smooth_pixel"]
    assert facts["smooth_erased"] > 0.8
    # while on white noise the neighbours know nothing about an erased value.
    assert facts["white_neighbours"] < 0.4
    assert abs(facts["white_erased"]) < 0.15


@pytest.mark.claim("cnn/smooth-map-leaks")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_leak_holds_for_other_seeds(seed):
    smooth, white = spatial.leak_for(5, 0.3, seed), spatial.leak_for(1, 0.3, seed)
    assert smooth["erased"] > 0.75
    assert abs(white["erased"]) < 0.2


def test_correlation_and_neighbour_average():
    x = torch.arange(9.0).reshape(3, 3)
    assert spatial.correlation(x, 2 * x + 1) == pytest.approx(1.0)
    assert spatial.correlation(x, -x) == pytest.approx(-1.0)
    avg = spatial.neighbour_average(x)
    assert avg[1, 1] == pytest.approx(4.0)  # full 3x3 window
    assert avg[0, 0] == pytest.approx((0 + 1 + 3 + 4) / 4)  # corner: only the 4 real cells


def test_typical_rates_table(facts):
    assert spatial.typical_rate("fully connected layers") == (0.3, 0.5)
    assert spatial.typical_rate("late conv blocks") == (0.1, 0.3)
    assert spatial.typical_rate("first conv layers") == (0.0, 0.0)
    assert (facts["fc_low"], facts["fc_high"], facts["conv_low"], facts["conv_high"]) == (0.3, 0.5, 0.1, 0.3)
    # Dense layers tolerate (and need) more dropout than conv layers.
    assert facts["conv_high"] <= facts["fc_low"]


def test_placed_dropout_cnn_follows_the_rule():
    model = spatial.placed_dropout_cnn()
    layers = list(model)
    convs = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]
    drops = [i for i, m in enumerate(layers) if isinstance(m, (nn.Dropout, nn.Dropout2d))]
    assert drops[0] > convs[-1]  # nothing dropped before the last conv layer has run
    assert isinstance(layers[drops[-1]], nn.Dropout) and isinstance(layers[drops[-1] + 1], nn.Linear)
    low, high = spatial.typical_rate("late conv blocks")
    assert low <= layers[drops[0]].p <= high
    low, high = spatial.typical_rate("fully connected layers")
    assert low <= layers[drops[-1]].p <= high
    assert model.eval()(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="layer must be one of"):
        spatial.typical_rate("attention")
    with pytest.raises(ValueError, match="border must be in"):
        spatial.square_image(10, 5)
    with pytest.raises(ValueError, match="border must be in"):
        spatial.square_image(10, 0)
