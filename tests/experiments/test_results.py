"""Results files: byte-identical reruns, atomic writes, and committed files that match the code."""

import importlib
import json
import os
import types

import pytest

from snippets.experiments import EXPERIMENTS, results
from snippets.experiments.__main__ import main
from snippets.experiments.plotting import INK

MODULES = [importlib.import_module(f"snippets.experiments.{name}") for name in EXPERIMENTS]


def test_two_quick_runs_give_byte_identical_results_and_figures(quick_root, tmp_path):
    """The cheapest experiment again, in a fresh folder: same bytes, except the timing sidecar."""
    assert main(["run", "overfitting", "--quick", "--out", str(tmp_path)]) == 0
    for path in (results.results_path("overfitting", tmp_path),
                 results.figure_path("experiments-overfitting.svg", tmp_path)):
        first = path.relative_to(tmp_path)
        assert path.read_bytes() == (quick_root / first).read_bytes(), first
    # Wall-clock seconds differ between runs; that is why they are kept out of the results.
    assert "seconds" not in results.results_path("overfitting", tmp_path).read_text()


def test_canonical_json_is_sorted_rounded_and_strict():
    text = results.canonical_json({"b": [0.1234567891, float("inf")], "a": {"z": 1, "y": [[1, 2]]}})
    assert text == '{\n "a": {\n  "y": [\n   [1, 2]\n  ],\n  "z": 1\n },\n "b": [0.123457, null]\n}\n'
    assert json.loads(text) == {"a": {"y": [[1, 2]], "z": 1}, "b": [0.123457, None]}
    assert results.canonical_json({"x": [1.0], "y": {}}) == results.canonical_json({"y": {}, "x": [1.0]})


def test_an_interrupted_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    results.atomic_write(path, b"old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        results.atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"], "the temporary file is removed"
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_the_source_hash_follows_code_not_output_comments(tmp_path):
    module = types.SimpleNamespace(__file__=str(tmp_path / "experiment.py"))
    (tmp_path / "experiment.py").write_text("def main():\n    print(1)\n    #> 1\n")
    before = results.source_sha256(module)
    (tmp_path / "experiment.py").write_text("def main():\n    print(1)\n    #> 2\n")
    assert results.source_sha256(module) == before, "#> lines are output, not code"
    (tmp_path / "experiment.py").write_text("def main():\n    print(2)\n    #> 2\n")
    assert results.source_sha256(module) != before


@pytest.mark.parametrize("module", MODULES, ids=EXPERIMENTS)
def test_the_committed_results_come_from_the_current_config_and_code(module):
    """Fails after a change to an experiment, its config or the shared code, until `run` is redone."""
    assert results.stale_reasons(module) == []
    doc = results.load_results(module.NAME)
    assert doc["config"]["quick"] is False
    # The summary the pages quote is what the code computes from the stored runs.
    assert doc["summary"] == results.rounded(module.summarize(doc["config"], doc["runs"]))


def test_a_changed_config_or_code_is_reported(tmp_path):
    from snippets.experiments import overfitting

    doc = results.load_results("overfitting")
    path = results.results_path("overfitting", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({**doc, "config": {**doc["config"], "epochs": 1}, "source_sha256": "x"}))
    assert results.stale_reasons(overfitting, tmp_path) == ["config changed", "code changed"]


@pytest.mark.parametrize("module", MODULES, ids=EXPERIMENTS)
def test_the_committed_figures_are_drawn_from_the_committed_results(module, tmp_path):
    paths = results.draw_figures(module, results.load_results(module.NAME), tmp_path)
    for path in paths:
        committed = results.figure_path(path.name)
        svg = committed.read_bytes()
        assert path.read_bytes() == svg, f"{path.name} is stale: redraw it"
        assert len(svg) <= 60_000, f"{path.name} is {len(svg):,} bytes"
        assert b"<title>" in svg and b'aria-label="' in svg  # alt text inside the SVG too
        assert b"<dc:date>" not in svg and INK.encode() in svg
        assert b'style="fill: #ffffff' not in svg, "the background must be transparent"


def test_every_figure_is_on_a_page_with_alt_text():
    pages = "".join(p.read_text() for p in (results.DOCS / "experiments").glob("*.md"))
    for module in MODULES:
        marker = f"](../assets/figures/{module.FIGURE})"
        assert marker in pages, module.FIGURE
        alt = pages.split(marker)[0].rsplit("![", 1)[1]
        assert len(alt) > 40, f"{module.FIGURE}: alt text too short"


def test_library_versions_are_recorded():
    versions = results.load_results("overfitting")["versions"]
    assert set(versions) == {"python", "torch", "numpy", "scikit-learn"}


def test_the_timing_files_hold_wall_and_cpu_seconds_of_the_committed_runs():
    facts = results.facts()
    for name in EXPERIMENTS:
        timing = json.loads(results.timing_path(name).read_text())
        assert timing["config_sha256"] == results.load_results(name)["config_sha256"]
        assert 0 < timing["cpu_seconds"] and facts[f"{name}_cpu_seconds"] == timing["cpu_seconds"]
    assert facts["total_minutes"] == pytest.approx(sum(results.load_seconds(n) for n in EXPERIMENTS) / 60)
    # the budget of the issue: every experiment with every seed within 10 minutes on 2 cores
    assert facts["total_cpu_minutes"] < 10
