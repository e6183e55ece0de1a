"""One `--quick` run of every experiment per test session, written to a temporary docs folder."""

import json

import pytest

from snippets.experiments import EXPERIMENTS
from snippets.experiments.__main__ import main
from snippets.experiments.results import results_path


@pytest.fixture(scope="session")
def quick_root(tmp_path_factory):
    """The folder a quick run of all four experiments wrote into, through the command line."""
    root = tmp_path_factory.mktemp("quick-docs")
    assert main(["run", *EXPERIMENTS, "--quick", "--out", str(root)]) == 0
    return root


@pytest.fixture(scope="session")
def quick(quick_root):
    """The quick results documents, by experiment name."""
    return {name: json.loads(results_path(name, quick_root).read_text()) for name in EXPERIMENTS}
