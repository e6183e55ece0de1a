"""Weight averaging: an exponential moving average (EMA) of the weights
and stochastic weight averaging (SWA), and why batch-norm statistics
must be recomputed for the averaged model."""

import copy

import torch
from torch import nn


# --8<-- [start:ema]
class WeightEMA:
    """A copy of the model whose weights follow the trained ones:
    w_ema <- decay * w_ema + (1 - decay) * w after every step. The
    first update copies the weights, as torch's AveragedModel does."""

    def __init__(self, model: nn.Module, decay: float = 0.999):
        if not 0.0 <= decay <= 1.0:  # also refuses NaN
            raise ValueError(f"decay must be in [0, 1], got decay={decay}")
        self.decay = decay
        self.module = copy.deepcopy(model)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        pairs = zip(self.module.parameters(), model.parameters())
        for w_ema, w in pairs:
            if self.updates == 0:
                w_ema.copy_(w)
            else:
                w_ema.mul_(self.decay).add_(w, alpha=1 - self.decay)
        # buffers (BN running statistics) are copied, not averaged
        for b_ema, b in zip(self.module.buffers(), model.buffers()):
            b_ema.copy_(b)
        self.updates += 1


# --8<-- [end:ema]


# --8<-- [start:swa]
@torch.no_grad()
def swa_update(averaged: nn.Module, model: nn.Module, n: int) -> None:
    """The running mean of the weights seen so far: after n models,
    w_avg <- w_avg + (w - w_avg) / (n + 1)."""
    for w_avg, w in zip(averaged.parameters(), model.parameters()):
        w_avg.add_((w - w_avg) / (n + 1))
    for b_avg, b in zip(averaged.buffers(), model.buffers()):
        b_avg.copy_(b)  # as in WeightEMA: copied, not averaged


# --8<-- [end:swa]


# --8<-- [start:bn]
@torch.no_grad()
def recompute_bn(model: nn.Module, batches) -> None:
    """Forget the running statistics and measure them again with the
    model's current (averaged) weights: momentum None makes BatchNorm
    keep the plain mean over all batches, as torch's update_bn does."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    momenta = [m.momentum for m in norms]
    was_training = model.training
    model.train()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    for x in batches:
        model(x)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    model.train(was_training)


# --8<-- [end:bn]


# --8<-- [start:setup]
def small_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)
    )


def train_steps(model, steps: int, on_step, seed: int = 0):
    """A few SGD steps on random data; on_step(model, step) after each."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for step in range(steps):
        x = torch.randn(16, 4, generator=generator)
        y = torch.randint(0, 3, (16,), generator=generator)
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        on_step(model, step)


# --8<-- [end:setup]


# --8<-- [start:exercise]
def recent_weight(decay: float, steps: int) -> float:
    """The total weight an EMA gives to its last `steps` updates:
    (1 - d) * (1 + d + ... + d^(steps - 1)) = 1 - d^steps."""
    return 1.0 - decay**steps


# --8<-- [end:exercise]


def max_difference(a: nn.Module, b: nn.Module) -> float:
    return max(
        (x - y).abs().max().item()
        for x, y in zip(a.state_dict().values(), b.state_dict().values())
    )


def facts() -> dict:
    return {
        "decay": 0.999,
        "horizon": round(1 / (1 - 0.999)),
        "recent": recent_weight(0.999, 1000),
    }


def main() -> None:
    # --8<-- [start:demo-ema]
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    model = small_net()
    ours = WeightEMA(model, decay=0.9)
    theirs = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))

    def after_step(model, step):
        ours.update(model)
        theirs.update_parameters(model)

    train_steps(model, steps=20, on_step=after_step)
    print(max_difference(ours.module, theirs.module) < 1e-6)
    #> True
    print(f"EMA vs last weights: {max_difference(ours.module, model):.3f}")
    #> EMA vs last weights: 0.147
    # --8<-- [end:demo-ema]

    # --8<-- [start:demo-swa]
    model = small_net()
    averaged = copy.deepcopy(model)
    swa = AveragedModel(model)  # the default average is SWA's mean

    def after_step(model, step):
        if step >= 10:  # average the last 10 of 20 steps
            swa_update(averaged, model, n=step - 10)
            swa.update_parameters(model)

    train_steps(model, steps=20, on_step=after_step)
    print(
        f"{swa.n_averaged.item()} models averaged;",
        max_difference(averaged, swa.module) < 1e-6,
    )
    #> 10 models averaged; True
    # --8<-- [end:demo-swa]

    # --8<-- [start:demo-bn]
    from torch.optim.swa_utils import update_bn

    data = [
        torch.randn(32, 4, generator=torch.Generator().manual_seed(i))
        for i in range(4)
    ]
    bn = swa.module[1]
    stale = bn.running_mean.clone()  # the model's, not the average's
    update_bn(data, swa)
    with torch.no_grad():  # what the averaged first layer really gives
        h = torch.cat([swa.module[0](x) for x in data])
    stale_off = (stale - h.mean(0)).abs().max()
    new_off = (bn.running_mean - h.mean(0)).abs().max()
    print(f"stale mean off by {stale_off:.3f}, recomputed by {new_off:.3f}")
    #> stale mean off by 0.062, recomputed by 0.000
    mine = copy.deepcopy(swa.module)
    recompute_bn(mine, data)
    print(max_difference(mine, swa.module) < 1e-6)
    #> True
    # --8<-- [end:demo-bn]

    # --8<-- [start:demo-exercise]
    for steps in (693, 1000, 3000):
        print(f"last {steps} steps: {recent_weight(0.999, steps):.3f}")
        #> last 693 steps: 0.500
        #> last 1000 steps: 0.632
        #> last 3000 steps: 0.950
    # --8<-- [end:demo-exercise]


if __name__ == "__main__":
    main()
