"""Fixtures of the site checks: a throw-away chapter of snippets, and a page to fill."""

import importlib
import sys
import textwrap
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

import snippets


class TmpChapter(SimpleNamespace):
    """``snippets.<name>`` living in a temporary folder: write modules, edit them, import them."""

    def write(self, relpath: str, text: str) -> Path:
        path = self.folder / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        importlib.invalidate_caches()  # a new file in a folder the finders listed a moment ago
        return path

    def marker(self, topic: str, rest: str) -> str:
        return f"[[{self.name}.{topic}:{rest}]]"


@pytest.fixture
def tmp_chapter(tmp_path, monkeypatch):
    """A chapter importable as ``snippets.<unique name>`` without touching snippets/: its folder
    is added to the package's search path for the test only. ``CALLS`` counts facts() calls
    from a module outside the package, which no reload resets."""
    name = "tmp" + uuid.uuid4().hex[:10]
    ext = tmp_path / "ext"
    (ext / name).mkdir(parents=True)
    (ext / name / "__init__.py").write_text('"""A temporary chapter."""\n', encoding="utf-8")
    counter = f"{name}_calls"
    (tmp_path / f"{counter}.py").write_text("CALLS = []\n", encoding="utf-8")
    monkeypatch.setattr(snippets, "__path__", [*snippets.__path__, str(ext)])
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield TmpChapter(
        name=name,
        folder=ext / name,
        root=tmp_path,
        counter=counter,
        calls=lambda: importlib.import_module(counter).CALLS,
    )
    for module in [m for m in sys.modules if m.startswith(f"snippets.{name}") or m == counter]:
        del sys.modules[module]


def fake_page(src_uri: str):
    """What a hook needs of an MkDocs page: its path under docs/."""
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri), title=src_uri)
