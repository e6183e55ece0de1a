"""Paired differences over seeds: the interval is the paired t interval, and the verdict
follows it, never the means alone."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from snippets.experiments import stats

finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=2, max_size=25), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_the_interval_is_scipys_paired_t_interval(pairs, confidence):
    treated, baseline = map(list, zip(*pairs))
    diff = stats.paired_difference(treated, baseline, confidence)
    d = np.subtract(treated, baseline)
    assert diff["n"] == len(pairs)
    assert diff["mean"] == pytest.approx(d.mean(), abs=1e-9)
    if d.std() > 1e-6 * max(1.0, np.abs(d).max()):
        low, high = scipy_stats.ttest_rel(treated, baseline).confidence_interval(confidence)
        assert (diff["low"], diff["high"]) == (
            pytest.approx(low, rel=1e-6, abs=1e-9),
            pytest.approx(high, rel=1e-6, abs=1e-9),
        )
    assert diff["low"] <= diff["mean"] <= diff["high"]


@pytest.mark.claim("experiments/paired-wording")
def test_the_verdict_needs_an_interval_that_leaves_zero_out():
    assert stats.verdict({"low": 0.1, "high": 2.0}) == "helped"
    assert stats.verdict({"low": -2.0, "high": -0.1}) == "hurt"
    assert stats.verdict({"low": -0.1, "high": 2.0}) == stats.NO_DIFFERENCE
    assert stats.verdict({"low": 0.0, "high": 2.0}) == stats.NO_DIFFERENCE  # 0 is inside
    # For a loss, lower is better.
    assert stats.verdict({"low": -2.0, "high": -0.1}, higher_is_better=False) == "helped"
    assert stats.verdict({"low": 0.1, "high": 2.0}, higher_is_better=False) == "hurt"


def test_pairing_finds_what_two_overlapping_means_hide():
    """The page's demo: means one spread apart, yet every seed moves the same way."""
    none = [90.0, 88.0, 93.0, 91.0, 89.0]
    treated = [90.5, 89.0, 93.5, 91.5, 90.0]
    assert abs(np.mean(treated) - np.mean(none)) < np.std(none)
    assert stats.verdict(stats.paired_difference(treated, none)) == "helped"
    # Shuffle the pairing and the same numbers no longer show anything.
    shuffled = [treated[i] for i in (2, 0, 4, 1, 3)]
    assert stats.verdict(stats.paired_difference(shuffled, none)) == stats.NO_DIFFERENCE


@pytest.mark.parametrize(
    "treated, baseline, match",
    [
        ([1.0], [2.0], "at least 2"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], "same seeds"),
        ([[1.0, 2.0]], [[1.0, 2.0]], "one value per seed"),
        ([1.0, math.nan], [1.0, 2.0], "must be finite"),
        ([1.0, 2.0], [1.0, math.inf], "must be finite"),
    ],
)
def test_bad_seed_lists_are_refused_by_name(treated, baseline, match):
    with pytest.raises(ValueError, match=match):
        stats.paired_difference(treated, baseline)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.2])
def test_a_confidence_outside_0_1_is_refused(confidence):
    with pytest.raises(ValueError, match="confidence must be in"):
        stats.paired_difference([1.0, 2.0], [0.0, 0.5], confidence)


def history(val_acc, val_loss, test_acc, test_at_best):
    best = int(np.argmin(val_loss)) + 1
    return {
        "val_acc": val_acc,
        "val_loss": val_loss,
        "test_acc": test_acc,
        "test_acc_at_best": test_at_best,
        "best_epoch": best,
    }


def test_compare_scores_every_metric_seed_by_seed():
    runs = {
        "none": [
            history([0.5, 0.6], [1.0, 0.9], 0.60, 0.60),
            history([0.5, 0.7], [0.8, 0.9], 0.62, 0.55),
            history([0.4, 0.6], [1.2, 1.0], 0.58, 0.58),
        ],
        "x": [
            history([0.6, 0.7], [0.9, 0.7], 0.70, 0.70),
            history([0.6, 0.8], [0.7, 0.8], 0.72, 0.66),
            history([0.5, 0.7], [1.0, 0.8], 0.69, 0.69),
        ],
    }
    found = stats.compare(runs)
    assert list(found) == ["x"] and set(found["x"]) == set(stats.METRICS)
    assert found["x"]["val_acc"]["mean"] == pytest.approx(10)
    assert found["x"]["test_acc"]["mean"] == pytest.approx(10.333333)
    assert found["x"]["val_acc_es"]["mean"] == pytest.approx(10)  # epochs 2, 1, 2 for x
    assert found["x"]["best_val_loss"]["mean"] == pytest.approx(-0.5 / 3)
    assert found["x"]["best_val_loss"]["verdict"] == "helped"  # lower loss in every seed


def test_the_table_and_the_facts_say_what_the_intervals_say():
    comparisons = {
        "b": {m: {"mean": 1.0, "low": 0.5, "high": 1.5, "verdict": "helped"} for m in stats.METRICS},
        "a": {m: {"mean": -0.25, "low": -1.0, "high": 0.5, "verdict": stats.NO_DIFFERENCE} for m in stats.METRICS},
    }
    text = stats.table(comparisons, {"a": "variant A", "b": "variant B"})
    lines = text.splitlines()
    assert len(lines) == 4 and lines[1] == "|---|---|---|---|---|---|"
    assert lines[2].startswith("| variant A | −0.2 [−1.0, +0.5] |"), "the labels' order"
    assert "**+1.0 [+0.5, +1.5]**" in lines[3] and "**+1.000 [+0.500, +1.500]**" in lines[3]
    assert "**" not in lines[2], "bold only where the interval leaves 0 out"
    facts = stats.comparison_facts(comparisons)
    assert facts["b_test_acc_es_verdict"] == "helped"
    assert facts["a_best_val_loss_diff"] == "−0.250 [−1.000, +0.500]"
