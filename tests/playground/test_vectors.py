"""The shared test vectors: committed JSON == a fresh generation, and the display and parsing
rules the widgets' JavaScript mirrors."""

import json
import re

import pytest

from snippets.playground import vectors


def test_committed_vectors_equal_a_fresh_generation():
    committed = vectors.JSON_PATH.read_text(encoding="utf-8")
    fresh = vectors.dumps(vectors.build())
    assert committed == fresh, "docs/assets/vectors.json is stale: run python -m tests.playground.write_vectors"


def test_dumps_is_json_with_flat_lists_on_one_line():
    value = {"a": [1, 2], "b": [{"c": [[0, 1], [1, 0]]}], "d": "é"}
    text = vectors.dumps(value)
    assert json.loads(text) == value
    assert '"a": [1, 2]' in text and "[0, 1]" in text and "é" in text


@pytest.mark.parametrize(
    "x, digits, shown",
    [
        (0.125, 2, "0.13"),  # an exact tie rounds away from zero, as toFixed does
        (-0.125, 2, "-0.13"),
        (2.5, 0, "3"),
        (1.005, 2, "1.00"),  # 1.005 is stored as 1.00499999999999989...
        (-0.00001, 4, "0.0000"),  # never "-0.0000"
        (-0.5, 4, "-0.5000"),
        (-10.0, 2, "-10.00"),
        (1 / 0.7, 2, "1.43"),
    ],
)
def test_display_rounds_like_javascript_to_fixed(x, digits, shown):
    assert vectors.display(x, digits) == shown


def test_python_format_would_round_the_tie_the_other_way():
    # The batch-norm page quotes this pair.
    assert (format(0.125, ".2f"), vectors.display(0.125, 2)) == ("0.12", "0.13")


@pytest.mark.parametrize(
    "text, value",
    [
        ("0.5", 0.5),
        (" 3 ", 3.0),
        ("-2", -2.0),
        (".5", 0.5),
        ("1e-5", 1e-5),
        ("+4.", 4.0),
        ("\u22120.5", -0.5),  # the minus sign the pages print
        ("1e\u22123", 1e-3),
    ],
)
def test_numbers_the_fields_accept(text, value):
    assert vectors.parse_number(text, "x") == value


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "x: enter a number"),
        ("abc", 'x: "abc" is not a number'),
        ("1,5", 'x: "1,5" has a decimal comma; write 1.5 with a point'),
        ("\u2212,5", 'x: "\u2212,5" has a decimal comma; write \u2212.5 with a point'),
        ("1,2,3", 'x: "1,2,3" is not a number'),
        ("\u2212\u22121", 'x: "\u2212\u22121" is not a number'),
        ("nan", 'x: "nan" is not a number'),
        ("1e999", "x: 1e999 is too large"),
    ],
)
def test_bad_numbers_get_a_message_naming_the_field(text, message):
    with pytest.raises(ValueError, match=message):
        vectors.parse_number(text, "x")


def test_batch_parsing():
    assert vectors.parse_batch("2, 4 ,6;8\n10") == [2, 4, 6, 8, 10]
    assert vectors.parse_batch("\u22121.5; 0,\t.5") == [-1.5, 0, 0.5]
    for text in ["", "4", " , "]:
        with pytest.raises(ValueError, match="Batch: enter at least two numbers"):
            vectors.parse_batch(text)


@pytest.mark.parametrize("text", ["1", "1.5", "-0.1", ""])
def test_bad_drop_probability(text):
    with pytest.raises(ValueError, match="^p: "):
        vectors.parse_drop_prob(text)


def test_other_fields():
    assert vectors.parse_drop_prob("0") == 0.0 and vectors.parse_drop_prob("0.95") == 0.95
    assert vectors.parse_positive("1e-5", "ε") == 1e-5
    assert vectors.parse_momentum("1") == 1.0 and vectors.parse_momentum("0") == 0.0
    assert vectors.parse_steps("1e1") == 10 and vectors.parse_steps("24") == 24
    with pytest.raises(ValueError, match="ε: must be greater than 0"):
        vectors.parse_positive("0", "ε")


def test_message_refuses_good_input():
    assert vectors.message(vectors.parse_steps, "1") == "Steps: enter a whole number from 2 to 24"
    with pytest.raises(AssertionError, match="accepted bad input"):
        vectors.message(vectors.parse_steps, "12")


def test_vectors_cover_what_the_widgets_must_show():
    built = vectors.build()
    bn, drop, masks = built["batchnorm"], built["dropout"], built["masks"]
    assert bn["steps"][0]["y"] == ["-1.6833", "0.1056", "1.8944", "3.6833"]  # the chapter's worked example
    assert len(bn["steps"]) >= 5 and len(bn["running"]) >= 2
    assert {case["mode"] for case in drop["masks"]} == {"element", "channel", "block"}
    assert {"0", "0.9"} <= {case["p"] for case in drop["masks"]}
    assert {b["input"] for b in drop["bad"]} >= {"", "half", "1"}
    assert masks["odds"][0] == {
        "p": "0.3",
        "steps": "12",
        "fresh_kept": "0.0138",
        "fresh_flips": "4.62",
        "locked_kept": "0.7000",
        "locked_flips": "0.00",
    }
    assert not any(s in json.dumps(built) for s in ("NaN", "Infinity"))


def test_output_values_are_zero_or_h_over_keep_probability():
    drop = vectors.build()["dropout"]
    for case in drop["masks"]:
        p = float(case["p"])
        for c, channel in enumerate(case["output"]):
            for i, row in enumerate(channel):
                for j, shown in enumerate(row):
                    h, r = drop["h"][c][i][j], case["mask"][c][i][j]
                    assert shown == vectors.display(h * r / (1 - p), 2)


@pytest.mark.parametrize(
    "text, joined",
    [("0,5", "0,5"), ("1, 2,5 3", "2,5"), ("1.25,75", "1.25,75"), ("1 2,3,4", "2,3")],
)
def test_a_comma_between_digits_in_a_batch_is_refused_as_ambiguous(text, joined):
    one, two = joined.replace(",", "."), joined.replace(",", ", ")
    with pytest.raises(ValueError, match=f'^Batch: "{joined}" is ambiguous; write {re.escape(one)} or {two}$'):
        vectors.parse_batch(text)


def test_the_batch_is_capped():
    most = " ".join(["1"] * vectors.MAX_BATCH)
    assert len(vectors.parse_batch(most)) == vectors.MAX_BATCH
    with pytest.raises(ValueError, match=r"^Batch: at most 64 values \(this has 10000\)$"):
        vectors.parse_batch(", ".join(["1"] * 10_000))
    # counted before any value is read: the message is about the length, not "x"
    with pytest.raises(ValueError, match="at most 64"):
        vectors.parse_batch("x " * 65)
