"""The walkthrough notebook: it runs without error, its committed copy is current, and its page
makes no off-site request and shows its math as MathML."""

import json
import types

import jupytext
import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from docs_hooks import notebook as hook
from snippets.experiments import notebook
from snippets.experiments.results import DOCS, platform_info

COMMITTED = notebook.notebook_path()


def test_executing_saves_every_output_with_fixed_cell_ids(tmp_path):
    source = tmp_path / "tiny.py"
    source.write_text("# %% [markdown]\n# A title\n\n# %%\nprint(6 * 7)\n\n# %%\n1 / 0\n")
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        notebook.execute(root=tmp_path, timeout=60, source=source)
    assert not notebook.notebook_path(tmp_path).exists(), "a failed run writes nothing"

    source.write_text("# %% [markdown]\n# A title\n\n# %%\nprint(6 * 7)\n")
    assert notebook.execute(root=tmp_path, timeout=60, source=source) > 0
    saved = nbformat.read(notebook.notebook_path(tmp_path), as_version=4)
    assert [cell.id for cell in saved.cells] == ["cell-0", "cell-1"]
    assert saved.cells[1].outputs[0].text == "42\n"
    assert "execution" not in saved.cells[1].metadata, "no timestamps: reruns give the same file"


@pytest.mark.slow
def test_the_notebook_runs_and_reproduces_the_committed_file(tmp_path):
    """The real notebook, in a fresh kernel with a time limit; any error fails the test.

    On the platform that executed the committed copy, the new one is the same file, byte for
    byte. On any other, the cells and the kinds of output are the same, and the notebook's own
    comparison with the results file says it reproduced them within the tolerance."""
    notebook.execute(root=tmp_path, timeout=120)
    new = notebook.notebook_path(tmp_path)
    committed = nbformat.read(COMMITTED, as_version=4)
    if committed.metadata["platform"] == platform_info():
        assert new.read_bytes() == COMMITTED.read_bytes()
        return
    fresh = nbformat.read(new, as_version=4)
    assert [(c.cell_type, c.source) for c in fresh.cells] == [(c.cell_type, c.source) for c in committed.cells]
    for old, cell in zip(committed.cells, fresh.cells):
        if cell.cell_type == "code":
            assert [o.output_type for o in cell.outputs] == [o.output_type for o in old.outputs]
    assert fresh.cells[-1].outputs[0].text.startswith("reproduced: True\n")
    assert fresh.metadata["platform"] == platform_info()


def test_the_committed_notebook_matches_its_source_and_has_its_outputs():
    source = jupytext.read(notebook.SOURCE)
    committed = nbformat.read(COMMITTED, as_version=4)
    assert [(c.cell_type, c.source) for c in committed.cells] == [(c.cell_type, c.source) for c in source.cells]
    code = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    for cell in code[1:]:  # the first cell only imports
        assert cell.outputs and all(out.output_type != "error" for out in cell.outputs), cell.source
    assert code[-1].outputs[0].text.startswith("reproduced: True\nlargest gap: ")
    # The platform it was executed on, so a re-run elsewhere knows not to expect the same bits.
    assert set(committed.metadata["platform"]) == set(platform_info())
    figure = next(out for cell in code for out in cell.outputs if "image/svg+xml" in out.get("data", {}))
    assert "<title>Seed 0: validation loss is lowest at epoch" in figure.data["image/svg+xml"]


@pytest.fixture(scope="module")
def page_html():
    from mkdocs_jupyter.convert import nb2html

    page = types.SimpleNamespace(file=types.SimpleNamespace(src_uri="experiments/overfitting_walkthrough.ipynb"))
    return hook.on_page_content(nb2html(str(COMMITTED), include_requirejs=False, custom_mathjax_url=""), page)


def test_the_notebook_page_loads_nothing_from_another_host(page_html):
    assert "mathjax" not in page_html.lower() and "mermaid" not in page_html.lower()
    assert 'src=""' not in page_html and "cdnjs" not in page_html and "require.js" not in page_html


def test_the_notebook_page_shows_its_math_as_mathml(page_html):
    assert page_html.count('<div class="math"><math') == 1  # the display formula
    assert page_html.count('display="inline"') >= 3
    assert "$" not in page_html.split('<div class="jupyter-wrapper">', 1)[1].split("<style")[0]


def test_the_notebook_page_is_accessible(page_html):
    """The figure's alt text is its SVG title; wide code cells can be reached by keyboard."""
    assert '<img alt="Seed 0: validation loss is lowest at epoch' in page_html
    assert "No description has been provided" not in page_html
    assert page_html.count('<div tabindex="0" class="highlight-ipynb') == 7  # every code cell
    assert page_html.endswith(hook.CONTRAST_CSS)


def test_an_svg_without_a_title_still_gets_an_alt_text():
    import base64

    data = base64.b64encode(b"<svg></svg>").decode()
    html = f'<img alt="No description has been provided for this image" src="data:image/svg+xml;base64,{data}">'
    assert '<img alt="A figure drawn by the notebook"' in hook.render(html)


def test_math_is_converted_outside_code_only():
    html = ('<p>loss $\\ell$ and</p>\n<p>$$a^2$$</p><pre>x = "$5 and $6"</pre>'
            '<code>$y$</code><script>var $a = "$b$";</script><svg><text>$z$</text></svg>')
    out = hook.render(html)
    assert out.count("<math") == 2 and '<div class="math"><math' in out
    for kept in ('<pre>x = "$5 and $6"</pre>', "<code>$y$</code>", 'var $a = "$b$";', "<text>$z$</text>"):
        assert kept in out


def test_other_pages_are_left_alone():
    page = types.SimpleNamespace(file=types.SimpleNamespace(src_uri="dropout/pytorch.md"))
    assert hook.on_page_content("<p>costs $5 or $6</p>", page) == "<p>costs $5 or $6</p>"


def test_only_the_notebook_becomes_a_notebook_page():
    """mkdocs-jupyter would turn every .py under docs/ into a page unless `include` says not to."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)  # !!python/name tags etc.
    config = yaml.load((DOCS.parent / "mkdocs.yml").read_text(), Loader=Loader)
    plugin = next(p["mkdocs-jupyter"] for p in config["plugins"] if isinstance(p, dict) and "mkdocs-jupyter" in p)
    assert plugin["include"] == ["experiments/overfitting_walkthrough.ipynb"]
    assert plugin["execute"] is False and plugin["include_requirejs"] is False
    assert "docs_hooks/notebook.py" in " ".join(config["hooks"])
    assert json.loads(COMMITTED.read_text())["metadata"]["kernelspec"]["name"] == "python3"
