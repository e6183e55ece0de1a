import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.practical import dropout_before_bn as dbn


@given(mean=st.floats(-3, 3), var=st.floats(0, 4), p=st.floats(0, 0.9))
@settings(max_examples=50, deadline=None)
def test_formula_is_the_exact_variance_over_the_two_outcomes(mean, var, p):
    """Input h with E[h] = mean, E[h^2] = var + mean^2; output h/(1-p) w.p. 1-p, else 0."""
    second_moment = (1 - p) * (var + mean**2) / (1 - p) ** 2
    expected = second_moment - mean**2
    assert dbn.dropout_variance(mean, var, p) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert dbn.dropout_variance(mean, var, p) >= var - 1e-9  # dropout never lowers the variance


def test_dropout_before_bn_shifts_the_variance_bn_after_dropout_does_not():
    facts = dbn.facts()
    assert facts["formula_train"] == 2.0 and facts["formula_mean1"] == 3.0
    assert facts["drop_train"] == pytest.approx(2.0, abs=0.03)
    assert facts["drop_eval"] == pytest.approx(1.0, abs=0.02)
    assert facts["shifted_running"] == pytest.approx(2.0, abs=0.03)
    assert facts["shifted_out"] == pytest.approx(0.5, abs=0.02)  # (1 - p) of what BN promises
    assert facts["fine_running"] == pytest.approx(1.0, abs=0.02)
    assert facts["fine_out"] == pytest.approx(1.0, abs=0.02)


def test_the_shift_follows_the_drop_rate():
    x = dbn.activations(steps=50)
    running, out = dbn.train_then_eval(True, 0.2, x)
    assert running == pytest.approx(1 / 0.8, abs=0.03)
    assert out == pytest.approx(0.8, abs=0.03)


@pytest.mark.parametrize(
    "kwargs, name", [({"p": 1.0, "var": 1.0}, "drop probability p"), ({"p": 0.5, "var": -1.0}, "var must be")]
)
def test_bad_input_is_refused(kwargs, name):
    with pytest.raises(ValueError, match=name):
        dbn.dropout_variance(0.0, **kwargs)


@pytest.mark.claim("practical/width-shrinks-shift")
def test_the_shift_shrinks_with_width_for_correlated_inputs_only():
    facts = dbn.facts()
    shared, alone, predicted = facts["shift_shared"], facts["shift_independent"], facts["predicted_shared"]
    assert facts["widths"] == [1, 16, 256]
    assert shared[0] < shared[1] < shared[2] and shared[2] > 0.97  # towards 1: no shift
    for measured, formula in zip(shared, predicted):
        assert measured == pytest.approx(formula, abs=0.03)
    for ratio in alone:  # independent inputs: 1 - p at every width
        assert ratio == pytest.approx(0.5, abs=0.03)


@given(width=st.integers(1, 64), p=st.floats(0.0, 0.9), shared=st.floats(0.0, 1.0))
@settings(max_examples=25, deadline=None)
def test_predicted_shift_is_exact_for_the_averaging_layer(width, p, shared):
    """Var of mean(a_i x_i / (1 - p)) = Var(mean x) + p / ((1 - p) width) for unit-variance x_i."""
    eval_var = shared + (1 - shared) / width
    train_var = eval_var + p / (1 - p) / width
    assert dbn.predicted_shift(width, p, shared) == pytest.approx(eval_var / train_var)
    assert dbn.predicted_shift(width, p, shared) <= 1.0


def test_train_then_eval_is_seeded_and_leaves_the_global_generator_alone():
    x = dbn.activations(steps=20)
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    first = dbn.train_then_eval(True, 0.5, x)
    assert torch.equal(torch.rand(2), expected)
    assert dbn.train_then_eval(True, 0.5, x) == first
    with pytest.raises(ValueError, match="batches must have shape"):
        dbn.train_then_eval(True, 0.5, x[0])
