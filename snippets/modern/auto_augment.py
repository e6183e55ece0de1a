"""RandAugment and TrivialAugment with kornia: what each operation does
to a digit, the magnitude scale, and the same images under a seed."""

import torch

from snippets.cnn.dropout2d import FIGURE_STYLE, save_svg

FIGURE_M = 20  # the magnitude the figure shows, of kornia's 0 .. 30
DIGIT_INDEX = 2  # the third of scikit-learn's digits: a 2
# Four seeds whose TrivialAugment draws differ: a vertical shift, auto
# contrast, a rotation and solarize (seeds 2 and 3 repeat two of them)
TRIVIAL_SEEDS = (0, 1, 4, 9)


def digit_images(count: int = 8) -> torch.Tensor:
    """The first `count` of scikit-learn's 8x8 digits, (N, 1, 8, 8), in
    [0, 1]: kornia's intensity operations expect that range."""
    from sklearn.datasets import load_digits

    images = torch.tensor(load_digits().images[:count]) / 16.0
    return images.float().unsqueeze(1)


# --8<-- [start:policy]
def grey_policy() -> list:
    """kornia's RandAugment operations without "color" (saturation),
    which raises on a one-channel image: 14 of its 15."""
    from kornia.augmentation.auto.rand_augment import rand_augment

    return [
        sub for sub in rand_augment.default_policy if sub[0][0] != "color"
    ]


def op_names(policy: list) -> list[str]:
    return [sub[0][0] for sub in policy]


# --8<-- [end:policy]


# --8<-- [start:one-op]
def apply_op(images: torch.Tensor, name: str, m: int, seed: int = 0):
    """One of the grey operations at magnitude m, on every image."""
    from kornia.augmentation.auto import RandAugment

    (sub,) = [s for s in grey_policy() if s[0][0] == name]
    with torch.random.fork_rng(devices=[]):  # leaves the caller's RNG
        torch.manual_seed(seed)  # kornia draws from torch's global RNG
        return RandAugment(n=1, m=m, policy=[sub])(images)


# --8<-- [end:one-op]


# --8<-- [start:magnitude]
NO_MAGNITUDE = ("auto_contrast", "equalize", "invert")


def kornia_magnitude(name: str, low: float, high: float, m: int):
    """The strength kornia's RandAugment gives an operation with range
    (low, high) at magnitude m of 30, as read in its source: linear,
    posterize backwards (fewer bits for larger m), a symmetric range
    (-a, a) as a in size with a random sign, and a shear in degrees."""
    if not 0 < m < 30:
        raise ValueError(f"m must lie strictly between 0 and 30, got {m}")
    if name in NO_MAGNITUDE:  # kornia ignores their ranges
        return None
    share = m / 30
    if name == "posterize":  # bits kept: int() truncates
        return int(high - (high - low) * share)
    if low == -high:  # rotate, shear, translate: 0 .. a, random sign
        low = 0.0
    value = low + (high - low) * share
    return value * 180 if name.startswith("shear") else value


# --8<-- [end:magnitude]


# --8<-- [start:rand-augment]
def rand_augment(images, n: int, m: int, seed: int):
    """RandAugment on a batch of grey images under a seed; returns the
    images and the names of the operations kornia drew."""
    from kornia.augmentation.auto import RandAugment

    augment = RandAugment(n=n, m=m, policy=grey_policy())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        out = augment(images)
    return out, drawn_ops(augment)


def drawn_ops(augment) -> list[str]:
    """The operations of the last call, from the parameters kornia keeps
    (augment._params): 'PolicySequential_3' holds 'Rotate_0', ..."""
    return [step.data[0].name.split("_")[0] for step in augment._params]


# --8<-- [end:rand-augment]


# --8<-- [start:trivial]
def trivial_augment(images: torch.Tensor, seed: int, per_image=True):
    """TrivialAugment: one operation at a uniformly drawn strength. The
    paper draws both afresh for every image; kornia draws the operation
    once per call, so per_image=True calls it on one image at a time."""
    from kornia.augmentation.auto import TrivialAugment

    augment = TrivialAugment()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if not per_image:  # one operation for the batch (cheaper)
            return augment(images)
        return torch.cat([augment(image[None]) for image in images])


# --8<-- [end:trivial]


# --8<-- [start:torchvision]
def with_torchvision(images_uint8: torch.Tensor):
    """The same with torchvision (installed with its matching torch; not
    a dependency of this site). Its v2 transforms take uint8 images."""
    from torchvision.transforms import v2

    rand = v2.RandAugment(num_ops=2, magnitude=9)  # of 31 bins: 0 .. 30
    trivial = v2.TrivialAugmentWide()  # nothing to set
    return rand(images_uint8), trivial(images_uint8)


# --8<-- [end:torchvision]


# --8<-- [start:exercise]
def ordered_choices(k: int, n: int, replace: bool) -> int:
    """How many ordered lists of n operations out of k exist: k ** n
    with repeats (the paper's np.random.choice), k! / (k - n)! without
    (kornia's randperm)."""
    if not replace and n > k:
        return 0
    count = 1
    for i in range(n):
        count *= k if replace else k - i
    return count


# --8<-- [end:exercise]


def changed(images: torch.Tensor, name: str, m: int) -> bool:
    """Whether the operation changes any pixel of any of the images."""
    return not torch.equal(apply_op(images, name, m), images)


def save_figure(path) -> None:
    """Top: one digit and each grey RandAugment operation at FIGURE_M.
    Bottom row: four TrivialAugment draws on the same digit."""
    import matplotlib
    from matplotlib.figure import Figure

    digit = digit_images(DIGIT_INDEX + 1)[DIGIT_INDEX : DIGIT_INDEX + 1]
    panels = [("original", digit)]
    panels += [
        (name.replace("_", " "), apply_op(digit, name, FIGURE_M))
        for name in op_names(grey_policy())
    ]
    panels += [("", None)]  # an empty cell ends the grid of operations
    panels += [
        (f"seed {seed}", trivial_augment(digit, seed=seed))
        for seed in TRIVIAL_SEEDS
    ]
    with matplotlib.rc_context(FIGURE_STYLE):
        # Fixed positions, no layout engine: the bytes do not depend on
        # the text measurements a solver would start from.
        fig = Figure(figsize=(4.8, 7.0))
        grid = fig.add_gridspec(
            6,
            4,
            height_ratios=[1, 1, 1, 1, 0.35, 1],
            left=0.02,
            right=0.98,
            top=0.92,
            bottom=0.01,
            wspace=0.15,
            hspace=0.35,
        )
        rows = [0, 1, 2, 3, 5]
        axes = [fig.add_subplot(grid[r, c]) for r in rows for c in range(4)]
        fig.text(
            0.5,
            0.965,
            f"RandAugment operations at m = {FIGURE_M} of 30",
            ha="center",
            fontsize=12,
        )
        fig.text(
            0.5,
            0.19,
            "TrivialAugment: four seeds",
            ha="center",
            fontsize=12,
        )
        for ax, (title, image) in zip(axes, panels):
            ax.set_axis_off()  # no frame: fewer bytes, the image is one
            if image is None:
                continue
            ax.set_gid(f"panel-{title.replace(' ', '-')}")
            ax.imshow(
                image[0, 0].numpy(),
                cmap="gray_r",
                vmin=0.0,
                vmax=1.0,
                interpolation="nearest",
            )
            ax.set_title(title, fontsize=10)
        save_svg(fig, path)


def facts() -> dict:
    policy = grey_policy()
    digits = digit_images(64)
    from kornia.augmentation.auto.trivial_augment import trivial_augment

    return {
        "n_ops": len(policy) + 1,
        "n_grey_ops": len(policy),
        "n_trivial_ops": len(trivial_augment.default_policy),
        "figure_m": FIGURE_M,
        "identity_at_15": [
            name
            for name in ("brightness", "contrast", "sharpness")
            if not changed(digits, name, 15)
        ],
        "equalize_changes": changed(digits, "equalize", FIGURE_M),
        "with_repeats": ordered_choices(14, 2, replace=True),
        "without_repeats": ordered_choices(14, 2, replace=False),
    }


def main() -> None:
    # --8<-- [start:demo-magnitude]
    print(f"{'operation':13} {'range':12} m = 5   m = 15  m = 25")
    #> operation     range        m = 5   m = 15  m = 25
    for sub in grey_policy():
        name, low, high = sub[0]
        strengths = [
            kornia_magnitude(name, low, high, m) for m in (5, 15, 25)
        ]
        cells = ["-" if s is None else f"{s:.3g}" for s in strengths]
        span = f"({low:g}, {high:g})"
        print(f"{name:13} {span:12} " + " ".join(f"{c:7}" for c in cells))
        #> auto_contrast (0, 1)       -       -       -
        #> equalize      (0, 1)       -       -       -
        #> invert        (0, 1)       -       -       -
        #> rotate        (-30, 30)    5       15      25
        #> posterize     (4, 8)       7       6       4
        #> solarize      (0, 1)       0.167   0.5     0.833
        #> solarize_add  (0, 0.43)    0.0717  0.215   0.358
        #> contrast      (0.1, 1.9)   0.4     1       1.6
        #> brightness    (0.1, 1.9)   0.4     1       1.6
        #> sharpness     (0.1, 1.9)   0.4     1       1.6
        #> shear_x       (-0.3, 0.3)  9       27      45
        #> shear_y       (-0.3, 0.3)  9       27      45
        #> translate_x   (-0.1, 0.1)  0.0167  0.05    0.0833
        #> translate_y   (-0.1, 0.1)  0.0167  0.05    0.0833
    # --8<-- [end:demo-magnitude]

    # --8<-- [start:demo-rand]
    images = digit_images(4)
    out, ops = rand_augment(images, n=2, m=9, seed=0)
    again, ops_again = rand_augment(images, n=2, m=9, seed=0)
    print(ops, torch.equal(out, again) and ops == ops_again)
    #> ['Posterize', 'Rotate'] True
    other, other_ops = rand_augment(images, n=2, m=9, seed=1)
    print(other_ops, torch.equal(out, other))
    #> ['Contrast', 'ShearX'] False
    # --8<-- [end:demo-rand]

    # --8<-- [start:demo-trivial]
    one = trivial_augment(images, seed=3)
    print(torch.equal(one, trivial_augment(images, seed=3)))
    #> True
    print(tuple(one.shape), f"{one.min():.2f} .. {one.max():.2f}")
    #> (4, 1, 8, 8) 0.00 .. 1.00
    # --8<-- [end:demo-trivial]

    # --8<-- [start:demo-exercise]
    print(ordered_choices(14, 2, replace=True))
    #> 196
    print(ordered_choices(14, 2, replace=False))
    #> 182
    # --8<-- [end:demo-exercise]


if __name__ == "__main__":
    main()
