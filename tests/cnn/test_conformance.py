"""Conformance of the CNN chapter's hand-written code.

`spatial_dropout` against `F.dropout2d` given the same channel mask (bit for bit, every dtype and
layout, gradients), the ranks PyTorch's channel dropouts accept, DropBlock against a brute-force
reading of Ghiasi et al. (2018), Algorithm 1, and the SimpleCNN module's modes."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.cnn import dropblock, dropout2d, simple_cnn
from snippets.dropout.inverted import inverted_dropout

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


def inputs(shape, dtype=torch.float32, seed=0):
    return (torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 10).to(dtype)


def torch_channel_mask(n, c, p, seed, dtype):
    """The (N, C, 1, 1) keep-mask F.dropout2d draws after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    return (F.dropout2d(torch.ones(n, c, 1, 1, dtype=dtype), p, training=True) != 0).to(dtype)


# ---- spatial dropout -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "make",
    [
        lambda d: inputs((3, 5, 4, 4), d),
        lambda d: inputs((1, 1, 1, 1), d),
        lambda d: inputs((4, 3, 6, 2), d).transpose(2, 3),
        lambda d: inputs((2, 6, 3, 3), d).to(memory_format=torch.channels_last),
    ],
    ids=["batch", "one", "transposed", "channels_last"],
)
@pytest.mark.parametrize("p", [0.3, 0.7])
def test_spatial_dropout_with_pytorchs_mask_is_f_dropout2d(monkeypatch, dtype, make, p):
    x = make(dtype)
    before = x.clone()
    mask = torch_channel_mask(x.shape[0], x.shape[1], p, 7, dtype)
    monkeypatch.setattr(dropout2d, "channel_mask", lambda *args: mask)
    torch.manual_seed(7)
    expected = F.dropout2d(x, p, training=True)
    got = dropout2d.spatial_dropout(x, p)
    assert got.dtype == dtype
    assert torch.equal(got, expected)
    assert torch.equal(x, before), "input mutated"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_spatial_dropout_gradient_equals_autograd_through_f_dropout2d(monkeypatch, dtype):
    x = inputs((3, 4, 2, 5), dtype).requires_grad_()
    weights = inputs((3, 4, 2, 5), dtype, seed=1)
    mask = torch_channel_mask(3, 4, 0.4, 2, dtype)
    monkeypatch.setattr(dropout2d, "channel_mask", lambda *args: mask)
    (dropout2d.spatial_dropout(x, 0.4) * weights).sum().backward()
    ours, x.grad = x.grad, None
    torch.manual_seed(2)
    (F.dropout2d(x, 0.4, training=True) * weights).sum().backward()
    assert torch.equal(ours, x.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_channel_mask_is_made_on_the_input_device_in_its_dtype(dtype):
    y = dropout2d.spatial_dropout(torch.empty(2, 3, 4, 4, device="meta", dtype=dtype), 0.5)
    assert y.device.type == "meta" and y.dtype == dtype and y.shape == (2, 3, 4, 4)
    x = inputs((2, 3, 4, 4), dtype)
    mask = dropout2d.channel_mask(x, 0.5, torch.Generator().manual_seed(0))
    assert mask.shape == (2, 3, 1, 1) and mask.dtype == dtype
    assert dropout2d.spatial_dropout(x, 0.5, generator=torch.Generator().manual_seed(0)).dtype == dtype


def test_p_one_drops_every_channel_as_pytorch_does():
    x = torch.tensor([1.0, float("nan"), -3.0, float("inf")]).reshape(1, 4, 1, 1)
    expected = F.dropout2d(x, 1.0, training=True)
    torch.testing.assert_close(dropout2d.spatial_dropout(x, 1.0), expected, equal_nan=True, rtol=0, atol=0)


@pytest.mark.parametrize(
    "p, error",
    [(None, TypeError), (True, TypeError), (float("nan"), ValueError), (1.01, ValueError)],
)
def test_spatial_dropout_bad_p(p, error):
    with pytest.raises(error, match="drop probability p"):
        dropout2d.spatial_dropout(torch.ones(1, 2, 3, 3), p)


def test_spatial_dropout_refuses_integer_tensors_in_training_like_pytorch():
    ints = torch.ones(1, 2, 3, 3, dtype=torch.int64)
    with pytest.raises(RuntimeError):
        F.dropout2d(ints, 0.5, training=True)
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        dropout2d.spatial_dropout(ints, 0.5)
    assert dropout2d.spatial_dropout(ints, 0.5, training=False) is ints
    with pytest.raises(TypeError, match="x must be a tensor"):
        dropout2d.spatial_dropout([[1.0]], 0.5)


EXPECTED_RANKS = {  # rank 0 .. 6 with torch 2.13: o = ok, w = warns, e = error
    "F.dropout1d": "eeooeee",
    "F.dropout2d": "eewwoww",
    "F.dropout3d": "ewwwoow",
}


@pytest.mark.claim("cnn/channel-dropout-ranks")
def test_which_ranks_pytorchs_channel_dropouts_accept():
    for name, fn in dropout2d.CHANNEL_DROPOUTS.items():
        assert "".join(dropout2d.rank_behaviour(fn, r)[0] for r in range(7)) == EXPECTED_RANKS[name]
    # nn.Dropout2d is F.dropout2d
    for rank in range(7):
        assert dropout2d.rank_behaviour(lambda x, p, training: nn.Dropout2d(p)(x), rank) == (
            dropout2d.rank_behaviour(F.dropout2d, rank)
        )


@pytest.mark.claim("cnn/channel-dropout-ranks")
def test_unbatched_inputs_dropout1d_and_3d_drop_channels_dropout2d_does_not():
    """F.dropout1d on (C, L) and F.dropout3d on (C, D, H, W) treat the input as one unbatched
    example; F.dropout2d on (C, H, W) warns and drops rows of an (N, C, L) tensor instead."""
    torch.manual_seed(0)
    y1 = F.dropout1d(torch.ones(64, 5), 0.5)
    assert all(r.eq(0).all() or r.eq(2).all() for r in y1)
    y3 = F.dropout3d(torch.ones(64, 2, 3, 3), 0.5)
    assert all(c.eq(0).all() or c.eq(2).all() for c in y3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y2 = F.dropout2d(torch.ones(64, 3, 5), 0.5)
    assert any("channel-wise 1D dropout" in str(w.message) for w in caught)
    assert any(0 < c.eq(0).float().mean() < 1 for c in y2), "some channel partly dropped"


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (1, 2, 3, 4, 5)])
def test_spatial_dropout_takes_only_4d_batches(shape):
    with pytest.raises(ValueError, match=r"x must be a batch of feature maps \(N, C, H, W\)"):
        dropout2d.spatial_dropout(torch.ones(shape), 0.5)


# ---- DropBlock against Ghiasi et al. (2018), Algorithm 1 ------------------------------------


def dropblock_by_the_paper(x, p, block_size, u):
    """Algorithm 1 read literally, with loops. keep_prob = 1 - p;
    gamma = (1 - keep_prob) / block_size**2 * H W / ((H - b + 1)(W - b + 1)) (the paper's
    feat_size**2 / (feat_size - b + 1)**2 for a rectangle); seeds M ~ Bernoulli(gamma) only on
    the valid region where a whole block fits (u: one uniform per valid centre); every seed
    zeroes the b x b square centred on it; A = A * M; A = A * count(M) / count_ones(M),
    counted over the whole batch tensor, as the authors' TensorFlow code does."""
    n, c, h, w = x.shape
    keep_prob = 1.0 - p
    gamma = (1.0 - keep_prob) / block_size**2 * (h * w) / ((h - block_size + 1) * (w - block_size + 1))
    mask = torch.ones(n, c, h, w, dtype=torch.float64)
    for b_, c_, i, j in (u < gamma).nonzero().tolist():
        mask[b_, c_, i : i + block_size, j : j + block_size] = 0.0  # centre (i + b//2, j + b//2)
    ones = mask.sum().item()
    scale = mask.numel() / ones if ones else 0.0
    return x.double() * mask * scale, mask


@st.composite
def maps(draw):
    height, width = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    block_size = draw(st.sampled_from([b for b in (1, 3, 5, 7) if b <= min(height, width)]))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 3)), height, width), block_size


@pytest.mark.claim("cnn/dropblock-algorithm")
@given(shape=maps(), p=st.floats(0.0, 0.9), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=25, deadline=None)
def test_dropblock_equals_the_papers_algorithm(shape, p, seed):
    (n, c, h, w), b = shape
    x = inputs((n, c, h, w), torch.float64, seed=seed % 1000)
    u = torch.rand(n, c, h - b + 1, w - b + 1, generator=torch.Generator().manual_seed(seed))
    expected, _ = dropblock_by_the_paper(x, p, b, u)
    got = dropblock.dropblock(x, p, b, generator=torch.Generator().manual_seed(seed))
    if p == 0.0:
        assert got is x
    else:
        torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "make",
    [
        lambda d: inputs((2, 3, 8, 8), d),
        lambda d: inputs((2, 3, 8, 8), d).transpose(2, 3),
        lambda d: inputs((2, 3, 8, 8), d).to(memory_format=torch.channels_last),
    ],
    ids=["plain", "transposed", "channels_last"],
)
def test_dropblock_keeps_dtype_and_layouts_agree_with_the_paper(dtype, make):
    x = make(dtype)
    before = x.clone()
    u = torch.rand(2, 3, 6, 6, generator=torch.Generator().manual_seed(4))
    expected, _ = dropblock_by_the_paper(x, 0.3, 3, u)
    got = dropblock.dropblock(x, 0.3, 3, generator=torch.Generator().manual_seed(4))
    assert got.dtype == dtype
    tol = {torch.float16: 1e-2, torch.bfloat16: 2e-2}.get(dtype, 1e-6)
    torch.testing.assert_close(got.double(), expected, rtol=tol, atol=tol)
    assert torch.equal(x, before), "input mutated"


def test_float16_count_does_not_overflow_on_a_large_batch():
    """More than 65,504 kept values: a float16 sum of the mask would be inf and the output 0."""
    x = torch.ones(2, 4, 100, 100, dtype=torch.float16)  # 80,000 values
    y = dropblock.dropblock(x, 0.1, 3, generator=torch.Generator().manual_seed(0))
    assert y.dtype == torch.float16 and torch.isfinite(y).all()
    assert y.float().mean().item() == pytest.approx(1.0, abs=1e-2)


def test_dropblock_gradient_is_mask_times_scale():
    x = inputs((2, 2, 7, 7), torch.float64).requires_grad_()
    u = torch.rand(2, 2, 5, 5, generator=torch.Generator().manual_seed(9))
    _, mask = dropblock_by_the_paper(x.detach(), 0.4, 3, u)
    dropblock.dropblock(x, 0.4, 3, generator=torch.Generator().manual_seed(9)).sum().backward()
    torch.testing.assert_close(x.grad, mask * mask.numel() / mask.sum())


def test_dropblock_on_meta_returns_meta():
    y = dropblock.dropblock(torch.empty(2, 3, 8, 8, device="meta", dtype=torch.bfloat16), 0.2, 3)
    assert y.device.type == "meta" and y.dtype == torch.bfloat16 and y.shape == (2, 3, 8, 8)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"block_size": 3.0}, TypeError, "block_size must be an int"),
        ({"block_size": True}, TypeError, "block_size must be an int"),
        ({"p": float("nan")}, ValueError, "drop probability p"),
        ({"p": None}, TypeError, "drop probability p"),
        ({"x": torch.ones(1, 1, 8, 8, dtype=torch.int64)}, TypeError, "x must be a floating-point tensor"),
    ],
)
def test_dropblock_bad_arguments(kwargs, error, match):
    args = {"x": torch.ones(1, 1, 8, 8), "p": 0.1, "block_size": 3, **kwargs}
    with pytest.raises(error, match=match):
        dropblock.dropblock(**args)


def test_dropblock_layer_checks_block_size_when_built_and_follows_its_mode():
    for bad in (2, 0, 3.0):
        with pytest.raises((TypeError, ValueError), match="block_size must be"):
            dropblock.DropBlock2d(0.1, bad)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), dropblock.DropBlock2d(0.3, 3))
    model.eval()
    assert not any(m.training for m in model.modules())
    x = torch.randn(1, 1, 8, 8)
    assert torch.equal(model(x), model[0](x))
    model[1].train()  # one submodule back in training: only it changes
    assert model[1].training and not model[0].training and not model.training


# ---- SimpleCNN -------------------------------------------------------------------------------


def test_train_and_eval_set_every_submodule_and_two_passes_leaves_the_mode_set():
    model = simple_cnn.make_model()
    x = torch.randn(2, 1, 28, 28)
    simple_cnn.two_passes(model, x, training=False)
    assert not any(m.training for m in model.modules())
    simple_cnn.two_passes(model, x, training=True)
    assert all(m.training for m in model.modules())


def test_train_mode_forward_is_conv_relu_flatten_inverted_dropout_linear():
    model = simple_cnn.make_model().train()
    x = torch.randn(3, 1, 28, 28)
    torch.manual_seed(1)
    got = model(x)
    with torch.no_grad():
        features = torch.flatten(torch.relu(model.conv(x)), 1)
    torch.manual_seed(1)
    mask = (F.dropout(torch.ones_like(features), simple_cnn.P, training=True) != 0).float()
    expected = model.fc(inverted_dropout(features, mask, simple_cnn.P))
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.claim("cnn/one-mask-per-example")
def test_every_output_unit_of_one_example_sees_the_same_surviving_inputs():
    """nn.Dropout before nn.Linear draws one mask per example, shared by all output units:
    the gradient of the dense weights has identical rows (each is the dropped input). A
    DropConnect-style mask on the weights (Wan et al., 2013) gives every unit its own."""
    model = simple_cnn.make_model().train()
    x = torch.rand(1, 1, 28, 28) + 0.1
    torch.manual_seed(0)
    model(x).sum().backward()
    grad = model.fc.weight.grad  # row j = what output unit j saw
    features = torch.flatten(torch.relu(model.conv(x)), 1)[0]
    seen = grad != 0
    assert all(torch.equal(seen[j], seen[0]) for j in range(grad.shape[0]))
    alive = features != 0
    assert 0.2 < (alive & ~seen[0]).float().sum() / alive.float().sum() < 0.4  # about p dropped
    # DropConnect, for contrast: one keep/drop switch per weight
    torch.manual_seed(0)
    weight_mask = (torch.rand_like(model.fc.weight) > simple_cnn.P).float()
    sees = (weight_mask * features) != 0
    assert not torch.equal(sees[0], sees[1])
