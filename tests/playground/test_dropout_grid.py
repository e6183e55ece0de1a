"""The playground's feature map and masks: every mode drops each unit with probability p,
channel masks are constant per channel, block masks make square holes."""

import pytest
import torch

from snippets.playground import dropout_grid as grid


def test_feature_map_is_four_8x8_channels_with_two_decimals():
    h = grid.feature_map()
    assert h.shape == (len(grid.CHANNELS), 8, 8) == (4, 8, 8)
    assert h.amax(dim=(1, 2)).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert torch.equal(torch.round(h * 100) / 100, h) and (h >= 0).all()
    assert h[0].sum().item() == sum(row.count("#") for row in grid.DIGIT)


@pytest.mark.parametrize("mode", ["element", "channel", "block"])
def test_every_unit_is_dropped_with_probability_p(mode):
    p, samples = 0.3, 4000
    # Channels are independent, so 4000 channels are 4000 samples of an 8 x 8 map.
    masks = grid.sample_mask(mode, (samples, 8, 8), p, torch.Generator().manual_seed(0))
    drop_rate = 1 - masks.mean(dim=0)
    # Border and corner units too: the padded seed grid leaves no unit less exposed.
    tolerance = 0.06 if mode != "element" else 0.04
    assert drop_rate.sub(p).abs().max().item() < tolerance
    assert set(masks.unique().tolist()) <= {0.0, 1.0}


def test_channel_masks_are_constant_within_a_channel():
    mask = grid.channel_mask((6, 8, 8), 0.5, torch.Generator().manual_seed(3))
    assert (mask.amin(dim=(1, 2)) == mask.amax(dim=(1, 2))).all()


def test_block_masks_drop_whole_squares():
    generator = torch.Generator().manual_seed(0)
    mask = grid.block_mask((1, 8, 8), 0.2, block=3, generator=generator)[0]
    # A hole away from the border is at least block x block: every dropped unit lies in an
    # all-zero 3 x 3 window clipped to the map.
    dropped = (mask == 0).nonzero().tolist()
    assert dropped
    for i, j in dropped:
        windows = [mask[max(a, 0) : a + 3, max(b, 0) : b + 3] for a in range(i - 2, i + 1) for b in range(j - 2, j + 1)]
        assert any((w == 0).all() for w in windows)


def test_block_seed_rate():
    assert grid.block_seed_rate(0.0, 3) == 0.0
    assert (1 - grid.block_seed_rate(0.3, 3)) ** 9 == pytest.approx(0.7)
    with pytest.raises(ValueError, match="drop probability p"):
        grid.block_seed_rate(1.0, 3)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of"):
        grid.sample_mask("pixel", (1, 2, 2), 0.5)


def test_running_mean_converges_to_h():
    facts = grid.facts()
    assert facts["gap_1000"] < facts["gap_10"] and facts["gap_1000"] < 0.1
    assert facts["ink_row"].tolist() == [0, 0, 0, 1, 1, 1, 0, 0]
    out, mask = facts["example_out_row"], facts["example_mask_row"]
    torch.testing.assert_close(out, facts["ink_row"] * mask / 0.5)
    assert round(facts["gamma_30"], 4) == 0.0389
