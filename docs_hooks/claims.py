"""Verified claims: a sentence on a page, the tests that check it, and their last outcome.

A page marks a claim right after its sentence with ``<!-- claim: dropout/eval-identity -->``.
A test declares what it verifies with ``@pytest.mark.claim("dropout/eval-identity")``.

This one module is both halves of the mechanism:

* a **pytest plugin** (loaded with ``-p docs_hooks.claims``): it fails the run when a test
  declares a claim no page makes, and writes ``reports/claims.json`` — claim id -> tests ->
  outcome, the torch version, and a fingerprint of the sources the tests ran against;
* the **pages' half**, called by the site's Markdown extension (docs_hooks/extension.py): it
  fails the build when a page makes a claim no test declares, renders a small "tested" link
  after each claim whose tests all passed against the current sources, and fills the
  "Verified claims" page. A missing or stale report (sources changed since the
  tests ran) never shows "tested": under ``CI`` the build fails, locally each claim reads
  "not verified in this build".
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[1]
REPORT = Path("reports") / "claims.json"
CLAIM = re.compile(r"<!--\s*claim:\s*(?P<id>[a-z0-9_-]+/[a-z0-9_-]+)\s*-->")
DECLARED = re.compile(r"mark\.claim\(([^)]*)\)")
TABLE_MARKER = "<!-- verified-claims-table -->"
SOURCES = ("snippets", "tests", "docs_hooks")


# ----------------------------------------------------------------- shared helpers
def page_claims(docs: Path) -> dict[str, tuple[str, str]]:
    """claim id -> (page path relative to docs, the sentence it follows)."""
    found: dict[str, tuple[str, str]] = {}
    for page in sorted(docs.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for m in CLAIM.finditer(text):
            if m["id"] in found:
                raise ClaimError(f"claim {m['id']} is made twice: {found[m['id']][0]} and {page.relative_to(docs)}")
            found[m["id"]] = (page.relative_to(docs).as_posix(), sentence_before(text, m.start()))
    return found


def sentence_before(text: str, end: int) -> str:
    """The sentence that ends where a claim marker starts (within its paragraph)."""
    paragraph = re.split(r"\n\s*\n", text[:end])[-1]
    paragraph = re.sub(r"^\s*(?:[-*]|\d+\.|!!!.*|\?\?\?.*)\s+", "", paragraph.strip(), flags=re.MULTILINE)
    paragraph = CLAIM.sub("", " ".join(paragraph.split()))
    sentences = re.split(r"(?<=[.!?:])\s+(?=[A-Z`$*(])", paragraph)
    return sentences[-1].strip()


def declared_claims(tests: Path) -> dict[str, list[str]]:
    """claim id -> test files that declare it, found by reading the test sources."""
    out: dict[str, list[str]] = {}
    for file in sorted(tests.rglob("*.py")):
        for args in DECLARED.findall(file.read_text(encoding="utf-8")):
            for claim_id in re.findall(r"[\"']([a-z0-9_-]+/[a-z0-9_-]+)[\"']", args):
                out.setdefault(claim_id, []).append(file.relative_to(tests.parent).as_posix())
    return out


def fingerprint(root: Path) -> str:
    """sha256 over every .py file the tests and the claims depend on."""
    digest = hashlib.sha256()
    for folder in SOURCES:
        for file in sorted((root / folder).rglob("*.py")):
            digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


class ClaimError(Exception):
    """A claim and its tests disagree: a page claim without a test, or the reverse."""


# ----------------------------------------------------------------- pytest plugin
# Under pytest-xdist the workers collect and run the tests while the controller receives their
# reports: a test's claim ids travel in its reports (``user_properties``), and only the process
# that holds every report (the controller, or the one process without xdist) writes the file.
USER_PROPERTY = "claims"
RECORDER = "docs_hooks.claims.recorder"


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(*ids): the page claims this test verifies (docs_hooks/claims.py)")
    config.pluginmanager.register(Recorder(config), RECORDER)


def _wrapper(function):
    """pytest's hook-wrapper mark, when pytest is there (the site builds without it)."""
    try:
        import pytest
    except ImportError:
        return function
    return pytest.hookimpl(wrapper=True)(function)


def claim_ids(node) -> list[str]:
    return [i for mark in node.iter_markers("claim") for i in mark.args]


@_wrapper
def pytest_make_collect_report(collector):
    """A test file whose tests declare a claim no page makes fails to collect, which stops the
    run before any test (with or without xdist, whose workers are the ones that collect)."""
    report = yield
    if not report.passed:
        return report
    recorder = collector.config.pluginmanager.get_plugin(RECORDER)
    if recorder.made is None:
        recorder.made = page_claims(collector.config.rootpath / "docs")
    unknown: dict[str, list[str]] = {}
    for node in report.result:
        if hasattr(node, "runtest"):  # a test, not a class of tests
            for claim_id in claim_ids(node):
                if claim_id not in recorder.made:
                    unknown.setdefault(claim_id, []).append(node.nodeid)
    if unknown:
        lines = [f"  {cid}: {', '.join(nodes)}" for cid, nodes in sorted(unknown.items())]
        report.outcome, report.result = "failed", []
        report.longrepr = "tests declare claims that no page makes:\n" + "\n".join(lines)
    return report


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        ids = claim_ids(item)
        if ids:
            item.user_properties.append((USER_PROPERTY, ids))


def torch_version() -> str:
    """torch.__version__ without importing torch (two seconds) where no test did: an xdist
    controller. The installed distribution's version is the same string."""
    import sys

    if "torch" in sys.modules:
        return sys.modules["torch"].__version__
    from importlib.metadata import version

    return version("torch")


class Recorder:
    """One pytest run's claim tests and their outcomes (a run inside a run keeps its own)."""

    def __init__(self, config):
        self.config = config
        self.made: dict | None = None  # the pages' claims, read at the first collected file
        self.tests: dict[str, tuple[list[str], str, int]] = {}  # nodeid -> (ids, path, line)
        self.outcomes: dict[str, str] = {}

    def pytest_runtest_logreport(self, report):
        ids = [i for name, value in report.user_properties if name == USER_PROPERTY for i in value]
        if not ids:
            return
        path, line, _ = report.location
        self.tests[report.nodeid] = (ids, path, (line or 0) + 1)
        outcomes = self.outcomes
        if report.failed:
            outcomes[report.nodeid] = "failed"
        elif report.skipped and outcomes.get(report.nodeid) != "failed":
            outcomes[report.nodeid] = "skipped"
        else:
            outcomes.setdefault(report.nodeid, "passed")

    def pytest_sessionfinish(self, session, exitstatus):
        if hasattr(self.config, "workerinput"):
            return  # an xdist worker: the controller writes the report
        if not self.tests or self.config.option.collectonly:
            return
        claims: dict[str, list[dict]] = {}
        for nodeid, (ids, path, line) in sorted(self.tests.items()):
            for claim_id in ids:
                claims.setdefault(claim_id, []).append(
                    {"test": nodeid, "path": path, "line": line, "outcome": self.outcomes[nodeid]}
                )
        root = self.config.rootpath
        target = root / REPORT
        report = {"torch": torch_version(), "fingerprint": fingerprint(root), "claims": claims}
        # Two runs against the same sources (say `pytest`, then `pytest -m slow`) add up.
        if target.is_file():
            old = json.loads(target.read_text(encoding="utf-8"))
            if old.get("fingerprint") == report["fingerprint"] and old.get("torch") == report["torch"]:
                for claim_id, results in old["claims"].items():
                    fresh = {r["test"] for r in claims.get(claim_id, [])}
                    claims.setdefault(claim_id, []).extend(r for r in results if r["test"] not in fresh)
        target.parent.mkdir(exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, target)


# ----------------------------------------------------------------- the pages' half
class State:
    """What the pages of one build need, read once and again only when a source changes
    (a build renders each page with a fresh Markdown instance)."""

    signature: ClassVar[tuple] = ()
    report: ClassVar[dict | None] = None
    problem: ClassVar[str] = ""
    made: ClassVar[dict[str, tuple[str, str]]] = {}
    defaults: ClassVar[dict[str, str | None]] = {}  # page -> its <!-- facts: --> module
    repo_blob: ClassVar[str] = ""


def _signature(root: Path, docs: Path, repo_url: str) -> tuple:
    """Changes when a page, a test, a hooked source or the report changes (stat only: a build
    asks once per page that has a claim)."""
    stats = []

    def walk(folder: str, suffix: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    walk(entry.path, suffix)
            elif entry.name.endswith(suffix):
                st = entry.stat()
                stats.append((entry.path, st.st_mtime_ns, st.st_size))

    walk(str(docs), ".md")
    for folder in SOURCES:
        walk(str(root / folder), ".py")
    try:
        st = (root / REPORT).stat()
        stats.append((str(root / REPORT), st.st_mtime_ns, st.st_size))
    except OSError:
        stats.append((str(root / REPORT), None, None))
    return (str(root), str(docs), repo_url, os.environ.get("CI", ""), tuple(stats))


def configure(root: Path, docs: Path, repo_url: str = "") -> None:
    """Read the pages' claims, the tests' declarations and the report. Raises ClaimError when a
    page makes a claim no test declares, or under ``CI`` without a fresh report."""
    signature = _signature(root, docs, repo_url)
    if signature == State.signature:
        return
    from docs_hooks.facts import default_module

    made = page_claims(docs)
    declared = declared_claims(root / "tests")
    orphans = sorted(set(made) - set(declared))
    if orphans:
        raise ClaimError(
            "pages make claims that no test declares: " + ", ".join(f"{c} ({made[c][0]})" for c in orphans)
        )
    report, problem = load_report(root)
    if report is None and os.environ.get("CI"):
        raise ClaimError(f"CI build without a fresh claims report: {problem}")
    State.made, State.report, State.problem = made, report, problem
    State.defaults = {src: default_module((docs / src).read_text(encoding="utf-8")) for src, _ in made.values()}
    repo = (repo_url or "").rstrip("/")
    State.repo_blob = f"{repo}/blob/main" if repo else ""
    State.signature = signature


def load_report(root: Path) -> tuple[dict | None, str]:
    """The report if it exists and matches the current sources, else (None, why not)."""
    path = root / REPORT
    if not path.is_file():
        return None, f"no {REPORT}: run pytest before building"
    report = json.loads(path.read_text(encoding="utf-8"))
    if report.get("fingerprint") != fingerprint(root):
        return None, f"{REPORT} is stale: snippets, tests or hooks changed since pytest wrote it"
    return report, ""


def status(claim_id: str) -> tuple[str, str, str]:
    """(css state, label, tooltip) for one claim."""
    if State.report is None:
        return "unverified", "not verified in this build", State.problem
    results = State.report["claims"].get(claim_id, [])
    if not results:
        return "unverified", "not verified in this build", "its tests did not run in the last pytest run"
    names = ", ".join(r["test"] for r in results)
    if all(r["outcome"] == "passed" for r in results):
        return "ok", "tested", f"Tested by {names} with torch {State.report['torch']}"
    return "failed", "test failing", f"Not passing: {names} with torch {State.report['torch']}"


def badge(claim_id: str) -> str:
    state, label, tip = status(claim_id)
    results = (State.report or {}).get("claims", {}).get(claim_id, [])
    href = f"{State.repo_blob}/{results[0]['path']}#L{results[0]['line']}" if results and State.repo_blob else ""
    attrs = f'class="claim claim--{state}" title="{html.escape(tip)}" data-claim="{claim_id}"'
    inner = f'<span class="claim__icon" aria-hidden="true">{"✓" if state == "ok" else "?"}</span> {label}'
    if href:
        return f' <a {attrs} href="{html.escape(href)}">{inner}</a>'
    return f" <span {attrs}>{inner}</span>"


def render(markdown: str, root: Path, docs: Path, repo_url: str = "") -> str:
    """A page's claim markers as marks, and the table where the page asks for it."""
    if not CLAIM.search(markdown) and TABLE_MARKER not in markdown:
        return markdown
    configure(root, docs, repo_url)
    markdown = CLAIM.sub(lambda m: badge(m["id"]), markdown)
    if TABLE_MARKER in markdown:
        markdown = markdown.replace(TABLE_MARKER, claims_table())
    return markdown


LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def rebase_links(sentence: str, src: str) -> str:
    """A claimed sentence's relative links, made relative to the docs folder's top (where the
    claims page is) instead of to the page ``src`` that makes the claim."""

    def rebase(m: re.Match) -> str:
        target = m["target"]
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return m.group(0)  # an address, or absolute: the same from anywhere
        if target.startswith("#"):
            return f"]({src}{target})"
        return f"]({os.path.normpath(os.path.join(os.path.dirname(src), target))})"

    return LINK.sub(rebase, sentence)


def claims_table() -> str:
    """Every claim, grouped by chapter, linked to its page. The links are relative to the
    docs folder's top, where the Verified claims page (claims.md) is."""
    from docs_hooks.facts import BUILD_CACHE, fill

    by_chapter: dict[str, list[str]] = {}
    for claim_id, (src, sentence) in sorted(State.made.items(), key=lambda kv: (kv[1][0], kv[0])):
        chapter = src.split("/")[0] if "/" in src else "home"
        results = (State.report or {}).get("claims", {}).get(claim_id, [])
        tests = "<br>".join(f"`{r['test'].split('::', 1)[-1]}`" for r in results) or "—"
        # A wrong marker in the sentence is the fault of the page that makes the claim: name it.
        text = fill(sentence, page=src, cache=BUILD_CACHE, default=State.defaults.get(src))
        text = rebase_links(text, src).replace("|", r"\|")
        row = f"| {text} [↗]({src}) | {tests} | {badge(claim_id).strip()} |"
        by_chapter.setdefault(chapter, []).append(row)
    torch_line = (
        f"Report: torch {State.report['torch']}." if State.report else f"Not verified in this build: {State.problem}."
    )
    out = [f"{len(State.made)} claims across {len(by_chapter)} chapters. {torch_line}", ""]
    for chapter, rows in by_chapter.items():
        out += [
            f"## {chapter.capitalize()} ({len(rows)})",
            "",
            "| Claim | Tests | Outcome |",
            "|---|---|---|",
            *rows,
            "",
        ]
    return "\n".join(out)
