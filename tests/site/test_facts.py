"""Numbers in the prose: every ``[[module:key:fmt]]`` marker resolves against the snippet
that computes it, and a wrong marker fails loudly."""

import re
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from docs_hooks import facts

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_marker_resolves(page):
    text = page.read_text(encoding="utf-8")
    filled = facts.fill(text, page=page.relative_to(DOCS).as_posix())  # raises FactError naming the page
    assert not facts.FACT.search(filled)


def test_formatting_rules():
    assert facts.format_value([1.23456, -0.004], ".2f") == "[1.23, 0.00]"
    assert facts.format_value(10816, ",d") == "10,816"
    assert facts.format_value((5, 0, 7, 0), "") == "[5, 0, 7, 0]"


@pytest.mark.parametrize(
    "marker, message",
    [
        ("[[no_such.module:x]]", "no snippet module snippets.no_such.module"),
        ("[[dropout:x]]", "snippets.dropout has no facts()"),
        ("[[dropout.inverted:no_such_key]]", "snippets.dropout.inverted.facts() has no 'no_such_key'"),
        ("[[dropout.inverted:expectd]]", "; closest: "),
        ("[[dropout.inverted:h[3]]]", "cannot index h"),
        ("[[dropout.inverted:h:.2q]]", "bad format spec '.2q' for h"),
        ("[[dropout.inverted:p:,d]]", "bad format spec ',d' for p"),
        ("[[Dropout.inverted:h]]", "not a fact marker"),
        ("[[dropout.inverted:h-x]]", "not a fact marker"),
    ],
)
def test_a_wrong_marker_fails_naming_page_and_marker(marker, message):
    """What the build prints: the page, the marker as written, what is wrong, and no traceback
    (a PluginError is logged by MkDocs as one line)."""
    with pytest.raises(facts.FactError) as caught:
        facts.fill(f"text {marker} text", page="dropout/typo.md")
    assert str(caught.value).startswith(f"dropout/typo.md: {marker}: ")
    assert message in str(caught.value)
    assert isinstance(caught.value, PluginError)


def test_an_index_out_of_range_names_the_length(tmp_chapter):
    tmp_chapter.write("lists.py", "def facts():\n    return {'sizes': [3, 4]}\n")
    assert facts.fill(tmp_chapter.marker("lists", "sizes[1]:d")) == "4"
    marker = tmp_chapter.marker("lists", "sizes[2]")
    with pytest.raises(facts.FactError, match=re.escape(f"p.md: {marker}: index 2 out of range: sizes has 2 items")):
        facts.fill(marker, page="p.md")


@pytest.mark.parametrize(
    "source, message",
    [
        ("def facts():\n    return 1 / 0\n", "facts() raised ZeroDivisionError: division by zero (at "),
        ("def facts():\n    return [1]\n", "facts() returned a list, not a dict"),
        ("import no_such_dependency\ndef facts():\n    return {}\n",
         "importing it raised ModuleNotFoundError: No module named 'no_such_dependency'"),
        ("def facts(:\n", "importing it raised SyntaxError"),
        ("FACTS = {}\n", "has no facts() function"),
    ],
)
def test_a_broken_snippet_fails_naming_page_and_marker(tmp_chapter, source, message):
    tmp_chapter.write("broken.py", source)
    marker = tmp_chapter.marker("broken", "x")
    with pytest.raises(facts.FactError) as caught:
        facts.fill(f"a {marker} b", page="chapter/broken.md")
    assert str(caught.value).startswith(f"chapter/broken.md: {marker}: snippets.{tmp_chapter.name}.broken")
    assert message in str(caught.value)
    if "(at " in message:
        assert f"{tmp_chapter.name}/broken.py:2 in facts)" in str(caught.value)


def test_an_unknown_key_suggests_the_closest_ones():
    with pytest.raises(facts.FactError) as caught:
        facts.fill("[[dropout.inverted:expectd:.1f]]", page="dropout/inverted.md")
    closest = str(caught.value).split("; closest: ")[1].split(";")[0]
    assert "'inverted_expected'" in closest and "'plain_expected'" in closest
