"""Test vectors shared by Python and the widgets' JavaScript: inputs, and
the exact text a widget must show."""

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import torch

from snippets.dropout.inverted import inverted_dropout
from snippets.playground import bn_steps, dropout_grid, time_masks

JSON_PATH = (
    Path(__file__).resolve().parents[2] / "docs" / "assets" / "vectors.json"
)


# --8<-- [start:display]
def display(x: float, digits: int) -> str:
    """The text a widget shows for x: JavaScript's x.toFixed(digits),
    without "-0.00"."""
    # toFixed rounds the exact binary value half away from zero; Decimal(x)
    # is that exact value.
    text = str(
        Decimal(x).quantize(
            Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP
        )
    )
    return (
        text[1:] if text.startswith("-") and not text.strip("-0.") else text
    )


# --8<-- [end:display]


# ASCII digits only, as in JavaScript (Python's \d would also accept other
# scripts' digits).
NUMBER = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
)
DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+")
# Two digits joined by a comma in a batch: 0,5 could be one value or two.
JOINED = re.compile(r"[0-9.]*[0-9],[0-9][0-9.]*")
MINUS = "\u2212"  # the minus sign the pages print, as in "−0.5"
MAX_BATCH = bn_steps.MAX_BATCH


# --8<-- [start:parse]
def parse_number(text: str, name: str) -> float:
    """What a widget accepts in a number field, with the message it shows
    otherwise."""
    typed = text.strip()
    text = typed.replace(MINUS, "-")  # −0.5 is -0.5
    if not text:
        raise ValueError(f"{name}: enter a number")
    if DECIMAL_COMMA.fullmatch(text):
        raise ValueError(
            f'{name}: "{typed}" has a decimal comma; '
            f"write {typed.replace(',', '.')} with a point"
        )
    if not NUMBER.fullmatch(text):
        raise ValueError(f'{name}: "{typed}" is not a number')
    value = float(text)
    if abs(value) > 1e6:
        raise ValueError(f"{name}: {typed} is too large (at most 1000000)")
    return value


def parse_batch(text: str) -> list[float]:
    joined = JOINED.search(text)
    if joined:
        one, two = joined[0].replace(",", "."), joined[0].replace(",", ", ")
        raise ValueError(
            f'Batch: "{joined[0]}" is ambiguous; write {one} or {two}'
        )
    tokens = [t for t in re.split(r"[\s,;]+", text.strip()) if t]
    if len(tokens) > MAX_BATCH:
        raise ValueError(
            f"Batch: at most {MAX_BATCH} values (this has {len(tokens)})"
        )
    values = [parse_number(token, "Batch") for token in tokens]
    if len(values) < 2:
        raise ValueError(
            "Batch: enter at least two numbers; "
            "one value has no spread to normalize"
        )
    return values


def parse_drop_prob(text: str) -> float:
    p = parse_number(text, "p")
    if not 0 <= p < 1:
        raise ValueError(
            "p: must be at least 0 and below 1 "
            "(p = 1 drops every unit and 1/(1 - p) is infinite)"
        )
    return p


# --8<-- [end:parse]


def parse_positive(text: str, name: str) -> float:
    value = parse_number(text, name)
    if not value > 0:
        raise ValueError(f"{name}: must be greater than 0")
    return value


def parse_momentum(text: str) -> float:
    value = parse_number(text, "Momentum")
    if not 0 <= value <= 1:
        raise ValueError("Momentum: must be between 0 and 1")
    return value


def parse_steps(text: str) -> int:
    value = parse_number(text, "Steps")
    if value != int(value) or not 2 <= value <= 24:
        raise ValueError("Steps: enter a whole number from 2 to 24")
    return int(value)


def message(parse, *args) -> str:
    try:
        parse(*args)
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{parse.__name__}{args} accepted bad input")


def batchnorm_vectors() -> dict:
    cases = [
        (bn_steps.X, bn_steps.GAMMA, bn_steps.BETA, bn_steps.EPS),
        ([1.5, -0.25, 3.0], 1.0, 0.0, 1e-5),
        # a constant batch: x_hat = 0, y = beta
        ([10, 10, 10, 10], 0.5, -2.0, 1e-3),
        ([0.1, 0.2, 0.4, 0.8, 1.6], -1.5, 0.25, 0.1),
        ([-3, 7], 3.0, 2.0, 1.0),
    ]
    texts = [
        (", ".join(f"{v:g}" for v in x), f"{g:g}", f"{b:g}", f"{e:g}")
        for x, g, b, e in cases
    ]
    # as a reader may type them: the pages' minus sign, semicolons
    texts.append(
        ("\u22121.5; 0, 2.25  \u22120.5", "\u22121", "0.5", "1e-3")
    )
    steps = []
    for x_text, gamma_text, beta_text, eps_text in texts:
        x = parse_batch(x_text)
        gamma, beta = (
            parse_number(gamma_text, "γ"),
            parse_number(beta_text, "β"),
        )
        eps = parse_positive(eps_text, "ε")
        out = bn_steps.calculator_steps(x, gamma, beta, eps)
        steps.append(
            {
                "x": x_text,
                "gamma": gamma_text,
                "beta": beta_text,
                "eps": eps_text,
                "mean": display(out["mean"].item(), 4),
                "var": display(out["var"].item(), 4),
                "centred": [display(v - out["mean"].item(), 4) for v in x],
                "x_hat": [display(v, 4) for v in out["x_hat"].tolist()],
                "y": [display(v, 4) for v in out["y"].tolist()],
            }
        )
    batches = [[2, 4, 6, 8], [1, 3], [5, 5.5, 6, 6.5, 7], [-1, 0, 4]]
    running = []
    for momentum in (0.1, 0.5):
        history = bn_steps.training_run(batches, momentum)
        running.append(
            {
                "batches": [
                    ", ".join(f"{v:g}" for v in b) for b in batches
                ],
                "momentum": f"{momentum:g}",
                "gamma": f"{bn_steps.GAMMA:g}",
                "beta": f"{bn_steps.BETA:g}",
                "eps": f"{bn_steps.EPS:g}",
                "running_mean": [display(m.item(), 4) for m, _ in history],
                "running_var": [display(v.item(), 4) for _, v in history],
                "eval_y": [
                    display(v, 4)
                    for v in bn_steps.calculator_eval(
                        batches[-1],
                        *history[-1],
                        bn_steps.GAMMA,
                        bn_steps.BETA,
                        bn_steps.EPS,
                    ).tolist()
                ],
            }
        )
    bad = [
        ("batch", text, message(parse_batch, text))
        for text in ["", "  ", "1, two, 3", "4", "1, 1e9", "0,5", "1 " * 65]
    ]
    bad += [
        ("gamma", text, message(parse_number, text, "γ"))
        for text in ["", "abc", "0,5", "\u22120,5", "- 1"]
    ]
    bad += [
        ("eps", text, message(parse_positive, text, "ε"))
        for text in ["0", "-1e-5"]
    ]
    bad += [
        ("momentum", text, message(parse_momentum, text))
        for text in ["1.5", "x"]
    ]
    return {
        "steps": steps,
        "running": running,
        "bad": [dict(zip(("field", "input", "message"), b)) for b in bad],
    }


def dropout_vectors() -> dict:
    h = dropout_grid.feature_map()
    cases = [
        ("element", 0.5, 1),
        ("channel", 0.25, 2),
        ("block", 0.3, 3),
        ("element", 0.0, 4),
        ("element", 0.9, 5),
    ]
    masks = []
    for mode, p, seed in cases:
        mask = dropout_grid.sample_mask(
            mode, h.shape, p, torch.Generator().manual_seed(seed)
        )
        masks.append(
            {
                "mode": mode,
                "p": f"{p:g}",
                "mask": mask.int().tolist(),
                "scale": display(1 / (1 - p), 2),
                "gamma": display(
                    dropout_grid.block_seed_rate(p, dropout_grid.BLOCK), 4
                ),
                "kept": int(mask.sum().item()),
                "output": [
                    [[display(v, 2) for v in row] for row in channel]
                    for channel in inverted_dropout(h, mask, p).tolist()
                ],
            }
        )
    bad = [
        ("p", text, message(parse_drop_prob, text))
        for text in ["", "half", "1", "1.5", "-0.1", "\u22120.1", "0,5"]
    ]
    return {
        "h": h.tolist(),
        "channels": dropout_grid.CHANNELS,
        "block": dropout_grid.BLOCK,
        "masks": masks,
        "bad": [dict(zip(("field", "input", "message"), b)) for b in bad],
    }


def masks_vectors() -> dict:
    odds = []
    for p, steps in [(0.3, 12), (0.5, 2), (0.1, 24), (0.0, 5), (0.95, 10)]:
        odds.append(
            {
                "p": f"{p:g}",
                "steps": str(steps),
                **{
                    f"{kind}_{name}": display(
                        fn(p, steps, locked=kind == "locked"), digits
                    )
                    for kind in ("fresh", "locked")
                    for name, fn, digits in (
                        ("kept", time_masks.kept_throughout, 4),
                        ("flips", time_masks.expected_flips, 2),
                    )
                },
            }
        )
    bad = [
        ("p", text, message(parse_drop_prob, text)) for text in ["", "1"]
    ]
    bad += [
        ("steps", text, message(parse_steps, text))
        for text in ["", "1", "2.5", "100", "ten"]
    ]
    return {
        "units": time_masks.UNITS,
        "odds": odds,
        "bad": [dict(zip(("field", "input", "message"), b)) for b in bad],
    }


def build() -> dict:
    return {
        "batchnorm": batchnorm_vectors(),
        "dropout": dropout_vectors(),
        "masks": masks_vectors(),
    }


def dumps(value, indent: str = "") -> str:
    """JSON with every list of plain values on one line: the committed file
    diffs readably."""
    inner = indent + " "
    if isinstance(value, dict):
        items = [
            f"{inner}{json.dumps(k)}: {dumps(v, inner)}"
            for k, v in value.items()
        ]
        text = "{\n" + ",\n".join(items) + "\n" + indent + "}"
    elif isinstance(value, list) and any(
        isinstance(v, (list, dict)) for v in value
    ):
        text = (
            "[\n"
            + ",\n".join(inner + dumps(v, inner) for v in value)
            + "\n"
            + indent
            + "]"
        )
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text + ("\n" if not indent else "")


def main() -> None:
    # --8<-- [start:demo]
    # as JavaScript shows them
    print(display(0.125, 2), display(-0.125, 2), display(-0.00001, 4))
    #> 0.13 -0.13 0.0000
    print(message(parse_drop_prob, "0,5"))
    #> p: "0,5" has a decimal comma; write 0.5 with a point
    print(parse_batch("2, \u22120.5; 4"))
    #> [2.0, -0.5, 4.0]
    print(message(parse_batch, "2,5 1"))
    #> Batch: "2,5" is ambiguous; write 2.5 or 2, 5
    vectors = build()
    for widget, table in vectors.items():
        cases = {
            name: len(v)
            for name, v in table.items()
            if isinstance(v, list) and isinstance(v[0], dict)
        }
        print(widget, cases)
        #> batchnorm {'steps': 6, 'running': 2, 'bad': 16}
        #> dropout {'masks': 5, 'bad': 7}
        #> masks {'odds': 5, 'bad': 7}
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
