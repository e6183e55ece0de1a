"""The pages speak to their readers: no reference to a text they never saw, the proof of each
page one click away (a collapsed "How this page is tested" box) rather than a lesson heading,
and the playground's files loaded only by the pages that hold a widget."""

import re
from pathlib import Path

import pytest

from tests.site.test_pages import pages

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FRONT_MATTER = re.compile(r"\A---\n(?P<body>.*?)\n---\n", re.DOTALL)


def rel(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


def front_matter(text: str) -> dict[str, str]:
    m = FRONT_MATTER.match(text)
    lines = m["body"].splitlines() if m else []
    return dict(line.split(":", 1) for line in lines if ":" in line and not line.startswith(" "))


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
    assert not [line for line in settings if "widgets.css" in line or "assets/js/" in line]
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
