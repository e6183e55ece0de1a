"""Label smoothing: train on (1 - eps) * one-hot + eps / K instead of the one-hot target."""

import math

import torch
import torch.nn.functional as F
from torch import nn


# --8<-- [start:targets]
def smooth_targets(labels: torch.Tensor, num_classes: int, eps: float) -> torch.Tensor:
    """y = (1 - eps) * onehot + eps / K: every class, the true one included, gets eps / K."""
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"eps must be in [0, 1], got eps={eps}")
    if labels.numel() and not 0 <= int(labels.min()) <= int(labels.max()) < num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes - 1}] "
                         f"for num_classes={num_classes}")
    onehot = F.one_hot(labels, num_classes).float()
    return (1.0 - eps) * onehot + eps / num_classes


def smoothed_cross_entropy(logits: torch.Tensor, labels: torch.Tensor,
                           eps: float) -> torch.Tensor:
    """Cross-entropy against the smoothed targets, averaged over the batch."""
    targets = smooth_targets(labels, logits.shape[-1], eps)
    return -(targets * logits.log_softmax(dim=-1)).sum(dim=-1).mean()
# --8<-- [end:targets]


# --8<-- [start:gap]
def loss_at_gap(gap: float, num_classes: int, eps: float) -> float:
    """Loss of one example whose true-class logit is `gap` above all the others."""
    logits = torch.zeros(1, num_classes)
    logits[0, 0] = gap
    return smoothed_cross_entropy(logits, torch.tensor([0]), eps).item()


def best_gap(num_classes: int, eps: float) -> float:
    """Where the smoothed loss is smallest: softmax equals the target, so the gap is
    log(target of the true class / target of any other class)."""
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
