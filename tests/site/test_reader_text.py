"""The pages speak to their readers: no reference to a text they never saw, the proof of each
page one click away (a collapsed "How this page is tested" box) rather than a lesson heading,
and the playground's files loaded only by the pages that hold a widget."""

import re
from pathlib import Path

import pytest

from tests.site.test_pages import pages

# Untraced (tests/conftest.py): the pages' text, not snippets/.
pytestmark = pytest.mark.untraced

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FRONT_MATTER = re.compile(r"\A---\n(?P<body>.*?)\n---\n", re.DOTALL)


def rel(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


def front_matter(text: str) -> dict[str, str]:
    m = FRONT_MATTER.match(text)
    lines = m["body"].splitlines() if m else []
    return dict(line.split(":", 1) for line in lines if ":" in line and not line.startswith(" "))


# ---------------------------------------------------------------- text for readers

# A reader never saw the text this site was first written from: a correction is a common
# misconception, named with the sources that make it.
UNSEEN = re.compile(r"original lesson|grew from|lesson this site|(?:seed|source) lesson", re.IGNORECASE)
TESTS_HEADING = re.compile(r"^#{1,6}\s*What the tests check", re.IGNORECASE | re.MULTILINE)
TESTED_BOX = '??? note "How this page is tested"'


def shown_snippets() -> list[Path]:
    return sorted(p for p in (ROOT / "snippets").rglob("*.py"))


@pytest.mark.parametrize("path", pages() + shown_snippets(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_reference_to_a_text_the_reader_never_saw(path):
    text = path.read_text(encoding="utf-8")
    found = [line.strip() for line in text.splitlines() if UNSEEN.search(line)]
    assert not found, f"{path.relative_to(ROOT)}: {found}"


def outside_tested_box(text: str) -> list[str]:
    """The lines of a page that are not inside a collapsed "How this page is tested" box."""
    outside, inside = [], False
    for line in text.splitlines():
        if line.startswith(("??? ", "???+ ")):
            inside = line == TESTED_BOX
            continue
        if inside and line.strip() and not line.startswith("    "):
            inside = False
        if not inside:
            outside.append(line)
    return outside


@pytest.mark.parametrize("page", pages(), ids=rel)
def test_how_a_page_is_tested_is_one_click_away(page):
    """No "What the tests check" heading; the box that replaces it starts collapsed; the test
    library is named only inside it."""
    text = page.read_text(encoding="utf-8")
    assert not TESTS_HEADING.search(text), f"{rel(page)}: a 'What the tests check' heading"
    for line in text.splitlines():
        if "How this page is tested" in line and line.lstrip().startswith(("?", "!", "#")):
            assert line == TESTED_BOX, f"{rel(page)}: {line!r} (a collapsed ??? note box)"
    named = [line for line in outside_tested_box(text) if "hypothesis" in line.lower()]
    assert not named, f"{rel(page)}: Hypothesis named outside the tested box: {named}"


def test_the_box_reader():
    lines = ["Intro with Hypothesis.", TESTED_BOX, "    inside, Hypothesis", "", "    still inside"]
    lines += ["After.", '??? note "Solution"', "    Hypothesis in another box"]
    text = "\n".join(lines)
    assert outside_tested_box(text) == [
        "Intro with Hypothesis.",
        "After.",
        "    Hypothesis in another box",
    ]
    assert TESTS_HEADING.search("x\n## What the tests check\n") and UNSEEN.search("The lesson this site grew from")


def test_the_prerequisites_are_stated_once_on_the_home_page():
    headings = {
        rel(p): re.findall(r"^## Before you start$", p.read_text(encoding="utf-8"), re.MULTILINE) for p in pages()
    }
    assert [page for page, found in headings.items() if found] == ["index.md"]
    home = (DOCS / "index.md").read_text(encoding="utf-8")
    section = home.split("## Before you start", 1)[1].split("\n## ", 1)[0]
    for needed in ("PyTorch", "loss.backward()", "expected value", "variance"):
        assert needed in section, needed


# ---------------------------------------------------------------- the playground's files


@pytest.mark.parametrize("page", pages(), ids=rel)
def test_a_page_names_the_widget_it_holds(page):
    """overrides/main.html loads widgets.css, playground.js and <widget>.js on a page whose
    front matter says `widget: <name>`, and on no other page."""
    text = page.read_text(encoding="utf-8")
    held = set(re.findall(r'data-widget="([a-z]+)"', text))
    named = front_matter(text).get("widget", "").strip()
    assert held == ({named} if named else set()), f"{rel(page)}: holds {held}, front matter names {named!r}"
    if named:
        assert (DOCS / "assets" / "js" / f"{named}.js").is_file()


def test_no_widget_file_is_loaded_on_every_page():
    settings = [line for line in (ROOT / "mkdocs.yml").read_text(encoding="utf-8").splitlines()]
    settings = [line for line in settings if not line.lstrip().startswith("#")]
    # Every script in assets/js/ is the playground's, but the one every page needs: tables and
    # formulas that scroll sideways become focusable (tests/browser/test_pages.py, at 375 px).
    widget_files = ["widgets.css"] + [
        f"assets/js/{js.name}" for js in (DOCS / "assets" / "js").glob("*.js") if js.name != "scroll-regions.js"
    ]
    assert len(widget_files) >= 4
    assert not [line for line in settings if any(name in line for name in widget_files)]
    assert "  - assets/js/scroll-regions.js" in settings
    template = (ROOT / "overrides" / "main.html").read_text(encoding="utf-8")
    assert "page.meta.widget" in template
    for name in ("assets/widgets.css", "assets/js/playground.js", "'assets/js/' ~ page.meta.widget ~ '.js'"):
        assert name in template, name


def test_front_matter_reader():
    assert front_matter("---\nwidget: masks\ndescription: a: b\n---\n# T\n") == {
        "widget": " masks",
        "description": " a: b",
    }
    assert front_matter("# no front matter\n") == {}
