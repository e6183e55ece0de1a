"""Lighthouse scores of every page: performance, accessibility, best practices, SEO.

    python tools/lighthouse.py                      # build the site, score every page
    python tools/lighthouse.py --site DIR --pages playground/dropout/,index

A benchmark, not a test: the performance score moves between runs, and drops on a busy
machine (Lighthouse scales the CPU time it observes); --runs 3 reports the median. The site is served from
127.0.0.1 gzip-compressed, with the cache header GitHub Pages sends, as a static host would
serve it (an uncompressed server costs several performance points). Lighthouse 12.2.3 (the
last release that runs on Node 20) is installed on first use into .lighthouse/ (git-ignored)
with `npm i -E lighthouse@12.2.3`, and drives Debian's /usr/bin/chromium (CHROME_PATH) with
the browser suite's flags. Pages below the targets are listed with the audits that cost them.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import mimetypes
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, FLAGS, page_paths

VERSION = "12.2.3"
INSTALL = ROOT / ".lighthouse"
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
        INSTALL.mkdir(exist_ok=True)
        subprocess.run(["npm", "i", "-E", f"lighthouse@{VERSION}", "--no-audit", "--no-fund"], cwd=INSTALL, check=True)
    return binary


def build_site() -> Path:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    site = Path(tempfile.mkdtemp(prefix="lighthouse-site-"))
    build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site), strict=False))
    return site


def score(binary: Path, url: str, keep: Path | None = None) -> dict:
    command = [
        str(binary),
        url,
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=" + " ".join(FLAGS),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build one)")
    parser.add_argument("--pages", help="comma-separated URL paths, 'index' for the home page")
    parser.add_argument("--keep", type=Path, help="also write each page's full JSON report into this folder")
    parser.add_argument("--runs", type=int, default=1, help="runs per page; the table shows each score's median")
    args = parser.parse_args()

    binary = lighthouse_bin()
    site = args.site or build_site()
    pages = [("" if p == "index" else p) for p in args.pages.split(",")] if args.pages else page_paths()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(GzipHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"

    rows, misses = [], []
    print("| page | performance | accessibility | best practices | SEO |")
    print("|---|---:|---:|---:|---:|")
    for path in pages:
        results = [score(binary, base + path, args.keep) for _ in range(args.runs)]
        s = {c: statistics.median_low([r["scores"][c] for r in results]) for c in CATEGORIES}
        result = next(r for r in results if r["scores"]["performance"] == s["performance"])
        rows.append(s)
        print(f"| {path or 'index'} | " + " | ".join(str(s[c]) for c in CATEGORIES) + " |", flush=True)
        if result["losses"]:
            misses.append((path or "index", result["losses"]))
    print("| **minimum** | " + " | ".join(str(min(r[c] for r in rows)) for c in CATEGORIES) + " |")
    for path, losses in misses:
        print(f"\n{path} is below target:")
        for loss in losses:
            print(f"  - {loss}")
    server.shutdown()


if __name__ == "__main__":
    main()
