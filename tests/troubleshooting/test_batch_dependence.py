"""The output depends on the batch: the finder names the right layer, and eval mode (with
running statistics) makes every example's output its own."""

import pytest
import torch

from snippets.troubleshooting import batch_dependence as bd


def test_the_finder_names_the_first_culprit_and_removes_its_hooks():
    x, batch_a, batch_b = bd.one_and_two_batches()
    net = bd.small_bn_net()
    assert bd.first_batch_dependent_layer(net, x, batch_a, batch_b) == "1 BatchNorm1d"
    assert all(not module._forward_hooks for module in net.modules())
    assert bd.first_batch_dependent_layer(net.eval(), x, batch_a, batch_b) is None
    assert bd.first_batch_dependent_layer(bd.small_bn_net(softmax_dim=0).eval(), x, batch_a, batch_b) == "4 Softmax"


@pytest.mark.claim("troubleshooting/eval-mode-output-is-the-examples-own")
def test_in_eval_mode_an_example_alone_gets_its_batched_output_up_to_rounding():
    x, batch_a, batch_b = bd.one_and_two_batches()
    net = bd.small_bn_net().eval()
    with torch.no_grad():
        alone = net(x)
        for batch in (batch_a, batch_b):
            torch.testing.assert_close(net(torch.cat([x, batch]))[:1], alone, atol=1e-6, rtol=1e-5)


@pytest.mark.claim("troubleshooting/no-running-stats-batch-stats-in-eval")
def test_without_running_statistics_eval_mode_still_uses_the_batch():
    x, batch_a, batch_b = bd.one_and_two_batches()
    net = bd.small_bn_net(track_running_stats=False).eval()
    assert net[1].running_mean is None and net[1].running_var is None
    assert bd.first_batch_dependent_layer(net, x, batch_a, batch_b) == "1 BatchNorm1d"
    with torch.no_grad():
        hidden = net[1](net[0](batch_b))
    torch.testing.assert_close(hidden.mean(dim=0), torch.zeros(8), atol=1e-5, rtol=0)  # centred on the batch


@pytest.mark.claim("troubleshooting/softmax-dim-0")
def test_softmax_over_dim_0_sums_to_one_over_the_batch():
    _, batch_a, _ = bd.one_and_two_batches()
    with torch.no_grad():
        probabilities = bd.small_bn_net(softmax_dim=0).eval()(batch_a)
    torch.testing.assert_close(probabilities.sum(dim=0), torch.ones(3))
    assert (probabilities.sum(dim=1) - 1).abs().max() > 0.1
