"""The pages and the snippets stay one: code on a page is included from snippets/, every
snippet file is shown somewhere, every section a page asks for exists."""

import re
from pathlib import Path

import pytest

# Untraced (tests/conftest.py): pages and includes, not what snippets/ run.
pytestmark = pytest.mark.untraced

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"

FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
INCLUDE = re.compile(r'--8<--\s+"(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"')
PY_LANGS = {"py", "python", "python3", "pycon"}


def pages():
    """The pages' sources: not what `python -m docs_hooks.prebuild` generates."""
    from docs_hooks.prebuild import GENERATED_PAGES

    return sorted(p for p in DOCS.rglob("*.md") if p.relative_to(DOCS).as_posix() not in GENERATED_PAGES)


def snippet_files():
    return sorted(p for p in SNIPPETS.rglob("*.py") if p.name != "__init__.py")


def code_blocks(text):
    for m in FENCE.finditer(text):
        lang = (m["info"].split() or [""])[0].lstrip(".{").lower()
        yield lang, m["body"]


def includes(text):
    return [(m["path"], m["section"]) for m in INCLUDE.finditer(text)]


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_python_blocks_are_includes(page):
    for lang, body in code_blocks(page.read_text(encoding="utf-8")):
        if lang not in PY_LANGS:
            continue
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        assert lines, f"{page}: empty python block"
        assert all(line.startswith("--8<--") for line in lines), (
            f"{page}: a python block holds code instead of including it from snippets/:\n{body[:200]}"
        )


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_includes_name_existing_sections(page):
    for path, section in includes(page.read_text(encoding="utf-8")):
        file = ROOT / path
        assert file.is_file(), f"{page} includes a missing file {path}"
        assert path.startswith("snippets/"), f"{page} includes {path}, which is not under snippets/"
        if section:
            text = file.read_text(encoding="utf-8")
            assert f"# --8<-- [start:{section}]" in text and f"# --8<-- [end:{section}]" in text, (
                f"{page} includes section {section!r} that {path} does not mark"
            )


def test_every_snippet_file_is_shown_on_a_page():
    shown = {path for page in pages() for path, _ in includes(page.read_text(encoding="utf-8"))}
    orphans = [str(p.relative_to(ROOT)) for p in snippet_files() if str(p.relative_to(ROOT)) not in shown]
    assert not orphans, f"snippet files shown on no page: {orphans}"


def test_every_marked_section_is_shown():
    shown = {(path, section) for page in pages() for path, section in includes(page.read_text(encoding="utf-8"))}
    whole = {path for path, section in shown if section is None}
    unshown = []
    for file in snippet_files():
        rel = str(file.relative_to(ROOT))
        for section in re.findall(r"# --8<-- \[start:([\w-]+)\]", file.read_text(encoding="utf-8")):
            if rel not in whole and (rel, section) not in shown:
                unshown.append(f"{rel}:{section}")
    assert not unshown, f"marked sections no page shows: {unshown}"


def test_the_checker_sees_inline_code():
    """The check above could pass by never finding a block; show it flags one."""
    page = 'Text\n\n```python\nimport torch\n```\n\n```python\n--8<-- "snippets/x.py:a"\n```\n'
    blocks = [body for lang, body in code_blocks(page) if lang in PY_LANGS]
    assert blocks == ["import torch\n", '--8<-- "snippets/x.py:a"\n']
    assert includes(page) == [("snippets/x.py", "a")]
