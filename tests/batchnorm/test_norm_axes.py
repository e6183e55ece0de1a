"""The four normalizers by hand equal PyTorch's, and the figure draws the slices they really use."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from snippets.batchnorm import norm_axes
from tests.svg import assert_committed_is_fresh, assert_transparent, render, small_svg_ids


def torch_normalizers(groups: int = 3) -> dict:
    """PyTorch's layers, affine off and batch statistics on: the same four maps."""
    return {
        "BatchNorm": lambda x: F.batch_norm(x, None, None, training=True, eps=norm_axes.EPS),
        "LayerNorm": lambda x: F.layer_norm(x, x.shape[1:], eps=norm_axes.EPS),
        "InstanceNorm": lambda x: F.instance_norm(x, eps=norm_axes.EPS),
        "GroupNorm": lambda x: F.group_norm(x, groups, eps=norm_axes.EPS),
    }


TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5, torch.bfloat16: 5e-2, torch.float16: 5e-3}


@pytest.mark.parametrize("dtype", list(TOLERANCE), ids=str)
@pytest.mark.parametrize("shape", [(4, 6, 3, 3), (2, 3, 1, 5), (3, 6, 7, 2)], ids=str)
def test_by_hand_equals_pytorch_in_every_dtype_and_shape(dtype, shape):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1)).to(dtype)
    mine, theirs = norm_axes.normalizers(groups=3), torch_normalizers(groups=3)
    for name in mine:
        tol = TOLERANCE[dtype]
        # the half types: compare against PyTorch in float32 (CPU half kernels compute there too)
        reference = theirs[name](x.float()).to(dtype) if dtype in (torch.float16, torch.bfloat16) else theirs[name](x)
        torch.testing.assert_close(mine[name](x), reference, atol=tol, rtol=tol, msg=name)


def test_modules_with_their_defaults_agree_too():
    """The layers a reader builds (affine weight 1, bias 0 at initialisation)."""
    x = torch.randn(4, 6, 3, 3, generator=torch.Generator().manual_seed(2))
    modules = {
        "BatchNorm": nn.BatchNorm2d(6),
        "LayerNorm": nn.LayerNorm([6, 3, 3]),
        "InstanceNorm": nn.InstanceNorm2d(6),
        "GroupNorm": nn.GroupNorm(3, 6),
    }
    for name, norm in norm_axes.normalizers().items():
        torch.testing.assert_close(norm(x), modules[name].train()(x), atol=1e-5, rtol=1e-5, msg=name)


def test_gradients_equal_pytorch():
    x = torch.randn(3, 6, 2, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    weights = torch.randn_like(x)
    theirs = torch_normalizers()
    for name, norm in norm_axes.normalizers().items():
        grads = []
        for f in (norm, theirs[name]):
            leaf = x.clone().requires_grad_(True)
            (f(leaf) * weights).sum().backward()
            grads.append(leaf.grad)
        torch.testing.assert_close(*grads, msg=name)


def test_on_the_meta_device_shapes_are_kept():
    x = torch.empty(4, 6, 3, 3, device="meta")
    for name, norm in norm_axes.normalizers().items():
        y = norm(x)
        assert y.device.type == "meta" and y.shape == x.shape, name


def test_the_figure_grids_are_what_pytorchs_own_layers_depend_on():
    """The drawing is read from the gradient: through PyTorch's layers it gives the same cells."""
    x = torch.randn(norm_axes.SHAPE, generator=torch.Generator().manual_seed(0))
    theirs = torch_normalizers()
    for name, grid in norm_axes.figure_grids().items():
        assert torch.equal(grid, norm_axes.shares_statistics(theirs[name], x, *norm_axes.CHOSEN)), name


@pytest.mark.claim("batchnorm/norm-axes")
def test_which_maps_share_one_mean_and_variance():
    grids = norm_axes.figure_grids()
    n, c = norm_axes.CHOSEN
    assert grids["BatchNorm"][:, c].all() and grids["BatchNorm"].sum() == norm_axes.SHAPE[0]  # one channel
    assert grids["LayerNorm"][n].all() and grids["LayerNorm"].sum() == norm_axes.SHAPE[1]  # one example
    assert grids["InstanceNorm"].sum() == 1 and grids["InstanceNorm"][n, c]  # one map
    group = c // 2  # 3 groups of 2 channels: channel 2 is in the second
    assert grids["GroupNorm"][n, 2 * group : 2 * group + 2].all() and grids["GroupNorm"].sum() == 2
    facts = norm_axes.facts()
    assert (facts["maps_batchnorm"], facts["maps_layernorm"], facts["maps_instancenorm"]) == (4, 6, 1)
    assert (facts["maps_groupnorm"], facts["group_size"]) == (2, 2)


@pytest.mark.claim("batchnorm/norm-axes")
def test_a_batch_of_one_leaves_batchnorm_nothing_to_average_over_the_others_do_not_care():
    """BatchNorm2d on one 1 x 1 map: the variance is 0 and the output 0 (PyTorch refuses it in
    training); the per-example layers never look at the batch."""
    x = torch.randn(1, 6, 1, 1)
    assert torch.equal(norm_axes.normalizers()["BatchNorm"](x), torch.zeros_like(x))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm2d(6).train()(x)
    single = torch.randn(1, 6, 3, 3)
    both = torch.cat([single, torch.randn(1, 6, 3, 3)])
    for name in ("LayerNorm", "InstanceNorm", "GroupNorm"):
        norm = norm_axes.normalizers()[name]
        torch.testing.assert_close(norm(both)[:1], norm(single), msg=name)
    # and PyTorch's modules keep no running statistics for them: eval computes what train does
    for module in (nn.LayerNorm([6, 3, 3]), nn.InstanceNorm2d(6), nn.GroupNorm(3, 6)):
        torch.testing.assert_close(module.train()(both), module.eval()(both), msg=type(module).__name__)
    bn = nn.BatchNorm2d(6)
    assert not torch.allclose(bn.train()(both), bn.eval()(both))


@pytest.mark.parametrize("groups", [0, 4, -3])
def test_groups_that_do_not_divide_the_channels_are_refused(groups):
    with pytest.raises(ValueError, match=f"groups must divide C=6, got groups={groups}"):
        norm_axes.group_norm(torch.zeros(2, 6, 1, 1), groups)


def test_the_grid_needs_n_c_h_w_input():
    with pytest.raises(ValueError, match=r"x must be \(N, C, H, W\), got shape \(4, 6\)"):
        norm_axes.shares_statistics(norm_axes.normalizers()["LayerNorm"], torch.zeros(4, 6), 0, 0)


@pytest.fixture(scope="module")
def fresh_figure(tmp_path_factory):
    return render(norm_axes.save_figure, "batchnorm-norm-axes.svg", tmp_path_factory)


def test_figure_is_a_small_svg_with_four_panels_and_no_background(fresh_figure):
    ids = small_svg_ids(fresh_figure)
    assert {f"panel-{p}" for p in norm_axes.PANEL_IDS} <= ids
    assert_transparent(fresh_figure)


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert_committed_is_fresh(fresh_figure, "snippets.batchnorm.norm_axes")
