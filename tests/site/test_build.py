"""Build the whole site once, strictly, and check what a reader's browser would get."""

import os
import re
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

from docs_hooks import facts, prebuild
from tests.conftest import coverage_paused

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if p.relative_to(DOCS).as_posix() not in prebuild.GENERATED_PAGES)


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("site")
    # This build runs while the tests that write the claims report are still running, so it
    # cannot have a fresh report; outside CI that only renders "not verified in this build".
    ci = os.environ.pop("CI", None)
    try:
        with coverage_paused():
            prebuild.main(["--no-facts"])  # the generated files a fresh clone lacks
        # The facts come from the tests' own cache (always computed, never the store in
        # reports/facts), shared with test_every_marker_resolves below, in this worker. They
        # are snippet code, some of it run once per process (functools.cache): measured here,
        # so the build itself runs only Markdown and the theme, untraced.
        prebuild.warm_facts(DOCS, cache=facts.CACHE)
        with coverage_paused(), pytest.MonkeyPatch.context() as patch:
            patch.setattr(facts, "BUILD_CACHE", facts.CACHE)
            config = load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site_dir), strict=True)
            build(config)  # raises mkdocs.exceptions.Abort on any warning under strict
    finally:
        if ci is not None:
            os.environ["CI"] = ci
    return site_dir


# One worker builds the site: pytest-xdist runs with --dist loadfile, so the tests of this
# file share one worker and one build (the pre-build writes into docs/).


def test_the_build_fixture_pauses_coverage_and_resumes_it():
    """Under coverage (the default run), nothing is traced inside and measuring goes on after."""
    import sys

    import coverage

    measuring = coverage.Coverage.current()
    with coverage_paused():
        assert coverage.Coverage.current() is None
        assert measuring is None or sys.gettrace() is None
    assert coverage.Coverage.current() is measuring
    assert measuring is None or sys.gettrace() is not None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_marker_resolves(page):
    """Each page on its own, so a failure names it (here, beside the build: one worker
    computes the facts once for both)."""
    text = page.read_text(encoding="utf-8")
    filled = facts.fill(text, page=page.relative_to(DOCS).as_posix())  # raises FactError naming the page
    assert not facts.FACT.search(filled)


def html_pages(site):
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


def test_every_nav_page_is_built(site):
    for md in (ROOT / "docs").rglob("*.md"):
        rel = md.relative_to(ROOT / "docs").with_suffix("")
        out = site / ("index.html" if rel.name == "index" else rel / "index.html")
        if rel.name == "index" and rel.parent != Path("."):
            out = site / rel.parent / "index.html"
        assert out.is_file(), f"{md} was not built"


def test_no_request_to_another_host(site):
    """No CDN, no web fonts: scripts, styles, images and fonts all come from the site."""
    remote = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)
    for page in html_pages(site):
        html = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link|img|iframe|source)\b[^>]*>", html, re.IGNORECASE):
            if re.search(r'rel="(?:canonical|alternate)"', tag):
                continue  # metadata, never fetched by the browser
            assert not remote.search(tag), f"{page}: {tag}"
    for css in site.rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", css.read_text(encoding="utf-8")), css
        assert "@import" not in css.read_text(encoding="utf-8"), css


def test_math_is_rendered_to_mathml(site):
    pages_with_math = 0
    for page in html_pages(site):
        html = page.read_text(encoding="utf-8")
        body = html.split("<article", 1)[-1]
        assert 'class="arithmatex"' not in body, f"{page}: math left unrendered"
        assert "\\frac" not in body and "$$" not in body, f"{page}: raw TeX visible"
        pages_with_math += "<math" in body
    assert pages_with_math >= 5


def test_snippet_code_is_on_the_page(site):
    html = (site / "dropout" / "inverted" / "index.html").read_text(encoding="utf-8")
    assert "inverted_dropout" in html
    assert "--8&lt;--" not in html and "--8<--" not in html


def test_no_fact_marker_is_left_on_any_page(site):
    for page in html_pages(site):
        body = page.read_text(encoding="utf-8").split("<article", 1)[-1]
        text = re.sub(r"<(pre|code)\b.*?</\1>", "", body, flags=re.DOTALL)
        assert not re.search(r"\[\[[A-Za-z_][\w.]*(?::[^\]]*)?\]\]", text), page
        assert "<!-- facts:" not in body and "<!-- take-home:" not in body, page


# A float printed unrounded (0.010000000000000009, 0.30000000000000004, 0.8999999999999999):
# a run of six or more 0s or 9s inside the digits. One such token in the search index once
# made every query holding the term "1" return no document (bisected on the index); a
# learner's "Expected more than 1 value per channel" found nothing.
UNROUNDED = re.compile(r"\d*\.\d*?(?:0{6,}|9{6,})\d+")


def search_tokens(index: dict) -> set[str]:
    """The words of the search index as Material's search splits them (its separator)."""
    separator = re.compile(index["config"]["separator"])
    words = set()
    for doc in index["docs"]:
        text = re.sub(r"<[^>]+>", " ", f"{doc['title']} {doc['text']}")
        words.update(w for w in separator.split(text) if w)
    return words


def test_the_unrounded_float_pattern():
    for token in ("0.010000000000000009", "0.30000000000000004", "0.8999999999999999", "1.0000001"):
        assert UNROUNDED.fullmatch(token), token
    for token in ("0.01", "0.999", "1000000", "0.123456789", "1e-05", "0.9×1+0.1×6.6667"):
        assert not UNROUNDED.fullmatch(token), token


def test_no_unrounded_float_in_the_search_index(site):
    import json

    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    words = search_tokens(index)
    assert len(words) > 1000 and "dropout" in {w.lower() for w in words}
    found = sorted(w for w in words if UNROUNDED.fullmatch(w))
    assert not found, f"round these where the page or a shown comment prints them: {found}"


@pytest.mark.slow  # a whole build in a fresh process: CI runs it with the slow tests
def test_the_build_reads_facts_without_importing_torch(tmp_path):
    """A build in a fresh process, after the pre-build filled the store, trains nothing and
    imports neither torch nor scikit-learn."""
    import subprocess
    import sys

    prebuild.main([])
    code = (
        "import sys; from mkdocs.commands.build import build; from mkdocs.config import load_config; "
        f"build(load_config({str(ROOT / 'mkdocs.yml')!r}, site_dir={str(tmp_path)!r})); "
        "print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))"
    )
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("CI", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr[-2000:]
