"""Experiment 4: the hand-unrolled LSTM and its three dropouts, and the claims of the RNN page."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from snippets.experiments import rnn_dropout as experiment
from snippets.experiments.rnn_dropout import VARIANTS, DigitLSTM


def test_without_dropout_it_is_exactly_pytorchs_lstm():
    torch.manual_seed(0)
    ours, reference = DigitLSTM(hidden=16), nn.LSTM(8, 16, batch_first=True)
    with torch.no_grad():  # same weights; PyTorch's gate order (i, f, g, o) is the one used here
        reference.weight_ih_l0.copy_(ours.input_to_gates.weight)
        reference.bias_ih_l0.copy_(ours.input_to_gates.bias)
        reference.bias_hh_l0.zero_()
        reference.weight_hh_l0.copy_(ours.hidden_to_gates.weight)
        rows = torch.rand(5, 8, 8)
        last_hidden = reference(rows)[0][:, -1]
        torch.testing.assert_close(ours(rows), ours.classifier(last_hidden))


@pytest.mark.parametrize("variant", VARIANTS)
def test_in_eval_mode_every_variant_is_the_plain_lstm(variant):
    torch.manual_seed(0)
    plain = DigitLSTM("none", 0.0, hidden=16)
    dropped = DigitLSTM(variant, 0.5, hidden=16)
    dropped.load_state_dict(plain.state_dict())
    rows = torch.rand(4, 8, 8)
    assert torch.equal(dropped.eval()(rows), plain.eval()(rows))
    if variant != "none":
        assert not torch.equal(dropped.train()(rows), plain(rows))


@pytest.mark.parametrize(
    "variant, dropout_calls, bernoulli_calls",
    [
        ("fresh_mask", 8, 0),  # a new mask at each of the 8 steps
        ("locked_mask", 0, 1),  # one mask, drawn once for the whole sequence
        ("weight_drop", 1, 0),  # one mask on W_hh per forward pass (per batch)
    ],
)
def test_where_each_variant_draws_its_masks(variant, dropout_calls, bernoulli_calls, monkeypatch):
    calls = {"dropout": [], "bernoulli": 0}
    real_dropout, real_bernoulli = F.dropout, torch.bernoulli

    def counting_dropout(x, p, *args, **kwargs):
        calls["dropout"].append(tuple(x.shape))
        return real_dropout(x, p, *args, **kwargs)

    def counting_bernoulli(x, *args, **kwargs):
        calls["bernoulli"] += 1
        return real_bernoulli(x, *args, **kwargs)

    monkeypatch.setattr(experiment.F, "dropout", counting_dropout)
    monkeypatch.setattr(experiment.torch, "bernoulli", counting_bernoulli)
    DigitLSTM(variant, 0.3, hidden=16).train()(torch.rand(4, 8, 8))
    assert len(calls["dropout"]) == dropout_calls and calls["bernoulli"] == bernoulli_calls
    if variant == "weight_drop":
        assert calls["dropout"] == [(64, 16)], "the mask is on the 4H x H recurrent weights"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="variant must be one of"):
        DigitLSTM("zoneout", 0.3)
    with pytest.raises(ValueError, match="p must be in"):
        DigitLSTM("locked_mask", 1.0)


@pytest.mark.slow  # a quick run of its own: tests/experiments/conftest.py
def test_a_quick_run_shows_every_dropout_narrowing_the_gap(quick):
    variants = quick("rnn_dropout")["summary"]["variants"]
    for name in VARIANTS[1:]:
        assert variants[name]["loss_gap"] < variants["none"]["loss_gap"], name


@pytest.fixture(scope="module")
def summary():
    return experiment.load_results(experiment.NAME)["summary"]


@pytest.mark.claim("experiments/rnn-all-help")
def test_every_recurrent_dropout_helps_on_every_measure(summary):
    for name in VARIANTS[1:]:
        for metric, diff in summary["comparisons"][name].items():
            assert diff["verdict"] == "helped", (name, metric)


@pytest.mark.claim("experiments/rnn-locked-vs-fresh")
def test_one_mask_per_sequence_beats_a_new_mask_per_step_at_the_early_stopping_epoch(summary):
    locked = summary["locked_vs_fresh"]["locked_mask"]
    assert locked["test_acc_es"]["verdict"] == locked["best_val_loss"]["verdict"] == "helped"
    assert locked["test_acc"]["verdict"] == "no detectable difference at this size"
    # "the mask that stays fixed over time did best"
    ranking = summary["ranking"]
    assert ranking[0] == "locked_mask" and ranking[-1] == "none"


def test_the_setup_the_page_describes():
    facts = experiment.facts()
    assert (facts["n_train"], facts["n_per_class"], facts["p"], facts["hidden"], facts["n_seeds"]) == (
        200,
        20,
        0.3,
        64,
        20,
    )
