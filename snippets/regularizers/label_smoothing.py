"""Label smoothing: train on (1 - eps) * one-hot + eps / K instead of the
one-hot target."""

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

REDUCTIONS = ("none", "mean", "sum")


def check_eps(eps) -> None:
    """eps must be a real number in [0, 1]. PyTorch refuses eps > 1 but
    silently treats a negative or NaN label_smoothing as 0; this refuses
    them too."""
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"eps must be a float in [0, 1], got eps={eps!r}")
    if not 0.0 <= eps <= 1.0:  # also False for NaN
        raise ValueError(f"eps must be in [0, 1], got eps={eps}")


def check_labels(
    labels: torch.Tensor, num_classes: int, ignore=None
) -> None:
    """Class indices: an integer tensor with values in [0, K - 1]
    (or `ignore`)."""
    if labels.dtype not in (torch.int64, torch.uint8):
        raise TypeError(
            f"labels must be class indices of dtype int64 (or uint8), "
            f"got dtype {labels.dtype}"
        )
    if labels.device.type == "meta" or not labels.numel():
        return  # a meta tensor has no values to check
    real = labels if ignore is None else labels[labels != ignore]
    if (
        real.numel()
        and not 0 <= int(real.min()) <= int(real.max()) < num_classes
    ):
        raise ValueError(
            f"labels must lie in [0, {num_classes - 1}] "
            f"for num_classes={num_classes}"
        )


def check_loss_args(
    logits, target, eps, weight, ignore_index, reduction
) -> None:
    """Refuse what F.cross_entropy refuses, and what it would silently get
    wrong."""
    check_eps(eps)
    if (
        not isinstance(logits, torch.Tensor)
        or not logits.is_floating_point()
    ):
        raise TypeError("logits must be a floating-point tensor")
    if logits.dim() == 0:
        raise ValueError(
            "logits must have a class dimension, got a 0-d tensor"
        )
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction must be one of {REDUCTIONS}, got {reduction!r}"
        )
    dim = 0 if logits.dim() == 1 else 1
    k = logits.shape[dim]
    if not isinstance(target, torch.Tensor):
        raise TypeError(
            "target must be a tensor of class indices or probabilities"
        )
    if target.is_floating_point():
        if target.shape != logits.shape:
            raise ValueError(
                f"probability target must have the shape of logits "
                f"{tuple(logits.shape)}, got {tuple(target.shape)}"
            )
    else:
        expected = logits.shape[:dim] + logits.shape[dim + 1 :]
        if target.shape != expected:  # no silent broadcasting
            raise ValueError(
                f"target must have shape {tuple(expected)} for logits "
                f"{tuple(logits.shape)}, got {tuple(target.shape)}"
            )
        check_labels(target, k, ignore=ignore_index)
    if weight is not None:
        if not isinstance(weight, torch.Tensor) or weight.shape != (k,):
            raise ValueError(
                f"weight must be a tensor of shape ({k},), one per class"
            )
        if weight.dtype != logits.dtype:
            raise TypeError(
                f"weight must have the dtype of logits ({logits.dtype}), "
                f"got {weight.dtype}"
            )


# --8<-- [start:targets]
def smooth_targets(
    labels: torch.Tensor,
    num_classes: int,
    eps: float,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """y = (1 - eps) * onehot + eps / K: every class, the true one included,
    gets eps / K. The class axis is the last one."""
    check_eps(eps)
    check_labels(labels, num_classes)
    onehot = F.one_hot(labels.long(), num_classes).to(dtype)
    return (1.0 - eps) * onehot + eps / num_classes


def smoothed_cross_entropy(
    logits, target, eps, weight=None, ignore_index=-100, reduction="mean"
):
    """F.cross_entropy(logits, target, weight, ignore_index=ignore_index,
    reduction=reduction, label_smoothing=eps), by hand. The classes are on
    dim 1 (dim 0 for one unbatched example); target holds class indices or
    probabilities."""
    check_loss_args(logits, target, eps, weight, ignore_index, reduction)
    dim = 0 if logits.dim() == 1 else 1
    k, tail = logits.shape[dim], [1] * (logits.dim() - dim - 1)
    # float16 / bfloat16: sum in float32, hand back the input's dtype.
    acc = torch.promote_types(logits.dtype, torch.float32)
    log_p = logits.to(acc).log_softmax(dim)
    w = torch.ones(k, dtype=acc, device=logits.device)
    w = (w if weight is None else weight.to(acc)).view(k, *tail)
    if target.is_floating_point():  # probabilities: smoothed the same way
        y = (1.0 - eps) * target.to(acc) + eps / k
        loss = -(w * y * log_p).sum(dim)
        count = target.numel() / k  # mean: over examples (and positions)
    else:
        keep = target != ignore_index
        labels = target.long().where(keep, 0)
        y = smooth_targets(labels, k, eps, acc).movedim(-1, dim)
        # 0 * log(0) counts as 0, as in PyTorch's nll_loss (logit -inf).
        terms = torch.where(y > 0, w * y * log_p, 0.0)
        loss = torch.where(keep, -terms.sum(dim), 0.0)
        count = torch.where(keep, w.flatten()[labels], 0.0).sum()
    if reduction == "none":
        return loss.to(logits.dtype)
    total = loss.sum()
    mean = total / count  # mean: weighted by the true classes' weights
    return (total if reduction == "sum" else mean).to(logits.dtype)


# --8<-- [end:targets]


# --8<-- [start:gap]
def loss_at_gap(gap: float, num_classes: int, eps: float) -> float:
    """Loss of one example whose true-class logit is `gap` above all the
    others."""
    logits = torch.zeros(1, num_classes)
    logits[0, 0] = gap
    return smoothed_cross_entropy(logits, torch.tensor([0]), eps).item()


def best_gap(num_classes: int, eps: float) -> float:
    """Where the smoothed loss is smallest: softmax equals the target, so
    the gap is log(target of the true class / target of another class)."""
    return math.log((1.0 - eps + eps / num_classes) / (eps / num_classes))


# --8<-- [end:gap]


K, EPS, LOGITS, LABEL = 4, 0.1, [1.0, 0.5, 3.0, -1.0], 2


def facts() -> dict:
    logits, labels = torch.tensor([LOGITS]), torch.tensor([LABEL])
    target = smooth_targets(labels, K, EPS)[0]
    gap = best_gap(K, EPS)
    return {
        "k": K,
        "eps": EPS,
        "label": LABEL,
        "logits": LOGITS,
        "true_target": target[LABEL].item(),
        "other_target": target[0].item(),
        "target": target,
        "loss_manual": smoothed_cross_entropy(logits, labels, EPS).item(),
        "loss_plain": F.cross_entropy(logits, labels).item(),
        "ratio": (1 - EPS + EPS / K) / (EPS / K),
        "best_gap": gap,
        "best_loss": loss_at_gap(gap, K, EPS),
        "target_entropy": -(target * target.log()).sum().item(),
    }


def main() -> None:
    # --8<-- [start:demo-targets]
    labels = torch.tensor([2])  # class 2 of K = 4
    print(smooth_targets(labels, num_classes=4, eps=0.1))
    #> tensor([[0.0250, 0.0250, 0.9250, 0.0250]])

    logits = torch.tensor([[1.0, 0.5, 3.0, -1.0]])
    manual = smoothed_cross_entropy(logits, labels, eps=0.1)
    builtin = nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels)
    print(f"by hand {manual:.6f}, PyTorch {builtin:.6f}")
    #> by hand 0.424167, PyTorch 0.424167
    print(f"without smoothing {nn.CrossEntropyLoss()(logits, labels):.6f}")
    #> without smoothing 0.211667
    # --8<-- [end:demo-targets]

    # --8<-- [start:demo-gap]
    for gap in (2.0, best_gap(4, 0.1), 6.0, 10.0):
        plain, smooth = loss_at_gap(gap, 4, 0.0), loss_at_gap(gap, 4, 0.1)
        print(f"gap {gap:5.2f}: plain {plain:.4f}, smoothed {smooth:.4f}")
        #> gap  2.00: plain 0.3408, smoothed 0.4908
        #> gap  3.61: plain 0.0780, smoothed 0.3488
        #> gap  6.00: plain 0.0074, smoothed 0.4574
        #> gap 10.00: plain 0.0001, smoothed 0.7501
    # --8<-- [end:demo-gap]


if __name__ == "__main__":
    main()
