"""Label smoothing: y = (1 - eps) * onehot + eps / K, and the loss against y is PyTorch's
CrossEntropyLoss(label_smoothing=eps)."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.regularizers import label_smoothing as ls


@st.composite
def batches(draw):
    n, k = draw(st.integers(1, 6)), draw(st.integers(2, 8))
    seed = draw(st.integers(0, 2**31 - 1))
    generator = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(n, k, generator=generator)
    labels = torch.randint(0, k, (n,), generator=generator)
    return logits, labels


@given(batch=batches(), eps=st.floats(0.0, 1.0))
@settings(max_examples=40, deadline=None)
def test_manual_loss_equals_pytorch(batch, eps):
    logits, labels = batch
    expected = nn.CrossEntropyLoss(label_smoothing=eps)(logits, labels)
    torch.testing.assert_close(ls.smoothed_cross_entropy(logits, labels, eps), expected, atol=1e-5, rtol=1e-5)
    # PyTorch also takes the smoothed distribution itself as a "soft" target.
    targets = ls.smooth_targets(labels, logits.shape[-1], eps)
    torch.testing.assert_close(F.cross_entropy(logits, targets), expected, atol=1e-5, rtol=1e-5)


@given(batch=batches(), eps=st.floats(0.0, 1.0))
@settings(max_examples=30, deadline=None)
def test_smoothed_loss_is_a_mix_of_cross_entropy_and_a_uniform_target(batch, eps):
    logits, labels = batch
    log_probs = logits.log_softmax(dim=-1)
    mix = (1 - eps) * F.nll_loss(log_probs, labels) + eps * (-log_probs.mean(dim=-1)).mean()
    torch.testing.assert_close(ls.smoothed_cross_entropy(logits, labels, eps), mix, atol=1e-5, rtol=1e-5)


@given(labels=st.lists(st.integers(0, 5), min_size=1, max_size=8), eps=st.floats(0.0, 1.0))
def test_targets_are_a_distribution_with_the_right_values(labels, eps):
    y = ls.smooth_targets(torch.tensor(labels), 6, eps)
    torch.testing.assert_close(y.sum(dim=-1), torch.ones(len(labels)))
    true = y[torch.arange(len(labels)), torch.tensor(labels)]
    torch.testing.assert_close(true, torch.full((len(labels),), 1 - eps + eps / 6))
    assert (y >= eps / 6 - 1e-7).all()


def test_loss_is_smallest_at_the_predicted_logit_gap():
    gap = torch.tensor(ls.best_gap(4, 0.1), requires_grad=True)
    logits = torch.stack([gap, torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0)]).unsqueeze(0)
    ls.smoothed_cross_entropy(logits, torch.tensor([0]), 0.1).backward()
    assert abs(gap.grad.item()) < 1e-6
    best = ls.loss_at_gap(gap.item(), 4, 0.1)
    assert best < ls.loss_at_gap(gap.item() - 0.5, 4, 0.1) and best < ls.loss_at_gap(gap.item() + 0.5, 4, 0.1)
    plain = [ls.loss_at_gap(g, 4, 0.0) for g in (2.0, 4.0, 8.0, 16.0)]
    assert plain == sorted(plain, reverse=True)  # without smoothing: bigger gap, always lower loss


def test_page_numbers():
    facts = ls.facts()
    assert (facts["k"], facts["eps"], facts["label"]) == (4, 0.1, 2)
    assert facts["true_target"] == pytest.approx(0.925) and facts["other_target"] == pytest.approx(0.025)
    expected = nn.CrossEntropyLoss(label_smoothing=0.1)(torch.tensor([facts["logits"]]), torch.tensor([2]))
    assert facts["loss_manual"] == pytest.approx(expected.item(), abs=1e-6)
    assert facts["loss_plain"] < facts["loss_manual"]
    assert facts["ratio"] == pytest.approx(37.0) and facts["best_gap"] == pytest.approx(3.6109, abs=1e-4)
    assert facts["best_loss"] == pytest.approx(facts["target_entropy"], abs=1e-6)  # the floor is H(y), not 0


@pytest.mark.parametrize("eps", [-0.1, 1.5])
def test_bad_eps_is_refused(eps):
    with pytest.raises(ValueError, match="eps must be in"):
        ls.smooth_targets(torch.tensor([0]), 3, eps)


@pytest.mark.parametrize("labels", [[3], [-1]])
def test_labels_out_of_range_are_refused(labels):
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\] for num_classes=3"):
        ls.smooth_targets(torch.tensor(labels), 3, 0.1)


def test_empty_batch_gives_empty_targets():
    assert ls.smooth_targets(torch.tensor([], dtype=torch.long), 3, 0.1).shape == (0, 3)
