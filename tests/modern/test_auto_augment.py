"""Automatic augmentation: the strengths the page gives for kornia's RandAugment equal the
parameters kornia draws; what the operations do to 8x8 digits; kornia's choices per batch; the
same images under a seed; the torchvision lines the page shows; the figure."""

import itertools
import sys
import types

import pytest
import torch
from kornia.augmentation.auto import RandAugment, TrivialAugment

from snippets.modern import auto_augment as aa
from tests.svg import assert_committed_is_fresh, assert_transparent, render, small_svg_ids

# the parameter in which kornia stores each operation's strength
FACTOR = {
    "rotate": "degrees",
    "posterize": "bits_factor",
    "solarize": "thresholds",
    "solarize_add": "additions",
    "contrast": "contrast_factor",
    "brightness": "brightness_factor",
    "sharpness": "sharpness",
    "shear_x": "shear_x",
    "shear_y": "shear_y",
    "translate_x": "translate_x",
    "translate_y": "translate_y",
}


@pytest.fixture(scope="module")
def digits():
    return aa.digit_images(64)


def drawn_params(augment):
    """(operation name, parameter dict) of each step of the last call."""
    return [(step.data[0].name.split("_")[0], step.data[0].data) for step in augment._params]


# ------------------------------------------------------------------ the operations
@pytest.mark.claim("modern/auto-augment-grey")
def test_the_grey_policy_is_kornias_without_color_which_refuses_one_channel():
    from kornia.augmentation.auto.rand_augment import rand_augment

    names = aa.op_names(aa.grey_policy())
    assert len(names) == 14 and "color" not in names
    assert aa.op_names(rand_augment.default_policy) == names[:7] + ["color"] + names[7:]
    color = [s for s in rand_augment.default_policy if s[0][0] == "color"]
    with pytest.raises(ValueError, match=r"shape of \(\*, 3, H, W\)"):
        RandAugment(n=1, m=9, policy=color)(torch.rand(2, 1, 8, 8))
    RandAugment(n=1, m=9, policy=color)(torch.rand(2, 3, 8, 8))  # colour images are fine


@pytest.mark.claim("modern/auto-augment-magnitude")
@pytest.mark.parametrize("m", [1, 5, 9, 15, 20, 29])
def test_the_magnitude_rule_is_what_kornia_draws(m):
    images = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(m))
    for sub in aa.grey_policy():
        name, low, high = sub[0]
        augment = RandAugment(n=1, m=m, policy=[sub])
        torch.manual_seed(m)
        augment(images)
        ((_, params),) = drawn_params(augment)
        expected = aa.kornia_magnitude(name, low, high, m)
        if expected is None:
            assert name in aa.NO_MAGNITUDE and set(params) == {"batch_prob", "forward_input_shape"}
            continue
        drawn = params[FACTOR[name]]
        if name.startswith("translate"):  # kornia stores pixels: a share of the width or height
            drawn = drawn / images.shape[-1]
        if low == -high:  # symmetric: the strength, with a random sign per image
            assert drawn.abs() == pytest.approx(torch.full((6,), float(expected)), rel=1e-5), name
        else:
            assert drawn.float() == pytest.approx(torch.full((6,), float(expected)), rel=1e-5), name


def test_symmetric_operations_draw_a_sign_per_image():
    rotate = [s for s in aa.grey_policy() if s[0][0] == "rotate"]
    augment = RandAugment(n=1, m=12, policy=rotate)
    torch.manual_seed(0)
    augment(torch.rand(64, 1, 8, 8))
    degrees = drawn_params(augment)[0][1]["degrees"]
    assert set(degrees.tolist()) == {12.0, -12.0}


@pytest.mark.claim("modern/auto-augment-identity")
def test_contrast_brightness_and_sharpness_are_the_identity_at_15_and_equalize_always(digits):
    for name in ("contrast", "brightness", "sharpness"):
        assert torch.equal(aa.apply_op(digits, name, 15), digits), name
        assert not torch.equal(aa.apply_op(digits, name, 20), digits), name
    for m in (1, 15, 29):
        assert torch.equal(aa.apply_op(digits, "equalize", m), digits)
    # PIL's rule, which kornia follows: the step is (pixels - count of the top level) // 255,
    # 0 for any image of fewer than 256 pixels; a larger image is equalized
    noise = torch.rand(4, 1, 8, 8)  # unchanged but for the rounding of x * 255 / 255
    assert torch.allclose(aa.apply_op(noise, "equalize", 9), noise, rtol=0, atol=1e-7)
    big = torch.rand(4, 1, 32, 32) * 0.5
    assert not torch.equal(aa.apply_op(big, "equalize", 9), big)
    assert aa.facts()["identity_at_15"] == ["brightness", "contrast", "sharpness"]
    assert aa.facts()["equalize_changes"] is False


@pytest.mark.claim("modern/auto-augment-brightness")
def test_brightness_adds_and_solarize_weakens_as_m_grows(digits):
    for m in (5, 20, 25):
        factor = aa.kornia_magnitude("brightness", 0.1, 1.9, m)
        expected = (digits + (factor - 1)).clamp(0, 1)
        assert torch.allclose(aa.apply_op(digits, "brightness", m), expected, atol=1e-6), m
    inverted = [(aa.apply_op(digits, "solarize", m) != digits).sum().item() for m in (3, 9, 15, 21, 27)]
    assert all(a > b for a, b in itertools.pairwise(inverted)), inverted


def test_the_geometric_operations_move_ink_and_keep_the_range(digits):
    for name in ("rotate", "shear_x", "shear_y", "translate_x", "translate_y"):
        out = aa.apply_op(digits, name, 20)
        assert out.shape == digits.shape and not torch.equal(out, digits), name
        assert 0 <= out.min() and out.max() <= 1, name
    assert torch.allclose(aa.apply_op(digits, "invert", 9), 1 - digits)


# ------------------------------------------------------------------ choices per batch
@pytest.mark.claim("modern/auto-augment-batch")
def test_kornia_draws_the_operations_once_per_call_without_repeats():
    augment = RandAugment(n=3, m=9, policy=aa.grey_policy())
    torch.manual_seed(0)
    for _ in range(30):
        augment(torch.rand(5, 1, 8, 8))
        steps = drawn_params(augment)
        names = [name for name, _ in steps]
        assert len(names) == 3 and len(set(names)) == 3  # no operation twice
        for _, params in steps:  # one operation for the whole batch: a value for every image
            assert params["batch_prob"].tolist() == [1.0] * 5
    trivial = TrivialAugment()
    torch.manual_seed(0)
    trivial(torch.rand(7, 1, 8, 8))
    assert len(trivial._params) == 1  # one operation for all seven images


def test_per_image_trivial_augment_gives_images_their_own_operation(digits):
    batch = digits[:16]
    whole = aa.trivial_augment(batch, seed=5, per_image=False)
    own = aa.trivial_augment(batch, seed=5, per_image=True)
    assert whole.shape == own.shape == batch.shape and not torch.equal(whole, own)
    ops = set()
    for seed in range(12):
        augment = TrivialAugment()
        torch.manual_seed(seed)
        augment(batch[:1])
        ops.add(drawn_params(augment)[0][0])
    assert len(ops) >= 6  # per call, the operation changes
    assert len(TrivialAugment()) == aa.facts()["n_trivial_ops"] == 12


# ------------------------------------------------------------------ determinism
@pytest.mark.claim("modern/auto-augment-seed")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_same_seed_gives_the_same_bits_and_leaves_the_callers_rng(dtype, digits):
    images = digits[:8].to(dtype)
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first, ops = aa.rand_augment(images, n=2, m=9, seed=7)
    assert torch.equal(torch.rand(3), expected_next), "the caller's random stream is untouched"
    second, ops_again = aa.rand_augment(images, n=2, m=9, seed=7)
    assert torch.equal(first, second) and ops == ops_again and first.dtype == dtype
    differs = [not torch.equal(aa.rand_augment(images, 2, 9, seed)[0], first) for seed in range(8, 14)]
    assert sum(differs) >= 5
    for per_image in (True, False):
        a = aa.trivial_augment(images, seed=3, per_image=per_image)
        assert torch.equal(a, aa.trivial_augment(images, seed=3, per_image=per_image))


def test_kornia_replays_its_recorded_parameters(digits):
    augment = RandAugment(n=2, m=14, policy=aa.grey_policy())
    torch.manual_seed(2)
    out = augment(digits[:6])
    params = augment._params
    torch.manual_seed(99)  # another random state: the replay draws nothing
    assert torch.equal(augment(digits[:6], params=params), out)


@pytest.mark.parametrize("shape", [(1, 1, 8, 8), (3, 1, 5, 7), (2, 1, 1, 1)])
def test_odd_shapes_keep_their_shape(shape):
    images = torch.rand(shape)
    out, ops = aa.rand_augment(images, n=2, m=9, seed=0)
    assert out.shape == images.shape and len(ops) == 2


@pytest.mark.parametrize(
    ("args", "error"),
    [((0, 9), "`n` in"), ((15, 9), "`n` in"), ((2, 0), "`m` in"), ((2, 30), "`m` in")],
)
def test_kornia_refuses_bad_n_and_m(args, error):
    with pytest.raises(ValueError, match=error):
        aa.rand_augment(torch.rand(1, 1, 8, 8), *args, seed=0)


@pytest.mark.parametrize("m", [0, 30, -1])
def test_the_magnitude_rule_refuses_m_outside_the_scale(m):
    with pytest.raises(ValueError, match=f"got {m}"):
        aa.kornia_magnitude("rotate", -30, 30, m)


# ------------------------------------------------------------------ the exercise
@pytest.mark.claim("modern/auto-augment-exercise")
def test_ordered_choices_count_the_lists_kornia_and_the_paper_can_draw():
    ops = range(14)
    assert aa.ordered_choices(14, 2, True) == len(list(itertools.product(ops, repeat=2))) == 196
    assert aa.ordered_choices(14, 2, False) == len(list(itertools.permutations(ops, 2))) == 182
    assert aa.ordered_choices(3, 4, False) == 0 and aa.ordered_choices(3, 0, True) == 1
    augment = RandAugment(n=2, m=9, policy=aa.grey_policy())
    torch.manual_seed(0)
    seen = {tuple(augment.rand_selector(2).tolist()) for _ in range(5000)}
    assert len(seen) == 182 and all(a != b for a, b in seen)


# ------------------------------------------------------------------ the torchvision lines
def test_the_torchvision_lines_call_what_the_page_says(monkeypatch):
    made = []

    def transform(name):
        def build(**kwargs):
            made.append((name, kwargs))
            return lambda images: (name, images)

        return build

    v2 = types.ModuleType("torchvision.transforms.v2")
    v2.RandAugment, v2.TrivialAugmentWide = transform("RandAugment"), transform("TrivialAugmentWide")
    transforms = types.ModuleType("torchvision.transforms")
    transforms.v2 = v2
    for name, module in [
        ("torchvision", types.ModuleType("torchvision")),
        ("torchvision.transforms", transforms),
        ("torchvision.transforms.v2", v2),
    ]:
        monkeypatch.setitem(sys.modules, name, module)
    images = torch.zeros(2, 1, 8, 8, dtype=torch.uint8)
    rand, trivial = aa.with_torchvision(images)
    assert made == [("RandAugment", {"num_ops": 2, "magnitude": 9}), ("TrivialAugmentWide", {})]
    assert rand == ("RandAugment", images) and trivial == ("TrivialAugmentWide", images)


# ------------------------------------------------------------------ the figure and facts
@pytest.fixture(scope="module")
def fresh_figure(tmp_path_factory):
    return render(aa.save_figure, "modern-auto-augment.svg", tmp_path_factory)


def test_figure_has_a_panel_per_operation_and_four_trivial_draws(fresh_figure):
    ids = small_svg_ids(fresh_figure)
    expected = {"panel-original", *(f"panel-{n.replace('_', '-')}" for n in aa.op_names(aa.grey_policy()))}
    expected |= {f"panel-seed-{s}" for s in aa.TRIVIAL_SEEDS}
    assert expected <= ids
    assert_transparent(fresh_figure)


def test_the_trivial_seeds_draw_four_different_operations():
    digit = aa.digit_images(aa.DIGIT_INDEX + 1)[aa.DIGIT_INDEX :]
    names = []
    for seed in aa.TRIVIAL_SEEDS:
        augment = TrivialAugment()
        torch.manual_seed(seed)
        augment(digit)
        names.append(drawn_params(augment)[0][0])
    assert names == ["TranslateY", "AutoContrast", "Rotate", "Solarize"]


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert_committed_is_fresh(fresh_figure, "snippets.modern.auto_augment")


def test_facts():
    facts = aa.facts()
    assert (facts["n_ops"], facts["n_grey_ops"], facts["figure_m"]) == (15, 14, 20)
    assert (facts["with_repeats"], facts["without_repeats"]) == (196, 182)
