"""Mixup and CutMix: train on mixtures of two examples, with targets
mixed in the same proportion."""

import torch
import torch.nn.functional as F

from snippets.dropout.bernoulli import check_floating, check_probability


# --8<-- [start:checks]
def check_partner(partner: torch.Tensor, n: int) -> None:
    """partner[i] is the index of the example mixed into example i."""
    if not isinstance(partner, torch.Tensor) or partner.dtype != torch.long:
        raise TypeError("partner must be a torch.long tensor of indices")
    if partner.shape != (n,):
        raise ValueError(
            f"partner must have shape ({n},), got {tuple(partner.shape)}"
        )
    if n and not (0 <= int(partner.min()) and int(partner.max()) < n):
        raise ValueError(f"partner indices must lie in [0, {n})")


def check_lam(lam) -> torch.Tensor | float:
    """One lambda for the batch (a float) or one per example (a tensor)."""
    if isinstance(lam, torch.Tensor):
        if not lam.is_floating_point() or lam.ndim != 1:
            raise TypeError("lam must be a float or a 1-d float tensor")
        if not ((lam >= 0) & (lam <= 1)).all():
            raise ValueError("every lam must lie in [0, 1]")
        return lam
    return check_probability(lam, "lam", allow_one=True)


# --8<-- [end:checks]


# --8<-- [start:sample]
def sample_mix(n: int, alpha: float, generator=None):
    """One lambda ~ Beta(alpha, alpha) for the batch, and a random
    partner for every example (a permutation of the batch)."""
    if not alpha > 0:  # also refuses NaN
        raise ValueError(f"alpha must be positive, got alpha={alpha}")
    beta = torch.distributions.Beta(float(alpha), float(alpha))
    lam = beta.sample().item()  # from torch's global generator
    return lam, torch.randperm(n, generator=generator)


# --8<-- [end:sample]


# --8<-- [start:mixup]
def mixup(x: torch.Tensor, partner: torch.Tensor, lam) -> torch.Tensor:
    """x~_i = lam * x_i + (1 - lam) * x_partner[i]."""
    check_floating(x, "x")
    check_partner(partner, x.shape[0])
    lam = check_lam(lam)
    if isinstance(lam, torch.Tensor):  # one per example: (N, 1, 1, ...)
        lam = lam.to(x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))
    return lam * x + (1 - lam) * x[partner]


# --8<-- [end:mixup]


# --8<-- [start:cutmix]
def cutmix_box(lam: float, height: int, width: int, cy: int, cx: int):
    """A box with sides sqrt(1 - lam) * (H, W) centred on (cy, cx),
    clipped to the image: (top, bottom, left, right), bottom and right
    exclusive."""
    ratio = (1.0 - check_lam(lam)) ** 0.5
    cut_h, cut_w = int(height * ratio), int(width * ratio)
    top, bottom = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, height)
    left, right = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, width)
    return top, bottom, left, right


def cutmix(x: torch.Tensor, partner: torch.Tensor, box):
    """Paste the partner's box into each image. Returns the images and
    the lambda of the original image: 1 - box area / image area."""
    check_floating(x, "x")
    if x.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W), got {x.ndim} dims")
    check_partner(partner, x.shape[0])
    top, bottom, left, right = box
    mixed = x.clone()
    mixed[:, :, top:bottom, left:right] = x[
        partner, :, top:bottom, left:right
    ]
    height, width = x.shape[-2:]
    area = (bottom - top) * (right - left)
    return mixed, 1.0 - area / (height * width)  # the corrected lambda


# --8<-- [end:cutmix]


# --8<-- [start:targets]
def mixed_targets(
    labels: torch.Tensor,
    partner: torch.Tensor,
    lam,
    classes: int,
    smoothing: float = 0.0,
) -> torch.Tensor:
    """lam * y_i + (1 - lam) * y_partner[i], where y is the one-hot
    target, smoothed to (1 - eps) * one-hot + eps / K if asked."""
    check_partner(partner, labels.shape[0])
    lam = check_lam(lam)
    eps = check_probability(smoothing, "smoothing", allow_one=True)
    y = F.one_hot(labels, classes).float() * (1 - eps) + eps / classes
    if isinstance(lam, torch.Tensor):
        lam = lam.float().unsqueeze(1)
    return lam * y + (1 - lam) * y[partner]


# --8<-- [end:targets]


# --8<-- [start:exercise]
def mixed_loss(logits, labels, partner, lam: float, smoothing: float = 0.0):
    """The mixup loss as two ordinary losses: lam * CE(y_i) +
    (1 - lam) * CE(y_partner), each with label smoothing."""
    ce = F.cross_entropy
    return lam * ce(logits, labels, label_smoothing=smoothing) + (
        1 - lam
    ) * ce(logits, labels[partner], label_smoothing=smoothing)


# --8<-- [end:exercise]


# --8<-- [start:kornia]
def with_kornia(images: torch.Tensor, labels: torch.Tensor):
    """The same with kornia (pip install kornia): each example draws
    its own lambda and kornia returns (label, partner's label, lambda)."""
    from kornia.augmentation import RandomCutMixV2, RandomMixUpV2

    mix = RandomMixUpV2(data_keys=["input", "class"])
    cut = RandomCutMixV2(
        data_keys=["input", "class"], use_correct_lambda=True
    )
    mixed, y = mix(images, labels)  # y: (N, 3)
    # kornia's lambda weighs the PARTNER: mixed = (1 - k) x + k x_partner
    loss_weights = {"own": 1 - y[:, 2], "partner": y[:, 2]}
    cut_images, y_cut = cut(images, labels)  # y_cut: (num_mix, N, 3)
    # use_correct_lambda=True: lambda = 1 - box area, the OWN label's weight
    return mixed, loss_weights, cut_images, y_cut


# --8<-- [end:kornia]


def facts() -> dict:
    return {
        "demo_lam": 0.7,
        "box_lam": 0.75,
        "box_side": 4,
        "image_side": 8,
        "corrected": cutmix(
            torch.zeros(1, 1, 8, 8),
            torch.zeros(1).long(),
            cutmix_box(0.75, 8, 8, 7, 4),
        )[1],
    }


def main() -> None:
    # --8<-- [start:demo-mixup]
    x = torch.stack([torch.zeros(1, 2, 2), torch.ones(1, 2, 2)])  # 2 images
    partner = torch.tensor([1, 0])  # each is mixed with the other
    print(mixup(x, partner, lam=0.7)[:, 0, 0])
    #> tensor([[0.3000, 0.3000],
    #>         [0.7000, 0.7000]])
    labels = torch.tensor([3, 5])
    print(mixed_targets(labels, partner, lam=0.7, classes=6))
    #> tensor([[0.0000, 0.0000, 0.0000, 0.7000, 0.0000, 0.3000],
    #>         [0.0000, 0.0000, 0.0000, 0.3000, 0.0000, 0.7000]])
    # --8<-- [end:demo-mixup]

    # --8<-- [start:demo-cutmix]
    x = torch.stack([torch.zeros(1, 8, 8), torch.ones(1, 8, 8)])
    box = cutmix_box(lam=0.75, height=8, width=8, cy=3, cx=4)
    mixed, lam = cutmix(x, partner, box)
    print(box, f"lambda = {lam}")
    #> (1, 5, 2, 6) lambda = 0.75
    print(mixed[0, 0].long())  # 1 = pixel from the partner
    #> tensor([[0, 0, 0, 0, 0, 0, 0, 0],
    #>         [0, 0, 1, 1, 1, 1, 0, 0],
    #>         [0, 0, 1, 1, 1, 1, 0, 0],
    #>         [0, 0, 1, 1, 1, 1, 0, 0],
    #>         [0, 0, 1, 1, 1, 1, 0, 0],
    #>         [0, 0, 0, 0, 0, 0, 0, 0],
    #>         [0, 0, 0, 0, 0, 0, 0, 0],
    #>         [0, 0, 0, 0, 0, 0, 0, 0]])
    # near the border the box is clipped, and lambda corrected:
    print(cutmix(x, partner, cutmix_box(0.75, 8, 8, cy=7, cx=4))[1])
    #> 0.8125
    # --8<-- [end:demo-cutmix]

    # --8<-- [start:demo-smoothing]
    print(mixed_targets(labels, partner, 0.7, classes=6, smoothing=0.1))
    #> tensor([[0.0167, 0.0167, 0.0167, 0.6467, 0.0167, 0.2867],
    #>         [0.0167, 0.0167, 0.0167, 0.2867, 0.0167, 0.6467]])
    # --8<-- [end:demo-smoothing]

    # --8<-- [start:demo-exercise]
    logits = torch.tensor([[2.0, 0.5, 0.1, 1.0, 0.0, 0.3]] * 2)
    soft = F.cross_entropy(
        logits, mixed_targets(labels, partner, 0.7, 6, 0.1)
    )
    split = mixed_loss(logits, labels, partner, lam=0.7, smoothing=0.1)
    print(f"{soft:.6f} {split:.6f}")
    #> 2.072025 2.072025
    # --8<-- [end:demo-exercise]

    # --8<-- [start:demo-sample]
    torch.manual_seed(0)
    for alpha in (0.2, 1.0):
        lams = [sample_mix(8, alpha)[0] for _ in range(2000)]
        near_ends = sum(lam < 0.1 or lam > 0.9 for lam in lams) / 2000
        print(
            f"alpha {alpha}: lambda within 0.1 of 0 or 1: {near_ends:.0%}"
        )
        #> alpha 0.2: lambda within 0.1 of 0 or 1: 68%
        #> alpha 1.0: lambda within 0.1 of 0 or 1: 21%
    # --8<-- [end:demo-sample]


if __name__ == "__main__":
    main()
