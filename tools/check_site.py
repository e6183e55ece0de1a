"""Check built sites, whichever engine built them: the same checks on MkDocs, ProperDocs and
Zensical output, and the same page text across them.

    python tools/check_site.py mkdocs=DIR [properdocs=DIR zensical=DIR ...]
        [--docs docs] [--site-url URL]

Each site must have:

* no unfilled fact marker (``[[name]]``, ``[[name:fmt]]``, ``[[module:name[1]:fmt]]``) in its
  page text outside code;
* no raw TeX in the text outside code (``\\(``, ``\\[``, ``$$``, ``\\frac``, an ``arithmatex``
  element...), and MathML on every page whose source has math;
* the Verified claims page (``claims/index.html``) with one table row per claim the sources make;
* each chapter's notebook (``notebooks/<chapter>.ipynb``, a valid notebook, and ``.py``),
  linked from the chapter's pages, and for each notebook in the sources its page with a
  download link to the ``.ipynb``;
* no off-site request: no ``src``, ``href`` (other than a plain ``<a>`` link or a ``<link>``
  that the browser does not fetch, such as ``rel="canonical"``), ``srcset``, ``poster`` or
  CSS ``url()`` to a host other than the site's own.

Across sites: the same pages, and the same text of each page's content (the ``<article>``:
tags stripped, whitespace collapsed, permalinks, edit buttons and other engine chrome
removed). The first pages that differ are shown as a unified diff.

What the sources lead one to expect (the claims, the chapters, which pages have math) is read
from ``--docs`` (default: the project's ``docs/``), never from one engine's output. Exit
status 1 when any check fails. Needs only the standard library and nbformat.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

ROOT = Path(__file__).resolve().parents[1]

# An unfilled fact marker: [[h]], [[h:.0f]], [[var_ps[1]]], [[dropout.inverted:h[0]:.2f]].
MARKER = re.compile(r"\[\[[A-Za-z_][\w.\-]*(?:\[\d+\])?(?::[^\[\]\n]*(?:\[\d+\][^\[\]\n]*)?)?\]\]")
# TeX that should have become MathML: delimiters, and the commands these pages use.
TEX_COMMANDS = (
    "frac|dfrac|tfrac|mathbb|mathrm|mathcal|mathbf|operatorname|text|sqrt|sum|prod|int|"
    "partial|nabla|cdot|odot|times|left|right|begin|end|hat|tilde|bar|widehat|overline|"
    "alpha|beta|gamma|delta|epsilon|varepsilon|lambda|mu|sigma|theta|leq|geq|approx|sim|"
    "infty|log|exp|top"
)
RAW_TEX = re.compile(
    r"\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\s][^$\n]*?\\[A-Za-z][^$\n]*?\$|\$[^$\s\d][^$\n]*?[_^][^$\n]*?\$"
    r"|\\(?:" + TEX_COMMANDS + r")(?![A-Za-z])"
)
# Source Markdown with math (arithmatex's delimiters), code blocks and spans removed first.
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"(`+).+?\1", re.DOTALL)
SOURCE_MATH = re.compile(r"\$\$|\\\(|\\\[|(?<![\\$])\$(?=\S)[^$\n]+?(?<=\S)\$(?!\d)")
CLAIM = re.compile(r"<!--\s*claim:\s*([a-z0-9_-]+/[a-z0-9_-]+)\s*-->")
TAKE_HOME = re.compile(r"<!--\s*take-home:\s*([\w-]+)\s*-->")
SNIPPET_INCLUDE = re.compile(r'^[ \t]*--8<--\s+"snippets/', re.MULTILINE)
NO_NOTEBOOK = {"experiments", "playground"}  # chapters without a notebook (older sources)

# Text inside these is code, a script, a drawing or MathML: never prose.
CODE_TAGS = {"code", "pre", "kbd", "samp", "script", "style", "svg", "math", "textarea", "template"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
BLOCK_TAGS = {
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "tr",
    "td",
    "th",
    "table",
    "thead",
    "tbody",
    "pre",
    "blockquote",
    "figure",
    "figcaption",
    "details",
    "summary",
    "section",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "hr",
    "article",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "label",
    "option",
    "caption",
}
# Engine chrome inside the content: permalinks, edit/view-source buttons, page dates,
# feedback widgets, the copy-to-clipboard buttons.
CHROME_CLASSES = {
    "headerlink",
    "md-content__button",
    "md-source-file",
    "md-feedback",
    "md-clipboard",
    "md-code__nav",
    "md-code__button",
    "md-top",
}
PERMALINK_SYMBOLS = "¶§#🔗"
# <link rel=...> values a browser does not fetch.
UNFETCHED_RELS = {
    "canonical",
    "alternate",
    "author",
    "license",
    "help",
    "me",
    "next",
    "prev",
    "search",
    "bookmark",
    "external",
    "nofollow",
    "noopener",
    "noreferrer",
    "tag",
}
URL_ATTRS = {"src", "href", "poster", "data", "action", "formaction", "background"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")


@dataclass(frozen=True)
class Problem:
    engine: str
    page: str
    check: str
    what: str

    def __str__(self) -> str:
        return f"{self.engine}: {self.page}: {self.check}: {self.what}"


@dataclass
class Page:
    """What the checks need from one HTML page."""

    text: str = ""  # all text outside code, scripts, drawings and MathML
    content_text: str = ""  # the part of it inside the content (<article>)
    content: list[str] = field(default_factory=list)  # the <article>'s text, one block a line
    math: int = 0  # <math> elements
    arithmatex: int = 0  # elements still marked for math rendering
    urls: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, url)
    links: list[str] = field(default_factory=list)  # href of every <a>
    claim_rows: list[str | None] = field(default_factory=list)  # data-claim per table row
    styles: list[str] = field(default_factory=list)  # <style> bodies and style="" values


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, is code, is chrome)
        self.code = 0  # depth inside code-like elements
        self.chrome = 0  # depth inside engine chrome
        self.content = 0  # depth inside the content element (<article>, else <main>)
        self.content_tag = ""
        self.content_done = False
        self.style = 0
        self.pre = 0
        self.text: list[str] = []
        self.content_text: list[str] = []
        self.lines: list[list[str]] = []
        self.row: list | None = None  # [data-claim or None, has a <td>] of the open <tr>

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self._urls(tag, attributes)
        if tag in VOID_TAGS:
            self._block(tag)
            return
        classes = set(attributes.get("class", "").split())
        code = tag in CODE_TAGS
        chrome = bool(classes & CHROME_CLASSES) or (
            tag == "a" and attributes.get("title") in {"Edit this page", "View source of this page"}
        )
        self.stack.append((tag, code, chrome))
        self.code += code
        self.chrome += chrome
        self.page.math += tag == "math"
        self.page.arithmatex += "arithmatex" in classes
        self.pre += tag == "pre"
        if tag == "style":
            self.style += 1
            self.page.styles.append("")
        if not self.content_done and tag == "article" and self.content_tag != "article":
            self.content_tag = tag  # the first <article>, also inside <main>, is the content
            self.content = 1
            self.lines.clear()
            self.content_text.clear()
        elif self.content:
            self.content += 1
        elif not self.content_done and tag == "main":
            self.content_tag = tag
            self.content = 1
        if tag == "tr":
            self.row = [None, False]
        elif tag == "td" and self.row is not None:
            self.row[1] = True
        if self.row is not None and self.row[0] is None and attributes.get("data-claim"):
            self.row[0] = attributes["data-claim"]
        self._block(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID_TAGS or all(t != tag for t, _, _ in self.stack):
            return  # a stray end tag
        while self.stack:  # close whatever was left open inside it
            name, code, chrome = self.stack.pop()
            self.code -= code
            self.chrome -= chrome
            self.style -= name == "style"
            self.pre -= name == "pre"
            if name == "tr" and self.row is not None:
                if self.row[1] and self.content:
                    self.page.claim_rows.append(self.row[0])
                self.row = None
            self._block(name)
            if self.content:
                self.content -= 1
                self.content_done = not self.content
            if name == tag:
                break

    def _block(self, tag: str) -> None:
        if tag in BLOCK_TAGS and self.content:
            self.lines.append([])

    def handle_data(self, data):
        if self.style:
            self.page.styles[-1] += data
        if not self.code:
            self.text.append(data)
            if self.content:
                self.content_text.append(data)
        if self.content and not self.chrome:
            if not self.lines:
                self.lines.append([])
            if self.pre:  # a code block: one line of code, one line of text
                first, *rest = data.split("\n")
                self.lines[-1].append(first)
                self.lines.extend([line] for line in rest)
            else:
                self.lines[-1].append(data)

    def _urls(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "a" and "href" in attributes:
            self.page.links.append(attributes["href"])
        if "style" in attributes:
            self.page.styles.append(attributes["style"])
        rel = attributes.get("rel", "").lower()
        for name, value in attributes.items():
            if name in URL_ATTRS and value:
                self.page.urls.append((tag, f"{name} rel={rel}" if tag == "link" else name, value))
            elif name in {"srcset", "imagesrcset"}:
                for candidate in value.split(","):
                    if candidate.strip():
                        self.page.urls.append((tag, name, candidate.split()[0]))

    def close(self):
        super().close()
        self.page.text = "".join(self.text)
        self.page.content_text = "".join(self.content_text)
        for parts in self.lines:
            line = " ".join("".join(parts).split()).strip(PERMALINK_SYMBOLS + " ")
            if line:
                self.page.content.append(line)


def parse_page(html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.page


# ----------------------------------------------------------------- the site
def site_pages(site: Path) -> dict[str, Path]:
    """Page name (``dropout/inverted/``, ``/`` for the home page) -> its HTML file."""
    pages = {}
    for file in sorted(site.rglob("*.html")):
        rel = file.relative_to(site).as_posix()
        if rel == "404.html":
            continue
        name = rel[: -len("index.html")] if file.name == "index.html" else rel
        pages[name or "/"] = file
    return pages


def page_name(source: str) -> str:
    """``dropout/inverted.md`` -> ``dropout/inverted/``; ``index.md`` -> ``/``."""
    stem = source.rsplit(".", 1)[0]
    if stem == "index":
        return "/"
    if stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


@dataclass
class Expected:
    """What the sources promise, whichever engine builds them."""

    claims: list[str] = field(default_factory=list)  # every claim id, in page order
    chapters: dict[str, list[str]] = field(default_factory=dict)  # chapter -> its pages
    math_pages: set[str] = field(default_factory=set)  # page names whose source has math
    notebook_pages: list[str] = field(default_factory=list)  # page names of source notebooks


def strip_code(markdown: str) -> str:
    return INLINE_CODE.sub("", FENCE.sub("", markdown))


def expected_from_docs(docs: Path) -> Expected:
    out = Expected()
    generated = docs / "notebooks"
    sources = sorted(p for p in docs.rglob("*.md") if generated not in p.parents)
    take_home_seen = False
    for file in sources:
        source = file.relative_to(docs).as_posix()
        text = file.read_text(encoding="utf-8")
        out.claims += CLAIM.findall(text)
        chapters = TAKE_HOME.findall(text)
        take_home_seen |= bool(chapters)
        for chapter in chapters:
            out.chapters.setdefault(chapter, []).append(page_name(source))
        if SOURCE_MATH.search(strip_code(text)):
            out.math_pages.add(page_name(source))
    if not take_home_seen:  # sources before the take-home marker: every chapter with code
        for file in sources:
            source = file.relative_to(docs).as_posix()
            chapter = source.split("/")[0]
            if (
                "/" in source
                and chapter not in NO_NOTEBOOK
                and SNIPPET_INCLUDE.search(file.read_text(encoding="utf-8"))
            ):
                out.chapters.setdefault(chapter, []).append(page_name(source))
    for notebook in sorted(docs.rglob("*.ipynb")):
        if generated not in notebook.parents:
            source = notebook.relative_to(docs).as_posix()
            out.notebook_pages.append(page_name(source))
            # A rendered notebook's Markdown page, if the pre-build wrote one, is the same page.
            out.math_pages.discard(page_name(source))
            if SOURCE_MATH.search(strip_code(_notebook_markdown(notebook))):
                out.math_pages.add(page_name(source))
    return out


def _notebook_markdown(path: Path) -> str:
    import json

    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except ValueError:
        return ""
    return "\n\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "markdown")


def site_host(site_url: str) -> str:
    return urlparse(site_url).netloc.lower()


def site_url_from_config(config: Path) -> str:
    """mkdocs.yml's site_url, with ``!ENV [SITE_URL, default]`` resolved as the engines do."""
    if not config.is_file():
        return ""
    from docs_hooks.prebuild import load_config

    return (load_config(config) or {}).get("site_url") or ""


# ----------------------------------------------------------------- checks of one site
def _excerpt(found: list[str], limit: int = 3) -> str:
    shown = ", ".join(repr(f) for f in found[:limit])
    return shown + (f" and {len(found) - limit} more" if len(found) > limit else "")


def _outside(inside: int, total: int) -> str:
    if inside == total:
        return ""
    return f" ({total - inside} outside the content: navigation, table of contents or <head>)"


def check_markers(engine: str, pages: dict[str, Page]) -> list[Problem]:
    out = []
    for name, page in pages.items():
        found = MARKER.findall(page.text)
        if found:
            inside = len(MARKER.findall(page.content_text))
            out.append(
                Problem(
                    engine,
                    name,
                    "unfilled fact markers",
                    f"{len(found)}{_outside(inside, len(found))}: {_excerpt(found)}",
                )
            )
    return out


def check_math(engine: str, pages: dict[str, Page], math_pages: set[str]) -> list[Problem]:
    out = []
    for name, page in pages.items():
        matches = list(RAW_TEX.finditer(page.text))
        if matches:
            # Where it is: the first few with the words around them.
            spans: list[list[int]] = []  # matches close together are one place
            for m in matches:
                if spans and m.start() - spans[-1][1] < 40:
                    spans[-1][1] = m.end()
                else:
                    spans.append([m.start(), m.end()])
            around = list(
                dict.fromkeys(" ".join(page.text[max(0, a - 25) : min(b, a + 50) + 25].split()) for a, b in spans)
            )
            shown = "; ".join(f"...{a}..." for a in around[:3])
            more = f" and {len(around) - 3} more places" if len(around) > 3 else ""
            out.append(
                Problem(
                    engine,
                    name,
                    "raw TeX in the text",
                    f"{len(matches)}{_outside(len(RAW_TEX.findall(page.content_text)), len(matches))}: {shown}{more}",
                )
            )
        if page.arithmatex:
            out.append(
                Problem(
                    engine,
                    name,
                    "raw TeX in the text",
                    f"{page.arithmatex} arithmatex element(s) not rendered to MathML",
                )
            )
    for name in sorted(math_pages):
        if name in pages and not pages[name].math:
            out.append(Problem(engine, name, "no MathML", "its source has math, the page has no <math>"))
    return out


def check_claims(engine: str, pages: dict[str, Page], claims: list[str]) -> list[Problem]:
    name = "claims/"
    if name not in pages:
        return [Problem(engine, name, "claims table", "the Verified claims page is missing")]
    rows = pages[name].claim_rows
    problems = []
    if len(rows) != len(claims):
        problems.append(
            Problem(engine, name, "claims table", f"{len(rows)} table row(s), the sources make {len(claims)} claim(s)")
        )
    ids = [r for r in rows if r]
    missing = [c for c in claims if c not in ids]
    extra = [r for r in ids if r not in claims]
    twice = sorted({r for r in ids if ids.count(r) > 1})
    if missing:
        problems.append(
            Problem(engine, name, "claims table", f"no row for {len(missing)} claim(s): {_excerpt(missing)}")
        )
    if extra:
        problems.append(Problem(engine, name, "claims table", f"rows for claims no page makes: {_excerpt(extra)}"))
    if twice:
        problems.append(Problem(engine, name, "claims table", f"claims with more than one row: {_excerpt(twice)}"))
    return problems


def _notebook_problem(path: Path) -> str | None:
    import nbformat

    if not path.is_file():
        return "missing"
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        nbformat.validate(nb)
    except (ValueError, KeyError, AttributeError, TypeError, nbformat.ValidationError) as exc:
        # not JSON (NotJSONError is a ValueError), not a notebook, or one the schema rejects
        return f"not a valid notebook ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
    if not nb.cells:
        return "a notebook without cells"
    return None


def _resolve(site: Path, page_file: Path, href: str) -> Path | None:
    href = href.split("#")[0].split("?")[0]
    if not href or urlparse(href).scheme or href.startswith("//"):
        return None
    target = site / urljoin("/" + page_file.relative_to(site).as_posix(), href).lstrip("/")
    return target / "index.html" if target.is_dir() else target


def check_notebooks(
    engine: str, site: Path, files: dict[str, Path], pages: dict[str, Page], expected: Expected
) -> list[Problem]:
    out = []
    for chapter, chapter_pages in sorted(expected.chapters.items()):
        for suffix in (".ipynb", ".py"):
            rel = f"notebooks/{chapter}{suffix}"
            path = site / rel
            if suffix == ".ipynb":
                problem = _notebook_problem(path)
            else:
                problem = None if path.is_file() else "missing"
                if path.is_file() and not path.read_text(encoding="utf-8").strip():
                    problem = "empty"
            if problem:
                out.append(Problem(engine, rel, "chapter notebook", problem))
        for name in chapter_pages:
            if name not in pages:
                continue
            linked = {_resolve(site, files[name], h) for h in pages[name].links}
            if (site / f"notebooks/{chapter}.ipynb") not in linked:
                out.append(
                    Problem(
                        engine, name, "chapter notebook", f"no link to notebooks/{chapter}.ipynb (the take-home box)"
                    )
                )
    for name in expected.notebook_pages:
        if name not in pages:
            out.append(Problem(engine, name, "notebook page", "missing: the source has this notebook"))
            continue
        downloads = [
            p for p in (_resolve(site, files[name], h) for h in pages[name].links) if p and p.suffix == ".ipynb"
        ]
        if not downloads:
            out.append(Problem(engine, name, "notebook page", "no download link to its .ipynb"))
        for path in downloads:
            problem = _notebook_problem(path)
            if problem:
                out.append(
                    Problem(
                        engine, name, "notebook page", f"its download {path.relative_to(site).as_posix()} is {problem}"
                    )
                )
    return out


def _off_site(url: str, host: str) -> bool:
    parsed = urlparse(url.strip())
    if url.strip().startswith("//"):
        parsed = urlparse("https:" + url.strip())
    return parsed.scheme in {"http", "https"} and parsed.netloc.lower() != host


def check_requests(engine: str, pages: dict[str, Page], host: str) -> list[Problem]:
    out = []
    for name, page in pages.items():
        found = []
        for tag, attribute, url in page.urls:
            rels = set(attribute.partition("rel=")[2].split())
            if tag in {"a", "area", "form"} or (tag == "link" and rels and rels <= UNFETCHED_RELS):
                continue  # followed on a click, or a <link> the browser does not fetch
            if _off_site(url, host):
                rel = f"rel={' '.join(sorted(rels))} " if rels else ""
                found.append(f"<{tag} {rel}{attribute.split()[0]}={url}>")
        for style in page.styles:
            for m in CSS_URL.finditer(style):
                url = m[1] or m[2]
                if _off_site(url, host):
                    found.append(f"CSS url({url})")
        if found:
            out.append(Problem(engine, name, "off-site request", _excerpt(found)))
    return out


# ----------------------------------------------------------------- across sites
def check_same_text(
    sites: dict[str, dict[str, Page]], diffs: int = 3, context: int = 2
) -> tuple[list[Problem], list[str]]:
    """Problems, and unified diffs of the first ``diffs`` pages that differ from the first site."""
    if len(sites) < 2:
        return [], []
    names = list(sites)
    reference = names[0]
    problems: list[Problem] = []
    shown: list[str] = []
    for engine in names[1:]:
        ref_pages, pages = sites[reference], sites[engine]
        for name in sorted(set(ref_pages) - set(pages)):
            problems.append(Problem(engine, name, "same pages", f"missing here, built by {reference}"))
        for name in sorted(set(pages) - set(ref_pages)):
            problems.append(Problem(engine, name, "same pages", f"built here, not by {reference}"))
        for name in sorted(set(ref_pages) & set(pages)):
            a, b = ref_pages[name].content, pages[name].content
            if a == b:
                continue
            changed = sum(
                1 for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"
            )
            problems.append(Problem(engine, name, "same text", f"differs from {reference} in {changed} place(s)"))
            if len(shown) < diffs:
                diff = difflib.unified_diff(a, b, f"{reference}: {name}", f"{engine}: {name}", n=context, lineterm="")
                lines = list(diff)
                if len(lines) > 40:
                    lines = lines[:40] + [f"... ({len(lines) - 40} more diff lines)"]
                shown.append("\n".join(lines))
    return problems, shown


# ----------------------------------------------------------------- all of it
def load_site(site: Path) -> tuple[dict[str, Path], dict[str, Page]]:
    files = site_pages(site)
    return files, {name: parse_page(path.read_text(encoding="utf-8")) for name, path in files.items()}


def check_site(
    engine: str,
    site: Path,
    expected: Expected,
    host: str,
    loaded: tuple[dict[str, Path], dict[str, Page]] | None = None,
) -> list[Problem]:
    """Every check of one built site."""
    site = Path(site)
    if not (site / "index.html").is_file():
        return [Problem(engine, "/", "site", f"{site} has no index.html: not a built site")]
    files, pages = loaded or load_site(site)
    return (
        check_markers(engine, pages)
        + check_math(engine, pages, expected.math_pages)
        + check_claims(engine, pages, expected.claims)
        + check_notebooks(engine, site, files, pages, expected)
        + check_requests(engine, pages, host)
    )


def check_sites(sites: dict[str, Path], expected: Expected, host: str) -> tuple[list[Problem], list[str]]:
    loaded = {engine: load_site(Path(path)) for engine, path in sites.items() if (Path(path) / "index.html").is_file()}
    problems = []
    for engine, path in sites.items():
        problems += check_site(engine, Path(path), expected, host, loaded.get(engine))
    same, diffs = check_same_text({engine: pages for engine, (_, pages) in loaded.items()})
    return problems + same, diffs


def report(problems: list[Problem], per_check: int = 8) -> str:
    """Problems grouped by engine and check: a count, then the first few pages."""
    lines = []
    groups: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.engine, p.check), []).append(p)
    for (engine, check), group in groups.items():
        pages = len({p.page for p in group})
        lines.append(
            f"{engine}: {check}: "
            + (f"{len(group)} problem(s) on {pages} page(s)" if pages != len(group) else f"{pages} page(s)")
        )
        for p in group[:per_check]:
            lines.append(f"  {p.page}: {p.what}")
        if len(group) > per_check:
            lines.append(f"  ... and {len(group) - per_check} more")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sites", nargs="+", metavar="ENGINE=DIR", help="a built site and the engine that built it")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs", help="the sources (default: docs/)")
    parser.add_argument("--site-url", default=None, help="the site's own URL (default: site_url of mkdocs.yml)")
    args = parser.parse_args(argv)
    sites = {}
    for item in args.sites:
        engine, sep, path = item.partition("=")
        if not sep or not engine or not path:
            parser.error(f"{item!r}: write ENGINE=DIR, e.g. mkdocs=/tmp/site")
        sites[engine] = Path(path)
    site_url = args.site_url if args.site_url is not None else site_url_from_config(args.docs.parent / "mkdocs.yml")
    expected = expected_from_docs(args.docs)
    problems, diffs = check_sites(sites, expected, site_host(site_url))
    counts = {e: len(site_pages(p)) if p.is_dir() else 0 for e, p in sites.items()}
    print(
        "check_site: "
        + ", ".join(f"{e} {n} pages" for e, n in counts.items())
        + f"; {len(expected.claims)} claims, {len(expected.chapters)} chapter notebooks, "
        f"{len(expected.math_pages)} pages with math expected"
    )
    if not problems:
        print(
            "check_site: every check passed"
            + (" and the page text is the same on every engine" if len(sites) > 1 else "")
        )
        return 0
    print(report(problems))
    for diff in diffs:
        print("\n" + diff)
    print(f"\ncheck_site: {len(problems)} problem(s)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
