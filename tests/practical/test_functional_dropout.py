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


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(), (1,), (3, 4), (2, 3, 4, 5)])
def test_fixed_head_equals_nn_dropout_in_every_dtype_and_shape(dtype, shape):
    x = torch.randn(shape, dtype=torch.float64).to(dtype)
    for training in (True, False):
        torch.manual_seed(1)
        ours = fd.FixedHead(0.3).train(training)(x)
        torch.manual_seed(1)
        theirs = torch.nn.Dropout(0.3).train(training)(x)
        assert ours.dtype == dtype and torch.equal(ours, theirs)


def test_fixed_head_gradients_non_contiguous_and_meta():
    x = torch.randn(4, 6, dtype=torch.float64).t()  # non-contiguous
    grads = []
    for module in (fd.FixedHead(0.5), torch.nn.Dropout(0.5)):
        leaf = x.clone().requires_grad_()
        torch.manual_seed(2)
        (module.train()(leaf) ** 2).sum().backward()
        grads.append(leaf.grad)
    assert torch.equal(*grads)
    assert fd.FixedHead(0.5).train()(torch.empty(3, 2, device="meta")).device.type == "meta"
    original = x.clone()
    fd.FixedHead(0.5).train()(x)
    assert torch.equal(x, original)  # not in place
