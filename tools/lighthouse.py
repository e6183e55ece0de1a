"""Lighthouse scores of the site's pages beside a bare Material build of the same pages, measured
in the same run: performance, accessibility, best practices, SEO.

    python tools/lighthouse.py                      # every page, and the bare build's REPRESENTATIVE
    python tools/lighthouse.py --pages representative   # the representative set on both
    python tools/lighthouse.py --site DIR --pages playground/dropout/,index --bare-pages none

Goal (issue 13): performance >= 98 on every page, the other three 100. The bare build is
tools/benchmark.py's reference: the same pages, nav, theme, CSS, scripts and Markdown
extensions, none of the project's mechanisms (its facts stay unfilled markers). A benchmark,
not a test: the performance score moves between runs, and drops on a busy machine
(Lighthouse's default mobile run simulates a slow phone from the CPU time it observes);
--runs 3 reports the median. Both sites are served from 127.0.0.1 gzip-compressed, with the
cache header GitHub Pages sends, as a static host would serve them (an uncompressed server
costs several performance points). Lighthouse 12.2.3 (the last release that runs on Node 20)
comes from tools/lighthouse/package-lock.json, installed on first use with `npm ci` into
tools/lighthouse/node_modules/ (git-ignored), and drives Debian's /usr/bin/chromium
(CHROME_PATH) with the browser suite's flags. Pages below the targets are listed with the
audits that cost them.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import mimetypes
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import ClassVar

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, FLAGS, page_paths
from tools.benchmark import bare_config, load_config

INSTALL = ROOT / "tools" / "lighthouse"  # package.json, package-lock.json; node_modules/ ignored
# One page of each kind: the home page, prose with math and tables, code, a figure, a widget,
# the experiments, the long claims table.
REPRESENTATIVE = [
    "",
    "dropout/inverted/",
    "batchnorm/manual/",
    "rnn/variational/",
    "playground/batchnorm/",
    "experiments/overfitting/",
    "claims/",
]
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
TARGETS = {"performance": 98, "accessibility": 100, "best-practices": 100, "seo": 100}
COMPRESSIBLE = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".map", ".ipynb"}


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzip-compressed when the client accepts it (compressed once, kept)."""

    cache: ClassVar[dict[Path, bytes]] = {}

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?")[0].endswith("/"):
                return super().send_head()  # the redirect to the slash URL
            path = path / "index.html"
        if (
            path.suffix not in COMPRESSIBLE
            or "gzip" not in self.headers.get("Accept-Encoding", "")
            or not path.is_file()
        ):
            return super().send_head()
        body = self.cache.get(path)
        if body is None:
            body = self.cache[path] = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return _Bytes(body)


class _Bytes:
    """What send_head returns for copyfile: a readable object."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, *args):
        data, self.data = self.data, b""
        return data

    def close(self):
        pass


def lighthouse_bin() -> Path:
    binary = INSTALL / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=INSTALL, check=True)
    return binary


def build_sites(folder: Path) -> tuple[Path, Path]:
    """The site (mkdocs build, after the pre-build's files exist) and the bare Material build
    of the same pages, into ``folder``."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config as mkdocs_config

    from docs_hooks import prebuild

    os.environ.pop("CI", None)  # a local build: a stale claims report says "not verified"
    prebuild.main(["--no-facts"])
    site, bare = folder / "site", folder / "bare"
    build(mkdocs_config(str(ROOT / "mkdocs.yml"), site_dir=str(site), strict=False))
    config = load_config(ROOT / "mkdocs.yml")
    shutil.copytree(ROOT / config.get("docs_dir", "docs"), folder / "bare-docs")
    bare_yml = folder / "bare.yml"
    bare_yml.write_text(yaml.safe_dump(bare_config(config, folder / "bare-docs"), sort_keys=False), encoding="utf-8")
    build(mkdocs_config(str(bare_yml), site_dir=str(bare), strict=False))
    return site, bare


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(GzipHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def score(binary: Path, url: str, keep: Path | None = None, preset: str = "mobile") -> dict:
    command = [
        str(binary),
        url,
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=" + " ".join(FLAGS),
        *(["--preset=desktop"] if preset == "desktop" else []),  # mobile: Lighthouse's default
    ]
    env = {**os.environ, "CHROME_PATH": str(CHROMIUM)}
    result = subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"lighthouse failed on {url}:\n{result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        name = url.split("/", 3)[3].strip("/").replace("/", "-") or "index"
        (keep / f"{name}.json").write_text(result.stdout, encoding="utf-8")
    scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
    losses = []
    for c in CATEGORIES:
        if scores[c] >= TARGETS[c]:
            continue
        for ref in report["categories"][c]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit.get("score") is not None and audit["score"] < 1:
                losses.append(f"{c}: {ref['id']} ({audit.get('displayValue') or audit['score']})")
    return {"scores": scores, "losses": losses}


def page_list(value: str | None, default: list[str]) -> list[str]:
    if value is None:
        return default
    if value == "none":
        return []
    if value == "representative":
        return list(REPRESENTATIVE)
    return [("" if p == "index" else p) for p in value.split(",")]


def measure(binary: Path, url: str, runs: int, keep: Path | None, preset: str) -> dict:
    """The median of ``runs`` runs per category, and the losses of the median run."""
    results = [score(binary, url, keep, preset) for _ in range(runs)]
    medians = {c: statistics.median_low([r["scores"][c] for r in results]) for c in CATEGORIES}
    losses = next(r for r in results if r["scores"]["performance"] == medians["performance"])["losses"]
    return {"scores": medians, "losses": losses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build it, and the bare build)")
    parser.add_argument(
        "--pages", help="comma-separated URL paths ('index' for the home page), 'representative' (default: all)"
    )
    parser.add_argument(
        "--bare-pages", help="pages of the bare build to score, as --pages, or 'none' (default: representative)"
    )
    parser.add_argument("--keep", type=Path, help="also write each page's full JSON report into this folder")
    parser.add_argument("--runs", type=int, default=1, help="runs per page; the table shows each score's median")
    parser.add_argument(
        "--preset",
        choices=["mobile", "desktop"],
        default="mobile",
        help="Lighthouse's default mobile run (a slow phone, simulated) or its desktop preset",
    )
    args = parser.parse_args()

    binary = lighthouse_bin()
    pages = page_list(args.pages, page_paths())
    bare_pages = page_list(args.bare_pages, list(REPRESENTATIVE))
    tmp = Path(tempfile.mkdtemp(prefix="lighthouse-"))
    if args.site:
        site, bare = args.site, None
        bare_pages = []
    else:
        site, bare = build_sites(tmp)
    servers = []
    server, base = serve(site)
    servers.append(server)
    if bare_pages:
        server, bare_base = serve(bare)
        servers.append(server)

    print(f"Lighthouse, {args.preset} preset, median of {args.runs} run(s) per page; the bare build beside it\n")
    header = "| page | performance | accessibility | best practices | SEO |"
    print(header + (" bare: performance | accessibility | best practices | SEO |" if bare_pages else ""))
    print("|---|" + "---:|" * (8 if bare_pages else 4))
    rows, bare_rows, misses = [], [], []
    for path in dict.fromkeys(pages + bare_pages):
        cells = ["", "", "", ""]
        if path in pages:
            result = measure(binary, base + path, args.runs, args.keep and args.keep / "site", args.preset)
            rows.append(result["scores"])
            cells = [str(result["scores"][c]) for c in CATEGORIES]
            if result["losses"]:
                misses.append((path or "index", result["losses"]))
        if path in bare_pages:
            result = measure(binary, bare_base + path, args.runs, args.keep and args.keep / "bare", args.preset)
            bare_rows.append(result["scores"])
            cells += [str(result["scores"][c]) for c in CATEGORIES]
        print(f"| {path or 'index'} | " + " | ".join(cells) + " |", flush=True)
    minimum = [str(min(r[c] for r in rows)) if rows else "" for c in CATEGORIES]
    if bare_rows:
        minimum += [str(min(r[c] for r in bare_rows)) for c in CATEGORIES]
    print("| **minimum** | " + " | ".join(minimum) + " |")
    for path, losses in misses:
        print(f"\n{path} is below target:")
        for loss in losses:
            print(f"  - {loss}")
    for server in servers:
        server.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
