"""Shown code fits a phone: every line that a page includes from snippets/ is at most 76
columns wide, and every snippet file is as ruff leaves it (snippets/ruff.toml: 76 columns).

``ruff format`` cannot be run on snippets/ as it is: it rewrites each ``#>`` output line as
``# >``, which the output tests no longer read. Format snippet files with

    python -m tests.site.test_code_width --format snippets/<chapter>/<topic>.py [...]

which runs ``ruff format`` and puts the ``#>`` back; the formatting test below does the same
and compares.
"""

import functools
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ruff.__main__ import find_ruff_bin

# Untraced (tests/conftest.py): the width rule reads snippets/, it does not run them.
pytestmark = pytest.mark.untraced

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
WIDTH = 76

INCLUDE = re.compile(r'--8<--\s+"(?P<path>snippets/[^":]+)(?::(?P<section>[\w-]+))?"')
# pymdownx.snippets' section marker; a marker line is never shown
MARKER = re.compile(r"-{1,}8<-{1,}[ \t]+\[[ \t]*(?P<type>start|end)[ \t]*:[ \t]*(?P<name>[a-z][-_0-9a-z]*)[ \t]*\]")
OUTPUT_AFTER_RUFF = re.compile(r"^([ \t]*)# >( |$)", re.MULTILINE)

# Files not yet narrowed or formatted (none now). Each test of theirs is expected to fail
# (strict): once a file is fixed its test passes, which fails the run until it leaves the list.
NOT_YET_NARROW: set[str] = set()  # shown lines over 76 columns
NOT_YET_FORMATTED: set[str] = set()  # `ruff format` would change them
NOT_YET_LINTED: set[str] = set()  # `ruff check` finds something (over 76 columns, import order, ...)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def shown_sections() -> dict[str, dict[str | None, list[str]]]:
    """snippet file -> section (None: the whole file) -> the pages that include it."""
    shown: dict[str, dict[str | None, list[str]]] = {}
    for page in sorted(DOCS.rglob("*.md")):
        for m in INCLUDE.finditer(page.read_text(encoding="utf-8")):
            pages = shown.setdefault(m["path"], {}).setdefault(m["section"], [])
            pages.append(rel(page))
    return shown


def shown_lines(text: str, section: str | None) -> list[tuple[int, str]]:
    """(line number in the file, line as the page shows it) for what pymdownx.snippets
    includes: no marker lines, only the first start..end of a section, dedented."""
    picked = []
    inside = section is None
    for number, line in enumerate(text.splitlines(), start=1):
        marker = MARKER.search(line)
        if marker:
            if marker["name"] == section and marker["type"] == "start":
                inside = True
            elif marker["name"] == section and inside:
                break
            continue
        if inside:
            picked.append((number, line))
    dedented = textwrap.dedent("\n".join(line for _, line in picked)).split("\n")
    return [(number, line) for (number, _), line in zip(picked, dedented)]


def ruff(*args: str, text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [find_ruff_bin(), *args, "--no-cache"],
        input=text,
        check=False,  # the callers read the return code
        capture_output=True,
        cwd=ROOT,
        encoding="utf-8",
    )


def formatted(path: Path, text: str) -> str:
    """What `ruff format` makes of a snippet file, with its `#>` output lines kept."""
    done = ruff("format", "--stdin-filename", str(path), "-", text=text)
    if done.returncode:
        raise RuntimeError(f"ruff format failed on {rel(path)}:\n{done.stderr}")
    return OUTPUT_AFTER_RUFF.sub(r"\1#>\2", done.stdout)


def expect_failure(path: str, known: set[str], what: str):
    marks = [pytest.mark.xfail(strict=True, reason=f"{what} (listed in {__name__})")] if path in known else []
    return pytest.param(path, marks=marks, id=path)


SHOWN = shown_sections()
FILES = sorted(rel(p) for p in SNIPPETS.rglob("*.py"))


@pytest.mark.parametrize("path", [expect_failure(p, NOT_YET_NARROW, "not yet narrowed") for p in sorted(SHOWN)])
def test_shown_lines_fit(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    wide = {}
    for section, pages in SHOWN[path].items():
        for number, line in shown_lines(text, section):
            if len(line) > WIDTH:
                where = f"{path}:{number} (section {section or '(whole file)'}, on {pages[0]})"
                wide[number] = f"{where}: {len(line)} columns\n    {line}"
    assert not wide, f"shown lines over {WIDTH} columns:\n" + "\n".join(wide[n] for n in sorted(wide))


@pytest.mark.parametrize("path", [expect_failure(p, NOT_YET_FORMATTED, "not yet formatted") for p in FILES])
def test_snippet_is_formatted(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    assert formatted(ROOT / path, text) == text, (
        f"{path} is not as ruff formats it; run python -m tests.site.test_code_width --format {path}"
    )


@functools.cache
def lint_findings() -> dict[str, list[str]]:
    """`ruff check` of every snippet file, in one run: file -> its findings."""
    done = ruff("check", "--output-format", "json", "--exit-zero", *FILES)
    if done.returncode:
        raise RuntimeError(f"ruff check failed:\n{done.stderr}")
    findings: dict[str, list[str]] = {}
    for item in json.loads(done.stdout):
        path = Path(item["filename"]).resolve().relative_to(ROOT).as_posix()
        where = f"{path}:{item['location']['row']}:{item['location']['column']}"
        findings.setdefault(path, []).append(f"{where}: {item['code']} {item['message']}")
    return findings


@pytest.mark.parametrize("path", [expect_failure(p, NOT_YET_LINTED, "not yet linted") for p in FILES])
def test_snippet_passes_lint(path):
    findings = lint_findings().get(path, [])
    assert not findings, f"ruff check {path}:\n" + "\n".join(findings)


def test_shown_lines_follow_pymdownx():
    text = textwrap.dedent("""\
        import torch
        # --8<-- [start:demo]
        def f():
            # --8<-- [start:body]
            return 1
            # --8<-- [end:body]
        # --8<-- [end:demo]
        # --8<-- [start:demo]
        ignored = True
        # --8<-- [end:demo]
        """)
    assert shown_lines(text, "body") == [(5, "return 1")]
    assert shown_lines(text, "demo") == [(3, "def f():"), (5, "    return 1")]
    assert [line for _, line in shown_lines(text, None)] == [
        "import torch",
        "def f():",
        "    return 1",
        "ignored = True",
    ]


def test_formatting_keeps_output_lines():
    text = 'print( "a")\n#> a\nif True:\n    print(1)\n    #>\n    #> 1\n'
    assert formatted(SNIPPETS / "example.py", text) == 'print("a")\n#> a\nif True:\n    print(1)\n    #>\n    #> 1\n'


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "--format" or len(argv) == 1:
        print(__doc__, file=sys.stderr)
        return 2
    for name in argv[1:]:
        path = Path(name).resolve()
        text = path.read_text(encoding="utf-8")
        new = formatted(path, text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"formatted {rel(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
