"""Test-time augmentation: five_crops / ten_crops give torchvision's five_crop / ten_crop
views (its algorithm ported below) on odd sizes, in every dtype and on the meta device;
tta_predict is the mean of the views' softmax outputs, in eval mode, with the mode restored;
a flip-invariant model gains nothing from flip views; bad arguments are refused."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.modern import tta


# ------------------------------------------------------------------ torchvision, ported
def tv_crop(img, top, left, height, width):
    return img[..., top : top + height, left : left + width]


def tv_center_crop(img, output_size):
    """torchvision.transforms.functional.center_crop for a crop that fits (pytorch/vision,
    torchvision/transforms/functional.py at commit 01175db1c2b1ced3515f9aeeb4cf7dc4f001e78d)."""
    image_height, image_width = img.shape[-2:]
    crop_height, crop_width = output_size
    crop_top = int(round((image_height - crop_height) / 2.0))  # noqa: RUF046 (as ported)
    crop_left = int(round((image_width - crop_width) / 2.0))  # noqa: RUF046
    return tv_crop(img, crop_top, crop_left, crop_height, crop_width)


def tv_five_crop(img, size):
    """five_crop, same file and commit."""
    image_height, image_width = img.shape[-2:]
    crop_height, crop_width = size
    if crop_width > image_width or crop_height > image_height:
        raise ValueError(f"Requested crop size {size} is bigger than input size {(image_height, image_width)}")
    tl = tv_crop(img, 0, 0, crop_height, crop_width)
    tr = tv_crop(img, 0, image_width - crop_width, crop_height, crop_width)
    bl = tv_crop(img, image_height - crop_height, 0, crop_height, crop_width)
    br = tv_crop(img, image_height - crop_height, image_width - crop_width, crop_height, crop_width)
    center = tv_center_crop(img, [crop_height, crop_width])
    return tl, tr, bl, br, center


def tv_ten_crop(img, size, vertical_flip=False):
    """ten_crop, same file and commit (horizontal flip)."""
    first_five = tv_five_crop(img, size)
    img = img.flip(-2) if vertical_flip else img.flip(-1)
    return first_five + tv_five_crop(img, size)


@st.composite
def images_and_crops(draw):
    h, w = draw(st.integers(1, 11)), draw(st.integers(1, 11))
    return (draw(st.integers(1, 3)), draw(st.integers(1, 2)), h, w), draw(st.integers(1, h)), draw(st.integers(1, w))


@pytest.mark.claim("modern/ten-crop-torchvision")
@given(case=images_and_crops(), dtype=st.sampled_from([torch.float16, torch.bfloat16, torch.float32, torch.float64]))
@settings(max_examples=25, deadline=None)
def test_ten_crops_equal_torchvisions(case, dtype):
    shape, height, width = case
    images = torch.randn(shape).to(dtype)
    ours, theirs = tta.ten_crops(images, height, width), tv_ten_crop(images, (height, width))
    assert len(ours) == len(theirs) == 10
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b) and a.dtype == dtype


def test_the_centre_rounds_half_to_even_like_torchvision():
    image = torch.arange(5.0 * 5).reshape(1, 1, 5, 5)
    # (5 - 2) / 2 = 1.5 rounds to 2; (5 - 4) / 2 = 0.5 rounds to 0
    assert torch.equal(tta.five_crops(image, 2, 4)[4], image[..., 2:4, 0:4])
    assert torch.equal(tta.five_crops(image, 2, 4)[4], tv_center_crop(image, (2, 4)))


def test_crops_on_meta():
    views = tta.ten_crops(torch.empty(2, 3, 9, 7, device="meta"), 4, 5)
    assert all(v.device.type == "meta" and v.shape == (2, 3, 4, 5) for v in views)


@pytest.mark.parametrize(("height", "width"), [(0, 3), (3, 0), (9, 3), (3, 9)])
def test_a_crop_that_does_not_fit_is_refused(height, width):
    with pytest.raises(ValueError, match="crop size"):
        tta.five_crops(torch.ones(1, 1, 8, 8), height, width)


# ------------------------------------------------------------------ the prediction
def test_tta_is_the_mean_of_the_views_softmax():
    model = tta.small_cnn()
    images = torch.rand(5, 1, 8, 8)
    views = tta.ten_crops(images, 6, 6)
    with torch.no_grad():
        expected = torch.stack([model(v).softmax(-1) for v in views]).mean(0)
        torch.testing.assert_close(tta.tta_predict(model, views), expected)
        torch.testing.assert_close(tta.tta_predict(model, [images]), model(images).softmax(-1))
    assert not tta.tta_predict(model, views).requires_grad


def test_tta_runs_in_eval_mode_and_restores_the_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5), nn.Flatten(), nn.Linear(72, 3))
    images = torch.rand(4, 1, 8, 8)
    model.train()
    first, second = tta.tta_predict(model, [images]), tta.tta_predict(model, [images])
    assert torch.equal(first, second)  # no dropout, running BN statistics
    assert model.training
    model.eval()
    tta.tta_predict(model, [images])
    assert not model.training


def test_one_image_is_a_batch_of_one():
    model = tta.small_cnn()
    image = torch.rand(1, 8, 8)
    assert tta.tta_predict(model, [image]).shape == (1, 3)


def test_flip_views_do_not_change_a_flip_invariant_model():
    model = tta.flip_invariant(tta.small_cnn())
    images = torch.rand(3, 1, 8, 8)
    torch.testing.assert_close(tta.tta_predict(model, [images]), tta.tta_predict(model, [images, images.flip(-1)]))


def test_no_views_is_refused():
    with pytest.raises(ValueError, match="views"):
        tta.tta_predict(tta.small_cnn(), [])
    assert tta.facts()["n_views"] == 10
