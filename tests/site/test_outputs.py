"""Each snippet runs as a script, and what it prints is exactly its ``#>`` comment lines.

As in Pydantic's pytest-examples, a reader sees the output under the code that prints it,
and that output cannot drift: the test runs the file and compares. Run
``python -m tests.site.update_outputs`` to rewrite the ``#>`` lines after a deliberate change.
"""

import contextlib
import io
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = sorted(p for p in (ROOT / "snippets").rglob("*.py") if p.name != "__init__.py")


def expected_output(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped == "#>" or stripped.startswith("#> "):
            out.append(stripped[3:])
    return out


def run_as_script(path: Path) -> list[str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        runpy.run_path(str(path), run_name="__main__")
    return [line.rstrip() for line in buffer.getvalue().splitlines()]


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: str(p.relative_to(ROOT)))
def test_printed_output_matches_comments(path):
    assert run_as_script(path) == expected_output(path)
