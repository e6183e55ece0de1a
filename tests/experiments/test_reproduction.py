"""Training again reproduces the committed results: bit for bit on the platform that made them
(same torch build, CPU kernels and processor), within the measured tolerance on any other.

The first seed of every experiment is re-trained in CI (marked slow), once with the CPU's own
kernels and once under ATEN_CPU_CAPABILITY=default, so a change of machine cannot turn CI red
unnoticed. The full run takes minutes, so it runs only when asked:

    REPRODUCE_EXPERIMENTS=1 pytest tests/experiments/test_reproduction.py -m slow --no-cov
"""

import importlib
import os

import pytest

from snippets.experiments import EXPERIMENTS, results
from snippets.experiments.__main__ import main

MODULES = {name: importlib.import_module(f"snippets.experiments.{name}") for name in EXPERIMENTS}


def verdicts(value, path=()):
    """Every generated verdict in a summary, by where it sits: the words the pages print."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "verdict":
                yield path, item
            else:
                yield from verdicts(item, (*path, key))


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_the_first_seed_of_every_experiment_reproduces(name):
    found = results.reproduce(MODULES[name], n_seeds=1)
    assert found["ok"], found
    if found["same_platform"]:
        assert found["identical"], "same platform: the same bits"


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("REPRODUCE_EXPERIMENTS") != "1",
                    reason="minutes of training; set REPRODUCE_EXPERIMENTS=1 to run it")
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_a_full_run_gives_the_committed_results(name, tmp_path):
    assert main(["run", name, "--out", str(tmp_path)]) == 0
    committed, new = results.load_results(name), results.load_results(name, tmp_path)
    figure = MODULES[name].FIGURE
    if results.same_platform(committed):
        assert results.results_path(name, tmp_path).read_bytes() == results.results_path(name).read_bytes()
        assert results.figure_path(figure, tmp_path).read_bytes() == results.figure_path(figure).read_bytes()
        return
    gaps = results.run_gaps(committed["runs"], new["runs"])
    assert results.within_tolerance(gaps), gaps
    # What the pages say in words must not depend on the CPU that trained the networks.
    assert dict(verdicts(new["summary"])) == dict(verdicts(committed["summary"]))
