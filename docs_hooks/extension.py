"""The site's one Markdown extension: what turns a page's source into the page a reader gets.

Listed under ``markdown_extensions:`` in mkdocs.yml as ``docs_hooks.extension``, it runs the
same way under MkDocs, ProperDocs and Zensical, which all render pages with Python-Markdown
and know nothing else of it: no hooks, no plugins, no engine internals. Per page:

* a preprocessor, before pymdownx.snippets expands the includes (so only the page's own
  text is read, never the code it includes):

  - every ``--8<-- "snippets/..."`` include names a file and section that exist;
  - fact markers ``[[chapter.topic:key:fmt]]`` (or ``[[key:fmt]]`` under the page's
    ``<!-- facts: chapter.topic -->``) become numbers (docs_hooks/facts.py);
  - ``<!-- claim: ch/id -->`` becomes a small "tested" mark, and
    ``<!-- verified-claims-table -->`` the table of every claim (docs_hooks/claims.py);
  - ``<!-- take-home: chapter -->`` becomes the box that links the chapter's notebook
    (docs_hooks/chapter_notebooks.py), whose title it reads from the notebook itself, and
    opens it in Colab from the ``notebooks`` branch of ``repo_url`` on GitHub;

* a treeprocessor, after the inline patterns and before the table of contents is read: the
  math that pymdownx.arithmatex marks (generic mode) becomes MathML (docs_hooks/mathml.py).
  A postprocessor would work on HTML text after the heading anchors were made.

A page never needs its own path: what depends on it is said on the page. The chapter
notebooks and the walkthrough page are files made beforehand by ``python -m
docs_hooks.prebuild``; a page that links a notebook the pre-build did not write fails.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as etree
from pathlib import Path
from urllib.parse import urlparse

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from docs_hooks import chapter_notebooks, claims, facts, mathml

ROOT = Path(__file__).resolve().parents[1]
TAKE_HOME = re.compile(r"^<!--\s*take-home:\s*(?P<chapter>[^\s>]*)\s*-->[ \t]*$", re.MULTILINE)
MATHML_NS = 'xmlns="http://www.w3.org/1998/Math/MathML"'


class TakeHomeError(facts.FactError):
    """A take-home box for a chapter without a notebook."""


# ----------------------------------------------------------------- the page's text
def colab_url(repo_url: str, branch: str, chapter: str) -> str:
    """Colab's address of ``<chapter>.ipynb`` on ``branch`` of the GitHub repository at
    ``repo_url`` (the publish workflow pushes the chapter notebooks there); "" for a
    repository that is not on GitHub, where Colab cannot open it."""
    url = urlparse(repo_url or "")
    parts = [p for p in url.path.split("/") if p]
    if url.netloc.lower() not in ("github.com", "www.github.com") or len(parts) != 2 or not branch:
        return ""
    owner, name = parts[0], parts[1].removesuffix(".git")
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/{chapter}.ipynb"


def take_home_box(chapter: str, docs: Path, repo_url: str = "", branch: str = "notebooks") -> str:
    """The admonition that links ``notebooks/<chapter>.ipynb`` and ``.py`` (written by the
    pre-build) and the notebook in Colab, titled with the chapter's name as the notebook's
    first cell gives it, naming the packages its install cell sees to."""
    notebook = docs / "notebooks" / f"{chapter}.ipynb"
    if not notebook.is_file():
        raise TakeHomeError(
            f"<!-- take-home: {chapter} -->: there is no {notebook.relative_to(docs.parent)}; "
            f"run `python -m docs_hooks.prebuild` first, or fix the chapter name"
        )
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    first = nb["cells"][0]["source"]
    first = "".join(first) if isinstance(first, list) else first
    name = first.splitlines()[0].lstrip("# ").strip()
    packages = nb.get("metadata", {}).get("packages") or ["torch"]
    listed = ", ".join(packages[:-1]) + (" and " if len(packages) > 1 else "") + packages[-1]
    colab = colab_url(repo_url, branch, chapter)
    return (
        f'!!! tip "Take this chapter home"\n'
        f"    Every code block of the *{name}* chapter, in page order, as a "
        f"[Jupyter notebook](../notebooks/{chapter}.ipynb) or a "
        f"[plain Python file](../notebooks/{chapter}.py)"
        + (f", or [open it in Colab]({colab})" if colab else "")
        + f". It needs {listed}: its first code cell installs whichever of them is missing, "
        f"and nothing else is downloaded.\n"
    )


def render_text(
    markdown: str,
    docs: Path,
    repo_url: str = "",
    root: Path = ROOT,
    cache: facts.FactsCache | None = None,
    notebooks_branch: str = "notebooks",
) -> str:
    """A page's Markdown with includes checked and facts, claims and the take-home box
    filled: what the preprocessor hands on to pymdownx.snippets."""
    chapter_notebooks.check_includes(markdown, "this page", root)
    text = facts.fill(markdown, cache=cache or facts.BUILD_CACHE)
    text = claims.render(text, root=root, docs=docs, repo_url=repo_url)
    return TAKE_HOME.sub(lambda m: take_home_box(m["chapter"], docs, repo_url, notebooks_branch), text)


class PagePreprocessor(Preprocessor):
    def __init__(self, md: Markdown, extension: SiteExtension) -> None:
        super().__init__(md)
        self.extension = extension

    def run(self, lines: list[str]) -> list[str]:
        root = Path(self.extension.getConfig("root")).resolve()
        docs = root / self.extension.getConfig("docs_dir")
        config = self.extension.getConfig
        text = render_text("\n".join(lines), docs, config("repo_url"), root, None, config("notebooks_branch"))
        return text.split("\n")


# ----------------------------------------------------------------- math
def mathml_element(tex: str, display: str) -> etree.Element:
    """latex2mathml's MathML as an element (its namespace kept as a plain attribute, which
    Python-Markdown's HTML serializer writes as it is)."""
    markup = mathml.to_mathml(tex, display).replace(MATHML_NS, "", 1)
    element = etree.fromstring(markup)
    element.set("xmlns", "http://www.w3.org/1998/Math/MathML")
    return element


class MathTreeprocessor(Treeprocessor):
    """``<span class="arithmatex">\\(tex\\)</span>`` → ``<math>``; the display form
    ``<div class="arithmatex">\\[tex\\]</div>`` → ``<div class="math"><math display=block>``."""

    def run(self, root: etree.Element) -> None:
        for parent in root.iter():
            for i, child in enumerate(list(parent)):
                if child.get("class") != "arithmatex" or child.tag not in ("span", "div"):
                    continue
                text = (child.text or "").strip()
                if child.tag == "span" and text.startswith("\\(") and text.endswith("\\)"):
                    math = mathml_element(text[2:-2], "inline")
                    math.tail = child.tail
                    parent.remove(child)
                    parent.insert(i, math)
                elif child.tag == "div" and text.startswith("\\[") and text.endswith("\\]"):
                    child.attrib.clear()
                    child.set("class", "math")
                    child.text = None
                    child.append(mathml_element(text[2:-2], "block"))


# ----------------------------------------------------------------- the extension
class SiteExtension(Extension):
    def __init__(self, **kwargs) -> None:
        self.config = {
            "root": [str(ROOT), "the project folder (snippets/, tests/, reports/)"],
            "docs_dir": ["docs", "the pages' folder, relative to root"],
            "repo_url": ["", "where the 'tested' marks link to (a repository's web address)"],
            "notebooks_branch": ["notebooks", "the branch of repo_url holding the chapter notebooks (Colab)"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Markdown) -> None:
        # pymdownx.snippets is 32: the page's own text is read before the includes are in it.
        md.preprocessors.register(PagePreprocessor(md, self), "site_page", 40)
        # After the inline patterns (20), before prettify (10) and the table of contents (5).
        md.treeprocessors.register(MathTreeprocessor(md), "site_mathml", 15)


def makeExtension(**kwargs) -> SiteExtension:
    return SiteExtension(**kwargs)
