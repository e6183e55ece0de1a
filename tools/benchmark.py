"""Speed and size figures of the site (a benchmark, not a test: these machines are noisy).

    python tools/benchmark.py [--skip-pytest]

Prints: cold `mkdocs build --strict` seconds, `pytest` seconds, and for every built page the
bytes a reader's browser fetches — the HTML plus every stylesheet, script, font and image it
loads — raw and gzip-compressed (what a static host with compression transfers).
Targets on a 2-core machine: build <= 5 s, pytest <= 60 s, heaviest page <= 200 KB gzip,
JavaScript <= 150 KB raw.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


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
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        build_s = timed([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)])
        print(f"cold mkdocs build --strict: {build_s:.2f} s")
        if not args.skip_pytest:
            print(f"pytest:                     {timed([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider']):.2f} s")

        rows = []
        for page in sorted(site.rglob("*.html")):
            if page.name == "404.html":
                continue
            files = {page} | assets_of(site, page)
            raw = sum(f.stat().st_size for f in files)
            gz = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
            js = sum(f.stat().st_size for f in files if f.suffix == ".js")
            rows.append((page.relative_to(site).parent.as_posix() or "/", raw, gz, js))
        search = [f for f in site.rglob("*") if f.is_file() and f.suffix in {".js", ".json"}
                  and ("workers" in f.parts or f.name == "search_index.json")]
        search_raw = sum(f.stat().st_size for f in search)
        search_gz = sum(len(gzip.compress(f.read_bytes(), 9)) for f in search)

    width = max(len(r[0]) for r in rows)
    print(f"\n{'page':<{width}}  {'raw KB':>8}  {'gzip KB':>8}  {'JS raw KB':>9}")
    for name, raw, gz, js in rows:
        print(f"{name:<{width}}  {raw / 1000:8.1f}  {gz / 1000:8.1f}  {js / 1000:9.1f}")
    print(f"search worker + index (fetched by every page's search, cached after the first): "
          f"{search_raw / 1000:.1f} KB raw, {search_gz / 1000:.1f} KB gzip")
    heaviest = max(rows, key=lambda r: r[2])
    print(f"\npages: {len(rows)}; heaviest gzip: {heaviest[0]} {heaviest[2] / 1000:.1f} KB; "
          f"max JS raw: {max(r[3] for r in rows) / 1000:.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
