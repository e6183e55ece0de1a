"""The running-mean curves of the figure: PyTorch's own buffers, and what the page reads off them."""

import pytest
import torch
from torch import nn

from snippets.batchnorm import running_curves as rc
from tests.svg import assert_committed_is_fresh, assert_transparent, render, small_svg_ids


@pytest.mark.parametrize("momentum", rc.MOMENTA)
def test_the_curves_are_what_nn_batchnorm_keeps_in_its_buffer(momentum):
    bn = nn.BatchNorm1d(1, momentum=momentum).train()
    g = torch.Generator().manual_seed(rc.SEED)
    theirs = [bn.running_mean.item()]
    for _ in range(60):
        bn(rc.TRUE_MEAN + torch.randn(rc.BATCH, 1, generator=g))
        theirs.append(bn.running_mean.item())
    assert rc.running_means(momentum, steps=60) == pytest.approx(theirs, abs=1e-6)


@pytest.mark.claim("batchnorm/running-curves")
def test_a_small_momentum_lags_none_averages_and_the_default_wanders():
    facts = rc.facts()
    # momentum=0.01 after 50 steps: still less than half way, near 3 (1 - 0.99^50)
    assert facts["at_50_m001"] < facts["true_mean"] / 2
    assert facts["at_50_m001"] == pytest.approx(3 * (1 - 0.99**50), abs=0.15)
    assert facts["at_200_m001"] < 0.9 * facts["true_mean"]
    # the default is there within 50 steps, but keeps wandering around the mean
    assert abs(facts["at_50_m01"] - facts["true_mean"]) < 0.15
    assert facts["spread_m01"] > 2 * facts["spread_none"]
    # momentum=None is the plain average of every batch mean so far
    g = torch.Generator().manual_seed(rc.SEED)
    means = [(rc.TRUE_MEAN + torch.randn(rc.BATCH, 1, generator=g)).mean().item() for _ in range(rc.STEPS)]
    assert facts["at_200_none"] == pytest.approx(sum(means) / len(means), abs=1e-5)


def test_facts_match_the_curves():
    facts = rc.facts()
    assert facts["at_50_m01"] == rc.running_means(0.1)[50]
    assert facts["at_200_none"] == rc.running_means(None)[200]
    assert len(rc.running_means(0.1)) == rc.STEPS + 1


@pytest.mark.parametrize("momentum", [-0.1, 1.5, "0.1"])
def test_a_bad_momentum_is_refused_by_the_update_it_uses(momentum):
    with pytest.raises((ValueError, TypeError), match="momentum"):
        rc.running_means(momentum, steps=1)


@pytest.fixture(scope="module")
def fresh_figure(tmp_path_factory):
    return render(rc.save_figure, "batchnorm-running-mean.svg", tmp_path_factory)


def test_figure_has_the_three_curves_and_no_background(fresh_figure):
    ids = small_svg_ids(fresh_figure)
    assert {f"curve-{rc.label(m)}" for m in rc.MOMENTA} <= ids
    assert_transparent(fresh_figure)


def test_committed_figure_is_a_fresh_render(fresh_figure):
    assert_committed_is_fresh(fresh_figure, "snippets.batchnorm.running_curves")


@pytest.mark.claim("batchnorm/running-buffers")
def test_the_running_statistics_are_buffers_saved_with_the_weights():
    bn = nn.BatchNorm2d(3)
    assert {name for name, _ in bn.named_buffers()} == {"running_mean", "running_var", "num_batches_tracked"}
    assert {name for name, _ in bn.named_parameters()} == {"weight", "bias"}  # not trained by the optimizer
    assert set(bn.state_dict()) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    bn.train()(torch.randn(4, 3, 2, 2))
    assert bn.num_batches_tracked.item() == 1
