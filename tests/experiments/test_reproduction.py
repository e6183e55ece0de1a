"""`run` with the committed configs reproduces every committed results file and figure, byte for
byte. Minutes of training, so it runs only when asked:

    REPRODUCE_EXPERIMENTS=1 pytest tests/experiments/test_reproduction.py -m slow --no-cov
"""

import importlib
import os

import pytest

from snippets.experiments import EXPERIMENTS, results
from snippets.experiments.__main__ import main

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("REPRODUCE_EXPERIMENTS") != "1",
                       reason="minutes of training; set REPRODUCE_EXPERIMENTS=1 to run it"),
]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_a_full_run_gives_the_committed_bytes(name, tmp_path):
    assert main(["run", name, "--out", str(tmp_path)]) == 0
    assert results.results_path(name, tmp_path).read_bytes() == results.results_path(name).read_bytes()
    figure = importlib.import_module(f"snippets.experiments.{name}").FIGURE
    assert results.figure_path(figure, tmp_path).read_bytes() == results.figure_path(figure).read_bytes()
