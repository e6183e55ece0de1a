"""Stochastic depth: the site's version gives the same output as torchvision's and timm's for
the same noise (their algorithms ported below, since neither imports on these machines), over
dtypes, odd shapes, the meta device and gradients; bad arguments are refused by name; the
decay rules and the expected depth are what the page says."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.modern import stochastic_depth as sd

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


# ------------------------------------------------------------------ the references, ported
def torchvision_stochastic_depth(input, p, mode, training=True):
    """torchvision.ops.stochastic_depth, pytorch/vision, torchvision/ops/stochastic_depth.py
    at commit 0d3b4b45f14a65833131da57df105bf68a3afdd7, without the API-usage logging."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ["batch", "row"]:
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    if mode == "row":
        size = [input.shape[0]] + [1] * (input.ndim - 1)
    else:
        size = [1] * input.ndim
    noise = torch.empty(size, dtype=input.dtype, device=input.device)
    noise = noise.bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


def timm_drop_path(x, drop_prob=0.0, training=False, scale_by_keep=True):
    """timm.layers.drop_path, huggingface/pytorch-image-models, timm/layers/drop.py at commit
    aa4b5850c1543fa488abf260f18390eda46cf85d."""
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    if keep_prob > 0.0 and scale_by_keep:
        random_tensor.div_(keep_prob)
    return x * random_tensor


def timm_drop_path_rates(drop_path_rate, depths):
    """timm.layers.calculate_drop_path_rates (per-block), same file and commit."""
    return [x.item() for x in torch.linspace(0, drop_path_rate, depths, device="cpu")]


def seeded(fn, seed, *args, **kwargs):
    torch.manual_seed(seed)
    return fn(*args, **kwargs)


# ------------------------------------------------------------------ same noise, same output
shapes = st.lists(st.integers(1, 5), min_size=1, max_size=5).map(tuple)


@pytest.mark.claim("modern/stochastic-depth-same-noise")
@given(
    shape=shapes,
    p=st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.77, 0.9, 1.0]),
    mode=st.sampled_from(sd.MODES),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**31 - 1),
)
@settings(max_examples=25, deadline=None)
def test_same_noise_same_output_as_torchvision(shape, p, mode, dtype, seed):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed)).to(dtype)
    expected = seeded(torchvision_stochastic_depth, seed, x, p, mode)
    assert torch.equal(seeded(sd.stochastic_depth, seed, x, p, mode), expected)
    own = sd.stochastic_depth(x, p, mode, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(own, expected)
    assert own.dtype == dtype and own.shape == x.shape


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.2, 0.5, 1.0])
def test_row_mode_is_timms_drop_path(dtype, p):
    x = torch.randn(7, 3, 5, 2).to(dtype)
    expected = seeded(timm_drop_path, 3, x, p, training=True)
    assert torch.equal(seeded(sd.stochastic_depth, 3, x, p, "row"), expected)


@pytest.mark.parametrize("mode", sd.MODES)
def test_gradients_match_torchvision(mode):
    x = torch.randn(9, 4, 3, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(9, 4, 3, dtype=torch.float64)
    (grad_ref,) = torch.autograd.grad((seeded(torchvision_stochastic_depth, 5, x, 0.4, mode) * weight).sum(), x)
    (grad_own,) = torch.autograd.grad((seeded(sd.stochastic_depth, 5, x, 0.4, mode) * weight).sum(), x)
    assert torch.equal(grad_own, grad_ref)
    # the gradient is the noise itself: 0 for a dropped branch, 1 / (1 - p) for a kept one
    noise = grad_own / weight
    assert set(noise.round(decimals=9).unique().tolist()) <= {0.0, round(1 / 0.6, 9)}


@pytest.mark.parametrize("mode", sd.MODES)
def test_meta_device(mode):
    x = torch.empty(6, 3, 4, device="meta", dtype=torch.float16)
    y = sd.stochastic_depth(x, 0.3, mode)
    ref = torchvision_stochastic_depth(x, 0.3, mode)
    assert y.device.type == "meta" and y.shape == ref.shape and y.dtype == ref.dtype


def test_row_mode_drops_whole_examples_and_keeps_the_mean():
    x = torch.ones(20000, 3, 2)
    y = sd.stochastic_depth(x, 0.3, "row", generator=torch.Generator().manual_seed(0))
    per_example = y.flatten(1)
    assert torch.equal(per_example.amin(1), per_example.amax(1))  # one value per example
    assert per_example[:, 0].unique().tolist() == [0.0, pytest.approx(1 / 0.7)]
    assert (per_example[:, 0] == 0).float().mean().item() == pytest.approx(0.3, abs=0.015)
    assert y.mean().item() == pytest.approx(1.0, abs=0.02)


def test_batch_mode_drops_the_whole_batch_or_nothing():
    generator = torch.Generator().manual_seed(0)
    values = [sd.stochastic_depth(torch.ones(5, 2), 0.5, "batch", generator=generator).unique() for _ in range(50)]
    assert all(v.numel() == 1 for v in values)
    assert {v.item() for v in values} == {0.0, 2.0}


@pytest.mark.parametrize("mode", sd.MODES)
def test_eval_and_zero_rate_are_the_identity_and_one_drops_all(mode):
    x = torch.randn(4, 3)
    assert sd.stochastic_depth(x, 0.5, mode, training=False) is x
    assert sd.stochastic_depth(x, 0.0, mode) is x
    assert torch.equal(sd.stochastic_depth(x, 1.0, mode), torch.zeros_like(x))


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"p": -0.1}, ValueError, "p=-0.1"),
        ({"p": 1.5}, ValueError, "p=1.5"),
        ({"p": math.nan}, ValueError, "p=nan"),
        ({"p": True}, TypeError, "p=True"),
        ({"p": "0.5"}, TypeError, "p='0.5'"),
        ({"mode": "col"}, ValueError, "mode='col'"),
        ({"x": torch.ones(3, 2, dtype=torch.int64)}, TypeError, "x must be a floating-point"),
        ({"x": [1.0, 2.0]}, TypeError, "x must be a tensor"),
        ({"x": torch.tensor(1.0)}, ValueError, "batch dimension"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, error, name):
    args = {"x": torch.ones(3, 2), "p": 0.5, "mode": "row"} | kwargs
    with pytest.raises(error, match=name.replace("(", r"\(").replace("[", r"\[")):
        sd.stochastic_depth(**args)
    with pytest.raises(error):  # refused even where it would do nothing
        sd.stochastic_depth(**args, training=False)


def test_the_references_refuse_the_same_rates_and_modes():
    for p, mode in [(-0.1, "row"), (1.5, "row"), (0.5, "col")]:
        with pytest.raises(ValueError):
            torchvision_stochastic_depth(torch.ones(2), p, mode)
        with pytest.raises(ValueError):
            sd.stochastic_depth(torch.ones(2), p, mode)


# ------------------------------------------------------------------ decay over depth
@pytest.mark.parametrize("blocks", [1, 2, 3, 12, 54])
def test_linear_decay_rules(blocks):
    paper = sd.linear_decay(0.5, blocks)
    # Huang et al.: survival p_l = 1 - l / L * (1 - p_L), with p_L = 0.5
    assert paper == pytest.approx([1 - (1 - (l / blocks) * (1 - 0.5)) for l in range(1, blocks + 1)])
    assert paper[-1] == 0.5
    assert sd.linear_decay_from_zero(0.5, blocks) == pytest.approx(timm_drop_path_rates(0.5, blocks))
    if blocks > 1:
        # torchvision's ConvNeXt: p * stage_block_id / (total_stage_blocks - 1.0)
        assert sd.linear_decay_from_zero(0.5, blocks) == pytest.approx(
            [0.5 * i / (blocks - 1.0) for i in range(blocks)]
        )


@pytest.mark.parametrize("rule", [sd.linear_decay, sd.linear_decay_from_zero])
@pytest.mark.parametrize(("args", "error"), [((0.5, 0), ValueError), ((0.5, 2.0), ValueError), ((1.2, 3), ValueError)])
def test_decay_refuses_bad_arguments(rule, args, error):
    with pytest.raises(error, match="blocks|p_last"):
        rule(*args)


def test_expected_depth_matches_a_simulation():
    rates = torch.tensor(sd.linear_decay(0.5, 54))
    on = torch.bernoulli((1 - rates).expand(20000, 54), generator=torch.Generator().manual_seed(0))
    assert on.sum(1).mean().item() == pytest.approx(sd.expected_depth(rates.tolist()), abs=0.1)
    assert sd.expected_depth(sd.linear_decay(0.5, 54)) == pytest.approx(54 - 0.5 * 55 / 2)


# ------------------------------------------------------------------ the residual block
def test_residual_block_skips_its_branch_when_dropped():
    torch.manual_seed(0)
    block = sd.ResidualBlock(3, 1.0, "row").train()
    x = torch.randn(2, 3, 5, 5)
    assert torch.equal(block(x), torch.relu(x))
    block.eval()
    assert torch.equal(block(x), torch.relu(x + block.branch(x)))


def test_residual_block_refuses_bad_arguments():
    with pytest.raises(ValueError, match="p=2"):
        sd.ResidualBlock(3, 2, "row")
    with pytest.raises(ValueError, match="mode='x'"):
        sd.ResidualBlock(3, 0.1, "x")


def test_facts():
    f = sd.facts()
    assert f["paper_expected"] == pytest.approx(40.25)
    assert f["first_rate"] == pytest.approx(0.5 / 54) and f["timm_first"] == 0.0


# ------------------------------------------------------------------ the page's library call
class _Layer(torch.nn.Module):
    def __init__(self, fn, **kwargs):
        super().__init__()
        self.fn, self.kwargs = fn, kwargs


def test_the_library_lines_run_with_the_ported_references(monkeypatch):
    """The page's torchvision/timm lines, run with the ported functions in place of the two
    packages: same call signatures, and the same output as the site's version."""
    import types

    ops = types.ModuleType("torchvision.ops")
    ops.stochastic_depth = torchvision_stochastic_depth
    ops.StochasticDepth = lambda p, mode: _Layer(torchvision_stochastic_depth, p=p, mode=mode)
    layers = types.ModuleType("timm.layers")
    layers.drop_path = timm_drop_path
    layers.DropPath = lambda drop_prob=0.0: _Layer(timm_drop_path, drop_prob=drop_prob)
    for name, module in [
        ("torchvision", types.ModuleType("torchvision")),
        ("torchvision.ops", ops),
        ("timm", types.ModuleType("timm")),
        ("timm.layers", layers),
    ]:
        monkeypatch.setitem(__import__("sys").modules, name, module)
    x = torch.randn(64, 3)
    torch.manual_seed(11)
    by_torchvision, by_timm, built = sd.library_versions(x)
    torch.manual_seed(11)
    assert torch.equal(by_torchvision, sd.stochastic_depth(x, 0.1, "row"))
    assert torch.equal(by_timm, sd.stochastic_depth(x, 0.1, "row"))
    assert [layer.kwargs for layer in built] == [{"p": 0.1, "mode": "row"}, {"drop_prob": 0.1}]
