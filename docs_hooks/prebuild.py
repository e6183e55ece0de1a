"""The files the site needs before any engine builds it: ``python -m docs_hooks.prebuild``.

1. ``docs/notebooks/<chapter>.ipynb`` and ``.py``: each chapter's code as a notebook
   (docs_hooks/chapter_notebooks.py);
2. ``docs/experiments/overfitting_walkthrough.md`` and its figures: the committed
   walkthrough notebook as a page (docs_hooks/walkthrough.py);
3. the facts of every page, computed once and kept in ``reports/facts/`` with the digest
   of their sources (docs_hooks/facts.py): the build then reads numbers, never trains.

All of it is generated, ignored by git, and rewritten only where its bytes change. MkDocs,
ProperDocs and Zensical then build the same sources with the same result. Run it again
after changing a page's includes or a snippet a chapter shows (the facts follow on their
own: a build recomputes any whose sources changed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml
from yaml_env_tag import construct_env_tag  # MkDocs' own !ENV (pyyaml-env-tag, its dependency)

from docs_hooks import chapter_notebooks, facts, walkthrough

ROOT = Path(__file__).resolve().parents[1]
WALKTHROUGHS = ("experiments/overfitting_walkthrough.ipynb",)
# Pages this command writes (under docs/): not sources, so the page checks skip them.
GENERATED_PAGES = tuple(w.rsplit(".", 1)[0] + ".md" for w in WALKTHROUGHS)


class _Loader(yaml.SafeLoader):
    """mkdocs.yml as plain data: ``!ENV`` resolved as MkDocs does (``site_url`` and ``repo_url``
    come from SITE_URL and REPO_URL when set), other tags read as their raw value."""


_Loader.add_multi_constructor(
    "", lambda loader, suffix, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None
)
_Loader.add_constructor("!ENV", construct_env_tag)


def load_config(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


def warm_facts(docs: Path, cache: facts.FactsCache = facts.BUILD_CACHE) -> int:
    """Every marker of every page filled once, through the build's store. Returns the number
    of modules whose facts were computed (not read from the store)."""
    before = sum(cache.calls.values())
    for page in sorted(docs.rglob("*.md")):
        facts.fill(page.read_text(encoding="utf-8"), page=page.relative_to(docs).as_posix(), cache=cache)
    return sum(cache.calls.values()) - before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docs_hooks.prebuild", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(ROOT / "mkdocs.yml"), help="the site's mkdocs.yml")
    parser.add_argument("--no-facts", action="store_true", help="skip computing the facts (a build computes them)")
    args = parser.parse_args(argv)
    config_path = Path(args.config).resolve()
    config = load_config(config_path)
    docs = config_path.parent / config.get("docs_dir", "docs")
    start = time.perf_counter()
    written = chapter_notebooks.write_notebooks(config.get("nav"), docs, config.get("site_url") or "")
    for notebook in WALKTHROUGHS:
        written += walkthrough.write(docs / notebook)
    print(f"prebuild: {len(written)} generated file(s) written under {docs.name}/", file=sys.stderr)
    if not args.no_facts:
        computed = warm_facts(docs)
        print(f"prebuild: facts of {computed} module(s) computed, the rest read from reports/facts/", file=sys.stderr)
    print(f"prebuild: done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
