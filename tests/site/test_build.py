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


# Material's search runs lunr, whose word automaton (lunr.TokenSet) merges nodes by a text key
# that joins each edge's character with the next node's numeric id: where the characters are
# digits, two different nodes can get one key. A site whose numbers make such a pair (as
# "0.123456789" and "0.123457" of one snippet's output did here) gets phantom words: a prefix
# wildcard reaches a word the index does not hold, the search throws, and Material shows no
# result. Every query with the term "0" found nothing ("dropout probability has to be between
# 0 and 1"), and an earlier number did the same to "1". tests/site/search_worker.js runs
# Material's own worker in Node over the built index and lists such words, and the learners'
# questions of the browser suite (tests/browser/test_search.py) go through it too.
WORKER = Path(__file__).with_name("search_worker.js")


def node_or_skip() -> str:
    import shutil

    node = shutil.which("node")
    if node is None:
        message = "node is not installed: the search index cannot be checked with Material's worker"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return node


def run_search_worker(site_dir: Path, queries: list[str], tmp_path: Path) -> dict:
    import json
    import subprocess

    asked = tmp_path / "queries.json"
    asked.write_text(json.dumps(queries), encoding="utf-8")
    done = subprocess.run(
        [node_or_skip(), str(WORKER), str(site_dir), str(asked)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.untraced
def test_the_search_index_has_no_phantom_word_and_every_question_searches(site, tmp_path):
    from tests.browser.test_search import QUESTIONS

    queries = [query for query, _ in QUESTIONS] + [str(digit) for digit in range(10)]
    found = run_search_worker(site, queries, tmp_path)
    assert found["words"] > 1000
    assert not found["phantom"], f"words no page holds, by first character: {found['phantom']}"
    failed = {query: result for query, result in found["results"].items() if not isinstance(result, int)}
    assert not failed, failed
    assert all(found["results"][query] > 0 for query, _ in QUESTIONS)


def test_the_search_worker_runs_material_s_own_worker(tmp_path):
    """The check on a two-page index: the worker of the installed Material builds it and answers."""
    import json
    import shutil

    workers = Path(mkdocs_material_dir()) / "templates" / "assets" / "javascripts" / "workers"
    site_dir = tmp_path / "site"
    (site_dir / "assets" / "javascripts").mkdir(parents=True)
    shutil.copytree(workers, site_dir / "assets" / "javascripts" / "workers")
    (site_dir / "search").mkdir()
    docs = [
        {"location": "a/", "title": "Inverted dropout", "text": "scale by 1/(1 - p) 0.5"},
        {"location": "b/", "title": "B", "text": "between 0 and 1"},
    ]
    config = {
        "lang": ["en"],
        "separator": r"[\s\-_,:!=\[\]()\"`/]+|\.(?!\d)|&[lg]t;",
        "pipeline": ["stopWordFilter"],
        "fields": {"title": {"boost": 1000.0}, "text": {"boost": 1.0}},
    }
    (site_dir / "search" / "search_index.json").write_text(json.dumps({"config": config, "docs": docs}))
    found = run_search_worker(site_dir, ["inverted dropout", "between 0 and 1", "nothing like it"], tmp_path)
    assert found == {
        "words": found["words"],
        "phantom": {},
        "results": {"inverted dropout": 1, "between 0 and 1": 2, "nothing like it": 0},
    }
    assert 5 <= found["words"] <= 12


def mkdocs_material_dir() -> str:
    import material

    return os.path.dirname(material.__file__)


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
