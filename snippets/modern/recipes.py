"""Published training recipes: which regularizers, how strong - each
value with the place it was read."""

NOT_STATED = "not stated"

EFFICIENTNET = (
    "Tan & Le 2019, arXiv:1905.11946, section 5.2 (read in a text copy "
    "of the paper)"
)
CONVNEXT = (
    "facebookresearch/ConvNeXt at commit 048efce: main.py defaults and "
    "the ImageNet-1K commands of TRAINING.md"
)
DEIT = (
    "Touvron et al. 2021, arXiv:2012.12877, Table 9 and the EMA paragraph "
    "(read in a text copy of the paper)"
)

COLUMNS = (
    "stochastic depth",
    "mixup α",
    "CutMix α",
    "label smoothing",
    "RandAugment",
    "EMA decay",
    "weight decay",
    "dropout",
)

# --8<-- [start:recipes]
# One entry per recipe: where it was read, and each setting as it reads
# there (NOT_STATED where that source gives none).
RECIPES = {
    "EfficientNet-B0 to B7": {
        "source": EFFICIENTNET,
        "stochastic depth": "0.2 (survival probability 0.8)",
        "mixup α": NOT_STATED,
        "CutMix α": NOT_STATED,
        "label smoothing": NOT_STATED,
        "RandAugment": "none: a fixed AutoAugment policy",
        "EMA decay": NOT_STATED,
        "weight decay": "1e-5 (RMSProp)",
        "dropout": "0.2 (B0) rising linearly to 0.5 (B7)",
    },
    "ConvNeXt, ImageNet-1K": {
        "source": CONVNEXT,
        "stochastic depth": "0.1 (T), 0.4 (S), 0.5 (B, L)",
        "mixup α": "0.8",
        "CutMix α": "1.0",
        "label smoothing": "0.1",
        "RandAugment": "rand-m9-mstd0.5-inc1 (timm: magnitude 9)",
        "EMA decay": "0.9999 (--model_ema true)",
        "weight decay": "0.05 (AdamW)",
        "dropout": NOT_STATED,
    },
    "DeiT-B": {
        "source": DEIT,
        "stochastic depth": "0.1",
        "mixup α": "0.8 (as 'Mixup prob.')",
        "CutMix α": "1.0 (as 'Cutmix prob.')",
        "label smoothing": "0.1",
        "RandAugment": "9/0.5",
        "EMA decay": "not stated (EMA evaluated: +0.1 points)",
        "weight decay": "0.05 (AdamW)",
        "dropout": "none",
    },
}
# --8<-- [end:recipes]


def check_recipes(recipes: dict = RECIPES) -> None:
    """Every recipe names its source and gives every column."""
    for name, recipe in recipes.items():
        missing = [c for c in ("source", *COLUMNS) if not recipe.get(c)]
        if missing:
            raise ValueError(f"{name}: no {', '.join(missing)}")


def markdown_table(recipes: dict = RECIPES) -> list[list[str]]:
    """The table as rows of cells: a header, then one row per setting
    with one cell per recipe."""
    check_recipes(recipes)
    rows = [["setting", *recipes]]
    for column in COLUMNS:
        rows.append([column, *(r[column] for r in recipes.values())])
    return rows


def main() -> None:
    # --8<-- [start:demo]
    for name, recipe in RECIPES.items():
        print(f"{name}: {recipe['stochastic depth']}")
        #> EfficientNet-B0 to B7: 0.2 (survival probability 0.8)
        #> ConvNeXt, ImageNet-1K: 0.1 (T), 0.4 (S), 0.5 (B, L)
        #> DeiT-B: 0.1
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
