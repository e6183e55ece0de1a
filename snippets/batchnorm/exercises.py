"""Solutions to the batch-normalization exercises, each checked against
torch.nn.BatchNorm."""

import copy

import torch
from torch import nn

from snippets.batchnorm.manual import check_eps


def check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {name}={value}")
    return value


def check_fraction(name: str, value, low_open: bool) -> float:
    """value in (0, 1] if low_open, else in [0, 1]; NaN is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    ok = (0.0 < value <= 1.0) if low_open else (0.0 <= value <= 1.0)
    if not ok:
        bounds = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must be in {bounds}, got {name}={value}")
    return float(value)


def check_fold_args(conv, bn) -> None:
    if not isinstance(conv, nn.modules.conv._ConvNd) or conv.transposed:
        raise TypeError(
            f"conv must be a Conv1d/2d/3d, got {type(conv).__name__}"
        )
    if not isinstance(bn, nn.modules.batchnorm._BatchNorm):
        raise TypeError(
            f"bn must be a BatchNorm layer, got {type(bn).__name__}"
        )
    if bn.training:
        raise ValueError(
            "bn must be in eval mode: folding uses its running statistics"
        )
    if bn.running_var is None:
        raise ValueError(
            "bn has no running statistics (track_running_stats=False): "
            "it normalises every batch by its own statistics, "
            "even in eval mode"
        )
    if bn.num_features != conv.out_channels:
        raise ValueError(
            f"bn has {bn.num_features} features but conv has "
            f"{conv.out_channels} output channels"
        )


# --8<-- [start:by-hand]
def bn_by_hand(x: list[float], gamma: float, beta: float, eps=1e-5):
    """Training-mode BN of one feature over a batch, step by step."""
    if len(x) < 2:
        raise ValueError(f"x needs at least 2 values, got {len(x)}")
    check_eps(eps)
    values = torch.tensor(x, dtype=torch.float64)
    mu = values.mean()
    var = ((values - mu) ** 2).mean()  # biased: divide by N
    x_hat = (values - mu) / torch.sqrt(var + eps)
    return mu.item(), var.item(), x_hat, gamma * x_hat + beta


# --8<-- [end:by-hand]


# --8<-- [start:running]
def running_after(k: int, start: float, batch_value: float, momentum=0.1):
    """A running statistic after k train steps that all see the same batch
    statistic: the start value's weight decays as (1 - momentum)^k."""
    check_int("k", k, minimum=0)
    check_fraction("momentum", momentum, low_open=False)
    decay = (1 - momentum) ** k
    return decay * start + (1 - decay) * batch_value


def steps_until_within(share: float, momentum: float = 0.1) -> int:
    """Smallest k with (1 - momentum)^k <= share: from then on the start
    value contributes at most `share` of the gap."""
    # share <= 0 or momentum = 0 would loop forever; NaN would return 0
    check_fraction("share", share, low_open=True)
    check_fraction("momentum", momentum, low_open=True)
    k = 0
    while (1 - momentum) ** k > share:
        k += 1
    return k


# --8<-- [end:running]


# --8<-- [start:bias]
@torch.no_grad()
def bias_gap(bias: float, train_steps: int, seed: int = 0):
    """Largest gap between BN(z) and BN(z + bias), for z standing in for
    conv outputs: in train mode, and in eval mode after `train_steps`
    training steps."""
    check_int("train_steps", train_steps, minimum=1)
    generator = torch.Generator().manual_seed(seed)
    bn_plain, bn_biased = nn.BatchNorm2d(4), nn.BatchNorm2d(4)
    train_gap = 0.0
    for z in torch.randn(train_steps, 8, 4, 6, 6, generator=generator):
        gap = bn_plain(z) - bn_biased(z + bias)  # the same batches
        train_gap = max(train_gap, gap.abs().max().item())
    bn_plain.eval()
    bn_biased.eval()
    gap = bn_plain(z) - bn_biased(z + bias)
    return train_gap, gap.abs().max().item()


# --8<-- [end:bias]


# --8<-- [start:fold]
@torch.no_grad()
def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """One conv that computes bn(conv(x)) in eval mode. Per channel:
    y = gamma (conv(x) - mean) / sqrt(var + eps) + beta
      = scale * conv(x) + shift"""
    check_fold_args(conv, bn)  # eval mode, running stats, same channels
    weight, bias = conv.weight, conv.bias
    if bias is None:
        bias = torch.zeros_like(bn.running_mean)
    gamma, beta = bn.weight, bn.bias
    if gamma is None:  # affine=False: gamma = 1, beta = 0
        gamma, beta = torch.ones_like(bias), torch.zeros_like(bias)
    scale = gamma / torch.sqrt(bn.running_var + bn.eps)
    # a copy keeps stride, padding, dilation, groups, dtype and device
    folded = copy.deepcopy(conv)
    # every filter of output channel c is multiplied by scale[c]
    shape = (-1,) + (1,) * (weight.dim() - 1)
    folded.weight.copy_(weight * scale.view(shape))
    new_bias = beta + (bias - bn.running_mean) * scale
    folded.bias = nn.Parameter(new_bias.to(weight.dtype))
    return folded


# --8<-- [end:fold]


def trained_conv_bn(
    seed: int = 0, steps: int = 20
) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    """A conv and a BN whose gamma, beta and running statistics are not
    trivial."""
    torch.manual_seed(seed)
    conv, bn = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2.0)
        bn.bias.uniform_(-1.0, 1.0)
        for _ in range(steps):
            bn(conv(torch.randn(8, 3, 6, 6) * 2 + 1))
    return conv, bn.eval()


X, GAMMA, BETA = [1.0, 3.0, 3.0, 9.0], 0.5, 2.0
MOMENTUM, K, SHARE = 0.1, 10, 0.01
CHANNELS = (64, 128, 256, 512)
FEW, MANY = 5, 200


def facts() -> dict:
    mu, var, x_hat, y = bn_by_hand(X, GAMMA, BETA)
    train_gap, eval_gap_many = bias_gap(3.0, train_steps=MANY)
    values = torch.tensor(X)
    unbiased = values.var(correction=1).item()
    bn = nn.BatchNorm1d(1)
    with torch.no_grad():
        bn(values.view(-1, 1))
    return {
        "x": X,
        "gamma": GAMMA,
        "beta": BETA,
        "n": len(X),
        "sum_x": sum(X),
        "mu": mu,
        "deviations": [v - mu for v in X],
        "squares": [(v - mu) ** 2 for v in X],
        "sum_squares": sum((v - mu) ** 2 for v in X),
        "var": var,
        "std": var**0.5,
        "x_hat": x_hat,
        "y": y,
        "momentum": MOMENTUM,
        "init_mean": nn.BatchNorm1d(1).running_mean.item(),
        "init_var": nn.BatchNorm1d(1).running_var.item(),
        "keep": 1 - MOMENTUM,
        "unbiased": unbiased,
        "n_minus_1": len(X) - 1,
        "running_mean_1": bn.running_mean.item(),
        "running_var_1": bn.running_var.item(),
        "k": K,
        "decay_k": (1 - MOMENTUM) ** K,
        "running_mean_k": running_after(K, 0.0, mu),
        "running_var_k": running_after(K, 1.0, unbiased),
        "share": SHARE,
        "steps_1pct": steps_until_within(SHARE),
        "channels": list(CHANNELS),
        "wasted": sum(CHANNELS),
        "bias": 3.0,
        "bias_train_gap": train_gap,
        "few": FEW,
        "many": MANY,
        "bias_eval_gap_few": bias_gap(3.0, train_steps=FEW)[1],
        "bias_eval_gap_many": eval_gap_many,
    }


def main() -> None:
    # --8<-- [start:demo-by-hand]
    x = [1.0, 3.0, 3.0, 9.0]
    mu, var, x_hat, y = bn_by_hand(x, gamma=0.5, beta=2.0)
    print(mu, var)
    #> 4.0 9.0
    print(x_hat.float())
    #> tensor([-1.0000, -0.3333, -0.3333,  1.6667])
    print(y.float())
    #> tensor([1.5000, 1.8333, 1.8333, 2.8333])
    bn = nn.BatchNorm1d(1)  # the same in PyTorch
    with torch.no_grad():
        bn.weight.fill_(0.5)
        bn.bias.fill_(2.0)
        print(bn(torch.tensor(x).view(-1, 1)).flatten())
        #> tensor([1.5000, 1.8333, 1.8333, 2.8333])
    print(bn.running_mean, bn.running_var)  # after this one step
    #> tensor([0.4000]) tensor([2.1000])
    # --8<-- [end:demo-by-hand]

    # --8<-- [start:demo-running]
    mean_10 = running_after(10, start=0.0, batch_value=4.0)
    print(f"after 10 steps: {mean_10:.4f}")
    #> after 10 steps: 2.6053
    print("steps until within 1 %:", steps_until_within(0.01))
    #> steps until within 1 %: 44
    bn = nn.BatchNorm1d(1)
    with torch.no_grad():
        for _ in range(10):
            bn(torch.tensor([[1.0], [3.0], [3.0], [9.0]]))
    print(bn.running_mean, bn.running_var)
    #> tensor([2.6053]) tensor([8.1645])
    print(f"closed form: {running_after(10, 1.0, 12.0):.4f}")  # variance
    #> closed form: 8.1645
    # --8<-- [end:demo-running]

    # --8<-- [start:demo-bias]
    for steps in (5, 200):
        train_gap, eval_gap = bias_gap(bias=3.0, train_steps=steps)
        # 3 decimals: the float32 rounding (~1e-7) differs between CPU kinds
        print(f"{steps} steps: train {train_gap:.3f}, eval {eval_gap:.3f}")
        #> 5 steps: train 0.000, eval 1.785
        #> 200 steps: train 0.000, eval 0.000
    # --8<-- [end:demo-bias]

    # --8<-- [start:demo-fold]
    conv, bn = trained_conv_bn()
    folded = fold_bn(conv, bn)
    x = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        print(torch.allclose(folded(x), bn(conv(x)), atol=1e-5))
        #> True
    before = sum(p.numel() for m in (conv, bn) for p in m.parameters())
    after = sum(p.numel() for p in folded.parameters())
    print(f"{after} parameters instead of {before}")
    #> 112 parameters instead of 120
    # --8<-- [end:demo-fold]


if __name__ == "__main__":
    main()
