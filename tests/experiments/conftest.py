"""One `--quick` run of every experiment, through the command line, for the tests to read.

The quick run is the costliest thing in the suite and deterministic on one platform: each
experiment's run is kept in the test store (tests/conftest.py) under a digest of all of
snippets/experiments/ and this file, so it trains again only when that code changes. xdist
workers share it: a worker that needs the runs first takes the experiments no other worker is
running, then waits for the rest.
"""

import json
import shutil
from pathlib import Path

import pytest

from snippets.experiments import EXPERIMENTS
from snippets.experiments.__main__ import main
from snippets.experiments.results import results_path

SOURCES = [*sorted((Path(__file__).parents[2] / "snippets" / "experiments").glob("*.py")), Path(__file__)]


@pytest.fixture(scope="session")
def quick_root(store, tmp_path_factory):
    """A docs folder holding a quick run of all four experiments (results, timings, figures)."""
    key = store.digest(SOURCES)

    def run(name):
        def fill(folder):
            assert main(["run", name, "--quick", "--out", str(folder)]) == 0

        return fill

    folders = {name: store.folder(f"quick-{name}", key, run(name), wait=False) for name in EXPERIMENTS}
    for name in [name for name, folder in folders.items() if folder is None]:
        folders[name] = store.folder(f"quick-{name}", key, run(name))  # another worker's: wait
    root = tmp_path_factory.mktemp("quick-docs")
    for folder in folders.values():
        shutil.copytree(folder, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".done"))
    return root


@pytest.fixture(scope="session")
def quick(quick_root):
    """The quick results documents, by experiment name."""
    return {name: json.loads(results_path(name, quick_root).read_text()) for name in EXPERIMENTS}
