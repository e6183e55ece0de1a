"""MC dropout: only the dropout modules sample, BatchNorm keeps its running statistics, the
entropy helper matches torch.distributions, and the averages behave as the page says."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical

from snippets.dropout import mc_dropout as mc


def test_enable_puts_only_dropout_in_train_mode_and_refuses_models_without_dropout():
    model = mc.enable_mc_dropout(mc.mc_classifier())
    assert [m.training for m in model] == [False, False, False, True, False]
    assert not model.training
    with pytest.raises(ValueError, match="no dropout module"):
        mc.enable_mc_dropout(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))


@pytest.mark.parametrize("passes", [1, 0, 2.0, True, "50"])
def test_mc_predict_refuses_a_bad_number_of_passes_naming_it(passes):
    with pytest.raises(ValueError, match="passes must be an int"):
        mc.mc_predict(mc.mc_classifier(), torch.zeros(3, 2), passes=passes)


@pytest.mark.claim("dropout/mc-keeps-bn-statistics")
def test_mc_passes_vary_but_leave_batchnorm_alone_where_model_train_would_not():
    model = mc.trained_classifier()
    x = torch.tensor(mc.PROBES)
    state = {k: v.clone() for k, v in model[1].state_dict().items()}
    torch.manual_seed(0)
    first = mc.mc_predict(model, x, passes=5)["mean"]
    second = mc.mc_predict(model, x, passes=5)["mean"]
    assert not torch.equal(first, second)  # the passes are random
    assert all(torch.equal(model[1].state_dict()[k], v) for k, v in state.items())
    model.train()  # the wrong way: BN now uses and records the probes' statistics
    with torch.no_grad():
        model(x)
    assert not torch.equal(model[1].running_mean, state["running_mean"])
    model[1].load_state_dict(state)  # restore the cached model for the other tests
    model.eval()


@pytest.mark.claim("dropout/mc-mean-logits-linear")
def test_with_dropout_only_before_the_last_linear_layer_the_mc_mean_of_the_logits_is_the_eval_pass():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Dropout(0.5), nn.Linear(16, 2))
    x = torch.randn(4, 3)
    mc.enable_mc_dropout(model)
    with torch.no_grad():
        mean_logits = torch.stack([model(x) for _ in range(4000)]).mean(0)
        model.eval()
        torch.testing.assert_close(mean_logits, model(x), atol=0.05, rtol=0)


@pytest.mark.claim("dropout/mc-entropy-of-mean")
def test_the_entropy_of_the_mean_is_at_least_the_mean_entropy():
    generator = torch.Generator().manual_seed(0)
    for classes in (2, 3, 10):
        probs = F.softmax(torch.randn(30, 5, classes, generator=generator) * 3, dim=-1)
        assert (mc.entropy(probs.mean(0)) >= mc.entropy(probs).mean(0) - 1e-6).all()


@pytest.mark.claim("dropout/mc-border-most-uncertain")
def test_the_border_point_is_the_uncertain_one():
    facts = mc.facts()
    assert facts["entropy_border"] > 0.5
    assert facts["entropy_far"] < 0.05
    assert facts["variance_border"] > 10 * facts["variance_far"]
    assert facts["mc_border"] == pytest.approx(facts["single_border"], abs=0.05)
    assert facts["passes"] == 200


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(1,), (5, 1), (4, 3), (2, 3, 7)])
def test_entropy_matches_categorical_over_dtypes_and_shapes(dtype, shape):
    generator = torch.Generator().manual_seed(0)
    p = F.softmax(torch.randn(shape, generator=generator, dtype=torch.float64) * 2, dim=-1)
    p[..., 0] = 0.0  # a zero probability: 0 * log 0 = 0
    p = p / p.sum(-1, keepdim=True).clamp_min(1e-300)
    expected = Categorical(probs=p).entropy() if shape[-1] > 1 else torch.zeros(shape[:-1], dtype=torch.float64)
    ours = mc.entropy(p.to(dtype))
    assert ours.dtype == dtype and ours.shape == shape[:-1]
    tol = {torch.float16: 2e-3, torch.bfloat16: 2e-2}.get(dtype, 1e-6)
    torch.testing.assert_close(ours.double(), expected, atol=tol * 5, rtol=tol)


def test_entropy_gradient_and_meta_device():
    p = F.softmax(torch.randn(3, 4, dtype=torch.float64), dim=-1).requires_grad_()
    (grad,) = torch.autograd.grad(mc.entropy(p).sum(), p)
    (expected,) = torch.autograd.grad(Categorical(probs=p, validate_args=False).entropy().sum(), p)
    # Categorical renormalises p, which changes the gradient by a constant per row only
    torch.testing.assert_close(grad - grad.mean(-1, keepdim=True), expected - expected.mean(-1, keepdim=True))
    assert mc.entropy(torch.empty(2, 5, 3, device="meta")).shape == (2, 5)


@pytest.mark.claim("dropout/mc-calibration-measured")
def test_the_measured_calibration_the_page_reports():
    """The committed calibration experiment: MC dropout against one pass of the same networks."""
    from snippets.experiments.results import load_results

    summary = load_results("calibration")["summary"]
    mc = summary["mc_vs_one_pass"]
    assert mc["test_ece_last"]["verdict"] == "hurt" and mc["test_ece_last"]["low"] > 0
    assert mc["test_acc_last"]["verdict"] == "no detectable difference at this size"
    for method, sign in (("dropout", -1), ("mc_dropout", 1)):  # over-, then under-confident
        bins = summary["reliability"][method]
        assert sign * (sum(bins["correct"]) - sum(bins["confidence"])) > 0, method
