"""Numbers in the prose: every ``[[module:key:fmt]]`` marker resolves against the snippet
that computes it, and a wrong marker fails loudly."""

import re
from pathlib import Path

import pytest

from docs_hooks import facts

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_marker_resolves(page):
    text = page.read_text(encoding="utf-8")
    filled = facts.fill(text)  # raises FactError on an unknown module, key or index
    assert not facts.FACT.search(filled)


def test_formatting_rules():
    assert facts.format_value([1.23456, -0.004], ".2f") == "[1.23, 0.00]"
    assert facts.format_value(10816, ",d") == "10,816"
    assert facts.format_value((5, 0, 7, 0), "") == "[5, 0, 7, 0]"


@pytest.mark.parametrize(
    "marker, message",
    [
        ("[[no_such.module:x]]", "no snippet module"),
        ("[[dropout:x]]", "has no facts()"),
        ("[[dropout.inverted:no_such_key]]", "has no 'no_such_key'"),
        ("[[dropout.inverted:h[3]]]", "cannot index"),
    ],
)
def test_a_wrong_marker_fails_the_build(marker, message):
    with pytest.raises(facts.FactError, match=re.escape(message)):
        facts.fill(f"text {marker} text")
