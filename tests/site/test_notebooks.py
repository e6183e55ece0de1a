"""Every chapter goes home as a notebook: assembled from the snippets its pages show, in page
order, byte for byte, and it runs with nothing but the project's dependencies."""

import json
from pathlib import Path

import nbformat
import pytest
from mkdocs.config import load_config

from docs_hooks import chapter_notebooks as cn
from tests.experiments.test_notebook import stdout

# Untraced (tests/conftest.py): the notebooks' assembly (docs_hooks), not snippets/.
pytestmark = pytest.mark.untraced

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def load_nav():
    return load_config(str(ROOT / "mkdocs.yml")).nav


def setup_sources(nb) -> dict:
    setup = nb.cells[2].source
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
    assert code[0] == cn.install_source(cn.third_party_imports([*setup_sources(nb).values(), *code[2:]]))
    assert code[2:] == expected
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


def test_install_cell_names_the_packages_the_code_imports():
    """Imports anywhere in the sources count; the standard library, the snippets and the
    libraries shown only for comparison do not; an unknown one stops the pre-build."""
    sources = ["import torch\nimport os\n", "def f():\n    from kornia.augmentation import X\n    import timm\n"]
    assert cn.third_party_imports(sources) == ["torch", "kornia"]
    cell = cn.install_source(["torch", "kornia"])
    assert '"kornia": "kornia==0.9.0"' in cell and "whl/cpu" in cell and '"torch": "torch' not in cell
    assert "whl/cpu" not in cn.install_source(["numpy"])
    with pytest.raises(cn.IncludeError, match="imports pandas: add it to PACKAGES"):
        cn.third_party_imports(["import pandas"])
    nb = cn.build_notebook("modern", CHAPTERS["modern"], DOCS)
    assert {"torch", "kornia"} <= set(nb.metadata["packages"])  # kornia: its mixup and CutMix


@pytest.mark.parametrize("absent", [set(), {"numpy"}, {"torch", "kornia"}])
def test_install_cell_installs_only_what_is_missing(monkeypatch, absent):
    """Run with pip replaced: nothing where all imports; else the missing ones, torch from
    the CPU index (never from PyPI, whose Linux wheel is the CUDA build)."""
    import importlib.util
    import subprocess

    calls = []
    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name in absent else found("json"))
    monkeypatch.setattr(subprocess, "check_call", lambda args: calls.append(args[4:]))
    exec(cn.install_source(["torch", "numpy", "kornia"]), {})  # noqa: S102 - the cell a notebook runs
    expected = [["--quiet", "torch>=2.2", "--index-url", cn.TORCH_CPU_INDEX]] if "torch" in absent else []
    others = [cn.PACKAGES[m] for m in ("numpy", "kornia") if m in absent]
    assert calls == expected + ([["--quiet", *others]] if others else [])


def test_percent_script_round_trip():
    nb = cn.build_notebook("dropout", CHAPTERS["dropout"], DOCS)
    script = cn.to_percent_script(nb)
    assert script.count("# %%\n") == sum(c.cell_type == "code" for c in nb.cells)
    compile(script, "dropout.py", "exec")


# Run first in the kernel: the site's own packages (installed editable, so importable from any
# folder) are made unimportable, as in a fresh environment; the notebook must bring its code.
WITHOUT_THE_SITE = f"""import importlib.util, os, sys
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != {str(ROOT.resolve())!r}]
assert importlib.util.find_spec("snippets") is None and importlib.util.find_spec("docs_hooks") is None
assert not os.path.realpath(os.getcwd()).startswith({str(ROOT.resolve())!r})"""


@pytest.mark.slow
@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_exported_notebook_runs_on_its_own_outside_the_repository(chapter, tmp_path):
    """The notebook as the pre-build exports it, copied into an empty folder and run there
    (the kernel's working directory) without the site importable. The packages it needs are
    installed here, so its install cell must do nothing (and needs no network)."""
    from nbclient import NotebookClient

    exported = tmp_path / f"{chapter}.ipynb"
    exported.write_text(nbformat.writes(cn.build_notebook(chapter, CHAPTERS[chapter], DOCS)), encoding="utf-8")
    nb = nbformat.read(exported, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(WITHOUT_THE_SITE))
    # The modules must come from the notebook's setup cell, not from an installed package.
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "print(missing)\nprint(sorted(getattr(m, '__file__', None) or '-' for n, m in sys.modules.items() if n.startswith('snippets.')))"
        )
    )
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors[0]["evalue"] if errors else ""
    assert nb.cells[2].source.startswith("# Installs what") and not nb.cells[2].outputs  # pip never ran
    nothing_missing, files = stdout(nb.cells[-1]).splitlines()  # one stream message or two
    assert nothing_missing == "[]"
    assert eval(files) and set(eval(files)) == {"-"}


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
