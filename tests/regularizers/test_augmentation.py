"""Augmentation with plain tensor ops: shapes and labels are kept, flipping twice is the
identity, a crop of the padded image is the image shifted by at most `padding` pixels."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.regularizers import augmentation as aug


@st.composite
def batches(draw):
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    seed = draw(st.integers(0, 2**31 - 1))
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) + 0.5, seed


def shifted(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Reference: out[i, j] = image[i + dy, j + dx], zero where that falls outside."""
    out = torch.zeros_like(image)
    h, w = image.shape[-2:]
    for i in range(h):
        for j in range(w):
            if 0 <= i + dy < h and 0 <= j + dx < w:
                out[..., i, j] = image[..., i + dy, j + dx]
    return out


@given(batch=batches(), padding=st.integers(0, 3))
@settings(max_examples=40, deadline=None)
def test_shape_and_labels_are_preserved(batch, padding):
    images, seed = batch
    labels = torch.arange(images.shape[0])
    out, out_labels = aug.augment(images, labels, padding, torch.Generator().manual_seed(seed))
    assert out.shape == images.shape
    assert out_labels is labels


@given(batch=batches())
def test_flipping_twice_is_the_identity(batch):
    images, _ = batch
    assert torch.equal(aug.hflip(aug.hflip(images)), images)


@given(batch=batches())
@settings(max_examples=30, deadline=None)
def test_random_flip_returns_each_image_or_its_mirror(batch):
    images, seed = batch
    out = aug.random_hflip(images, torch.Generator().manual_seed(seed))
    for original, result in zip(images, out):
        assert torch.equal(result, original) or torch.equal(result, original.flip(-1))


def test_random_flip_flips_about_half():
    images = torch.arange(4.0).view(1, 1, 1, 4).expand(2000, 1, 1, 4)
    out = aug.random_hflip(images, torch.Generator().manual_seed(0))
    flipped = (out[:, 0, 0, 0] == 3).float().mean().item()
    assert flipped == pytest.approx(0.5, abs=0.04)


@given(batch=batches(), padding=st.integers(0, 3))
@settings(max_examples=40, deadline=None)
def test_crop_of_padded_image_is_the_image_shifted_without_losing_alignment(batch, padding):
    images, seed = batch
    out = aug.random_crop(images, padding, torch.Generator().manual_seed(seed))
    shifts = [(dy, dx) for dy in range(-padding, padding + 1) for dx in range(-padding, padding + 1)]
    for original, result in zip(images, out):
        assert any(torch.equal(result, shifted(original, dy, dx)) for dy, dx in shifts)


def test_centre_crop_of_the_padded_image_is_the_image():
    images = torch.rand(3, 2, 6, 5)
    padded = F.pad(images, [2] * 4)
    centre = torch.full((3,), 2)
    assert torch.equal(aug.crop_at(padded, centre, centre, 6, 5), images)
    assert torch.equal(aug.random_crop(images, 0), images)


def test_seeded_augmentation_is_reproducible_and_varies_with_the_seed():
    images, labels = torch.rand(16, 3, 8, 8), torch.arange(16)
    first, _ = aug.augment(images, labels, 2, torch.Generator().manual_seed(1))
    again, _ = aug.augment(images, labels, 2, torch.Generator().manual_seed(1))
    other, _ = aug.augment(images, labels, 2, torch.Generator().manual_seed(2))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_page_numbers():
    facts = aug.facts()
    assert (facts["cifar_padding"], facts["cifar_shifts"], facts["cifar_versions"]) == (4, 81, 162)
    assert (facts["l_size"], facts["cifar_size"]) == (5, 32)
    assert facts["demo_padding"] == 2 and facts["demo_distinct"] == facts["demo_versions"] == 50


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="padding must be >= 0, got padding=-1"):
        aug.random_crop(torch.ones(1, 1, 4, 4), -1)
    with pytest.raises(ValueError, match=r"images must be a batch \(N, C, H, W\)"):
        aug.augment(torch.ones(3, 4, 4), torch.zeros(1))
    with pytest.raises(ValueError, match="labels must have one entry per image, got 2 for 3 images"):
        aug.augment(torch.ones(3, 1, 4, 4), torch.zeros(2))
