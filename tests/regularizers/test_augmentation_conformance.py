"""Conformance of the augmentation functions: against plain torch ops (flip, pad + slice,
roll), dtypes, single images vs batches, channels-last, non-contiguous input, the meta
device, determinism, no mutation, bad arguments; and the birthday bound for repeats."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.regularizers import augmentation as aug

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8, torch.int64]


def images_of(dtype, shape=(4, 3, 6, 5), seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) * 100 + 1).to(dtype)  # no zeros


def crop_by_slicing(images, padding, top, left):
    """Reference: F.pad, then an ordinary slice per image."""
    padded = F.pad(images, [padding] * 4)
    h, w = images.shape[-2:]
    return torch.stack(
        [padded[n, :, t : t + h, l : l + w] for n, (t, l) in enumerate(zip(top.tolist(), left.tolist()))]
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_and_shape_are_kept_and_values_come_from_torch_ops(dtype):
    images = images_of(dtype)
    flipped = aug.random_hflip(images, torch.Generator().manual_seed(1))
    coins = torch.rand(4, generator=torch.Generator().manual_seed(1)) < 0.5
    expected = torch.stack([im.flip(-1) if c else im for im, c in zip(images, coins)])
    assert flipped.dtype == dtype and torch.equal(flipped, expected)
    cropped = aug.random_crop(images, 2, torch.Generator().manual_seed(2))
    top, left = torch.randint(0, 5, (2, 4), generator=torch.Generator().manual_seed(2))
    assert cropped.dtype == dtype and torch.equal(cropped, crop_by_slicing(images, 2, top, left))


@given(padding=st.integers(0, 3), seed=st.integers(0, 2**16), n=st.integers(1, 4))
@settings(max_examples=20, deadline=None)
def test_crop_equals_pad_and_slice_at_the_same_random_offsets(padding, seed, n):
    images = images_of(torch.float32, (n, 2, 5, 4), seed)
    out = aug.random_crop(images, padding, torch.Generator().manual_seed(seed))
    top, left = torch.randint(0, 2 * padding + 1, (2, n), generator=torch.Generator().manual_seed(seed))
    assert torch.equal(out, crop_by_slicing(images, padding, top, left))


def test_a_shift_is_not_a_roll_nothing_wraps_around():
    image = images_of(torch.float32, (1, 1, 5, 5))
    padded = F.pad(image, [1] * 4)
    shifted = aug.crop_at(padded, torch.tensor([0]), torch.tensor([0]), 5, 5)  # down and right by 1
    rolled = image.roll((1, 1), dims=(-2, -1))
    assert torch.equal(shifted[..., 1:, 1:], rolled[..., 1:, 1:])  # the interior agrees
    assert (shifted[..., 0, :] == 0).all() and (rolled[..., 0, 1:] != 0).all()  # the border does not


@pytest.mark.claim("regularizers/single-image")
def test_a_single_image_gets_one_coin_not_one_per_channel():
    """The earlier version read the channel axis of a (C, H, W) image as the batch axis and
    returned a (C, C, H, W) tensor; now one image is one image."""
    image = images_of(torch.float32, (3, 4, 4))
    coins = torch.rand(image.shape[0]) < 0.5  # the old code: one coin per "image" of dim 0
    assert torch.where(coins[:, None, None, None], image.flip(-1), image).shape == (3, 3, 4, 4)
    for seed in range(6):
        out = aug.random_hflip(image, torch.Generator().manual_seed(seed))
        assert out.shape == image.shape
        assert torch.equal(out, image) or torch.equal(out, image.flip(-1))
        one = aug.random_hflip(image[None], torch.Generator().manual_seed(seed))[0]
        assert torch.equal(out, one)
        crop = aug.random_crop(image, 1, torch.Generator().manual_seed(seed))
        assert crop.shape == image.shape
        assert torch.equal(crop, aug.random_crop(image[None], 1, torch.Generator().manual_seed(seed))[0])


def test_channels_last_and_non_contiguous_inputs():
    images = images_of(torch.float32, (3, 3, 6, 6))
    last = images.to(memory_format=torch.channels_last)
    for fn in (lambda x, g: aug.random_hflip(x, g), lambda x, g: aug.random_crop(x, 2, g)):
        out = fn(last, torch.Generator().manual_seed(3))
        assert torch.equal(out, fn(images, torch.Generator().manual_seed(3)))
        assert out.is_contiguous(memory_format=torch.channels_last)
    transposed = images.transpose(-1, -2)  # a non-contiguous view
    out = aug.random_crop(transposed, 1, torch.Generator().manual_seed(4))
    assert torch.equal(out, aug.random_crop(transposed.contiguous(), 1, torch.Generator().manual_seed(4)))


def test_the_meta_device_runs_and_gives_meta():
    images = torch.empty(2, 3, 8, 8, device="meta")
    out, labels = aug.augment(images, torch.empty(2, device="meta"), 2)
    assert out.device.type == "meta" and out.shape == images.shape and labels.device.type == "meta"
    assert aug.random_hflip(torch.empty(3, 4, 4, device="meta")).shape == (3, 4, 4)


def test_inputs_are_not_mutated_and_labels_come_back_untouched():
    images, labels = images_of(torch.float32), torch.arange(4)
    before = images.clone(), labels.clone()
    out, out_labels = aug.augment(images, labels, 2, torch.Generator().manual_seed(0))
    assert torch.equal(images, before[0]) and out_labels is labels and torch.equal(labels, before[1])
    assert out.data_ptr() != images.data_ptr()


def test_the_global_seed_makes_it_deterministic_too():
    images = images_of(torch.float32)
    torch.manual_seed(7)
    first = aug.augment(images, torch.arange(4), 2)[0]
    torch.manual_seed(7)
    assert torch.equal(first, aug.augment(images, torch.arange(4), 2)[0])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: aug.random_crop(torch.ones(1, 1, 4, 4), True), TypeError, "padding must be an int"),
        (lambda: aug.random_crop(torch.ones(1, 1, 4, 4), 1.0), TypeError, "padding must be an int"),
        (lambda: aug.random_crop(torch.ones(1, 1, 4, 4), None), TypeError, "padding must be an int"),
        (lambda: aug.count_versions(-1), ValueError, "padding must be >= 0"),
        (lambda: aug.random_hflip(torch.ones(4, 4)), ValueError, r"images must be \(C, H, W\) or \(N, C, H, W\)"),
        (lambda: aug.random_crop(torch.ones(1, 1, 1, 4, 4), 1), ValueError, r"images must be \(C, H, W\)"),
        (lambda: aug.random_hflip([[1.0]]), ValueError, "images must be"),
        (lambda: aug.augment(None, torch.zeros(1)), ValueError, r"images must be a batch"),
        (lambda: aug.repeat_probability(0, 3), ValueError, "need versions >= 1"),
        (lambda: aug.repeat_probability(10, -1), ValueError, "need versions >= 1"),
    ],
)
def test_bad_arguments_are_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_birthday_bound_matches_the_closed_form_and_brute_force():
    # Closed form against a direct product, and a brute-force count over all sequences.
    assert aug.repeat_probability(162, 2) == pytest.approx(1 / 162)
    assert aug.repeat_probability(162, 163) == 1.0  # more epochs than versions: certain
    v, e = 4, 3
    sequences = [(a, b, c) for a in range(v) for b in range(v) for c in range(v)]
    repeated = sum(len(set(seq)) < e for seq in sequences) / len(sequences)
    assert aug.repeat_probability(v, e) == pytest.approx(repeated)
    # The usual approximation: p reaches 1/2 near sqrt(2 ln 2 * V) draws.
    assert abs(aug.epochs_until_likely_repeat(162) - math.sqrt(2 * math.log(2) * 162)) < 1.5


@pytest.mark.claim("regularizers/augmentation-repeats")
def test_augment_really_repeats_at_the_birthday_rate():
    """Run augment() on one image for `epochs` epochs, many times over, and count the runs in
    which some version came back: the rate matches repeat_probability."""
    versions, epochs, runs = aug.count_versions(4), aug.facts()["repeat_epochs"], 300
    image = images_of(torch.float32, (1, 3, 10, 10))
    out, _ = aug.augment(
        image.expand(runs * epochs, -1, -1, -1), torch.zeros(runs * epochs), 4, torch.Generator().manual_seed(0)
    )
    per_run = out.flatten(1).view(runs, epochs, -1)
    repeats = sum(torch.unique(run, dim=0).shape[0] < epochs for run in per_run)
    expected = aug.repeat_probability(versions, epochs)
    assert expected >= 0.5 > aug.repeat_probability(versions, epochs - 1)
    assert repeats / runs == pytest.approx(expected, abs=0.1)  # about 3.5 standard errors
