import pytest
import torch

from snippets.practical import functional_dropout as fd


def test_functional_dropout_without_training_argument_drops_in_eval_mode():
    assert fd.zero_fraction_in_eval(fd.BuggyHead(0.5)) == pytest.approx(0.5, abs=0.02)
    assert fd.zero_fraction_in_eval(fd.FixedHead(0.5)) == 0.0


def test_fixed_head_is_the_identity_in_eval_and_nn_dropout_in_training():
    x = torch.randn(1000)
    assert torch.equal(fd.FixedHead(0.3).eval()(x), x)
    torch.manual_seed(0)
    ours = fd.FixedHead(0.3).train()(x)
    torch.manual_seed(0)
    theirs = torch.nn.Dropout(0.3).train()(x)
    assert torch.equal(ours, theirs)


def test_page_numbers():
    facts = fd.facts()
    assert facts["fixed_zeros"] == 0.0
    assert facts["buggy_zeros"] == pytest.approx(facts["p"], abs=0.02)


@pytest.mark.parametrize("p", [-0.1, 1.0])
def test_bad_p_is_refused(p):
    with pytest.raises(ValueError, match="drop probability p"):
        fd.FixedHead(p)
