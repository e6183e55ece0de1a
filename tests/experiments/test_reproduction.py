"""Training again reproduces the committed results: bit for bit on the platform that made them
(same torch build, CPU kernels and processor), within the measured tolerance on any other.

The first seed of every experiment is re-trained in CI (marked slow), once with the CPU's own
kernels and once under ATEN_CPU_CAPABILITY=default, so a change of machine cannot turn CI red
unnoticed. The full run takes minutes, so it runs only when asked:

    REPRODUCE_EXPERIMENTS=1 pytest tests/experiments/test_reproduction.py -m slow --no-cov
"""

import importlib
import json
import os

import pytest

from snippets.experiments import EXPERIMENTS, results
from snippets.experiments.__main__ import main

MODULES = {name: importlib.import_module(f"snippets.experiments.{name}") for name in EXPERIMENTS}


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_the_first_seed_of_every_experiment_reproduces(name):
    found = results.reproduce(MODULES[name], n_seeds=1)
    assert found["ok"], found
    if found["same_platform"]:
        assert found["identical"], "same platform: the same bits"


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("REPRODUCE_EXPERIMENTS") != "1", reason="minutes of training; set REPRODUCE_EXPERIMENTS=1 to run it"
)
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_a_full_run_gives_the_committed_results(name, tmp_path):
    assert main(["run", name, "--out", str(tmp_path)]) == 0
    committed, new = results.load_results(name), results.load_results(name, tmp_path)
    figure = MODULES[name].FIGURE
    if results.same_platform(committed):
        assert results.results_path(name, tmp_path).read_bytes() == results.results_path(name).read_bytes()
        assert results.figure_path(figure, tmp_path).read_bytes() == results.figure_path(figure).read_bytes()
        return
    kept = results.reproducible(name) or set(new["runs"])
    gaps = results.run_gaps({v: committed["runs"][v] for v in kept}, {v: new["runs"][v] for v in kept})
    assert results.within_tolerance(gaps), gaps
    # What the pages say in words must not depend on the CPU that trained the networks; the
    # verdicts a measured change of platform flipped are named as such on their page.
    record = json.loads(results.spread_path().read_text())
    flipped = {v for by_name in record.values() for v in by_name.get(name, {}).get("verdicts_changed", [])}
    old, fresh = dict(results.verdicts(committed["summary"])), dict(results.verdicts(new["summary"]))
    assert {" / ".join(p): v for p, v in fresh.items() if " / ".join(p) not in flipped} == {
        " / ".join(p): v for p, v in old.items() if " / ".join(p) not in flipped
    }
    if name == "bn_learning_rate":  # the page's headline: where the ceiling is
        assert new["summary"]["highest_lr_reaching_target"] == committed["summary"]["highest_lr_reaching_target"]
