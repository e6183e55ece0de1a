"""Take a chapter home: one Jupyter notebook (and the same as a plain .py) per chapter,
assembled before the build (``python -m docs_hooks.prebuild``) from exactly the snippets the
chapter's pages show, in page order.

Cells: a title, an install cell, one setup cell, then for every page a Markdown cell (its
title and a link back) and one code cell per included snippet section, byte for byte what
the page shows. The install cell pip-installs the packages the chapter's code imports that
are missing (nothing where all of them import, as on a machine with the site installed;
on Colab, which has torch, only what Colab lacks), so the notebook runs on its own in a
fresh environment. The setup cell registers the chapter's snippet modules from their full
sources, so helpers a page does not show (and ``from snippets... import`` lines) work
without the site installed. Every page of the chapter ends with ``<!-- take-home: <chapter>
-->``, which the site's Markdown extension makes a download box (with an "Open in Colab"
link). Nothing here is hand-maintained: change a snippet or a page and the notebook follows.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from docs_hooks.facts import _BuildError

if TYPE_CHECKING:  # imported where a notebook is made: a page build needs only the checks
    import nbformat

ROOT = Path(__file__).resolve().parents[1]
INCLUDE = re.compile(r'^[ \t]*--8<--\s+"(?P<path>snippets/[^":]+)(?::(?P<section>[\w-]+))?"', re.MULTILINE)
SECTION_START = re.compile(r"^# --8<-- \[start:([\w-]+)\]$")
MARKER_LINE = re.compile(r"^\s*# --8<-- \[(?:start|end):[\w-]+\]\s*$")
TITLE = re.compile(r"^#\s+(.+)$", re.MULTILINE)
SKIP = {"experiments", "playground"}  # the experiments have their own notebook; widgets have no code
CHAPTER_TITLES: dict[str, str] = {}
# What a notebook's install cell installs for each third-party module its code imports: the
# lower bounds of pyproject.toml (kornia pinned as the test extra pins it). torch is installed
# from PyTorch's CPU index when missing: from PyPI, on Linux, it is the CUDA build (GBs).
PACKAGES = {
    "torch": "torch>=2.2",
    "numpy": "numpy>=1.24",
    "matplotlib": "matplotlib>=3.7",
    "scipy": "scipy>=1.10",
    "sklearn": "scikit-learn>=1.3",
    "kornia": "kornia==0.9.0",
}
# Libraries a page shows beside its own code for comparison, each "installed with its own
# matching torch": called by no cell, so never installed (pip would replace torch with the
# build they pin).
NOT_INSTALLED = {"timm", "torchvision"}
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


class IncludeError(_BuildError):
    """An include that names a missing snippet file or section; the build aborts."""


def snippet_sections(lines: list[str]) -> list[str]:
    return [m[1] for line in lines if (m := SECTION_START.match(line.strip()))]


def section_text(path: str, section: str | None, root: Path = ROOT) -> str:
    """What pymdownx.snippets shows for ``--8<-- "path:section"`` (dedented, no marker lines).
    Raises IncludeError when the file or the section (or its end marker) is missing."""
    file = root / path
    if not file.is_file():
        raise IncludeError(f"{path} does not exist")
    lines = file.read_text(encoding="utf-8").splitlines()
    if section:
        starts = [i for i, line in enumerate(lines) if line.strip() == f"# --8<-- [start:{section}]"]
        if not starts:
            have = snippet_sections(lines)
            close = difflib.get_close_matches(section, have, n=3, cutoff=0.5)
            hint = f" (closest: {', '.join(map(repr, close))})" if close else ""
            raise IncludeError(f"{path} has no section {section!r}; it has {have}{hint}")
        start = starts[0]
        end = next(
            (i for i, line in enumerate(lines) if i > start and line.strip() == f"# --8<-- [end:{section}]"), None
        )
        if end is None:
            raise IncludeError(f"{path} starts section {section!r} on line {start + 1} but never ends it")
        lines = lines[start + 1 : end]
    lines = [line for line in lines if not MARKER_LINE.match(line)]
    return textwrap.dedent("\n".join(lines)).strip("\n")


def included_text(page: str, path: str, section: str | None, root: Path = ROOT) -> str:
    """:func:`section_text`, with an error that names the page holding the include."""
    try:
        return section_text(path, section, root)
    except IncludeError as exc:
        shown = f"{path}:{section}" if section else path
        if "does not exist" in str(exc):
            raise IncludeError(f"{page} includes {shown}, which does not exist") from exc
        raise IncludeError(f"{page} includes {shown}, but {exc}") from exc


def check_includes(markdown: str, page: str, root: Path = ROOT) -> None:
    """Every ``--8<--`` include of a page names a file and section that exist; else an
    IncludeError naming the page (pymdownx.snippets would say only which section is missing)."""
    for m in INCLUDE.finditer(markdown):
        included_text(page, m["path"], m["section"], root)


def nav_paths(nav) -> list[tuple[str, str]]:
    """(title, docs path) of every page in the nav config, in order."""
    out: list[tuple[str, str]] = []
    for entry in nav or []:
        if isinstance(entry, str):
            out.append(("", entry))
        else:
            for title, value in entry.items():
                if isinstance(value, str):
                    out.append((title, value))
                    CHAPTER_TITLES.setdefault(value.split("/")[0], title)
                else:
                    children = nav_paths(value)
                    if children:
                        CHAPTER_TITLES[children[0][1].split("/")[0]] = title
                    out.extend(children)
    return out


def chapters(nav, docs: Path) -> dict[str, list[tuple[str, str]]]:
    """chapter folder -> [(page title, docs path)] for pages that include snippets."""
    out: dict[str, list[tuple[str, str]]] = {}
    for title, path in nav_paths(nav):
        if "/" not in path or path.split("/")[0] in SKIP or not path.endswith(".md"):
            continue
        text = (docs / path).read_text(encoding="utf-8")
        if INCLUDE.search(text):
            heading = TITLE.search(text)
            out.setdefault(path.split("/")[0], []).append((heading[1] if heading else title, path))
    return out


def module_order(paths: list[str], root: Path = ROOT) -> list[str]:
    """The snippet modules the given files need, dependencies first. Imports are read from the
    sources (also inside functions); ``from snippets.x import y`` counts when ``y`` is a module.
    Packages are not listed: the setup cell makes them as empty modules."""
    from docs_hooks.facts import imported_names

    order: list[str] = []
    seen: set[str] = set()

    def visit(module: str) -> None:
        if module in seen:
            return
        seen.add(module)
        source = (root / (module.replace(".", "/") + ".py")).read_bytes()
        for name in imported_names(source, module, False, "snippets"):
            if (root / (name.replace(".", "/") + ".py")).is_file():
                visit(name)
        order.append(module)

    for path in paths:
        visit(path[: -len(".py")].replace("/", "."))
    return order


def setup_source(modules: list[str], root: Path = ROOT) -> str:
    sources = {m: (root / (m.replace(".", "/") + ".py")).read_text(encoding="utf-8") for m in modules}
    return (
        "# Setup: the chapter's snippet modules, registered from their full sources so that the\n"
        "# cells below (and their `from snippets... import` lines) work without installing the site.\n"
        "import sys, types\n\n"
        f"SOURCES = {json.dumps(sources, indent=1)}\n\n"
        "for name, source in SOURCES.items():\n"
        "    for parent in [name.rsplit('.', k)[0] for k in range(name.count('.'), 0, -1)]:\n"
        "        sys.modules.setdefault(parent, types.ModuleType(parent))\n"
        "    module = types.ModuleType(name)\n"
        "    sys.modules[name] = module\n"
        "    exec(compile(source, name.replace('.', '/') + '.py', 'exec'), module.__dict__)\n"
        "    globals().update({k: v for k, v in vars(module).items() if not k.startswith('_')})\n"
    )


def third_party_imports(sources: list[str]) -> list[str]:
    """The top-level names of the modules the sources import (anywhere, also inside
    functions) that are neither the standard library nor the snippets, in PACKAGES order.
    Raises IncludeError on one PACKAGES does not know, so a new dependency is not missed."""
    found: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    found -= {*sys.stdlib_module_names, "snippets", "__future__"} | NOT_INSTALLED
    unknown = sorted(found - PACKAGES.keys())
    if unknown:
        raise IncludeError(
            f"the notebook code imports {', '.join(unknown)}: add it to PACKAGES in "
            "docs_hooks/chapter_notebooks.py (what its install cell pip-installs), or to NOT_INSTALLED"
        )
    return [name for name in PACKAGES if name in found]


def install_source(modules: list[str]) -> str:
    """The first code cell: pip-installs what is missing of ``modules`` (import names)."""
    others = {m: PACKAGES[m] for m in modules if m != "torch"}
    return (
        "# Installs what this chapter's code needs where it is missing, and nothing where it\n"
        "# all imports (on Colab, which has torch, only what Colab lacks). torch comes from\n"
        "# PyTorch's CPU index: PyPI's Linux wheel is the CUDA build, several GB.\n"
        "import importlib.util\nimport subprocess\nimport sys\n\n"
        f"NEEDED = {json.dumps(others, indent=4)}\n\n\n"
        "def pip_install(*args):\n"
        '    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])\n\n\n'
        + (
            'if importlib.util.find_spec("torch") is None:\n'
            f'    pip_install("{PACKAGES["torch"]}", "--index-url", "{TORCH_CPU_INDEX}")\n'
            if "torch" in modules
            else ""
        )
        + "missing = [spec for name, spec in NEEDED.items() if importlib.util.find_spec(name) is None]\n"
        "if missing:\n"
        "    pip_install(*missing)\n"
    )


def build_notebook(chapter: str, pages: list[tuple[str, str]], docs: Path, site_url: str = "") -> nbformat.NotebookNode:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    name = CHAPTER_TITLES.get(chapter, chapter.capitalize())
    includes = [
        (title, path, m["path"], m["section"])
        for title, path in pages
        for m in INCLUDE.finditer((docs / path).read_text(encoding="utf-8"))
    ]
    code = {}  # (snippet, section) -> the cell's source; first, so a typo names its page
    for _, path, snippet, section in includes:
        if (snippet, section) not in code:
            code[snippet, section] = included_text(path, snippet, section)
    files = list(dict.fromkeys(inc[2] for inc in includes))
    modules = module_order(files)
    setup = setup_source(modules)
    sources = [(ROOT / (m.replace(".", "/") + ".py")).read_text(encoding="utf-8") for m in modules]
    packages = third_party_imports([*sources, *code.values()])
    nb.metadata["packages"] = [PACKAGES[m].split("=")[0].rstrip("<>") for m in packages]
    cells = [
        nbformat.v4.new_markdown_cell(
            f"# {name}\n\nThe code of the *{name}* chapter of *Regularization in CNN/RNN*, cell by cell "
            "in the order the pages show it. Generated from the site's snippets when the site is built; "
            f"needs Python 3.11+ with {_and(nb.metadata['packages'])}, which its first code cell "
            "installs where they are missing."
        ),
        nbformat.v4.new_code_cell(install_source(packages)),
        nbformat.v4.new_code_cell(setup),
    ]
    current = None
    for title, path, snippet, section in includes:
        if path != current:
            link = f"{site_url.rstrip('/')}/{path[:-3]}/" if site_url else path
            cells.append(nbformat.v4.new_markdown_cell(f"## {title}\n\nFrom the page [{title}]({link})."))
            current = path
        cells.append(nbformat.v4.new_code_cell(code[snippet, section]))
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell.id = f"{chapter}-{i}"  # stable ids: the same sources give the same file
    return nb


def _and(names: list[str]) -> str:
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]


def to_percent_script(nb: nbformat.NotebookNode) -> str:
    """The notebook as a jupytext-style percent-format .py."""
    out = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            out.append("# %% [markdown]\n" + "\n".join(f"# {line}".rstrip() for line in cell.source.splitlines()))
        else:
            out.append("# %%\n" + cell.source)
    return "\n\n".join(out) + "\n"


# ----------------------------------------------------------------- the pre-build
def write_notebooks(nav, docs: Path, site_url: str = "") -> list[Path]:
    import nbformat

    from docs_hooks.walkthrough import write_atomic

    """``docs/notebooks/<chapter>.ipynb`` and ``.py`` for every chapter with code; a file whose
    bytes are unchanged is left alone. Notebooks of chapters that lost their code are removed.
    Returns the files written or removed."""
    out = docs / "notebooks"
    wanted: dict[Path, str] = {}
    for chapter, pages in chapters(nav, docs).items():
        nb = build_notebook(chapter, pages, docs, site_url)
        wanted[out / f"{chapter}.ipynb"] = nbformat.writes(nb)
        wanted[out / f"{chapter}.py"] = to_percent_script(nb)
    changed = []
    for path, text in wanted.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text.encode("utf-8"))
            changed.append(path)
    for path in sorted(out.glob("*")) if out.is_dir() else []:
        if path.suffix in {".ipynb", ".py"} and path not in wanted:
            path.unlink()
            changed.append(path)
    return changed
