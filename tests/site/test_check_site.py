"""tools/check_site.py on small hand-made sites: each check passes on a good site and fails on
a broken one, naming the engine, the page and what is wrong."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import nbformat
import pytest

from tools import check_site

# Untraced (tests/conftest.py): tools/check_site.py, not snippets/.
pytestmark = pytest.mark.untraced

HOST = "example.github.io"
CLAIMS = ["dropout/eval-identity", "dropout/mean-kept"]

# Material's content: an edit button and permalinks, which the text comparison ignores.
PAGE = """<!doctype html>
<html><head><title>{title}</title>
<link rel="canonical" href="https://example.github.io/site/{name}">
<link rel="stylesheet" href="{up}assets/site.css">{head}
</head><body><nav class="md-nav">{nav}</nav>
<main class="md-main"><div class="md-content">
<article class="md-content__inner md-typeset">
<a href="https://github.com/example/edit/{name}" title="Edit this page" class="md-content__button">
<svg><path d="M0 0"/></svg></a>
{body}
</article></div></main></body></html>
"""

GOOD = {
    "index.html": """<h1 id="home">Home<a class="headerlink" href="#home">&para;</a></h1>
<p>The keep probability is <math><mn>1</mn><mo>-</mo><mi>p</mi></math>.</p>
<p>Start with <a href="https://pytorch.org/docs/">PyTorch's docs</a>.</p>""",
    "dropout/inverted/index.html": """<h1 id="inverted">Inverted dropout</h1>
<p>With <math><mi>p</mi></math> = 0.5 about 50 of 100 units survive.
<span class="claim" data-claim="dropout/mean-kept">tested</span></p>
<pre><code>x = torch.ones(100)  # [[not_a_marker]] in code, \\frac in code
print(x.sum())</code></pre>
<div class="admonition tip"><p>Take this chapter home:
<a href="../../notebooks/dropout.ipynb">notebook</a>,
<a href="../../notebooks/dropout.py">Python file</a>.</p></div>""",
    "claims/index.html": """<h1>Verified claims</h1>
<table><thead><tr><th>Claim</th><th>Outcome</th></tr></thead><tbody>
<tr><td>eval is the identity</td><td><span data-claim="dropout/eval-identity">tested</span></td></tr>
<tr><td>the mean is kept</td><td><span data-claim="dropout/mean-kept">tested</span></td></tr>
</tbody></table>""",
    "experiments/walk/index.html": """<h1>Notebook</h1>
<p><a href="../walk.ipynb" download>Download the notebook</a></p>
<p>The loss <math><mi>L</mi></math> falls.</p>""",
}


def notebook_text() -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Dropout"), nbformat.v4.new_code_cell("x = 1")]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    return nbformat.writes(nb)


def write_site(
    root: Path, pages: dict[str, str] | None = None, nav: str = "", head: str = "", skip: tuple[str, ...] = ()
) -> Path:
    """A built site: the pages of GOOD (or the given ones) and their notebooks."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, body in (pages or GOOD).items():
        if rel in skip:
            continue
        name = rel[: -len("index.html")]
        up = "../" * name.count("/")
        html = PAGE.format(title=name or "Home", name=name, up=up, head=head, nav=nav, body=body)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(html, encoding="utf-8")
    files = {
        "notebooks/dropout.ipynb": notebook_text(),
        "notebooks/dropout.py": "# %%\nx = 1\n",
        "experiments/walk.ipynb": notebook_text(),
    }
    for rel, text in files.items():
        if rel not in skip:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
    return root


def write_docs(root: Path) -> Path:
    """The sources the sites above were built from."""
    docs = root / "docs"
    pages = {
        "index.md": "# Home\n\nThe keep probability is $1 - p$.\n",
        "dropout/inverted.md": textwrap.dedent("""\
            # Inverted dropout

            With $p$ = [[p]] about [[kept:.0f]] of 100 units survive.
            <!-- claim: dropout/mean-kept -->

            ```python
            x = "$not math$"
            ```

            <!-- take-home: dropout -->
            """),
        "dropout/pytorch.md": "# nn.Dropout\n\n`$x$` is code. <!-- claim: dropout/eval-identity -->\n",
        "claims.md": "# Verified claims\n\n<!-- verified-claims-table -->\n",
    }
    for rel, text in pages.items():
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        (docs / rel).write_text(text, encoding="utf-8")
    nb = json.loads(notebook_text())
    nb["cells"][0]["source"] = "# Walk\n\nThe loss $L$ falls."
    (docs / "experiments").mkdir()
    (docs / "experiments/walk.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return docs


@pytest.fixture
def expected(tmp_path) -> check_site.Expected:
    return check_site.expected_from_docs(write_docs(tmp_path / "src"))


def problems_of(site: Path, expected, engine: str = "zensical") -> list[check_site.Problem]:
    return check_site.check_site(engine, site, expected, HOST)


def only(problems, check: str) -> list[check_site.Problem]:
    assert problems, "expected a problem"
    assert {p.check for p in problems} == {check}, [str(p) for p in problems]
    return problems


# ----------------------------------------------------------------- what the sources expect
def test_expected_from_docs(expected):
    assert expected.claims == ["dropout/mean-kept", "dropout/eval-identity"]
    assert expected.chapters == {"dropout": ["dropout/inverted/"]}
    # Math in prose counts; math-looking text in code does not (dropout/pytorch.md).
    assert expected.math_pages == {"/", "dropout/inverted/", "experiments/walk/"}
    assert expected.notebook_pages == ["experiments/walk/"]


def test_older_sources_without_take_home_markers(tmp_path):
    docs = tmp_path / "docs"
    (docs / "rnn").mkdir(parents=True)
    (docs / "playground").mkdir()
    (docs / "rnn/naive.md").write_text('# Naive\n\n--8<-- "snippets/rnn/naive.py:run"\n', encoding="utf-8")
    (docs / "playground/masks.md").write_text('# Masks\n\n--8<-- "snippets/playground/m.py"\n', encoding="utf-8")
    assert check_site.expected_from_docs(docs).chapters == {"rnn": ["rnn/naive/"]}


def test_page_names():
    assert check_site.page_name("index.md") == "/"
    assert check_site.page_name("dropout/inverted.md") == "dropout/inverted/"
    assert check_site.page_name("experiments/index.md") == "experiments/"
    assert check_site.page_name("experiments/walk.ipynb") == "experiments/walk/"


# ----------------------------------------------------------------- one site
def test_a_good_site_passes(tmp_path, expected):
    assert problems_of(write_site(tmp_path / "site"), expected) == []


def test_not_a_site(tmp_path, expected):
    (tmp_path / "empty").mkdir()
    [problem] = problems_of(tmp_path / "empty", expected)
    assert problem.check == "site" and "no index.html" in problem.what


def test_unfilled_markers_are_found_outside_code(tmp_path, expected):
    pages = dict(GOOD)
    pages["dropout/inverted/index.html"] = pages["dropout/inverted/index.html"].replace(
        "50 of 100", "[[kept:.0f]] of 100 ([[dropout.inverted:rates[1]:.2f]], [[p]])"
    )
    [problem] = only(problems_of(write_site(tmp_path / "site", pages), expected), "unfilled fact markers")
    assert problem.engine == "zensical" and problem.page == "dropout/inverted/"
    assert problem.what.startswith("3:") and "'[[kept:.0f]]'" in problem.what
    assert "zensical: dropout/inverted/: unfilled fact markers: 3" in str(problem)


@pytest.mark.parametrize("tex", [r"\(p\)", r"\[ y = x \]", "$$y$$", r"$\frac{1}{n}$", r"\mathbb{E}", "$x_i$"])
def test_raw_tex_in_the_text(tmp_path, expected, tex):
    pages = dict(GOOD)
    pages["index.html"] = pages["index.html"].replace("</p>", f" And {tex}.</p>", 1)
    [problem] = only(problems_of(write_site(tmp_path / "site", pages), expected), "raw TeX in the text")
    assert problem.page == "/"


def test_unrendered_arithmatex_and_missing_mathml(tmp_path, expected):
    pages = dict(GOOD)
    pages["index.html"] = pages["index.html"].replace(
        "<math><mn>1</mn><mo>-</mo><mi>p</mi></math>", '<span class="arithmatex">1 - p</span>'
    )
    found = problems_of(write_site(tmp_path / "site", pages), expected)
    assert {(p.page, p.check) for p in found} == {("/", "raw TeX in the text"), ("/", "no MathML")}
    assert any("arithmatex element(s)" in p.what for p in found)


def test_dollars_and_backslashes_that_are_not_tex(tmp_path, expected):
    pages = dict(GOOD)
    pages["index.html"] = pages["index.html"].replace(
        "</p>", " It costs $5 and $10; see C:\\data or the regex \\d+.</p>", 1
    )
    assert problems_of(write_site(tmp_path / "site", pages), expected) == []


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ('<span data-claim="dropout/eval-identity">', "1 table row(s), the sources make 2"),
        ('<span data-claim="dropout/mean-kept">tested</span></td></tr>', "no row for 1 claim(s)"),
        ('<span data-claim="dropout/other">', "rows for claims no page makes: 'dropout/other'"),
    ],
)
def test_claims_table(tmp_path, expected, change, what):
    pages = dict(GOOD)
    table = pages["claims/index.html"]
    if change.startswith('<span data-claim="dropout/eval-identity">'):
        table = table.replace(
            '<tr><td>eval is the identity</td><td><span data-claim="dropout/eval-identity">tested</span></td></tr>', ""
        )
    elif "other" in change:
        table = table.replace('data-claim="dropout/eval-identity"', 'data-claim="dropout/other"')
    else:
        table = table.replace('<span data-claim="dropout/mean-kept">tested</span>', "tested")
    pages["claims/index.html"] = table
    found = only(problems_of(write_site(tmp_path / "site", pages), expected), "claims table")
    assert all(p.page == "claims/" for p in found)
    assert any(what in p.what for p in found), [p.what for p in found]


def test_a_claim_with_two_rows(tmp_path, expected):
    pages = dict(GOOD)
    pages["claims/index.html"] = pages["claims/index.html"].replace("dropout/eval-identity", "dropout/mean-kept")
    found = only(problems_of(write_site(tmp_path / "site", pages), expected), "claims table")
    assert any("more than one row: 'dropout/mean-kept'" in p.what for p in found)


def test_no_claims_page(tmp_path, expected):
    [problem] = only(problems_of(write_site(tmp_path / "site", skip=("claims/index.html",)), expected), "claims table")
    assert problem.what == "the Verified claims page is missing"


def test_missing_chapter_notebook(tmp_path, expected):
    found = only(
        problems_of(write_site(tmp_path / "site", skip=("notebooks/dropout.py",)), expected), "chapter notebook"
    )
    assert [(p.page, p.what) for p in found] == [("notebooks/dropout.py", "missing")]


def test_broken_chapter_notebook(tmp_path, expected):
    site = write_site(tmp_path / "site")
    (site / "notebooks/dropout.ipynb").write_text('{"cells": [', encoding="utf-8")
    [problem] = only(problems_of(site, expected), "chapter notebook")
    assert problem.page == "notebooks/dropout.ipynb" and problem.what.startswith("not a valid notebook")


def test_chapter_page_without_its_box(tmp_path, expected):
    pages = dict(GOOD)
    pages["dropout/inverted/index.html"] = pages["dropout/inverted/index.html"].split('<div class="admonition')[0]
    [problem] = only(problems_of(write_site(tmp_path / "site", pages), expected), "chapter notebook")
    assert problem.page == "dropout/inverted/" and "no link to notebooks/dropout.ipynb" in problem.what


def test_notebook_page_and_its_download(tmp_path, expected):
    [missing] = only(
        problems_of(write_site(tmp_path / "a", skip=("experiments/walk/index.html",)), expected), "notebook page"
    )
    assert missing.page == "experiments/walk/" and missing.what.startswith("missing")
    [download] = only(
        problems_of(write_site(tmp_path / "b", skip=("experiments/walk.ipynb",)), expected), "notebook page"
    )
    assert download.what == "its download experiments/walk.ipynb is missing"
    pages = dict(GOOD)
    pages["experiments/walk/index.html"] = pages["experiments/walk/index.html"].replace("../walk.ipynb", "../")
    [link] = only(problems_of(write_site(tmp_path / "c", pages), expected), "notebook page")
    assert link.what == "no download link to its .ipynb"


@pytest.mark.parametrize(
    "head",
    [
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>',
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">',
        '<link rel="preconnect" href="https://fonts.gstatic.com">',
        '<script type="module" src="//unpkg.com/mermaid/dist/mermaid.esm.min.mjs"></script>',
        '<style>@font-face { src: url("https://fonts.gstatic.com/r.woff2") }</style>',
        '<img srcset="a.png 1x, https://img.shields.io/b.svg 2x" alt="b">',
    ],
)
def test_off_site_requests(tmp_path, expected, head):
    found = only(problems_of(write_site(tmp_path / "site", head=head), expected), "off-site request")
    assert sorted(p.page for p in found) == ["/", "claims/", "dropout/inverted/", "experiments/walk/"]
    host = re.search(r"//([\w.]+)", head)[1]
    assert all(host in p.what for p in found), [p.what for p in found]


def test_links_and_the_sites_own_host_are_not_requests(tmp_path, expected):
    head = (
        '<link rel="alternate" href="https://example.org/feed.xml">'
        '<script src="https://example.github.io/site/assets/x.js"></script>'
    )
    assert problems_of(write_site(tmp_path / "site", head=head), expected) == []


# ----------------------------------------------------------------- across engines
def test_the_same_text_on_every_engine(tmp_path, expected):
    """Chrome differs (navigation, the edit button, permalink symbols, whitespace): still equal."""
    mkdocs = write_site(tmp_path / "mkdocs", nav="<a href='/'>Home</a>")
    pages = {rel: body.replace("&para;", "#").replace("<p>", "<p>\n   ") for rel, body in GOOD.items()}
    zensical = write_site(tmp_path / "zensical", pages, nav="<ul><li>Zensical's own navigation</li></ul>")
    problems, diffs = check_site.check_sites({"mkdocs": mkdocs, "zensical": zensical}, expected, HOST)
    assert problems == [] and diffs == []


def test_different_text_is_shown_as_a_diff(tmp_path, expected, capsys):
    mkdocs = write_site(tmp_path / "mkdocs")
    pages = dict(GOOD)
    pages["dropout/inverted/index.html"] = pages["dropout/inverted/index.html"].replace("50 of 100", "49 of 100")
    zensical = write_site(tmp_path / "zensical", pages)
    problems, [diff] = check_site.check_sites({"mkdocs": mkdocs, "zensical": zensical}, expected, HOST)
    [problem] = only(problems, "same text")
    assert (problem.engine, problem.page) == ("zensical", "dropout/inverted/")
    assert "--- mkdocs: dropout/inverted/" in diff and "+++ zensical: dropout/inverted/" in diff
    assert "-With p = 0.5 about 50 of 100 units survive. tested" in diff
    assert "+With p = 0.5 about 49 of 100 units survive. tested" in diff


def test_a_page_one_engine_does_not_build(tmp_path, expected):
    mkdocs = write_site(tmp_path / "mkdocs")
    zensical = write_site(tmp_path / "zensical", skip=("experiments/walk/index.html",))
    problems, _ = check_site.check_sites({"mkdocs": mkdocs, "zensical": zensical}, expected, HOST)
    assert {(p.engine, p.page, p.check) for p in problems} == {
        ("zensical", "experiments/walk/", "notebook page"),
        ("zensical", "experiments/walk/", "same pages"),
    }


def test_code_blocks_compare_line_by_line(tmp_path, expected):
    mkdocs = write_site(tmp_path / "mkdocs")
    pages = dict(GOOD)
    pages["dropout/inverted/index.html"] = pages["dropout/inverted/index.html"].replace("x.sum()", "x.mean()")
    zensical = write_site(tmp_path / "zensical", pages)
    _, [diff] = check_site.check_sites({"mkdocs": mkdocs, "zensical": zensical}, expected, HOST)
    assert "-print(x.sum())" in diff and "+print(x.mean())" in diff


# ----------------------------------------------------------------- the command
def test_cli(tmp_path, capsys):
    docs = write_docs(tmp_path / "src")
    good = write_site(tmp_path / "good")
    args = ["--docs", str(docs), "--site-url", "https://example.github.io/site/"]
    assert check_site.main([f"mkdocs={good}", f"properdocs={good}", *args]) == 0
    out = capsys.readouterr().out
    assert "2 claims, 1 chapter notebooks, 3 pages with math expected" in out
    assert "every check passed and the page text is the same on every engine" in out

    pages = dict(GOOD)
    pages["index.html"] = pages["index.html"].replace("<math><mn>1</mn><mo>-</mo><mi>p</mi></math>", r"\(1 - p\)")
    bad = write_site(tmp_path / "bad", pages)
    assert check_site.main([f"mkdocs={good}", f"zensical={bad}", *args]) == 1
    out = capsys.readouterr().out
    assert "zensical: raw TeX in the text: 1 page(s)\n  /: 2: ...The keep probability is \\(1 - p\\). Start" in out
    assert "zensical: no MathML: 1 page(s)\n  /: its source has math" in out
    assert "--- mkdocs: /" in out and "check_site: 3 problem(s)" in out


def test_cli_needs_engine_names(tmp_path):
    with pytest.raises(SystemExit):
        check_site.main([str(tmp_path)])


def test_raw_tex_in_the_table_of_contents(tmp_path, expected):
    """A heading with math: the page shows MathML, the table of contents its TeX."""
    site = write_site(tmp_path / "site", nav=r'<a href="#w">Weight drop on \(W_{hh}\)</a>')
    found = only(problems_of(site, expected), "raw TeX in the text")
    assert len(found) == len(GOOD)
    assert all("(2 outside the content: navigation" in p.what and r"on \(W_{hh}\)" in p.what for p in found)
