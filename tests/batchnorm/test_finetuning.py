"""BatchNorm when fine-tuning: each way of freezing is checked against what torch 2.13 does, and
reestimate_bn against torch.optim.swa_utils.update_bn over layer types, dtypes, odd shapes, the
meta device and bad arguments."""

import pytest
import torch
from torch import nn
from torch.optim.swa_utils import update_bn

from snippets.batchnorm import finetuning as ft


def batch_normalised(x, bn):
    """Train-mode BN by hand: the batch's mean and biased variance, then gamma and beta."""
    mean, var = x.mean(0), x.var(0, unbiased=False)
    return (x - mean) / torch.sqrt(var + bn.eps) * bn.weight + bn.bias


def eval_normalised(x, bn):
    return (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias


@pytest.mark.claim("batchnorm/requires-grad-freezes-only-affine")
def test_requires_grad_false_freezes_gamma_and_beta_only():
    model = ft.pretrained_features()
    bn = model[1]
    weight, bias, mean, count = (
        bn.weight.clone(),
        bn.bias.clone(),
        bn.running_mean.clone(),
        bn.num_batches_tracked.item(),
    )
    ft.freeze_bn_affine(model)
    x = ft.new_domain_batch()
    ft.fine_tune_step(model, x)
    assert torch.equal(bn.weight, weight) and torch.equal(bn.bias, bias)
    assert not torch.equal(bn.running_mean, mean) and bn.num_batches_tracked.item() == count + 1
    assert not torch.equal(model[0].weight, ft.pretrained_features()[0].weight)  # the rest trains
    with torch.no_grad():
        hidden = model[0](x)
        torch.testing.assert_close(bn(hidden), batch_normalised(hidden, bn))  # still batch statistics


@pytest.mark.claim("batchnorm/train-undoes-eval")
def test_model_train_unfreezes_bn_layers_put_in_eval_mode():
    model = ft.freeze_bn(ft.pretrained_features())
    assert not model[1].training and model.training
    model.train()
    assert model[1].training


@pytest.mark.claim("batchnorm/eval-freezes-fully")
def test_a_train_override_keeps_bn_frozen_and_lets_dropout_train():
    torch.manual_seed(0)
    model = ft.FrozenBN(*ft.pretrained_features(), nn.Dropout(0.5))
    ft.freeze_bn_affine(model)
    bn = model[1]
    state = {k: v.clone() for k, v in bn.state_dict().items()}
    for seed in range(3):
        ft.fine_tune_step(model, ft.new_domain_batch(seed))
    assert all(torch.equal(bn.state_dict()[k], v) for k, v in state.items())
    assert model.training and model[4].training and not bn.training
    x = ft.new_domain_batch(7)
    with torch.no_grad():
        hidden = model[0](x)
        torch.testing.assert_close(bn(hidden), eval_normalised(hidden, bn))
    assert model.eval() is model and not model[4].training


@pytest.mark.claim("batchnorm/momentum-zero-only-stops-updates")
def test_momentum_zero_keeps_the_statistics_but_normalises_with_the_batch():
    bn = nn.BatchNorm1d(3, momentum=0.0)
    x = torch.randn(8, 3) * 4 + 1
    y = bn(x)
    assert torch.equal(bn.running_mean, torch.zeros(3)) and torch.equal(bn.running_var, torch.ones(3))
    assert bn.num_batches_tracked.item() == 1  # counted, not used
    with torch.no_grad():
        torch.testing.assert_close(y, batch_normalised(x, bn))


@pytest.mark.claim("batchnorm/track-running-stats-false")
def test_without_running_statistics_both_modes_use_the_batch():
    bn = nn.BatchNorm1d(3, track_running_stats=False)
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    assert set(bn.state_dict()) == {"weight", "bias"}
    x = torch.randn(8, 3) * 4 + 1
    with torch.no_grad():
        expected = batch_normalised(x, bn)
        torch.testing.assert_close(bn.train()(x), expected)
        torch.testing.assert_close(bn.eval()(x), expected)
        assert ft.FrozenBN(bn).train().training  # nothing to freeze: the flag does not matter
        torch.testing.assert_close(bn(x), expected)


@pytest.mark.claim("batchnorm/momentum-none-cumulative")
def test_momentum_none_is_the_unweighted_mean_of_the_batch_statistics():
    bn = nn.BatchNorm1d(2, momentum=None)
    generator = torch.Generator().manual_seed(0)
    batches = [torch.randn(n, 2, generator=generator) * (n % 3 + 1) + n for n in (2, 5, 9, 4)]
    for x in batches:
        bn(x)
    torch.testing.assert_close(bn.running_mean, torch.stack([x.mean(0) for x in batches]).mean(0))
    torch.testing.assert_close(bn.running_var, torch.stack([x.var(0) for x in batches]).mean(0))  # unbiased
    pooled = torch.cat(batches).mean(0)
    assert (bn.running_mean - pooled).abs().max() > 0.1  # not weighted by batch size


def test_the_page_demo_of_the_three_options():
    x = torch.tensor([[1.0], [2.0], [3.0], [10.0]])
    bn = nn.BatchNorm1d(1, momentum=None)
    bn(x)
    assert bn.running_mean.item() == 4.0
    assert bn.running_var.item() == pytest.approx(x.var().item())  # unbiased: eval differs from train
    assert bn.eval()(x)[0].item() != bn.train()(x)[0].item()


def model_for(kind, channels, dtype):
    torch.manual_seed(0)
    conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[kind]
    bn = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[kind]
    return nn.Sequential(conv(2, channels, 1), bn(channels, momentum=0.3), nn.ReLU(), bn(channels)).to(dtype)


def loader_for(kind, dtype, sizes=(3, 1, 6)):
    generator = torch.Generator().manual_seed(1)
    spatial = {1: (5,), 2: (3, 2), 3: (2, 3, 1)}[kind]
    return [(torch.randn(n, 2, *spatial, generator=generator) * 2 + 1).to(dtype) for n in sizes]


@pytest.mark.claim("batchnorm/reestimate-equals-update-bn")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("kind", [1, 2, 3])
@pytest.mark.parametrize("channels", [1, 3])
def test_reestimate_matches_update_bn(kind, channels, dtype):
    mine, theirs = model_for(kind, channels, dtype), model_for(kind, channels, dtype)
    loader = loader_for(kind, dtype)
    ft.reestimate_bn(mine, loader)
    update_bn(loader, theirs)
    for a, b in zip(mine.modules(), theirs.modules()):
        if isinstance(a, ft.BN_TYPES):
            torch.testing.assert_close(a.running_mean, b.running_mean)
            torch.testing.assert_close(a.running_var, b.running_var)
            assert a.num_batches_tracked.item() == b.num_batches_tracked.item() == len(loader)
            assert a.momentum == b.momentum  # restored
    assert all(p.grad is None for p in mine.parameters())


def test_reestimate_takes_tuples_like_a_dataloader_and_builds_no_graph():
    model = model_for(1, 3, torch.float32)
    loader = [(x, torch.zeros(len(x))) for x in loader_for(1, torch.float32)]
    ft.reestimate_bn(model, loader)
    assert model[1].num_batches_tracked.item() == 3
    assert not model[1].running_mean.requires_grad


@pytest.mark.claim("batchnorm/update-bn-unfreezes")
def test_update_bn_unfreezes_frozen_layers_where_reestimate_keeps_every_mode():
    theirs = ft.freeze_bn(ft.pretrained_features())
    mine = ft.freeze_bn(ft.pretrained_features())
    loader = [ft.new_domain_batch(seed) for seed in range(4)]
    update_bn(loader, theirs)
    ft.reestimate_bn(mine, loader)
    assert theirs[1].training  # model.train(was_training) reached the frozen layer
    assert not mine[1].training and mine.training
    torch.testing.assert_close(mine[1].running_mean, theirs[1].running_mean)


def test_reestimate_refuses_bad_arguments_naming_them():
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        ft.reestimate_bn(lambda x: x, [])
    model = ft.pretrained_features()
    mean = model[1].running_mean.clone()
    with pytest.raises(ValueError, match="loader gave no batches"):
        ft.reestimate_bn(model, [])
    assert model[1].momentum == 0.1 and model.training  # restored even then
    assert not torch.equal(model[1].running_mean, mean)  # reset: the statistics are gone, as the error says
    ft.reestimate_bn(nn.Linear(2, 2), [])  # no BN layer: nothing to do, as update_bn


def test_reestimate_on_the_meta_device_fails_like_update_bn():
    mine, theirs = (model_for(1, 3, torch.float32).to("meta") for _ in range(2))
    loader = [torch.empty(4, 2, 5, device="meta")]
    with pytest.raises(RuntimeError, match="meta") as ours:
        ft.reestimate_bn(mine, loader)
    with pytest.raises(RuntimeError, match="meta") as torchs:
        update_bn(loader, theirs)
    assert str(ours.value) == str(torchs.value)
    assert mine[1].momentum == 0.3  # restored after the error


@pytest.mark.claim("batchnorm/update-bn-dropout-on")
def test_update_bn_drops_during_its_pass_where_reestimate_in_eval_mode_does_not():
    def model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 32), nn.Dropout(0.5), nn.BatchNorm1d(32))

    generator = torch.Generator().manual_seed(0)
    loader = [torch.randn(64, 4, generator=generator) for _ in range(5)]
    theirs, mine = model(), model().eval()
    update_bn(loader, theirs)
    ft.reestimate_bn(mine, loader)
    with torch.no_grad():
        clean = torch.cat([mine[0](x) for x in loader])
    torch.testing.assert_close(mine[2].running_mean, clean.mean(0), atol=1e-5, rtol=1e-4)  # dropout was off
    # with dropout on, each unit's variance grows (by about (var + mean^2) / (1 - p) - mean^2)
    assert (theirs[2].running_var > mine[2].running_var).float().mean() > 0.9
