"""Two eval calls disagree only when something changed between them: the running statistics or
the input itself."""

import pytest
import torch
from torch import nn

from snippets.troubleshooting import eval_disagree as ed


def batches():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(4, 4, generator=generator), torch.randn(16, 4, generator=generator) + 3.0


@pytest.mark.claim("troubleshooting/eval-twice-agrees")
def test_with_nothing_in_between_two_eval_calls_agree_exactly_on_the_cpu():
    x, _ = batches()
    model = ed.bn_classifier().eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))


@pytest.mark.claim("troubleshooting/train-forward-moves-stats")
def test_one_train_mode_forward_under_no_grad_changes_later_eval_outputs():
    x, other = batches()
    model = ed.bn_classifier()
    assert ed.stats_changed_between_calls(model, x, other) > 0.01
    assert model[1].num_batches_tracked.item() == 1
    assert not model.training  # the helper leaves the model in eval mode
    frozen = ed.bn_classifier()
    frozen[1].momentum = 0.0  # momentum 0: the running statistics stay put
    assert ed.stats_changed_between_calls(frozen, x, other) == 0.0


@pytest.mark.claim("troubleshooting/inplace-changes-the-input")
def test_an_in_place_step_in_forward_changes_the_callers_tensor():
    x, _ = batches()
    original = x.clone()
    model = nn.Sequential(ed.NormaliseInPlace(0.5), nn.Linear(4, 2)).eval()
    with torch.no_grad():
        first, second = model(x), model(x)
    assert not torch.equal(first, second)
    torch.testing.assert_close(x, original - 1.0)  # subtracted once per call
