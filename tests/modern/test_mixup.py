"""Mixup and CutMix: the site's versions equal kornia's RandomMixUpV2 / RandomCutMixV2 given
the same lambda, pairing and box (pinned through kornia's `params`), over dtypes, odd shapes
and gradients; the box and targets equal timm's and the CutMix authors' code (ported below);
mixing commutes with label smoothing; bad arguments are refused by name."""

import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.modern import mixup as mx

kornia_aug = pytest.importorskip("kornia.augmentation")

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
TOL = {torch.float16: 2e-3, torch.bfloat16: 2e-2, torch.float32: 1e-6, torch.float64: 1e-12}


# ------------------------------------------------------------------ references, ported
def timm_mixup_target(target, num_classes, lam=1.0, smoothing=0.0):
    """timm.data.mixup.mixup_target (huggingface/pytorch-image-models, timm/data/mixup.py at
    commit aa4b5850c1543fa488abf260f18390eda46cf85d): the partner is the batch flipped."""
    off_value = smoothing / num_classes
    on_value = 1.0 - smoothing + off_value
    y1 = torch.full((target.size(0), num_classes), off_value).scatter_(1, target.view(-1, 1), on_value)
    y2 = torch.full((target.size(0), num_classes), off_value).scatter_(1, target.flip(0).view(-1, 1), on_value)
    return y1 * lam + y2 * (1.0 - lam)


def timm_cutmix_bbox_and_lam(img_shape, lam, cy, cx):
    """timm.data.mixup.rand_bbox + cutmix_bbox_and_lam (same file and commit, margin 0,
    correct_lam=True), with the centre (cy, cx) given instead of drawn."""
    ratio = math.sqrt(1 - lam)
    img_h, img_w = img_shape[-2:]
    cut_h, cut_w = int(img_h * ratio), int(img_w * ratio)
    yl, yh = min(max(cy - cut_h // 2, 0), img_h), min(max(cy + cut_h // 2, 0), img_h)
    xl, xh = min(max(cx - cut_w // 2, 0), img_w), min(max(cx + cut_w // 2, 0), img_w)
    return (yl, yh, xl, xh), 1.0 - (yh - yl) * (xh - xl) / float(img_h * img_w)


def clovaai_cutmix(input, rand_index, lam, cx, cy):
    """The CutMix authors' train.py (clovaai/CutMix-PyTorch at commit
    9dc824518643a1bb4c9635aa7482aa5d3d17c14f): rand_bbox with its centre given, the paste,
    and the lambda 'adjusted to exactly match pixel ratio'. It reads W = size[2] and
    H = size[3] of an (N, C, H, W) tensor, which only agrees with the box's name on
    square images."""
    W, H = input.size()[2], input.size()[3]
    cut_rat = math.sqrt(1.0 - lam)
    cut_w, cut_h = int(W * cut_rat), int(H * cut_rat)
    bbx1, bby1 = min(max(cx - cut_w // 2, 0), W), min(max(cy - cut_h // 2, 0), H)
    bbx2, bby2 = min(max(cx + cut_w // 2, 0), W), min(max(cy + cut_h // 2, 0), H)
    input = input.clone()
    input[:, :, bbx1:bbx2, bby1:bby2] = input[rand_index, :, bbx1:bbx2, bby1:bby2]
    return input, 1 - ((bbx2 - bbx1) * (bby2 - bby1) / (input.size()[-1] * input.size()[-2]))


def kornia_mixup(x, labels, pairs, k):
    """kornia's RandomMixUpV2 with its lambdas k and pairing pinned through `params`."""
    aug = kornia_aug.RandomMixUpV2(data_keys=["input", "class"])
    params = {"mixup_pairs": pairs, "mixup_lambdas": k, "batch_prob": torch.ones(len(x))}
    return aug(x, labels, params=params)


def kornia_cutmix(x, labels, pairs, box):
    """kornia's RandomCutMixV2 with the pairing and one box for every row pinned; kornia's
    box corners are inclusive pixels (x, y): top-left, top-right, bottom-right, bottom-left."""
    top, bottom, left, right = box
    corners = torch.tensor(
        [[left, top], [right - 1, top], [right - 1, bottom - 1], [left, bottom - 1]], dtype=torch.float32
    )
    n = len(x)
    aug = kornia_aug.RandomCutMixV2(data_keys=["input", "class"], use_correct_lambda=True)
    params = {
        "mix_pairs": pairs.view(1, n),
        "crop_src": corners.expand(1, n, 4, 2).clone(),
        "image_shape": torch.tensor(x.shape[-2:], dtype=torch.float32),
        "batch_prob": torch.ones(n),
    }
    return aug(x, labels, params=params)


def soft_from_kornia(y, classes):
    """kornia's (label, partner label, k) rows as soft targets: (1 - k) own + k partner."""
    k = y[:, 2:3]
    return (1 - k) * F.one_hot(y[:, 0].long(), classes) + k * F.one_hot(y[:, 1].long(), classes)


# ------------------------------------------------------------------ mixup against kornia
@st.composite
def batches(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    seed = draw(st.integers(0, 2**31 - 1))
    pairs = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return (n, c, h, w), seed, pairs


@pytest.mark.claim("modern/mixup-kornia")
@given(batch=batches(), dtype=st.sampled_from(DTYPES), data=st.data())
@settings(max_examples=20, deadline=None)
def test_mixup_equals_kornia_given_the_same_lambda_and_pairing(batch, dtype, data):
    shape, seed, pairs = batch
    n = shape[0]
    k = torch.tensor(data.draw(st.lists(st.floats(0, 1, width=32), min_size=n, max_size=n)))
    x = torch.rand(shape, generator=torch.Generator().manual_seed(seed)).to(dtype)
    labels = torch.randint(0, 4, (n,), generator=torch.Generator().manual_seed(seed))
    kx, ky = kornia_mixup(x, labels, pairs, k)
    own = mx.mixup(x, pairs, 1 - k.double())  # kornia's k weighs the partner
    assert own.dtype == kx.dtype == dtype
    torch.testing.assert_close(own, kx, atol=TOL[dtype], rtol=TOL[dtype])
    torch.testing.assert_close(
        mx.mixed_targets(labels, pairs, 1 - k, 4), soft_from_kornia(ky, 4).float(), atol=1e-6, rtol=1e-6
    )


def test_mixup_gradients_equal_kornias():
    x = torch.rand(4, 2, 3, 5, dtype=torch.float64, requires_grad=True)
    pairs, k = torch.tensor([2, 0, 3, 1]), torch.tensor([0.1, 0.5, 0.7, 0.95], dtype=torch.float64)
    weight = torch.randn(4, 2, 3, 5, dtype=torch.float64)
    (ref,) = torch.autograd.grad((kornia_mixup(x, torch.arange(4), pairs, k)[0] * weight).sum(), x)
    (own,) = torch.autograd.grad((mx.mixup(x, pairs, 1 - k) * weight).sum(), x)
    torch.testing.assert_close(own, ref)


def test_mixup_with_one_lambda_is_the_papers_formula_and_runs_on_meta():
    x = torch.randn(5, 3)
    pairs = torch.tensor([4, 3, 2, 1, 0])
    torch.testing.assert_close(mx.mixup(x, pairs, 0.3), 0.3 * x + 0.7 * x[pairs])
    torch.testing.assert_close(mx.mixup(x, pairs, torch.full((5,), 0.3)), mx.mixup(x, pairs, 0.3))
    meta = mx.mixup(torch.empty(5, 3, 4, 4, device="meta", dtype=torch.float16), pairs, 0.3)
    assert meta.device.type == "meta" and meta.shape == (5, 3, 4, 4) and meta.dtype == torch.float16


# ------------------------------------------------------------------ cutmix against kornia and the authors
@st.composite
def boxes(draw):
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    top = draw(st.integers(0, h - 1))
    bottom = draw(st.integers(top + 1, h))
    left = draw(st.integers(0, w - 1))
    right = draw(st.integers(left + 1, w))
    return h, w, (top, bottom, left, right)


@pytest.mark.claim("modern/cutmix-kornia")
@given(geometry=boxes(), n=st.integers(1, 5), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=15, deadline=None)
def test_cutmix_equals_kornia_given_the_same_box_and_pairing(geometry, n, dtype, seed):
    h, w, box = geometry
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, h, w, generator=generator).to(dtype)
    labels = torch.randint(0, 5, (n,), generator=generator)
    pairs = torch.randperm(n, generator=generator)
    kx, ky = kornia_cutmix(x, labels, pairs, box)
    own, lam = mx.cutmix(x, pairs, box)
    assert torch.equal(own, kx)  # a copy of pixels: exact in every dtype
    assert ky[0, :, 2].tolist() == pytest.approx([lam] * n)  # use_correct_lambda=True: own weight
    # kornia's (label, partner label, lambda) with lambda the OWN weight here
    soft = ky[0, :, 2:3] * F.one_hot(ky[0, :, 0].long(), 5) + (1 - ky[0, :, 2:3]) * F.one_hot(ky[0, :, 1].long(), 5)
    torch.testing.assert_close(mx.mixed_targets(labels, pairs, lam, 5), soft.float())


@given(
    side=st.integers(1, 12),
    height=st.integers(1, 12),
    lam=st.floats(0, 1),
    data=st.data(),
)
@settings(max_examples=20, deadline=None)
def test_cutmix_box_and_lambda_equal_timm_and_the_authors_code(side, height, lam, data):
    cy, cx = data.draw(st.integers(0, height - 1)), data.draw(st.integers(0, side - 1))
    box = mx.cutmix_box(lam, height, side, cy, cx)
    x = torch.rand(3, 1, height, side)
    pairs = torch.tensor([1, 2, 0])
    own, own_lam = mx.cutmix(x, pairs, box)
    timm_box, timm_lam = timm_cutmix_bbox_and_lam((height, side), lam, cy, cx)
    assert box == timm_box and own_lam == pytest.approx(timm_lam)
    square = torch.rand(3, 1, side, side)
    cy = min(cy, side - 1)
    ref, ref_lam = clovaai_cutmix(square, pairs, lam, cx=cy, cy=cx)  # its "x" is the row axis
    own, own_lam = mx.cutmix(square, pairs, mx.cutmix_box(lam, side, side, cy, cx))
    assert torch.equal(own, ref) and own_lam == pytest.approx(ref_lam)


def test_cutmix_lambda_is_the_share_of_own_pixels():
    x = torch.stack([torch.zeros(1, 8, 8), torch.ones(1, 8, 8)])
    mixed, lam = mx.cutmix(x, torch.tensor([1, 0]), mx.cutmix_box(0.6, 8, 8, 0, 0))
    assert (mixed[0] == 0).float().mean().item() == pytest.approx(lam)
    assert mx.facts()["corrected"] == 0.8125


# ------------------------------------------------------------------ targets and label smoothing
@given(
    n=st.integers(1, 6),
    classes=st.integers(2, 7),
    lam=st.floats(0, 1),
    eps=st.floats(0, 1),
    seed=st.integers(0, 2**31 - 1),
)
@settings(max_examples=20, deadline=None)
def test_targets_equal_timms_and_smoothing_commutes_with_mixing(n, classes, lam, eps, seed):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (n,), generator=generator)
    flip = torch.arange(n - 1, -1, -1)
    ours = mx.mixed_targets(labels, flip, lam, classes, smoothing=eps)
    torch.testing.assert_close(ours, timm_mixup_target(labels, classes, lam, eps))
    mixed_then_smoothed = (1 - eps) * mx.mixed_targets(labels, flip, lam, classes) + eps / classes
    torch.testing.assert_close(ours, mixed_then_smoothed)
    torch.testing.assert_close(ours.sum(1), torch.ones(n))


@pytest.mark.claim("modern/mixup-loss-split")
@given(lam=st.floats(0, 1), eps=st.floats(0, 0.5), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=20, deadline=None)
def test_soft_target_loss_is_the_weighted_sum_of_two_losses(lam, eps, seed):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(6, 5, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, 5, (6,), generator=generator)
    pairs = torch.randperm(6, generator=generator)
    soft = F.cross_entropy(logits, mx.mixed_targets(labels, pairs, lam, 5, eps).double())
    torch.testing.assert_close(soft, mx.mixed_loss(logits, labels, pairs, lam, eps))


# ------------------------------------------------------------------ sampling
def test_sample_mix_draws_beta_lambdas_and_a_permutation():
    torch.manual_seed(0)
    draws = [mx.sample_mix(6, 0.4, generator=torch.Generator().manual_seed(i)) for i in range(300)]
    lams = torch.tensor([lam for lam, _ in draws])
    assert lams.mean().item() == pytest.approx(0.5, abs=0.05)  # Beta(a, a) has mean 1/2
    assert lams.var().item() == pytest.approx(1 / (4 * (2 * 0.4 + 1)), abs=0.025)  # 1 / (4(2a + 1))
    assert all(sorted(p.tolist()) == list(range(6)) for _, p in draws[:50])


# ------------------------------------------------------------------ the kornia lines on the page
def test_the_kornia_lines_run():
    torch.manual_seed(0)
    x, labels = torch.rand(4, 1, 6, 6), torch.tensor([0, 1, 2, 3])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # use_correct_lambda=True: no warning
        mixed, weights, cut, y_cut = mx.with_kornia(x, labels)
    assert mixed.shape == cut.shape == x.shape and y_cut.shape == (1, 4, 3)
    torch.testing.assert_close(weights["own"] + weights["partner"], torch.ones(4))


# ------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mx.mixup(torch.ones(2, 3), torch.tensor([0, 1]), 1.5), ValueError, "lam=1.5"),
        (lambda: mx.mixup(torch.ones(2, 3), torch.tensor([0, 1]), True), TypeError, "lam=True"),
        (lambda: mx.mixup(torch.ones(2, 3), torch.tensor([0, 1]), torch.tensor([0.5, 2.0])), ValueError, "lam"),
        (lambda: mx.mixup(torch.ones(2, 3), torch.tensor([0, 1]), torch.tensor([[0.5]])), TypeError, "lam"),
        (lambda: mx.mixup(torch.ones(2, 3), torch.tensor([0, 1]), torch.tensor([1, 0])), TypeError, "lam"),
        (lambda: mx.mixup(torch.ones(2, 3), torch.tensor([0.0, 1.0]), 0.5), TypeError, "partner"),
        (lambda: mx.mixup(torch.ones(2, 3), torch.tensor([0, 1, 2]), 0.5), ValueError, "partner must have shape"),
        (lambda: mx.mixup(torch.ones(2, 3), torch.tensor([0, 2]), 0.5), ValueError, "partner indices"),
        (lambda: mx.mixup(torch.ones(2, 3, dtype=torch.long), torch.tensor([0, 1]), 0.5), TypeError, "x must"),
        (lambda: mx.cutmix(torch.ones(2, 3), torch.tensor([0, 1]), (0, 1, 0, 1)), ValueError, r"x must be \(N"),
        (lambda: mx.cutmix_box(-0.1, 4, 4, 0, 0), ValueError, "lam=-0.1"),
        (lambda: mx.mixed_targets(torch.tensor([0, 1]), torch.tensor([1, 0]), 0.5, 2, 1.2), ValueError, "smoothing"),
        (lambda: mx.sample_mix(4, 0.0), ValueError, "alpha=0.0"),
        (lambda: mx.sample_mix(4, float("nan")), ValueError, "alpha=nan"),
    ],
)
def test_bad_arguments_are_refused_by_name(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_per_example_lambdas_in_targets_and_an_empty_batch():
    labels, pairs = torch.tensor([0, 1]), torch.tensor([1, 0])
    y = mx.mixed_targets(labels, pairs, torch.tensor([1.0, 0.25]), 2)
    torch.testing.assert_close(y, torch.tensor([[1.0, 0.0], [0.75, 0.25]]))
    assert mx.mixup(torch.ones(0, 3), torch.zeros(0, dtype=torch.long), 0.5).shape == (0, 3)
