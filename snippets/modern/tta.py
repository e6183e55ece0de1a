"""Test-time augmentation (TTA): average the model's predicted
probabilities over several views of each test image."""

import torch
from torch import nn

from snippets.regularizers.augmentation import as_batch, hflip


# --8<-- [start:crops]
def check_crop(images: torch.Tensor, height: int, width: int) -> None:
    h, w = images.shape[-2:]
    if not (0 < height <= h and 0 < width <= w):
        raise ValueError(
            f"crop size {height} x {width} must fit the {h} x {w} images"
        )


def five_crops(images: torch.Tensor, height: int, width: int):
    """The four corners and the centre, as in AlexNet's test-time
    views; the centre's offset is rounded as torchvision's
    center_crop rounds it (Python's round: half to even)."""
    check_crop(images, height, width)
    h, w = images.shape[-2:]
    top, left = round((h - height) / 2), round((w - width) / 2)
    corners = [
        (0, 0),
        (0, w - width),
        (h - height, 0),
        (h - height, w - width),
    ]
    return [
        images[..., t : t + height, s : s + width]
        for t, s in corners + [(top, left)]
    ]


def ten_crops(images: torch.Tensor, height: int, width: int):
    """Five crops of the image and five of its mirror image."""
    return five_crops(images, height, width) + five_crops(
        hflip(images), height, width
    )


# --8<-- [end:crops]


# --8<-- [start:tta]
@torch.no_grad()
def tta_predict(model: nn.Module, views: list) -> torch.Tensor:
    """The mean of softmax(model(view)) over the views, computed in eval
    mode (the model's mode is restored afterwards)."""
    if len(views) == 0:
        raise ValueError("views must hold at least one batch of images")
    was_training = model.training
    model.eval()
    try:
        probs = [model(as_batch(v)).softmax(dim=-1) for v in views]
    finally:
        model.train(was_training)
    return torch.stack(probs).mean(dim=0)


# --8<-- [end:tta]


# --8<-- [start:exercise]
def flip_invariant(model: nn.Module) -> nn.Module:
    """A model that sees an image and its mirror image and adds the
    logits: flipping its input cannot change its output."""

    class Symmetrised(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, x):
            return self.inner(x) + self.inner(hflip(x))

    return Symmetrised()


# --8<-- [end:exercise]


def small_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 3),
    )


def facts() -> dict:
    return {"n_views": 10, "crop": 6, "side": 8}


def main() -> None:
    # --8<-- [start:demo-crops]
    image = torch.arange(64.0).reshape(1, 1, 8, 8)
    views = ten_crops(image, 6, 6)
    print(len(views), tuple(views[0].shape))
    #> 10 (1, 1, 6, 6)
    print([int(v[0, 0, 0, 0]) for v in views])  # each view's top-left pixel
    #> [0, 2, 16, 18, 9, 7, 5, 23, 21, 14]
    # --8<-- [end:demo-crops]

    # --8<-- [start:demo-tta]
    model = small_cnn()
    images = torch.rand(
        4, 1, 8, 8, generator=torch.Generator().manual_seed(0)
    )
    one_view = tta_predict(model, [images])
    flips = tta_predict(model, [images, hflip(images)])
    # still one probability distribution per image:
    print(torch.allclose(flips.sum(dim=1), torch.ones(4)))
    #> True
    print(f"changed by up to {(flips - one_view).abs().max():.4f}")
    #> changed by up to 0.0083
    # --8<-- [end:demo-tta]

    # --8<-- [start:demo-exercise]
    symmetric = flip_invariant(model)
    plain = tta_predict(symmetric, [images])
    with_flips = tta_predict(symmetric, [images, hflip(images)])
    print(torch.allclose(plain, with_flips))
    #> True
    # --8<-- [end:demo-exercise]


if __name__ == "__main__":
    main()
