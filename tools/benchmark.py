"""Speed and size figures of the site (a benchmark, not a test: these machines are noisy).

    python tools/benchmark.py [--skip-pytest] [--runs 5] [--engines]

Prints, in this order:

* the pre-build (``python -m docs_hooks.prebuild``: the generated files and the facts), which
  runs before any build and is not part of any build time below;
* the first ``mkdocs build --strict`` after it;
* the reference and the project's build, measured in the same run, alternated, the median of
  ``--runs`` each: a bare Material build of the same pages (the same nav, theme and Markdown
  extensions from a generated mkdocs.yml and a copy of docs/, with none of the project's own
  mechanisms: no docs_hooks extension, no hooks, no mkdocs-jupyter) against ``mkdocs build
  --strict``, and their ratio (goal: at most 1.5 times the bare build);
* with ``--engines``, ``properdocs build --strict`` and ``zensical build --strict`` of the
  project, alternated with the two above;
* ``pytest`` seconds;
* for every built page the bytes a reader's browser fetches — the HTML plus every
  stylesheet, script, font and image it loads — raw and gzip-compressed (what a static host
  with compression transfers).

Targets on a 2-core machine: build <= 1.5x the bare build, pytest <= 60 s, heaviest page
<= 200 KB gzip, JavaScript <= 150 KB raw. Nothing is written to the work tree but what the
pre-build writes (its generated files, ignored by git).
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

import yaml
from yaml_env_tag import construct_env_tag

ROOT = Path(__file__).resolve().parents[1]
# This tree's own code first: a console script (mkdocs, zensical) does not put the current
# folder on sys.path, so an editable install of another clone would otherwise be imported.
# Not CI: a local build with a stale claims report says "not verified" instead of failing.
ENV = {k: v for k, v in os.environ.items() if k != "CI"}
ENV |= {"NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), ENV.get("PYTHONPATH")]))}
# What the bare build leaves out: the project's own mechanisms.
PROJECT_EXTENSIONS = ("docs_hooks",)  # markdown_extensions entries starting with this
PROJECT_PLUGINS = {"mkdocs-jupyter"}
PROJECT_KEYS = {"hooks", "watch"}


def timed(cmd: list[str], cwd: Path = ROOT) -> float:
    """Seconds the command takes; its output is shown only when it fails."""
    start = time.perf_counter()
    done = subprocess.run(
        cmd, check=False, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.stdout.write(done.stdout[-4000:])
        raise SystemExit(f"benchmark: {' '.join(cmd)} failed (exit {done.returncode})")
    return seconds


class _Loader(yaml.SafeLoader):
    """mkdocs.yml as plain data: tags such as ``!ENV`` read as their raw value."""


_Loader.add_multi_constructor(
    "", lambda loader, suffix, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None
)
_Loader.add_constructor("!ENV", construct_env_tag)  # as MkDocs reads it: SITE_URL, REPO_URL


def load_config(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


def _name(entry) -> str:
    return entry if isinstance(entry, str) else next(iter(entry))


def bare_config(config: dict, docs: Path, root: Path = ROOT) -> dict:
    """The same site with none of the project's mechanisms: the same nav, theme, CSS, scripts
    and Markdown extensions (pymdownx and Python-Markdown's own), without the docs_hooks
    extension, the hooks, mkdocs-jupyter and the watch list; docs from ``docs``."""
    bare = {k: v for k, v in config.items() if k not in PROJECT_KEYS}
    bare["docs_dir"] = str(docs)
    theme = dict(bare.get("theme") or {})
    if theme.get("custom_dir"):
        theme["custom_dir"] = str((root / theme["custom_dir"]).resolve())
    bare["theme"] = theme
    bare["plugins"] = [p for p in config.get("plugins") or [] if _name(p) not in PROJECT_PLUGINS]
    bare["markdown_extensions"] = [
        e for e in config.get("markdown_extensions") or [] if not _name(e).startswith(PROJECT_EXTENSIONS)
    ]
    return bare


def zensical_project(config: dict, folder: Path, root: Path = ROOT) -> Path:
    """A config for Zensical, which builds only into its project's folder: the project's
    mkdocs.yml with docs/ and overrides/ copied into ``folder`` and the site built there."""
    config = dict(config)
    shutil.copytree(root / config.get("docs_dir", "docs"), folder / "docs")
    config["docs_dir"] = "docs"  # relative: Zensical 0.0.73 panics on absolute ones
    config["site_dir"] = "site"
    theme = dict(config.get("theme") or {})
    if theme.get("custom_dir"):
        shutil.copytree(root / theme["custom_dir"], folder / "overrides")
        theme["custom_dir"] = "overrides"
    config["theme"] = theme
    extensions = []
    for entry in config.get("markdown_extensions") or []:
        if _name(entry) == "docs_hooks.extension":  # its pages are in the copy
            options = dict((entry if isinstance(entry, dict) else {entry: {}})[_name(entry)] or {})
            entry = {"docs_hooks.extension": {**options, "root": str(root), "docs_dir": str(folder / "docs")}}
        extensions.append(entry)
    config["markdown_extensions"] = extensions
    path = folder / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def spread(samples: list[float]) -> str:
    return f"{statistics.median(samples):6.2f} s  (min {min(samples):.2f}, max {max(samples):.2f})"


def local_path(site: Path, page: Path, ref: str) -> Path | None:
    ref = ref.split("#")[0].split("?")[0]
    if not ref or urlparse(ref).scheme or ref.startswith("//"):
        return None
    url = urljoin("/" + page.relative_to(site).as_posix(), ref)
    target = site / url.lstrip("/")
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def assets_of(site: Path, page: Path) -> set[Path]:
    """Files the browser loads for a page: CSS, JS, images, and the fonts/images CSS pulls in."""
    html = page.read_text(encoding="utf-8")
    refs = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    refs += re.findall(r'<script[^>]+src="([^"]+)"', html)
    refs += re.findall(r'<img[^>]+src="([^"]+)"', html)
    found = {p for p in (local_path(site, page, r) for r in refs) if p}
    for css in [p for p in found if p.suffix == ".css"]:
        for ref in re.findall(r"url\(['\"]?([^'\")]+)", css.read_text(encoding="utf-8")):
            if not ref.startswith("data:"):
                asset = local_path(site, css, ref)
                if asset:
                    found.add(asset)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-pytest", action="store_true")
    parser.add_argument("--runs", type=int, default=5, help="builds of each kind, alternated (default 5)")
    parser.add_argument("--engines", action="store_true", help="also time ProperDocs and Zensical")
    args = parser.parse_args()
    python = sys.executable
    binaries = Path(python).parent

    def tool(name: str) -> str:
        return str(binaries / name) if (binaries / name).exists() else name

    if (ROOT / "docs_hooks" / "prebuild.py").is_file():
        print(f"pre-build (python -m docs_hooks.prebuild):  {timed([python, '-m', 'docs_hooks.prebuild']):6.2f} s")
    else:
        print("pre-build: none (no docs_hooks/prebuild.py)")
    config = load_config(ROOT / "mkdocs.yml")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        site = tmp / "site"
        first = timed([python, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)])
        print(f"first mkdocs build --strict after it:      {first:6.2f} s")

        # The bare build: the same pages (the pre-build's files included) from a copy.
        shutil.copytree(ROOT / config.get("docs_dir", "docs"), tmp / "bare-docs")
        bare_yml = tmp / "bare" / "mkdocs.yml"
        bare_yml.parent.mkdir()
        bare_yml.write_text(
            yaml.safe_dump(bare_config(config, tmp / "bare-docs"), sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        kinds = {
            "bare Material build (reference)": [python, "-m", "mkdocs", "build", "-f", str(bare_yml)],
            "mkdocs build --strict": [python, "-m", "mkdocs", "build", "--strict"],
        }
        if args.engines:
            kinds["properdocs build --strict"] = [tool("properdocs"), "build", "--strict", "-f", "mkdocs.yml"]
            zensical_yml = zensical_project(config, tmp / "zensical")
            kinds["zensical build --strict"] = [tool("zensical"), "build", "--strict", "-f", str(zensical_yml)]
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for run in range(args.runs):
            for i, (kind, cmd) in enumerate(kinds.items()):
                out = ["--site-dir", str(tmp / f"run-{run}-{i}")] if "zensical" not in kind else []
                times[kind].append(timed(cmd + out))
        width = max(map(len, kinds))
        print(f"\nbuilds, alternated, median of {args.runs} each:")
        for kind, samples in times.items():
            print(f"  {kind:<{width}}  {spread(samples)}")
        bare, strict = (statistics.median(times[k]) for k in list(kinds)[:2])
        verdict = "within" if strict <= 1.5 * bare else "over"
        print(f"  strict build / bare build: {strict / bare:.2f}x ({verdict} the goal of 1.5x)")

        if not args.skip_pytest:
            print(
                f"\npytest:                     {timed([python, '-m', 'pytest', '-q', '-p', 'no:cacheprovider']):.2f} s"
            )

        rows = []
        for page in sorted(site.rglob("*.html")):
            if page.name == "404.html":
                continue
            files = {page} | assets_of(site, page)
            raw = sum(f.stat().st_size for f in files)
            gz = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
            js = sum(f.stat().st_size for f in files if f.suffix == ".js")
            rows.append((page.relative_to(site).parent.as_posix() or "/", raw, gz, js))
        search = [
            f
            for f in site.rglob("*")
            if f.is_file() and f.suffix in {".js", ".json"} and ("workers" in f.parts or f.name == "search_index.json")
        ]
        search_raw = sum(f.stat().st_size for f in search)
        search_gz = sum(len(gzip.compress(f.read_bytes(), 9)) for f in search)

    width = max(len(r[0]) for r in rows)
    print(f"\n{'page':<{width}}  {'raw KB':>8}  {'gzip KB':>8}  {'JS raw KB':>9}")
    for name, raw, gz, js in rows:
        print(f"{name:<{width}}  {raw / 1000:8.1f}  {gz / 1000:8.1f}  {js / 1000:9.1f}")
    print(
        f"search worker + index (fetched by every page's search, cached after the first): "
        f"{search_raw / 1000:.1f} KB raw, {search_gz / 1000:.1f} KB gzip"
    )
    heaviest = max(rows, key=lambda r: r[2])
    print(
        f"\npages: {len(rows)}; heaviest gzip: {heaviest[0]} {heaviest[2] / 1000:.1f} KB; "
        f"max JS raw: {max(r[3] for r in rows) / 1000:.1f} KB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
