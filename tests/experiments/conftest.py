"""One `--quick` run of every experiment per test session, written to a temporary docs folder.

Under pytest-xdist each worker has its own session fixtures, but the quick run is the costliest
thing in the suite: the workers share one folder and one run of each experiment. A worker that
needs them first takes the experiments no other worker is running, then waits for the rest.
"""

import json
import os

import pytest
from filelock import FileLock, Timeout

from snippets.experiments import EXPERIMENTS
from snippets.experiments.__main__ import main
from snippets.experiments.results import results_path


def run_once(shared, name: str, root) -> bool:
    """Run one experiment into root unless a worker did; False if another worker holds it."""
    try:
        with FileLock(shared / f"quick-{name}.lock", timeout=0):
            done = shared / f"quick-{name}.done"
            if not done.exists():
                assert main(["run", name, "--quick", "--out", str(root)]) == 0
                done.touch()
    except Timeout:
        return False
    return True


@pytest.fixture(scope="session")
def quick_root(tmp_path_factory):
    """The folder a quick run of all four experiments wrote into, through the command line."""
    base = tmp_path_factory.getbasetemp()
    # An xdist worker's basetemp is <the session's>/popen-gwN: the parent is this run's alone.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "quick-docs"
    pending = [name for name in EXPERIMENTS if not run_once(shared, name, root)]
    for name in pending:  # each one is being run by another worker: wait for it
        with FileLock(shared / f"quick-{name}.lock"):
            assert (shared / f"quick-{name}.done").exists(), f"the quick run of {name} failed"
    return root


@pytest.fixture(scope="session")
def quick(quick_root):
    """The quick results documents, by experiment name."""
    return {name: json.loads(results_path(name, quick_root).read_text()) for name in EXPERIMENTS}
