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
