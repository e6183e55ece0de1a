"""The walkthrough notebook's page: rendered from the committed notebook before the build, the
same Markdown for every engine, nothing from another host, math as MathML, figures with alt
text, headings for the table of contents."""

import base64
import json
import re

import nbformat
import pytest

from docs_hooks import walkthrough
from docs_hooks.extension import makeExtension
from snippets.experiments import notebook

# Untraced (tests/conftest.py): the walkthrough page (docs_hooks); the notebook's code is measured in tests/experiments.
pytestmark = pytest.mark.untraced

COMMITTED = notebook.notebook_path()


@pytest.fixture(scope="module")
def rendered():
    return walkthrough.render(COMMITTED, "overfitting_walkthrough_files")


@pytest.fixture(scope="module")
def page_html(rendered):
    import markdown

    from docs_hooks.prebuild import ROOT, load_config

    config = load_config(ROOT / "mkdocs.yml")
    names, configs = [], {}
    for entry in config["markdown_extensions"]:
        name, options = next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
        names.append(makeExtension(**(options or {})) if name == "docs_hooks.extension" else name)
        if name != "docs_hooks.extension":
            configs[name] = options or {}
    md = markdown.Markdown(extensions=names, extension_configs=configs)
    return md.convert(rendered[0]), md


def test_every_cell_is_on_the_page_in_order(rendered):
    text, _ = rendered
    nb = json.loads(COMMITTED.read_text(encoding="utf-8"))
    position = 0
    for cell in nb["cells"]:
        source = "".join(cell["source"]).strip()
        if cell["cell_type"] == "markdown":
            source = walkthrough.SITE_LINK.sub(lambda m: f"]({m['page']}.md{m['anchor'] or ''})", source)
        found = text.find(source, position)
        assert found >= 0, source[:60]
        position = found + len(source)
    last = next(c for c in reversed(nb["cells"]) if c["cell_type"] == "code")
    assert "".join(last["outputs"][0]["text"]).strip() in text  # the printed output too


def test_site_links_become_page_links_every_engine_checks(rendered):
    text, _ = rendered
    assert "](overfitting.md)" in text and "](../" not in text
    assert "[Download the notebook](overfitting_walkthrough.ipynb)" in text


def test_the_figure_is_a_file_with_its_title_as_alt_text(rendered):
    text, files = rendered
    assert list(files) == ["cell-10-1.svg"]
    assert b"<title>Seed 0: validation loss is lowest at epoch" in files["cell-10-1.svg"]
    alt = re.search(r"!\[(?P<alt>[^\]]*)\]\(overfitting_walkthrough_files/cell-10-1\.svg\)", text)
    assert alt and alt["alt"].startswith("Seed 0: validation loss is lowest at epoch")


def test_an_svg_without_a_title_and_a_png_still_get_alt_text(tmp_path):
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "draw()",
                outputs=[
                    nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg></svg>"}),
                    nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(b"PNG").decode()}),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=1),
                    nbformat.v4.new_output("error", ename="E", evalue="v", traceback=["Traceback", "E: v"]),
                ],
            ),
            nbformat.v4.new_code_cell("   "),  # empty cells are left out
        ]
    )
    path = tmp_path / "n.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    text, files = walkthrough.render(path, "n_files")
    assert "![A figure drawn by the notebook](n_files/cell-1-1.svg)" in text
    assert files["cell-1-2.png"] == b"PNG" and "```text\n42\n```" in text and "E: v" in text
    assert text.count("```python") == 1


def test_a_fence_inside_a_cell_cannot_close_its_block():
    assert walkthrough._fence("a = '```'", "python").startswith("````python\n")


def test_writing_twice_changes_nothing_and_drops_stale_figures(tmp_path):
    path = tmp_path / "w.ipynb"
    path.write_bytes(COMMITTED.read_bytes())
    first = walkthrough.write(path)
    assert {p.name for p in first} == {"w.md", "cell-10-1.svg"}
    (tmp_path / "w_files" / "cell-99-1.svg").write_text("<svg/>")
    assert [p.name for p in walkthrough.write(path)] == ["cell-99-1.svg"]
    assert walkthrough.write(path) == []


def test_the_page_loads_nothing_from_another_host(page_html):
    html, _ = page_html
    assert not re.search(r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)=["'](?:https?:)?//""", html)
    assert "mathjax" not in html.lower() and "<script" not in html


def test_the_page_shows_its_math_as_mathml(page_html):
    html, _ = page_html
    assert len(re.findall(r'<div class="math">\s*<math display="block"', html)) == 1  # the display formula
    assert html.count('display="inline"') >= 3
    prose = re.sub(r"<(pre|code)\b.*?</\1>", "", html, flags=re.DOTALL)
    assert "$" not in prose and "\\(" not in prose and 'class="arithmatex"' not in prose


def test_the_headings_make_the_table_of_contents(page_html):
    _, md = page_html
    titles = [t["name"] for t in md.toc_tokens]
    assert titles == ["Notebook: experiment 1, step by step"]
    assert len(md.toc_tokens[0]["children"]) >= 4
