"""Weight averaging: the site's EMA equals torch.optim.swa_utils.AveragedModel with
get_ema_multi_avg_fn (and get_ema_avg_fn), its SWA update equals AveragedModel's default
running mean, its BN recomputation equals update_bn; over dtypes, and bad decays are refused."""

import copy

import pytest
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_avg_fn, get_ema_multi_avg_fn, update_bn

from snippets.modern import weight_averaging as wa


@pytest.mark.claim("modern/ema-averaged-model")
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("decay", [0.0, 0.5, 0.9, 0.999, 1.0])
def test_ema_equals_averaged_model(dtype, decay):
    model = wa.small_net().to(dtype)
    ours = wa.WeightEMA(model, decay)
    multi = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))
    single = AveragedModel(model, avg_fn=get_ema_avg_fn(decay))
    generator = torch.Generator().manual_seed(1)
    for _ in range(6):  # stand-in for optimizer steps: move every weight
        with torch.no_grad():
            for w in model.parameters():
                w.add_(torch.randn(w.shape, generator=generator).to(dtype))
        ours.update(model)
        multi.update_parameters(model)
        single.update_parameters(model)
    tol = {torch.float16: 3e-3, torch.bfloat16: 3e-2}.get(dtype, 1e-6)
    for theirs in (multi, single):
        for a, b in zip(ours.module.state_dict().values(), theirs.module.state_dict().values()):
            torch.testing.assert_close(a, b, atol=tol, rtol=tol)
            assert a.dtype == b.dtype


def test_ema_and_swa_against_torch_in_training():
    model = wa.small_net()
    ours, theirs = wa.WeightEMA(model, 0.8), AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.8))
    averaged, swa = copy.deepcopy(model), AveragedModel(model)

    def after_step(model, step):
        ours.update(model)
        theirs.update_parameters(model)
        wa.swa_update(averaged, model, step)
        swa.update_parameters(model)

    wa.train_steps(model, 8, after_step)
    assert wa.max_difference(ours.module, theirs.module) < 1e-6
    assert wa.max_difference(averaged, swa.module) < 1e-6
    assert swa.n_averaged.item() == 8 and ours.updates == 8


def test_swa_is_the_plain_mean_of_the_weights():
    snapshots = [wa.small_net(seed) for seed in range(5)]
    averaged = copy.deepcopy(snapshots[0])
    for n, model in enumerate(snapshots):
        wa.swa_update(averaged, model, n)
    for name, w in averaged.named_parameters():
        mean = torch.stack([dict(m.named_parameters())[name] for m in snapshots]).mean(0)
        torch.testing.assert_close(w, mean)


@pytest.mark.claim("modern/update-bn")
def test_recompute_bn_equals_update_bn_and_the_true_statistics():
    torch.manual_seed(0)
    model = wa.small_net()
    with torch.no_grad():
        model[1].running_mean.fill_(5.0)  # stale statistics
    data = [torch.randn(n, 4) for n in (32, 32, 32)]
    ours, theirs = copy.deepcopy(model), copy.deepcopy(model)
    ours.eval()
    wa.recompute_bn(ours, data)
    update_bn(data, theirs)
    assert wa.max_difference(ours, theirs) < 1e-6
    assert not ours.training and ours[1].momentum == 0.1  # mode and momentum restored
    with torch.no_grad():
        h = torch.cat([model[0](x) for x in data])
    torch.testing.assert_close(ours[1].running_mean, h.mean(0))
    torch.testing.assert_close(ours[1].running_var, h.var(0), rtol=0.05, atol=1e-3)


@pytest.mark.parametrize("decay", [-0.1, 1.5, float("nan")])
def test_bad_decay_is_refused_by_name(decay):
    with pytest.raises(ValueError, match="decay="):
        wa.WeightEMA(wa.small_net(), decay)


def test_recent_weight_and_facts():
    assert wa.recent_weight(0.999, 1000) == pytest.approx(1 - 1 / 2.718281828, abs=1e-3)
    weights = [(1 - 0.9) * 0.9**k for k in range(50)]
    assert sum(weights[:10]) == pytest.approx(wa.recent_weight(0.9, 10))
    assert wa.facts()["horizon"] == 1000
