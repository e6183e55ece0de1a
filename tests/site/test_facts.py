"""Numbers in the prose: every ``[[module:key:fmt]]`` marker resolves against the snippet
that computes it, and a wrong marker fails loudly."""

import re
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from docs_hooks import facts
from docs_hooks.prebuild import GENERATED_PAGES

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if p.relative_to(DOCS).as_posix() not in GENERATED_PAGES)
# Every page's markers are resolved in test_build.py, beside the build that shares the facts.


def test_formatting_rules():
    assert facts.format_value([1.23456, -0.004], ".2f") == "[1.23, 0.00]"
    assert facts.format_value(10816, ",d") == "10,816"
    assert facts.format_value((5, 0, 7, 0), "") == "[5, 0, 7, 0]"


@pytest.mark.parametrize(
    "marker, message",
    [
        ("[[no_such.module:x]]", "no snippet module snippets.no_such.module"),
        ("[[dropout:x]]", "no module: name it, [[chapter.topic:dropout:x]]"),
        ("[[h]]", "or declare the page's default, <!-- facts: chapter.topic -->"),
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
        (
            "import no_such_dependency\ndef facts():\n    return {}\n",
            "importing it raised ModuleNotFoundError: No module named 'no_such_dependency'",
        ),
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


def test_a_page_default_module_serves_the_short_markers():
    long = facts.fill("h = [[dropout.inverted:h:.0f]], p = [[dropout.inverted:p]].")
    page = "<!-- facts: dropout.inverted -->\nh = [[h:.0f]], p = [[p]]."
    assert facts.fill(page) == "\n" + long
    assert facts.fill("h = [[h:.0f]], p = [[p]].", default="dropout.inverted") == long
    assert (
        facts.fill("[[dropout.inverted:h:.1f]]", default="dropout.pytorch")
        == f"{facts.facts_of('dropout.inverted')['h']:.1f}"
    )


def test_a_short_marker_error_names_the_page_default():
    with pytest.raises(
        facts.FactError, match=r"the page of <!-- facts: dropout.inverted -->: \[\[hh\]\]: .*has no 'hh'"
    ):
        facts.fill("<!-- facts: dropout.inverted -->\n[[hh]]")


@pytest.mark.parametrize(
    "page, message",
    [
        ("<!-- facts: Dropout -->", "not a module"),
        ("<!-- facts: dropout.inverted -->\n<!-- facts: dropout.pytorch -->", "declared 2 times"),
    ],
)
def test_a_wrong_default_declaration_is_refused(page, message):
    with pytest.raises(facts.FactError, match=message):
        facts.fill(page)


def test_markers_of_another_module_keep_the_long_form():
    """A page's default serves only its own module: a marker of another names its module."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        default = facts.default_module(text)
        for m in facts.FACT.finditer(text):
            assert m["module"] != default, f"{page.name}: {m[0]} can drop its module"
