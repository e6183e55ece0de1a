"""The command line: `python -m snippets.experiments run [NAME ... | all] [--quick] [--seeds N]`."""

import json
import runpy
import sys

import pytest

from snippets.experiments import EXPERIMENTS, notebook
from snippets.experiments import __main__ as cli
from snippets.experiments.results import canonical_json, results_path, sha256, timing_path
from tests.experiments.conftest import EVERY_QUICK


def test_an_unknown_name_lists_the_valid_ones_and_exits_2(capsys, tmp_path):
    assert cli.main(["run", "overfitting", "no_such_experiment", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no_such_experiment" in err
    for name in (*EXPERIMENTS, "notebook", "all"):
        assert name in err
    assert not any(tmp_path.iterdir()), "nothing may run when one name is wrong"


def test_python_dash_m_runs_the_command_line(monkeypatch, capsys):
    """`python -m snippets.experiments` goes through __main__ with the real argv."""
    monkeypatch.setattr(sys, "argv", ["python -m snippets.experiments", "run", "nope"])
    monkeypatch.delitem(sys.modules, "snippets.experiments.__main__")  # as in a fresh interpreter
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("snippets.experiments", run_name="__main__", alter_sys=True)
    assert exit_info.value.code == 2
    assert "valid: overfitting" in capsys.readouterr().err


@pytest.mark.parametrize("seeds", ["0", "-1", "two"])
def test_seeds_must_be_a_positive_whole_number(seeds, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "overfitting", "--seeds", seeds])
    assert exit_info.value.code == 2
    assert "--seeds" in capsys.readouterr().err


@pytest.mark.parametrize("name", EVERY_QUICK)
def test_a_quick_run_writes_results_timing_and_a_figure(name, quick_docs):
    root = quick_docs(name)
    doc = json.loads(results_path(name, root).read_text())
    assert doc["experiment"] == name and doc["config"]["quick"] is True
    timing = json.loads(timing_path(name, root).read_text())
    assert timing["seconds"] > 0
    assert timing["config_sha256"] == doc["config_sha256"] == sha256(canonical_json(doc["config"]))
    svgs = [p.name for p in (root / "assets" / "figures").glob("*.svg")]
    assert svgs == [f"experiments-{name.replace('_', '-')}.svg"]


def test_seeds_override_the_default_number(tmp_path, monkeypatch):
    """--seeds reaches the experiment's config (run() is replaced: only the wiring is tested)."""
    from snippets.experiments import overfitting

    seen = {}
    monkeypatch.setattr(
        overfitting,
        "run",
        lambda cfg, progress: seen.setdefault("cfg", cfg) and {"histories": [fake_history()] * len(cfg["seeds"])},
    )
    assert cli.main(["run", "overfitting", "--quick", "--seeds", "3", "--out", str(tmp_path)]) == 0
    assert seen["cfg"]["seeds"] == [0, 1, 2]


@pytest.mark.parametrize("into_docs", [False, True], ids=["elsewhere", "into-docs"])
def test_all_runs_every_experiment_and_the_notebook_beside_them(into_docs, tmp_path, monkeypatch, capsys):
    """The notebook runs in its own kernel while the experiments train, in their order. It
    compares itself with docs/'s overfitting results: into docs/ it starts once they are written."""
    import threading

    ran, seen_at_start, last_started = [], [], threading.Event()

    def run_experiment(module, **kw):
        ran.append(module.NAME)
        if module.NAME == EXPERIMENTS[-1]:
            last_started.set()
        return 1.0

    def execute(root):
        seen_at_start.append(list(ran))
        assert last_started.wait(timeout=30), "the experiments go on while the notebook runs"
        return 2.0

    monkeypatch.setattr(cli, "run_experiment", run_experiment)
    monkeypatch.setattr(notebook, "execute", execute)
    out = cli.DOCS if into_docs else tmp_path  # nothing is written: both are replaced
    assert cli.main(["run", "all", "--out", str(out)]) == 0
    assert ran == list(EXPERIMENTS)
    assert len(seen_at_start) == 1
    if into_docs:
        assert seen_at_start[0] == ["overfitting"]
    assert "notebook: 2.0 s" in capsys.readouterr().err


def test_a_quick_run_writes_into_a_new_temporary_folder_unless_told(monkeypatch, capsys):
    """Quick numbers never replace the committed ones by accident."""
    roots = []
    monkeypatch.setattr(cli, "run_experiment", lambda module, root, **kw: roots.append(root) or 1.0)
    monkeypatch.setattr(notebook, "execute", lambda root: roots.append(root) or 2.0)
    assert cli.main(["run", "all", "--quick"]) == 0
    folder = roots[0]
    assert roots == [folder] * len(cli.TARGETS) and folder != cli.DOCS
    assert f"--quick: writing into {folder}" in capsys.readouterr().err
    assert folder.is_dir() and not any(folder.iterdir())
    folder.rmdir()
    roots.clear()
    assert cli.main(["run", "overfitting"]) == 0
    assert roots == [cli.DOCS], "a full run writes into docs/"


def test_check_says_whether_the_committed_results_are_current(monkeypatch, capsys):
    assert cli.main(["check"]) == 0
    assert capsys.readouterr().out.count("up to date") == len(EXPERIMENTS)
    monkeypatch.setattr(cli, "stale_reasons", lambda module: ["code changed"])
    assert cli.main(["check"]) == 1
    assert "overfitting: code changed" in capsys.readouterr().out


def fake_history(epochs: int = 3) -> dict:
    return {
        "train_loss": [1.0, 0.5, 0.2][:epochs],
        "val_loss": [1.1, 0.6, 0.7][:epochs],
        "train_acc": [0.5, 0.8, 1.0][:epochs],
        "val_acc": [0.4, 0.7, 0.7][:epochs],
        "diverged_at": None,
        "best_epoch": 2,
        "test_acc": 0.7,
        "test_acc_at_best": 0.75,
    }


def test_verify_reports_each_experiment_and_fails_on_one_not_reproduced(monkeypatch, capsys):
    here = {"cpu_capability": "AVX2"}
    outcomes = {
        "overfitting": {
            "same_platform": True,
            "identical": True,
            "ok": True,
            "acc_points": 0.0,
            "loss_nats": 0.0,
            "changed": [],
            "here": here,
            "committed_on": here,
        },
        "rnn_dropout": {
            "same_platform": False,
            "identical": False,
            "ok": True,
            "acc_points": 0.56,
            "loss_nats": 0.0123,
            "changed": [],
            "here": here,
            "not_compared": ["a", "b"],
            "committed_on": {"cpu_capability": "AVX512"},
        },
        "bn_learning_rate": {
            "same_platform": False,
            "identical": False,
            "ok": False,
            "acc_points": 40.0,
            "loss_nats": 3.0,
            "changed": ["x seed 0: diverged_at"],
            "here": here,
            "committed_on": None,
        },
    }
    asked = []
    monkeypatch.setattr(cli, "reproduce", lambda module, n: asked.append((module.NAME, n)) or outcomes[module.NAME])
    assert cli.main(["verify", "overfitting", "rnn_dropout", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert asked == [("overfitting", 2), ("rnn_dropout", 2)]
    assert "overfitting: same platform (AVX2, committed on AVX2): identical" in out
    assert (
        "rnn_dropout: other platform (AVX2, committed on AVX512): accuracy within 0.56 points, losses within 0.0123 nats; 2 runs at the edge of stability not compared"
        in out
    )
    assert cli.main(["verify", "bn_learning_rate"]) == 1
    assert "NOT REPRODUCED ['x seed 0: diverged_at']" in capsys.readouterr().out
    monkeypatch.setattr(cli, "reproduce", lambda module, n: asked.append(module.NAME) or outcomes["overfitting"])
    assert cli.main(["verify"]) == 0 and asked[-len(EXPERIMENTS) :] == list(EXPERIMENTS)
    assert cli.main(["verify", "nope"]) == 2
    assert "valid: overfitting" in capsys.readouterr().err


def test_figures_redraws_from_the_committed_results_without_training(tmp_path, monkeypatch, capsys):
    """`figures` draws every committed figure again, as the results file says, into docs/."""
    from snippets.experiments import results

    drawn = []
    monkeypatch.setattr(
        cli,
        "draw_figures",
        lambda module, doc: drawn.append((module.NAME, doc)) or [cli.DOCS / "f" / f"{module.NAME}.svg"],
    )
    monkeypatch.setattr(cli, "run_experiment", lambda *a, **k: pytest.fail("figures must not train"))
    assert cli.main(["figures", "rnn_dropout"]) == 0
    assert drawn == [("rnn_dropout", results.load_results("rnn_dropout"))]
    assert capsys.readouterr().out == "rnn_dropout: docs/f/rnn_dropout.svg\n"
    assert cli.main(["figures"]) == 0 and [name for name, _ in drawn[1:]] == list(EXPERIMENTS)
    assert cli.main(["figures", "nope"]) == 2
    assert "unknown name(s): nope" in capsys.readouterr().err
