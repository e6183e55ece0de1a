"""Every page of the built site in Chromium, in the light and the dark palette: no console
error, no failed request, no request to another host, math rendered, images loaded and
described, no sideways scrolling on a phone, copy buttons on code, and no serious or
critical axe-core finding, at desktop width and at a phone's 375 px. Full-page screenshots
of both palettes, at desktop width and at 375 px, go to screenshots/ (not with
NO_SCREENSHOTS=1, as in CI)."""

import pytest

from tests.browser.conftest import page_paths

pytestmark = pytest.mark.browser

# Text of the article outside code: raw TeX there means math was not rendered.
VISIBLE_TEXT = """() => {
  const article = document.querySelector("article").cloneNode(true);
  article.querySelectorAll("pre, code, script, style").forEach(n => n.remove());
  return article.textContent;
}"""

IMAGES = """async () => Promise.all([...document.querySelectorAll("article img")].map(async img => {
  img.loading = "eager";
  let loaded = true;
  try { await img.decode(); } catch (e) { loaded = false; }
  return {src: img.getAttribute("src"), alt: (img.getAttribute("alt") || "").trim(), loaded: loaded && img.naturalWidth > 0};
}))"""

# Material 9.8 puts the copy button in a small toolbar of each block; older releases used .md-clipboard.
CODE_BLOCKS = """() => [...document.querySelectorAll("article div.highlight")].map(block =>
  block.querySelector("button.md-clipboard, button.md-code__button[data-md-type=copy]") !== null)"""


# axe-core (shipped inside axe-playwright-python) runs inside the page. It is started without
# waiting, so the light and the dark page, each in a renderer process of its own, are checked
# at the same time.
START_AXE = """options => {
  window.__axe = null;
  axe.run(document, options).then(
    result => { window.__axe = result.violations; },
    error => { window.__axe = [{id: "axe-error", impact: "critical", help: String(error), nodes: []}]; });
}"""


def start_axe(page, options=None, inject=True) -> None:
    from axe_playwright_python.base import AXE_SCRIPT

    if inject:
        page.evaluate(AXE_SCRIPT)
    page.evaluate(START_AXE, {"resultTypes": ["violations"], **(options or {})})


PHONE = {"width": 375, "height": 800}
# Two animation frames: the layout of the new width, and the ResizeObserver callbacks it
# triggers (assets/js/scroll-regions.js makes the boxes that now scroll focusable), are done.
SETTLED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def axe_findings(page) -> list[str]:
    page.wait_for_function("window.__axe !== null", polling=100, timeout=60_000)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in page.evaluate("window.__axe")
        if v["impact"] in ("serious", "critical")
    ]


def slug(path: str) -> str:
    return path.strip("/").replace("/", "-") or "index"


# The playground's own files: only its pages load them (overrides/main.html).
WIDGET_FILES = ("assets/widgets.css", "assets/js/playground.js") + tuple(
    f"assets/js/{name}.js" for name in ("dropout", "batchnorm", "masks")
)
LOADED = "() => performance.getEntriesByType('resource').map(r => new URL(r.name).pathname)"


def widget_files_expected(path: str) -> set[str]:
    """playground/<name>/ loads widgets.css, playground.js and <name>.js; no other page any."""
    if not path.startswith("playground/"):
        return set()
    return {*WIDGET_FILES[:2], f"assets/js/{path.split('/')[1]}.js"}


WIDGETS_READY = "[...document.querySelectorAll('[data-widget]')].every(w => w.hasAttribute('data-ready'))"


@pytest.mark.parametrize("path", page_paths(), ids=lambda p: p or "index")
def test_page(path, light_tab, dark_tab, screenshots):
    page, watch = light_tab.visit(path)
    dark_page, dark_watch = dark_tab.visit(path)
    assert dark_page.evaluate("document.body.dataset.mdColorScheme") == "slate"
    problems = []

    page.wait_for_function(WIDGETS_READY)
    text = page.evaluate(VISIBLE_TEXT)
    for tex in ("\\frac", "$$", "\\(", "\\[", "\\mathbb", "\\sqrt"):
        if tex in text:
            problems.append(f"raw TeX {tex!r} visible")
    if page.locator("article .arithmatex").count():
        problems.append("unrendered .arithmatex element")
    for img in page.evaluate(IMAGES):
        if not img["loaded"]:
            problems.append(f"image does not load: {img['src']}")
        if not img["alt"]:
            problems.append(f"image without alt text: {img['src']}")
    if not all(page.evaluate(CODE_BLOCKS)):
        problems.append("a code block has no copy button")
    loaded = {f for f in WIDGET_FILES if any(p.endswith("/" + f) for p in page.evaluate(LOADED))}
    if loaded != widget_files_expected(path):
        problems.append(f"playground files loaded: {sorted(loaded)}, expected {sorted(widget_files_expected(path))}")

    start_axe(page)
    dark_page.wait_for_function(WIDGETS_READY)
    # Contrast is what changes between the palettes; the other rules run on the light page.
    start_axe(dark_page, {"runOnly": ["color-contrast"]})
    problems += [f"light: {f}" for f in axe_findings(page)]
    if screenshots:
        page.screenshot(path=screenshots / f"{slug(path)}-light.png", full_page=True)

    # The same document at a phone's width: what scrolls sideways there (tables, formulas)
    # must be reachable by keyboard. axe runs again, while the dark page is photographed.
    page.set_viewport_size(PHONE)
    page.evaluate(SETTLED)
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(f"horizontal overflow at 375 px: the page is {width} px wide")
    start_axe(page, inject=False)
    problems += [f"dark: {f}" for f in axe_findings(dark_page)]
    if screenshots:
        dark_page.screenshot(path=screenshots / f"{slug(path)}-dark.png", full_page=True)
        dark_page.set_viewport_size(PHONE)  # the next visit sets the desktop width again
        dark_page.evaluate(SETTLED)
        dark_page.screenshot(path=screenshots / f"{slug(path)}-dark-375.png", full_page=True)
    problems += [f"light, 375 px: {f}" for f in axe_findings(page)]
    if screenshots:
        page.screenshot(path=screenshots / f"{slug(path)}-light-375.png", full_page=True)

    problems += watch.problems + dark_watch.problems
    assert not problems, "\n".join(problems)


def test_search_finds_inverted_dropout(light_tab):
    page, watch = light_tab.visit("")
    page.locator("input.md-search__input").click()  # in the header on a wide screen
    page.keyboard.type("inverted dropout")
    first = page.locator(".md-search-result__item a").first
    first.wait_for(timeout=10_000)
    hrefs = page.locator(".md-search-result__item a").evaluate_all("links => links.map(a => a.href)")
    assert any("dropout/inverted/" in href for href in hrefs), hrefs
    assert not watch.problems


def test_palette_toggle_switches_light_and_dark(browser, base_url):
    context = browser.new_context(color_scheme="light")  # its own storage: the choice is remembered
    page = context.new_page()
    page.goto(base_url + "playground/dropout/")
    scheme = lambda: page.evaluate("document.body.dataset.mdColorScheme")
    assert scheme() == "default"
    background = lambda: page.evaluate("getComputedStyle(document.body).backgroundColor")
    light_background = background()
    page.locator("label[title='Switch to dark mode']").click()
    assert scheme() == "slate" and background() != light_background
    page.reload()
    assert scheme() == "slate", "the choice should survive a reload"
    page.locator("label[title='Switch to light mode']").click()
    assert scheme() == "default" and background() == light_background
    context.close()


def test_code_blocks_have_copy_buttons(light_tab):
    page, _ = light_tab.visit("dropout/inverted/")
    blocks = page.evaluate(CODE_BLOCKS)
    assert len(blocks) >= 3 and all(blocks)


def test_widget_files_are_referenced_only_by_playground_pages(site):
    """In the built HTML, not only in what a page happened to load: a page that does not hold a
    widget names none of the playground's files (36 pages loaded them all once)."""
    pages = sorted(p for p in site.rglob("*.html"))
    assert len(pages) >= 40
    wrong = {}
    for html in pages:
        path = html.parent.relative_to(site).as_posix() + "/" if html.parent != site else ""
        text = html.read_text(encoding="utf-8")
        named = {f for f in WIDGET_FILES if f in text}
        expected = widget_files_expected(path) if html.name == "index.html" else set()
        if named != expected:
            wrong[str(html.relative_to(site))] = sorted(named)
    assert not wrong, wrong
    assert widget_files_expected("playground/masks/") == {
        "assets/widgets.css",
        "assets/js/playground.js",
        "assets/js/masks.js",
    }


def test_claims_read_one_per_block_on_a_phone(light_tab):
    """At 375 px each claim takes the width of the page (site.css), not a third of a table;
    at desktop width the tables keep their columns."""
    widths = "() => [...document.querySelectorAll('article td:first-child')].slice(0, 20).map(td => td.getBoundingClientRect().width)"
    page, watch = light_tab.visit("claims/", viewport=PHONE)
    page.evaluate(SETTLED)
    assert len(page.evaluate(widths)) == 20 and min(page.evaluate(widths)) >= 300
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page, _ = light_tab.visit("claims/")
    assert max(page.evaluate(widths)) < 0.8 * page.evaluate("document.querySelector('article').clientWidth")
    assert not watch.problems
