"""`--quick` runs of the experiments, through the command line, for the tests to read.

A quick run is the costliest thing in the suite and deterministic on one platform: each
experiment's run is kept in the test store (tests/conftest.py) under a digest of all of
snippets/experiments/ and this file, so it trains again only when that code changes. xdist
workers share the store: a worker that needs a run another worker is making waits for it.

The default run trains only the cheapest one (overfitting, about 3 s): the command line, the
results files, their bytes and the reproduction are the same code for every experiment. The
other three quick runs (about 30 s of CPU together) belong to the slow tests that read them;
no page quotes a quick run.
"""

import json
import shutil
from pathlib import Path

import pytest

from snippets.experiments import EXPERIMENTS
from snippets.experiments.__main__ import main
from snippets.experiments.results import results_path

SOURCES = [*sorted((Path(__file__).parents[2] / "snippets" / "experiments").glob("*.py")), Path(__file__)]
CHEAPEST = "overfitting"
# Parametrize over every experiment with this: the quick runs of the others are slow tests.
EVERY_QUICK = [name if name == CHEAPEST else pytest.param(name, marks=pytest.mark.slow) for name in EXPERIMENTS]


@pytest.fixture(scope="session")
def quick_docs(store, tmp_path_factory):
    """quick_docs(*names): a docs folder holding quick runs of those experiments (results,
    timings, figures), each trained once for its code on this platform."""
    key = store.digest(SOURCES)
    made = {}

    def docs(*names: str) -> Path:
        if names not in made:
            unknown = sorted(set(names) - set(EXPERIMENTS))
            assert not unknown, f"no experiment named {unknown}"
            root = tmp_path_factory.mktemp("quick-docs")
            for name in names:

                def fill(folder, name=name):
                    assert main(["run", name, "--quick", "--out", str(folder)]) == 0

                folder = store.folder(f"quick-{name}", key, fill)
                shutil.copytree(folder, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".done"))
            made[names] = root
        return made[names]

    return docs


@pytest.fixture(scope="session")
def quick_root(quick_docs):
    """A docs folder holding the quick run of the cheapest experiment."""
    return quick_docs(CHEAPEST)


@pytest.fixture(scope="session")
def quick(quick_docs):
    """quick(name): that experiment's quick results document."""
    return lambda name: json.loads(results_path(name, quick_docs(name)).read_text())
