"""Experiment 3: the claims of the BN-and-learning-rate page, on the committed runs and a quick run."""

import pytest
import torch
from torch import nn

from snippets.experiments import bn_learning_rate as experiment
from snippets.experiments.data import digit_splits
from snippets.experiments.models import digit_cnn
from snippets.experiments.training import deterministic, fit


def test_a_quick_run_shows_the_same_ceiling_and_a_faster_bn(quick):
    doc = quick["bn_learning_rate"]
    highest, cells = doc["summary"]["highest_lr_reaching_target"], doc["summary"]["cells"]
    assert highest["momentum=0 bn=0"] == highest["momentum=0 bn=1"] == 0.3
    assert cells["momentum=0 bn=1 lr=0.3"]["epochs_to_target_mean"] < cells["momentum=0 bn=0 lr=0.3"]["epochs_to_target_mean"]


@pytest.fixture(scope="module")
def summary():
    return experiment.load_results(experiment.NAME)["summary"]


def test_bn_does_not_raise_the_highest_usable_learning_rate(summary):
    facts = experiment.facts()
    assert facts["highest_lr_m0_bn0"] == facts["highest_lr_m0_bn1"] == 0.3
    assert facts["highest_lr_m09_bn0"] == facts["highest_lr_m09_bn1"] == 0.1
    lrs = experiment.config()["lrs"]
    for momentum, highest in ((0, 0.3), (0.9, 0.1)):  # "one step above it, all runs missed"
        above = lrs[lrs.index(highest) + 1]
        for bn in (0, 1):
            assert summary["cells"][f"momentum={momentum:g} bn={bn} lr={above:g}"]["seeds_reaching"] == 0


def test_bn_makes_more_and_smaller_rates_work_and_is_faster(summary):
    cells, lrs = summary["cells"], experiment.config()["lrs"]
    reached = {bn: [lr for lr in lrs if cells[f"momentum=0 bn={bn} lr={lr:g}"]["epochs_to_target_mean"]]
               for bn in (0, 1)}
    assert reached == {0: [0.3], 1: [0.01, 0.03, 0.1, 0.3]}  # plain SGD, as the page says
    for key, cell in cells.items():
        if " bn=0 " in key and cell["epochs_to_target_mean"] is not None:
            with_bn = cells[key.replace(" bn=0 ", " bn=1 ")]["epochs_to_target_mean"]
            assert with_bn is not None and with_bn < cell["epochs_to_target_mean"], key


def test_bn_fails_more_gently_and_nothing_diverges(summary):
    facts = experiment.facts()
    assert facts["acc_m0_bn1_lr1"] > 3 * facts["acc_m0_bn0_lr1"]
    assert facts["acc_m0_bn0_lr1"] < facts["stuck_below"]
    assert facts["runs_diverged"] == 0 and facts["runs_stuck"] > 0
    assert facts["runs_total"] == 2 * 2 * 6 * 3


def test_outcome_names_each_way_a_run_can_end():
    ok = {"val_acc": [0.5, 0.96, 0.97], "diverged_at": None}
    assert experiment.outcome(ok, 0.95) == {"epochs_to_target": 2, "status": "reached"}
    slow = {"val_acc": [0.5, 0.9], "diverged_at": None}
    assert experiment.outcome(slow, 0.95)["status"] == "too slow"
    stuck = {"val_acc": [0.1, 0.1], "diverged_at": None}
    assert experiment.outcome(stuck, 0.95) == {"epochs_to_target": None, "status": "stuck"}
    diverged = {"val_acc": [0.3], "diverged_at": 2}
    assert experiment.outcome(diverged, 0.95) == {"epochs_to_target": None, "status": "diverged"}
    assert experiment.short("momentum=0.9 bn=1 lr=0.03") == "m09_bn1_lr003"


def test_a_stuck_run_predicts_one_digit_with_silent_relus():
    """One stuck run rebuilt: plain SGD at learning rate 1, without BN; 3 epochs already do it."""
    built = []
    data = digit_splits()
    with deterministic():
        fit(lambda: built.append(digit_cnn()) or built[-1], data, epochs=3, lr=1.0, batch_size=32,
            seed=0, optimizer="sgd")
    model = built[0].eval()
    outputs = []
    for layer in model:
        if isinstance(layer, nn.ReLU):
            layer.register_forward_hook(lambda module, inputs, output: outputs.append(output))
    with torch.no_grad():
        predictions = model(data.val.x).argmax(1)
    assert predictions.unique().numel() == 1, "the same digit for every image"
    conv1, conv2, dense = outputs
    assert (conv1 == 0).float().mean() > 0.99 and (conv2 == 0).float().mean() > 0.99
    assert dense.std(dim=0).max() < 1e-3, "the dense layer gives the same output for every image"


def test_the_summary_counts_a_diverged_run_as_zero_accuracy_and_not_reached():
    cfg = {"momenta": [0.0], "lrs": [0.1], "target_acc": 0.95}
    ok = {"val_acc": [0.9, 0.97], "diverged_at": None}
    diverged = {"val_acc": [0.9], "diverged_at": 2}
    summary = experiment.summarize(cfg, {"momentum=0 bn=0 lr=0.1": [ok, diverged],
                                         "momentum=0 bn=1 lr=0.1": [ok, ok]})
    cell = summary["cells"]["momentum=0 bn=0 lr=0.1"]
    assert cell == {"statuses": ["reached", "diverged"], "seeds_reaching": 1,
                    "epochs_to_target_mean": None, "final_val_acc_mean": pytest.approx(48.5)}
    assert summary["highest_lr_reaching_target"] == {"momentum=0 bn=0": None, "momentum=0 bn=1": 0.1}
    assert summary["status_counts"] == {"reached": 3, "too slow": 0, "stuck": 0, "diverged": 1}
