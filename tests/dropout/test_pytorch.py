"""Pins what the common misconception gets wrong: nn.Dropout(p) zeroes with probability p and
divides survivors by 1 - p (not by p); in eval mode it is the identity."""

import pytest
import torch
from torch import nn

from snippets.dropout import pytorch


@pytest.mark.claim("dropout/train-mode")
def test_train_mode_returns_only_zero_or_x_over_0_7():
    torch.manual_seed(0)
    x = torch.rand(10_000) + 0.5
    out = nn.Dropout(0.3).train()(x)
    kept = out != 0
    torch.testing.assert_close(out[kept], x[kept] / 0.7)
    assert not torch.allclose(out[kept], x[kept] / 0.3)
    assert (~kept).float().mean().item() == pytest.approx(0.3, abs=0.02)


@pytest.mark.claim("dropout/eval-identity")
def test_eval_mode_is_the_identity():
    x = torch.randn(4, 16)
    assert torch.equal(nn.Dropout(0.3).eval()(x), x)


@pytest.mark.claim("dropout/train-mean")
def test_page_numbers():
    facts = pytorch.facts()
    assert facts["zero_fraction"] == pytest.approx(0.3, abs=0.01)
    assert facts["kept_mean"] == pytest.approx(1.0, abs=0.02)
    assert round(facts["scale"], 4) == 1.4286 and round(facts["wrong_scale"], 4) == 3.3333
    assert facts["seed_torch_p"] == 0.25


@pytest.mark.parametrize("keep_prob", [0.0, -0.2, 1.01])
def test_keep_prob_outside_range_is_refused(keep_prob):
    with pytest.raises(ValueError, match="keep_prob must be in"):
        pytorch.torch_p_from_keep_prob(keep_prob)


@pytest.mark.claim("dropout/train-mode", "dropout/eval-identity")
def test_train_and_eval_helper():
    trained, evaluated = pytorch.train_and_eval_outputs(torch.ones(100), 0.5)
    assert set(trained.unique().tolist()) == {0.0, 2.0}
    assert torch.equal(evaluated, torch.ones(100))


@pytest.mark.claim("dropout/input-dropout-keeps-80")
def test_input_dropout_keeps_80_percent_of_the_inputs():
    assert pytorch.KEEP_PROBABILITIES["inputs (pixels, speech frames)"] == 0.8
    assert pytorch.torch_rates()["inputs (pixels, speech frames)"] == 0.2
    model = pytorch.mlp_with_input_dropout(n_in=64, hidden=32, n_out=10)
    assert isinstance(model[0], nn.Dropout) and model[0].p == 0.2
    torch.manual_seed(0)
    seen = model[0](torch.ones(500, 64))
    assert (seen == 0).float().mean().item() == pytest.approx(0.2, abs=0.01)
    assert model(torch.ones(3, 64)).shape == (3, 10)
    assert torch.equal(model.eval()[0](torch.ones(2, 64)), torch.ones(2, 64))


def test_paper_rates_are_one_minus_the_keep_probabilities():
    rates = pytorch.torch_rates()
    assert rates.keys() == pytorch.KEEP_PROBABILITIES.keys()
    for layer, keep in pytorch.KEEP_PROBABILITIES.items():
        assert rates[layer] == pytest.approx(1 - keep, abs=1e-12)
        assert 0 <= rates[layer] <= 1
    assert pytorch.facts()["torch_p"] == list(rates.values())
