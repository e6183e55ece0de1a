"""Data augmentation with plain tensor ops: random horizontal flips and
random crops of a padded image."""

import numbers

import torch
import torch.nn.functional as F


def as_batch(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) as it is; one (C, H, W) image as a batch of one."""
    if not isinstance(images, torch.Tensor) or images.dim() not in (3, 4):
        shape = (
            tuple(images.shape)
            if isinstance(images, torch.Tensor)
            else type(images)
        )
        raise ValueError(
            f"images must be (C, H, W) or (N, C, H, W), got {shape}"
        )
    return images if images.dim() == 4 else images.unsqueeze(0)


def check_padding(padding) -> None:
    if isinstance(padding, bool) or not isinstance(
        padding, numbers.Integral
    ):
        raise TypeError(f"padding must be an int, got padding={padding!r}")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got padding={padding}")


# --8<-- [start:flip]
def hflip(images: torch.Tensor) -> torch.Tensor:
    """Mirror left-right: reverse the width axis, the last one."""
    return images.flip(-1)


def random_hflip(images: torch.Tensor, generator=None) -> torch.Tensor:
    """Flip each image of an (N, C, H, W) batch with probability 1/2,
    independently; a single (C, H, W) image gets one coin."""
    batch = as_batch(images)
    # The coins live on the images' device (a CPU mask would not do).
    coins = torch.rand(
        batch.shape[0], generator=generator, device=images.device
    )
    flip = (coins < 0.5)[:, None, None, None]
    return torch.where(flip, hflip(batch), batch).reshape(images.shape)


# --8<-- [end:flip]


# --8<-- [start:crop]
def crop_at(
    padded: torch.Tensor,
    top: torch.Tensor,
    left: torch.Tensor,
    height: int,
    width: int,
) -> torch.Tensor:
    """Cut a height x width window out of every image of the batch, image
    n at (top[n], left[n]), in one indexing operation (no Python loop)."""
    n, c, dev = padded.shape[0], padded.shape[1], padded.device
    rows = top[:, None] + torch.arange(height, device=dev)  # (N, H)
    cols = left[:, None] + torch.arange(width, device=dev)  # (N, W)
    batch = torch.arange(n, device=dev)[:, None, None, None]
    chans = torch.arange(c, device=dev)[None, :, None, None]
    rows, cols = rows[:, None, :, None], cols[:, None, None, :]
    return padded[batch, chans, rows, cols]


def random_crop(
    images: torch.Tensor, padding: int, generator=None
) -> torch.Tensor:
    """Pad with zeros, crop back to H x W at a random place: a random shift
    by up to `padding` pixels each way. Nothing wraps around."""
    check_padding(padding)
    batch = as_batch(images)
    n, _, height, width = batch.shape
    padded = F.pad(batch, [padding] * 4)
    top, left = torch.randint(
        0,
        2 * padding + 1,
        (2, n),
        generator=generator,
        device=images.device,
    )
    out = crop_at(padded, top, left, height, width)
    # Keep the input's memory format (channels-last stays channels-last).
    return torch.empty_like(batch).copy_(out).reshape(images.shape)


# --8<-- [end:crop]


# --8<-- [start:augment]
def augment(
    images: torch.Tensor,
    labels: torch.Tensor,
    padding: int = 4,
    generator=None,
):
    """Training-time augmentation of a batch: flip, then shift. The labels
    come back as they went in: a mirrored, slightly moved cat is a cat."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(
            "images must be a batch (N, C, H, W), got shape "
            f"{tuple(getattr(images, 'shape', ()))}"
        )
    if labels.shape[:1] != images.shape[:1]:
        raise ValueError(
            f"labels must have one entry per image, got "
            f"{labels.shape[0]} for {images.shape[0]} images"
        )
    flipped = random_hflip(images, generator)
    return random_crop(flipped, padding, generator), labels


# --8<-- [end:augment]


# --8<-- [start:repeats]
def count_versions(padding: int) -> int:
    """How many versions one image can become: 2 flips x (2p + 1)^2 shifts,
    all equally likely with augment()."""
    check_padding(padding)
    return 2 * (2 * padding + 1) ** 2


def repeat_probability(versions: int, epochs: int) -> float:
    """Chance that one image is shown the same version twice within
    `epochs` epochs: the birthday problem with `versions` days."""
    if versions < 1 or epochs < 0:
        raise ValueError(
            f"need versions >= 1 and epochs >= 0, got "
            f"versions={versions}, epochs={epochs}"
        )
    distinct = 1.0
    for seen in range(epochs):
        distinct *= max(0.0, 1 - seen / versions)
    return 1 - distinct


def epochs_until_likely_repeat(versions: int) -> int:
    """The first epoch count at which a repeat is more likely than not."""
    epochs = 1
    while repeat_probability(versions, epochs) < 0.5:
        epochs += 1
    return epochs


# --8<-- [end:repeats]


def distinct_outputs(
    draws: int = 1000, padding: int = 2, seed: int = 0
) -> int:
    """Augment one random 3 x 8 x 8 image `draws` times and count the
    different results."""
    generator = torch.Generator().manual_seed(seed)
    # no zeros: every shift is visible
    image = torch.rand(1, 3, 8, 8, generator=generator) + 0.1
    out, _ = augment(
        image.expand(draws, -1, -1, -1),
        torch.zeros(draws),
        padding,
        generator,
    )
    return torch.unique(out.flatten(1), dim=0).shape[0]


L_SHAPE = [
    [1, 0, 0, 0, 0],
    [1, 0, 0, 0, 0],
    [1, 0, 0, 0, 0],
    [1, 1, 1, 0, 0],
    [0, 0, 0, 0, 0],
]


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
        "repeat_epochs": epochs_until_likely_repeat(count_versions(4)),
        "late_epochs": 30,
        "repeat_p30": repeat_probability(count_versions(4), 30),
        "cifar_train": 50_000,
        "second_epoch_repeats": 50_000 / count_versions(4),
    }


def main() -> None:
    # --8<-- [start:demo-ops]
    # one 5 x 5 "image" of an L
    image = torch.tensor(L_SHAPE).view(1, 1, 5, 5)
    print(hflip(image)[0, 0])
    #> tensor([[0, 0, 0, 0, 1],
    #>         [0, 0, 0, 0, 1],
    #>         [0, 0, 0, 0, 1],
    #>         [0, 0, 1, 1, 1],
    #>         [0, 0, 0, 0, 0]])
    # 7 x 7; a crop at (1, 1) would give the image back.
    padded = F.pad(image, [1, 1, 1, 1])
    # A window one pixel up and left of the image: the L moves one pixel
    # down and right.
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
    images = torch.rand(8, 3, 32, 32, generator=generator)
    labels = torch.arange(8)
    out, out_labels = augment(
        images, labels, padding=4, generator=generator
    )
    print(tuple(out.shape), torch.equal(out_labels, labels))
    #> (8, 3, 32, 32) True
    print("versions of one image:", count_versions(padding=4))
    #> versions of one image: 162
    print(
        "different results in 1000 draws with padding 2:",
        distinct_outputs(1000, padding=2),
    )
    #> different results in 1000 draws with padding 2: 50
    # --8<-- [end:demo-augment]

    # --8<-- [start:demo-repeats]
    versions = count_versions(padding=4)
    for epochs in (2, 10, 16, 30):
        p = repeat_probability(versions, epochs)
        print(f"{epochs:>2} epochs: a version shown twice with p = {p:.3f}")
        #>  2 epochs: a version shown twice with p = 0.006
        #> 10 epochs: a version shown twice with p = 0.247
        #> 16 epochs: a version shown twice with p = 0.535
        #> 30 epochs: a version shown twice with p = 0.943
    print("likely after", epochs_until_likely_repeat(versions), "epochs")
    #> likely after 16 epochs
    # --8<-- [end:demo-repeats]


if __name__ == "__main__":
    main()
