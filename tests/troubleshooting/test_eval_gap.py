"""Eval accuracy below train accuracy: each BatchNorm cause reproduces the gap the page describes."""

import pytest
import torch
from torch import nn

from snippets.troubleshooting import eval_gap


@pytest.mark.parametrize("steps", [1, 5, 20, 50])
def test_running_mean_closes_the_gap_geometrically(steps):
    # the data mean is 5: the remaining gap is 5 * 0.9**k, up to the noise of the batch means
    assert eval_gap.running_mean_after(steps) == pytest.approx(5 * (1 - 0.9**steps), abs=0.1)


def test_momentum_none_is_a_plain_average():
    assert eval_gap.running_mean_after(5, momentum=None) == pytest.approx(5.0, abs=0.2)


@pytest.mark.claim("troubleshooting/sorted-batches-hide-the-class")
def test_sorted_batches_erase_the_class_in_train_mode_only():
    shuffled_train, shuffled_eval = eval_gap.class_gap(shuffled=True)
    sorted_train, sorted_eval = eval_gap.class_gap(shuffled=False)
    assert abs(sorted_train) < 1e-5  # each one-class batch is centred on itself
    assert sorted_eval > 3.5  # the gap of 4 comes back, divided by a within-class sd of about 1
    assert shuffled_train == pytest.approx(shuffled_eval, rel=0.1)  # 4 / sqrt(4 + 1) in both modes
    assert shuffled_eval == pytest.approx(4 / 5**0.5, rel=0.1)


@pytest.mark.claim("troubleshooting/train-mode-hides-preprocessing")
def test_train_mode_hides_a_preprocessing_mismatch():
    in_train_mode, in_eval_mode = eval_gap.scale_mismatch()
    assert in_train_mode == pytest.approx(3**0.5 / 2, rel=0.1)  # |uniform| normalised: mean sqrt(3)/2
    assert in_eval_mode > 100


@pytest.mark.claim("troubleshooting/train-mode-eval-overwrites-stats")
def test_a_train_mode_evaluation_overwrites_the_running_statistics_even_under_no_grad():
    bn = nn.BatchNorm1d(1)
    with torch.no_grad():
        bn(torch.rand(64, 1))
        before = bn.running_mean.clone()
        bn(torch.rand(64, 1) * 255)  # an "evaluation" batch in train mode
    assert bn.num_batches_tracked.item() == 2
    assert (bn.running_mean - before).abs().item() > 5


@pytest.mark.claim("troubleshooting/momentum-spread")
def test_the_running_mean_is_as_noisy_as_one_batch_with_momentum_099():
    facts = eval_gap.facts()
    batch_sd = 4**-0.5
    assert facts["spread_099"] == pytest.approx(batch_sd * (0.99 / 1.01) ** 0.5, rel=0.1)
    assert facts["spread_01"] == pytest.approx(batch_sd * (0.1 / 1.9) ** 0.5, rel=0.1)
    assert facts["after_5"] < facts["after_50"]
