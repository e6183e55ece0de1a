import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.dropout import exercises as ex


@given(h=st.floats(-50, 50), p=st.floats(0.0, 0.95))
@settings(max_examples=50, deadline=None)
def test_moments_match_the_closed_form(h, p):
    mean, var = ex.inverted_dropout_moments(h, p)
    assert mean == pytest.approx(h, rel=1e-9, abs=1e-9)
    assert var == pytest.approx(p / (1 - p) * h**2, rel=1e-6, abs=1e-6)


def test_exercise_1_numbers():
    facts = ex.facts()
    assert (facts["kept"], facts["mean"], facts["second_moment"], facts["var"]) == (5.0, 4.0, 20.0, 4.0)
    assert facts["sample_mean"] == pytest.approx(4.0, abs=0.02)
    assert facts["sample_var"] == pytest.approx(4.0, abs=0.05)
    assert facts["var_of_p"] == pytest.approx([1 / 9, 1.0, 9.0])


def test_exercise_2_translation_matches_what_nn_dropout_does():
    facts = ex.facts()
    assert facts["paper_p"] == pytest.approx([0.2, 0.1, 0.3])
    assert facts["paper_scale"] == pytest.approx([1.25, 1 / 0.9, 1 / 0.7])
    for keep_prob, p in zip(facts["paper_keep"], facts["paper_p"]):
        layer = nn.Dropout(p)
        torch.manual_seed(0)
        out = layer.train()(torch.ones(20_000))
        assert (out == 0).float().mean().item() == pytest.approx(1 - keep_prob, abs=0.015)
        assert out.max().item() == pytest.approx(ex.survivor_scale(layer)) == pytest.approx(1 / keep_prob)


def test_exercise_3_counts():
    facts = ex.facts()
    assert facts["small_count"] == 8 == len(ex.all_masks(3))
    assert facts["droppable"] == 768
    assert facts["subnet_digits"] == math.floor(768 * math.log10(2)) + 1 == 232
    assert facts["visited"] == 6_000_000
    assert ex.count_subnetworks(0) == 1


def test_exercise_4_enumeration_sums_to_one_and_matches_sampling():
    table = ex.output_distribution([3.0, 6.0], 0.25)
    assert sum(table.values()) == pytest.approx(1.0)
    assert table == pytest.approx({(4.0, 8.0): 0.5625, (4.0, 0.0): 0.1875, (0.0, 8.0): 0.1875, (0.0, 0.0): 0.0625})
    sampled = ex.sampled_frequencies([3.0, 6.0], 0.25)
    assert set(sampled) == set(table)
    for output, prob in table.items():
        assert sampled[output] == pytest.approx(prob, abs=0.01)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="drop probability p"):
        ex.inverted_dropout_moments(1.0, 1.0)
    with pytest.raises(ValueError, match="drop probability p"):
        ex.output_distribution([1.0], -0.1)
    with pytest.raises(ValueError, match="droppable_units must be >= 0"):
        ex.count_subnetworks(-1)
