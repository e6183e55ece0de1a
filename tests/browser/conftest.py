"""The browser suite's fixtures: the site built once, served on 127.0.0.1, one Chromium.

Chromium is Debian's /usr/bin/chromium (Playwright's own browser download does not work on
these machines). Without it the suite is skipped on a developer's machine, but in CI
(CI=true) a missing browser fails, so the checks can never silently stop running.
"""

import contextlib
import functools
import http.server
import os
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "screenshots"  # git-ignored
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Any host but the local server fails at once instead of waiting on DNS; the request is
    # still seen, and a test fails on it.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def page_paths() -> list[str]:
    """URL path of every page built from docs/ (the Markdown pages, and those the pre-build
    writes, even before it ran), e.g. 'dropout/inverted/'."""
    from docs_hooks.prebuild import GENERATED_PAGES

    paths = []
    for md in sorted({*DOCS.rglob("*.md"), *(DOCS / page for page in GENERATED_PAGES)}):
        rel = md.relative_to(DOCS).with_suffix("")
        parts = rel.parts[:-1] if rel.name in ("index", "README") else rel.parts
        paths.append("".join(f"{p}/" for p in parts))
    return paths


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import axe_playwright_python  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -e '.[browser]')"
    return None


def require_browser(missing: str | None, ci: bool) -> None:
    """Skip on a developer's machine without Chromium; in CI, fail."""
    if missing:
        if ci:
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="session")
def browser():
    require_browser(_missing(), ci=os.environ.get("CI") == "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


# The site is built as a fork would publish it (mkdocs.yml reads SITE_URL and REPO_URL, as the
# publish workflow sets them): tests/browser/test_links.py checks that every link follows.
FORK = {"SITE_URL": "https://fork-owner.github.io/fork-name/", "REPO_URL": "https://github.com/fork-owner/fork-name"}


@pytest.fixture(scope="session")
def site(tmp_path_factory, browser):
    """The site as a reader gets it. Not strict: tests/site holds the strict build, and a
    warning there should not hide what a browser would show."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    site_dir = tmp_path_factory.mktemp("browser-site")
    ci = os.environ.pop("CI", None)  # the claims report may be mid-write; see tests/site/test_build.py
    from docs_hooks import prebuild

    prebuild.main(["--no-facts"])  # the chapter notebooks and the walkthrough page
    saved = {name: os.environ.get(name) for name in FORK}
    os.environ.update(FORK)
    try:
        build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site_dir), strict=False))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if ci is not None:
            os.environ["CI"] = ci
    return site_dir


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a page closed while a file was still being sent: nothing to report


@pytest.fixture(scope="session")
def base_url(site):
    server = Server(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


STARTED = time.time()  # when this process (an xdist worker, say) imported the suite


@pytest.fixture(scope="session")
def screenshots():
    """The folder for the full-page screenshots, for a person to look through; None with
    NO_SCREENSHOTS=1 (CI sets it: nobody sees what a CI machine saved, and the two full-page
    pictures cost a third of a page's test). Old pictures go, but not those another worker
    of this run has saved already (its files are newer than this process)."""
    if os.environ.get("NO_SCREENSHOTS") == "1":
        return None
    SCREENSHOTS.mkdir(exist_ok=True)  # another run may be writing here too: no rmtree
    for old in SCREENSHOTS.glob("*.png"):
        with contextlib.suppress(FileNotFoundError):
            if old.stat().st_mtime < STARTED:
                old.unlink()
    return SCREENSHOTS


class Watch:
    """Everything a page did that a reader would not want: console errors, failed
    requests, requests to other hosts."""

    def __init__(self, page, base_url):
        self.problems = []
        host = base_url.rstrip("/")
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # ERR_ABORTED: a request of the previous page, cut short by the next navigation.
        page.on(
            "requestfailed",
            lambda r: r.failure == "net::ERR_ABORTED" or self.problems.append(f"request failed: {r.url} {r.failure}"),
        )
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        page.on(
            "request",
            lambda r: (
                r.url.startswith((host, "data:", "blob:")) or self.problems.append(f"request to another host: {r.url}")
            ),
        )


VIEWPORT = {"width": 1280, "height": 900}


class Tab:
    """One browser tab, reused: each visit is a fresh document, while the renderer process
    is kept, which halves what a page load costs."""

    def __init__(self, context, base_url):
        self.page = context.new_page()
        self.watch = Watch(self.page, base_url)
        self.base_url = base_url

    def visit(self, path="", viewport=None):
        self.page.set_viewport_size(viewport or VIEWPORT)
        self.watch.problems.clear()
        self.page.goto(self.base_url + path, wait_until="load")
        return self.page, self.watch


@pytest.fixture(scope="session")
def light(browser):
    context = browser.new_context(color_scheme="light", viewport=VIEWPORT)
    yield context
    context.close()


@pytest.fixture(scope="session")
def dark(browser):
    context = browser.new_context(color_scheme="dark", viewport=VIEWPORT)
    yield context
    context.close()


@pytest.fixture(scope="session")
def light_tab(light, base_url):
    return Tab(light, base_url)


@pytest.fixture(scope="session")
def dark_tab(dark, base_url):
    return Tab(dark, base_url)


@pytest.fixture
def open_page(base_url):
    """open_page(context, path) -> (page, watch) in a new tab, closed after the test: for
    tests that change what a context remembers (the palette choice)."""
    pages = []

    def open_(context, path=""):
        page = context.new_page()
        pages.append(page)
        watch = Watch(page, base_url)
        page.goto(base_url + path, wait_until="load")
        return page, watch

    yield open_
    for page in pages:
        page.close()
