"""DropBlock, again: the chapter's timm-style DropBlock equals timm's drop_block_2d (ported
below, its Bernoulli draw replaced by given seeds) on random shapes, odd and even block sizes
and blocks larger than the map; the site's DropBlock is timm's code fed the valid-region
seeds; and timm's definition drops more than p where the site's drops about p."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.cnn.dropblock import block_mask
from snippets.modern import dropblock_again as da


def timm_drop_block_2d(x, drop_prob=0.1, block_size=7, gamma_scale=1.0, couple_channels=True, seeds=None):
    """timm.layers.drop_block_2d (huggingface/pytorch-image-models, timm/layers/drop.py at commit
    aa4b5850c1543fa488abf260f18390eda46cf85d), with_noise=False, inplace=False,
    scale_by_keep=True; `seeds`, when given, replaces its bernoulli_(gamma) draw."""
    B, C, H, W = x.shape
    kh, kw = min(block_size, H), min(block_size, W)
    gamma = float(gamma_scale * drop_prob * H * W) / float(kh * kw) / float((H - kh + 1) * (W - kw + 1))
    noise_shape = (B, 1 if couple_channels else C, H, W)
    with torch.no_grad():
        if seeds is None:
            block_mask = torch.empty(noise_shape, dtype=x.dtype, device=x.device).bernoulli_(gamma)
        else:
            block_mask = seeds.to(x.dtype)
        block_mask = F.max_pool2d(block_mask, kernel_size=(kh, kw), stride=1, padding=(kh // 2, kw // 2))
        if kh % 2 == 0 or kw % 2 == 0:
            block_mask = block_mask[..., (kh + 1) % 2 :, (kw + 1) % 2 :]
        keep_mask = 1.0 - block_mask
        normalize_scale = keep_mask.numel() / keep_mask.to(dtype=torch.float32).sum().add(1e-7)
        keep_mask.mul_(normalize_scale.to(x.dtype))
    return x * keep_mask


@st.composite
def cases(draw):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    return (n, c, h, w), draw(st.integers(1, 12)), draw(st.floats(0.0, 0.5)), draw(st.booleans())


@pytest.mark.claim("modern/dropblock-timm")
@given(case=cases(), seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from([torch.float32, torch.float64]))
@settings(max_examples=20, deadline=None)
def test_timm_style_dropblock_equals_timm_for_the_same_seeds(case, seed, dtype):
    shape, block_size, p, couple = case
    x = torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype) + 0.5
    ours = da.timm_style_dropblock(x, p, block_size, couple, generator=torch.Generator().manual_seed(seed))
    n, c, h, w = shape
    kh, kw = min(block_size, h), min(block_size, w)
    gamma = p * h * w / (kh * kw) / ((h - kh + 1) * (w - kw + 1))
    u = torch.rand((n, 1 if couple else c, h, w), generator=torch.Generator().manual_seed(seed))
    theirs = timm_drop_block_2d(x, p, block_size, couple_channels=couple, seeds=(u < gamma).float())
    torch.testing.assert_close(ours, theirs)
    assert ours.shape == x.shape and ours.dtype == dtype


@given(case=cases(), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=20, deadline=None)
def test_the_mask_alone_equals_timms(case, seed):
    shape, block_size, _, _ = case
    seeds = (torch.rand(shape, generator=torch.Generator().manual_seed(seed)) < 0.2).float()
    ones = torch.ones(shape, dtype=torch.float64)
    expected = timm_drop_block_2d(ones, 0.1, block_size, couple_channels=False, seeds=seeds) != 0
    assert torch.equal(da.timm_style_mask(seeds, block_size).bool(), expected)


@given(h=st.integers(1, 10), w=st.integers(1, 10), b=st.sampled_from([1, 3, 5, 7]), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=20, deadline=None)
def test_the_sites_mask_is_timms_code_fed_the_valid_seeds(h, w, b, seed):
    if b > min(h, w):
        b = 1
    valid = (torch.rand(2, 2, h - b + 1, w - b + 1, generator=torch.Generator().manual_seed(seed)) < 0.3).float()
    assert torch.equal(da.site_mask_through_timm(valid, b), block_mask(valid, b))


def test_timm_drops_more_than_p_and_the_site_about_p():
    torch.manual_seed(0)
    x = torch.ones(1000, 1, 16, 16)
    port = (timm_drop_block_2d(x, 0.1, 7) == 0).float().mean().item()
    ours, timm = da.dropped_shares(0.1, 7, 16)
    assert timm == pytest.approx(port, abs=0.015)  # same definition, different random numbers
    assert timm > 0.17 and ours == pytest.approx(0.1, abs=0.01)
    facts = da.facts()
    assert facts["timm"] == timm and facts["timm_56"] > facts["ours_56"]


def test_coupled_channels_share_one_mask_and_uncoupled_do_not():
    x = torch.ones(4, 8, 9, 9)
    coupled = da.timm_style_dropblock(x, 0.3, 3, True, generator=torch.Generator().manual_seed(1)) == 0
    assert torch.equal(coupled, coupled[:, :1].expand_as(coupled))
    free = da.timm_style_dropblock(x, 0.3, 3, False, generator=torch.Generator().manual_seed(1)) == 0
    assert not torch.equal(free, free[:, :1].expand_as(free))
