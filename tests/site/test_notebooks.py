"""Every chapter goes home as a notebook: assembled from the snippets its pages show, in page
order, byte for byte, and it runs with nothing but the project's dependencies."""

import json
from pathlib import Path

import nbformat
import pytest
from mkdocs.config import load_config

from docs_hooks import chapter_notebooks as cn

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def load_nav():
    return load_config(str(ROOT / "mkdocs.yml")).nav


def setup_sources(nb) -> dict:
    setup = nb.cells[1].source
    return json.loads(setup[setup.index("SOURCES = ") + len("SOURCES = ") : setup.index("\n\nfor name")])


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
    shown = {
        m["path"]
        for _, page in CHAPTERS[chapter]
        for m in cn.INCLUDE.finditer((DOCS / page).read_text(encoding="utf-8"))
    }
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
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import sys\nprint(sorted(getattr(m, '__file__', None) or '-' for n, m in sys.modules.items() if n.startswith('snippets.')))"
        )
    )
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors[0]["evalue"] if errors else ""
    files = eval(nb.cells[-1].outputs[0]["text"])
    assert files and set(files) == {"-"}


@pytest.mark.parametrize(
    "include, message",
    [
        (
            '--8<-- "snippets/dropout/inverted.py:cor"',
            (
                "dropout/typo.md includes snippets/dropout/inverted.py:cor, but snippets/dropout/inverted.py "
                "has no section 'cor'; it has "
            ),
        ),
        (
            '--8<-- "snippets/dropout/invertd.py"',
            "dropout/typo.md includes snippets/dropout/invertd.py, which does not exist",
        ),
    ],
)
def test_a_wrong_include_fails_naming_page_and_section(tmp_path, include, message):
    """A typo in an include is reported by the notebook hook (it reads the includes first)
    with the page and the section, not as a bare StopIteration."""
    from mkdocs.exceptions import PluginError

    (tmp_path / "dropout").mkdir()
    (tmp_path / "dropout" / "typo.md").write_text(f"# Typo\n\n```python\n{include}\n```\n", encoding="utf-8")
    pages = cn.chapters([{"Dropout": [{"Typo": "dropout/typo.md"}]}], tmp_path)["dropout"]
    with pytest.raises(PluginError) as caught:
        cn.build_notebook("dropout", pages, tmp_path)
    assert message in str(caught.value)
    if "section" in message:
        assert "'demo-inverted'" in str(caught.value)  # the sections the file does have


def test_module_order_reads_every_kind_of_import(tmp_path):
    """`from snippets.x import module`, an import inside a function and an import cycle all give
    the modules a notebook's setup cell must register, dependencies first."""
    pkg = tmp_path / "snippets" / "x"
    pkg.mkdir(parents=True)
    (tmp_path / "snippets" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "base.py").write_text("import torch\n")
    (pkg / "helper.py").write_text("def f():\n    from snippets.x.topic import g\n")
    (pkg / "topic.py").write_text(
        "from snippets.x import base, helper\nfrom snippets.x.base import torch\ndef g(): pass\n"
    )
    assert cn.module_order(["snippets/x/topic.py"], tmp_path) == [
        "snippets.x.base",
        "snippets.x.helper",
        "snippets.x.topic",
    ]


def test_a_wrong_include_on_any_page_names_the_include():
    """Pages without a notebook (experiments, playground, pages off the nav) are checked too,
    before pymdownx.snippets, whose error names neither the include nor a way to fix it. The
    engine adds the page's path (tests/site/test_facts_cache.py shows MkDocs doing so)."""
    from mkdocs.exceptions import PluginError

    from docs_hooks.extension import render_text

    markdown = '# X\n\n```python\n--8<-- "snippets/experiments/data.py:dem"\n```\n'
    with pytest.raises(PluginError, match=r"this page includes snippets/experiments/data\.py:dem, but .*'demo'"):
        render_text(markdown, DOCS)
    fine = markdown.replace(":dem", ":demo")
    assert render_text(fine, DOCS) == fine


def test_every_page_of_a_chapter_with_a_notebook_ends_with_its_box():
    """The box is asked for on the page (`<!-- take-home: chapter -->`): exactly the pages
    whose code goes into a chapter notebook have it, naming their own chapter."""
    from docs_hooks.extension import TAKE_HOME

    in_notebooks = {path: chapter for chapter, pages in CHAPTERS.items() for _, path in pages}
    for page in sorted(DOCS.rglob("*.md")):
        rel = page.relative_to(DOCS).as_posix()
        asked = TAKE_HOME.findall(page.read_text(encoding="utf-8"))
        assert asked == ([in_notebooks[rel]] if rel in in_notebooks else []), rel


def test_the_box_needs_the_prebuilt_notebook(tmp_path):
    from docs_hooks.extension import TakeHomeError, render_text

    (tmp_path / "docs" / "notebooks").mkdir(parents=True)
    with pytest.raises(TakeHomeError, match=r"no docs/notebooks/dropout\.ipynb; run `python -m docs_hooks.prebuild`"):
        render_text("<!-- take-home: dropout -->", tmp_path / "docs", root=ROOT)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Dropout\n\nText.")])
    (tmp_path / "docs" / "notebooks" / "dropout.ipynb").write_text(nbformat.writes(nb))
    box = render_text("<!-- take-home: dropout -->", tmp_path / "docs", root=ROOT)
    assert "of the *Dropout* chapter" in box and "(../notebooks/dropout.ipynb)" in box


def test_the_prebuild_writes_each_file_once_and_removes_stale_ones(tmp_path):
    nav = load_nav()
    out = tmp_path / "docs"
    for _, path in [p for pages in CHAPTERS.values() for p in pages]:
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text((DOCS / path).read_text(encoding="utf-8"), encoding="utf-8")
    (out / "notebooks").mkdir()
    (out / "notebooks" / "gone.ipynb").write_text("{}")
    written = cn.write_notebooks(nav, out)
    assert {p.name for p in written} == {f"{c}{s}" for c in CHAPTERS for s in (".ipynb", ".py")} | {"gone.ipynb"}
    assert not (out / "notebooks" / "gone.ipynb").exists()
    assert cn.write_notebooks(nav, out) == []  # nothing changed: nothing written
