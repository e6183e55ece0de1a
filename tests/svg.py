"""Shared checks of the SVG figures the snippets draw."""

import xml.etree.ElementTree as ET
from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}svg"


def small_svg_ids(path: Path, limit: int = 60_000) -> set[str]:
    """Assert the file is an SVG of at most `limit` bytes; return the ids of its elements."""
    data = Path(path).read_bytes()
    assert len(data) <= limit
    root = ET.fromstring(data)
    assert root.tag == SVG
    return {element.get("id") for element in root.iter()}


ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "assets" / "figures"


def render(save_figure, name: str, tmp_path_factory) -> Path:
    """A fresh render of a figure, into a folder of its own, under the committed file's name."""
    path = tmp_path_factory.mktemp("fig") / name
    save_figure(path)
    return path


def assert_transparent(path: Path) -> None:
    """Matplotlib's first path is the figure's background: unfilled, the figure reads on the
    white page and on the dark one."""
    root = ET.fromstring(Path(path).read_bytes())
    background = next(root.iter("{http://www.w3.org/2000/svg}path"))
    assert "fill: none" in background.get("style", ""), "transparent background"


def assert_committed_is_fresh(fresh: Path, module: str) -> None:
    """docs/assets/figures/ holds, byte for byte, what the snippet draws now."""
    committed = FIGURES / fresh.name
    target = committed.relative_to(ROOT).as_posix()
    assert committed.read_bytes() == fresh.read_bytes(), (
        f're-render: python -c "from {module} import save_figure; save_figure({target!r})"'
    )
