"""The links of the built site follow SITE_URL and REPO_URL, so a fork that publishes it links to
itself: the browser suite's site is built as ``fork-owner/fork-name`` would build it
(conftest.FORK). Every page's canonical address, the header's repository link, every "tested"
mark and every "Open in Colab" link point there, and no page names the placeholder defaults
of mkdocs.yml. Read from the built HTML: no browser needed beyond the suite's build."""

import json
import os
import re
from html import unescape

import pytest

from docs_hooks.extension import colab_url
from tests.browser.conftest import FORK

pytestmark = pytest.mark.browser

SITE_URL, REPO_URL = FORK["SITE_URL"], FORK["REPO_URL"]
PLACEHOLDERS = ("example.github.io", "github.com/example")
CANONICAL = re.compile(r'<link rel="canonical" href="([^"]*)"')
REPO_LINK = re.compile(r'<a href="([^"]*)" title="[^"]*" class="md-source"')
CLAIM_LINK = re.compile(r'<a class="claim claim--ok"[^>]* href="([^"]*)"')
NOTEBOOK_LINK = re.compile(r'href="\.\./\.\./notebooks/([\w-]+)\.ipynb"')
COLAB_LINK = re.compile(r'href="(https://colab\.research\.google\.com/[^"]*)"')


def pages(site) -> dict[str, str]:
    """URL path ('dropout/inverted/') -> HTML of every page but the 404 page."""
    return {
        html.parent.relative_to(site).as_posix().removeprefix(".") + ("/" if html.parent != site else ""): (
            html.read_text(encoding="utf-8")
        )
        for html in sorted(site.rglob("index.html"))
    }


def test_canonical_and_repository_links_follow_the_environment(site):
    built = pages(site)
    assert len(built) >= 40
    wrong = {}
    for path, text in built.items():
        canonical, repo = CANONICAL.findall(text), REPO_LINK.findall(text)
        if canonical != [SITE_URL + path] or not repo or set(repo) != {REPO_URL}:  # header, drawer
            wrong[path] = (canonical, repo)
        if any(p in text for p in PLACEHOLDERS):
            wrong[path] = "names a placeholder of mkdocs.yml"
    assert not wrong, wrong


def test_tested_marks_link_into_the_repository(site):
    links = [unescape(h) for text in pages(site).values() for h in CLAIM_LINK.findall(text)]
    if not links:
        # Only a fresh claims report (a pytest run of the same sources) gives the marks links.
        if os.environ.get("CI") == "true":
            pytest.fail("no 'tested' mark links a test: the claims report is missing or stale")
        pytest.skip("no fresh reports/claims.json: the 'tested' marks carry no links")
    wrong = [h for h in links if not re.fullmatch(re.escape(REPO_URL) + r"/blob/main/tests/[\w/]+\.py#L\d+", h)]
    assert not wrong, wrong[:5]


def test_every_take_home_box_opens_its_notebook_in_colab(site):
    boxes = 0
    for path, text in pages(site).items():
        chapters = set(NOTEBOOK_LINK.findall(text))
        colab = COLAB_LINK.findall(text)
        assert colab == [colab_url(REPO_URL, "notebooks", c) for c in chapters], path
        for chapter in chapters:
            notebook = json.loads((site / "notebooks" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
            assert "".join(notebook["cells"][1]["source"]).startswith("# Installs what"), chapter
        boxes += len(chapters)
    assert boxes >= 30
    assert colab_url(REPO_URL, "notebooks", "dropout") == (
        "https://colab.research.google.com/github/fork-owner/fork-name/blob/notebooks/dropout.ipynb"
    )


@pytest.mark.parametrize(
    "repo_url",
    ["", "https://gitlab.com/owner/name", "https://github.com/owner", "https://github.com/a/b/tree/main"],
)
def test_no_colab_link_where_colab_cannot_open_the_repository(repo_url):
    assert colab_url(repo_url, "notebooks", "dropout") == ""
    assert colab_url("https://github.com/a/b.git", "notebooks", "x") == (
        "https://colab.research.google.com/github/a/b/blob/notebooks/x.ipynb"
    )
