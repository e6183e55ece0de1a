"""Verified claims: a sentence on a page, the tests that check it, and their last outcome.

A page marks a claim right after its sentence with ``<!-- claim: dropout/eval-identity -->``.
A test declares what it verifies with ``@pytest.mark.claim("dropout/eval-identity")``.

This one module is both halves of the mechanism:

* a **pytest plugin** (loaded with ``-p docs_hooks.claims``): it fails the run when a test
  declares a claim no page makes, and writes ``reports/claims.json`` — claim id -> tests ->
  outcome, the torch version, and a fingerprint of the sources the tests ran against;
* an **MkDocs hook**: it fails the build when a page makes a claim no test declares, renders
  a small "tested" link after each claim whose tests all passed against the current sources,
  and fills the "Verified claims" page. A missing or stale report (sources changed since the
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
    paragraph = re.sub(r"^\s*(?:[-*]|\d+\.|!!!.*|\?\?\?.*)\s+", "", paragraph.strip(), flags=re.M)
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
_RUN: dict = {"items": {}, "outcomes": {}}  # this pytest process's claim tests and outcomes


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(*ids): the page claims this test verifies (docs_hooks/claims.py)")
    _RUN["items"].clear()
    _RUN["outcomes"].clear()


def pytest_collection_modifyitems(session, config, items):
    made = page_claims(config.rootpath / "docs")
    unknown = {}
    for item in items:
        ids = [i for mark in item.iter_markers("claim") for i in mark.args]
        for claim_id in ids:
            if claim_id not in made:
                unknown.setdefault(claim_id, []).append(item.nodeid)
        if ids:
            _RUN["items"][item.nodeid] = (ids, item.location)
    if unknown:
        import pytest

        lines = [f"  {cid}: {', '.join(nodes)}" for cid, nodes in sorted(unknown.items())]
        raise pytest.UsageError("tests declare claims that no page makes:\n" + "\n".join(lines))


def pytest_runtest_logreport(report):
    if report.nodeid not in _RUN["items"]:
        return
    outcomes = _RUN["outcomes"]
    if report.failed:
        outcomes[report.nodeid] = "failed"
    elif report.skipped and outcomes.get(report.nodeid) != "failed":
        outcomes[report.nodeid] = "skipped"
    else:
        outcomes.setdefault(report.nodeid, "passed")


def pytest_sessionfinish(session, exitstatus):
    store = _RUN
    if not store["items"] or session.config.option.collectonly:
        return
    import torch

    claims: dict[str, list[dict]] = {}
    for nodeid, (ids, (path, line, _)) in sorted(store["items"].items()):
        outcome = store["outcomes"].get(nodeid)
        if outcome is None:
            continue  # deselected or not run: says nothing about the claim
        for claim_id in ids:
            claims.setdefault(claim_id, []).append({"test": nodeid, "path": path, "line": (line or 0) + 1, "outcome": outcome})
    target = session.config.rootpath / REPORT
    report = {"torch": torch.__version__, "fingerprint": fingerprint(session.config.rootpath), "claims": claims}
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


# ----------------------------------------------------------------- MkDocs hook
class State:
    report: dict | None = None
    problem: str = ""
    made: dict[str, tuple[str, str]] = {}
    repo_blob: str = ""


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


def on_config(config, **kwargs):
    root = Path(config.config_file_path).resolve().parent
    State.made = page_claims(Path(config.docs_dir))
    declared = declared_claims(root / "tests")
    orphans = sorted(set(State.made) - set(declared))
    if orphans:
        raise ClaimError("pages make claims that no test declares: " + ", ".join(f"{c} ({State.made[c][0]})" for c in orphans))
    State.report, State.problem = load_report(root)
    if State.report is None and os.environ.get("CI"):
        raise ClaimError(f"CI build without a fresh claims report: {State.problem}")
    repo = (config.repo_url or "").rstrip("/")
    State.repo_blob = f"{repo}/blob/main" if repo else ""
    return config


def on_page_markdown(markdown, page, **kwargs):
    markdown = CLAIM.sub(lambda m: badge(m["id"]), markdown)
    if TABLE_MARKER in markdown:
        markdown = markdown.replace(TABLE_MARKER, claims_table(page))
    return markdown


def claims_table(page) -> str:
    from docs_hooks.facts import fill

    by_chapter: dict[str, list[str]] = {}
    for claim_id, (src, sentence) in sorted(State.made.items(), key=lambda kv: (kv[1][0], kv[0])):
        chapter = src.split("/")[0] if "/" in src else "home"
        results = (State.report or {}).get("claims", {}).get(claim_id, [])
        tests = "<br>".join(f"`{r['test'].split('::', 1)[-1]}`" for r in results) or "—"
        link = os.path.relpath(src, os.path.dirname(page.file.src_uri) or ".")
        # A wrong marker in the sentence is the fault of the page that makes the claim: name it.
        text = fill(sentence, page=src).replace("|", r"\|")
        row = f"| {text} [↗]({link}) | {tests} | {badge(claim_id).strip()} |"
        by_chapter.setdefault(chapter, []).append(row)
    torch_line = f"Report: torch {State.report['torch']}." if State.report else f"Not verified in this build: {State.problem}."
    out = [f"{len(State.made)} claims across {len(by_chapter)} chapters. {torch_line}", ""]
    for chapter, rows in by_chapter.items():
        out += [f"## {chapter.capitalize()} ({len(rows)})", "", "| Claim | Tests | Outcome |", "|---|---|---|", *rows, ""]
    return "\n".join(out)
