"""Every chapter goes home as a notebook: assembled from the snippets its pages show, in page
order, byte for byte, and it runs with nothing but the project's dependencies."""

from pathlib import Path

import json

import pytest
from mkdocs.config import load_config
import nbformat

from docs_hooks import chapter_notebooks as cn

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def load_nav():
    return load_config(str(ROOT / "mkdocs.yml")).nav


def setup_sources(nb) -> dict:
    setup = nb.cells[1].source
    return json.loads(setup[setup.index("SOURCES = ") + len("SOURCES = "): setup.index("\n\nfor name")])


CHAPTERS = cn.chapters(load_nav(), DOCS)


def test_every_chapter_with_code_gets_a_notebook():
    assert {"dropout", "cnn", "batchnorm", "rnn", "regularizers", "practical", "basics"} <= set(CHAPTERS)


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_code_cells_are_the_chapters_snippets_byte_for_byte(chapter):
    nb = cn.build_notebook(chapter, CHAPTERS[chapter], DOCS)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    expected = [
        cn.section_text(m["path"], m["section"])
        for _, page in CHAPTERS[chapter]
        for m in cn.INCLUDE.finditer((DOCS / page).read_text(encoding="utf-8"))
    ]
    assert code[1:] == expected
    sources = setup_sources(nb)
    shown = {m["path"] for _, page in CHAPTERS[chapter] for m in cn.INCLUDE.finditer((DOCS / page).read_text(encoding="utf-8"))}
    assert {name.replace(".", "/") + ".py" for name in sources} >= shown
    for name, source in sources.items():
        assert source == (ROOT / (name.replace(".", "/") + ".py")).read_text(encoding="utf-8")


def test_section_text_matches_what_the_page_shows():
    text = cn.section_text("snippets/dropout/inverted.py", "demo-inverted")
    assert text.startswith("h = torch.tensor([5.0, 3.0, 7.0, 1.0])")  # dedented out of main()
    assert "--8<--" not in cn.section_text("snippets/dropout/inverted.py", None)


def test_percent_script_round_trip():
    nb = cn.build_notebook("dropout", CHAPTERS["dropout"], DOCS)
    script = cn.to_percent_script(nb)
    assert script.count("# %%\n") == sum(c.cell_type == "code" for c in nb.cells)
    compile(script, "dropout.py", "exec")


@pytest.mark.slow
@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_notebook_executes_without_error(chapter, tmp_path):
    from nbclient import NotebookClient

    nb = cn.build_notebook(chapter, CHAPTERS[chapter], DOCS)
    # The modules must come from the notebook's setup cell, not from an installed package.
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys\nprint(sorted(getattr(m, '__file__', None) or '-' for n, m in sys.modules.items() if n.startswith('snippets.')))"))
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors[0]["evalue"] if errors else ""
    files = eval(nb.cells[-1].outputs[0]["text"])
    assert files and set(files) == {"-"}
