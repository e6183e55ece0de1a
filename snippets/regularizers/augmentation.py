"""Data augmentation with plain tensor ops: random horizontal flips and random crops of a padded image."""

import torch
import torch.nn.functional as F


# --8<-- [start:flip]
def hflip(images: torch.Tensor) -> torch.Tensor:
    """Mirror left-right: reverse the width axis of (N, C, H, W)."""
    return images.flip(-1)


def random_hflip(images: torch.Tensor, generator=None) -> torch.Tensor:
    """Flip each image of the batch with probability 1/2, independently."""
    flip = torch.rand(images.shape[0], generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], hflip(images), images)
# --8<-- [end:flip]


# --8<-- [start:crop]
def crop_at(padded: torch.Tensor, top: torch.Tensor, left: torch.Tensor,
            height: int, width: int) -> torch.Tensor:
    """Cut a height x width window out of every image, image n at (top[n], left[n]),
    with one indexing operation instead of a Python loop over the batch."""
    rows = top[:, None] + torch.arange(height)  # (N, H): the rows each image keeps
    cols = left[:, None] + torch.arange(width)  # (N, W)
    batch = torch.arange(padded.shape[0])[:, None, None, None]
    channels = torch.arange(padded.shape[1])[None, :, None, None]
    return padded[batch, channels, rows[:, None, :, None], cols[:, None, None, :]]


def random_crop(images: torch.Tensor, padding: int, generator=None) -> torch.Tensor:
    """Pad with zeros, then crop back to H x W at a random place: a random translation by
    up to `padding` pixels in each direction. Nothing wraps around; the gap is zero."""
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got padding={padding}")
    n, _, height, width = images.shape
    padded = F.pad(images, [padding] * 4)
    top = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    left = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    return crop_at(padded, top, left, height, width)
# --8<-- [end:crop]


# --8<-- [start:augment]
def augment(images: torch.Tensor, labels: torch.Tensor, padding: int = 4, generator=None):
    """Training-time augmentation of a batch: flip, then shift. The labels come back as they
    went in: a mirrored or slightly moved cat is still a cat."""
    if images.dim() != 4:
        raise ValueError(f"images must be a batch (N, C, H, W), "
                         f"got shape {tuple(images.shape)}")
    if labels.shape[:1] != images.shape[:1]:
        raise ValueError(f"labels must have one entry per image, "
                         f"got {labels.shape[0]} for {images.shape[0]} images")
    return random_crop(random_hflip(images, generator), padding, generator), labels
# --8<-- [end:augment]


def count_versions(padding: int) -> int:
    """How many different images one image can become: 2 flips x (2 * padding + 1)^2 shifts."""
    return 2 * (2 * padding + 1) ** 2


def distinct_outputs(draws: int = 1000, padding: int = 2, seed: int = 0) -> int:
    """Augment one random 3 x 8 x 8 image `draws` times and count the different results."""
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(1, 3, 8, 8, generator=generator) + 0.1  # no zeros: every shift is visible
    out, _ = augment(image.expand(draws, -1, -1, -1), torch.zeros(draws), padding, generator)
    return torch.unique(out.flatten(1), dim=0).shape[0]


L_SHAPE = [[1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0]]


def facts() -> dict:
    return {
        "l_size": len(L_SHAPE),
        "cifar_size": 32,
        "cifar_padding": 4,
        "cifar_versions": count_versions(4),
        "cifar_shifts": (2 * 4 + 1) ** 2,
        "demo_padding": 2,
        "demo_versions": count_versions(2),
        "demo_distinct": distinct_outputs(),
        "demo_draws": 1000,
    }


def main() -> None:
    # --8<-- [start:demo-ops]
    image = torch.tensor(L_SHAPE).view(1, 1, 5, 5)  # one 5 x 5 "image" of an L
    print(hflip(image)[0, 0])
    #> tensor([[0, 0, 0, 0, 1],
    #>         [0, 0, 0, 0, 1],
    #>         [0, 0, 0, 0, 1],
    #>         [0, 0, 1, 1, 1],
    #>         [0, 0, 0, 0, 0]])
    padded = F.pad(image, [1, 1, 1, 1])  # 7 x 7; a crop at (1, 1) would give the image back
    # A window one pixel up and left of the image: the L moves one pixel down and right.
    corner = torch.tensor([0])
    print(crop_at(padded, top=corner, left=corner, height=5, width=5)[0, 0])
    #> tensor([[0, 0, 0, 0, 0],
    #>         [0, 1, 0, 0, 0],
    #>         [0, 1, 0, 0, 0],
    #>         [0, 1, 0, 0, 0],
    #>         [0, 1, 1, 1, 0]])
    # --8<-- [end:demo-ops]

    # --8<-- [start:demo-augment]
    generator = torch.Generator().manual_seed(0)
    images, labels = torch.rand(8, 3, 32, 32, generator=generator), torch.arange(8)
    out, out_labels = augment(images, labels, padding=4, generator=generator)
    print(tuple(out.shape), torch.equal(out_labels, labels))
    #> (8, 3, 32, 32) True
    print("versions of one image:", count_versions(padding=4))
    #> versions of one image: 162
    print("different results in 1000 draws with padding 2:", distinct_outputs(1000, padding=2))
    #> different results in 1000 draws with padding 2: 50
    # --8<-- [end:demo-augment]


if __name__ == "__main__":
    main()
