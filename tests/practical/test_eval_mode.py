import pytest
import torch

from snippets.practical import eval_mode


def test_dropout_in_training_mode_is_random_even_under_no_grad():
    x, _, _ = eval_mode.inputs()
    model = eval_mode.dropout_net()
    assert model.training
    first, second = eval_mode.two_calls(model, x)  # two_calls runs under torch.no_grad()
    assert not torch.equal(first, second)
    first, second = eval_mode.two_calls(model.eval(), x)
    assert torch.equal(first, second)


def test_batchnorm_in_training_mode_depends_on_the_batch():
    x, batch_a, batch_b = eval_mode.inputs()
    model = eval_mode.batchnorm_net()
    in_a, in_b = eval_mode.in_two_batches(model, x, batch_a, batch_b)
    assert (in_a - in_b).abs().max() > 0.1
    in_a, in_b = eval_mode.in_two_batches(model.eval(), x, batch_a, batch_b)
    torch.testing.assert_close(in_a, in_b)
    # in eval mode the batched output is the output of the example on its own
    torch.testing.assert_close(in_a, model(x)[0].detach())


def test_no_grad_does_not_stop_running_statistics_from_changing():
    _, _, batch_b = eval_mode.inputs()
    model = eval_mode.batchnorm_net()
    with torch.no_grad():
        model(batch_b)
    assert model[1].running_mean.abs().max() > 0.01
    assert model[1].num_batches_tracked.item() == 1


def test_predict_is_deterministic_and_restores_the_mode():
    x, batch_a, _ = eval_mode.inputs()
    for make in (eval_mode.dropout_net, eval_mode.batchnorm_net):
        model = make()
        out = eval_mode.predict(model, torch.cat([x, batch_a]))
        assert torch.equal(out, eval_mode.predict(model, torch.cat([x, batch_a])))
        assert not out.requires_grad
        assert model.training
        model.eval()
        eval_mode.predict(model, x)
        assert not model.training  # a model in eval mode stays in eval mode


def test_page_numbers():
    facts = eval_mode.facts()
    assert not torch.equal(facts["drop_first"], facts["drop_second"])
    assert not torch.allclose(facts["bn_in_a"], facts["bn_in_b"], atol=0.05)
    assert facts["batch_size"] == 8


@pytest.mark.claim("practical/predict-restores-each-module")
def test_predict_restores_every_submodules_own_mode():
    """Probe: predict used to call model.train(was_training), which unfroze a BN layer the caller
    had put in eval mode inside a training model."""
    x, batch_a, _ = eval_mode.inputs()
    model = eval_mode.batchnorm_net()
    model[1].eval()  # frozen BN
    before = {name: m.training for name, m in model.named_modules()}
    stats = model[1].running_mean.clone()
    eval_mode.predict(model, torch.cat([x, batch_a]))
    assert {name: m.training for name, m in model.named_modules()} == before
    model(torch.cat([x, batch_a]))  # a training step afterwards
    assert torch.equal(model[1].running_mean, stats)  # the frozen BN still does not update


def test_predict_restores_the_modes_even_when_the_forward_pass_fails():
    model = eval_mode.batchnorm_net()
    model[3].eval()
    with pytest.raises(RuntimeError):
        eval_mode.predict(model, torch.randn(2, 5))  # wrong feature count
    assert model.training and model[1].training and not model[3].training


def test_predict_on_meta_and_in_half_precision():
    model = eval_mode.dropout_net()
    out = eval_mode.predict(model.to("meta"), torch.empty(3, 4, device="meta"))
    assert out.device.type == "meta" and out.shape == (3, 2) and model.training
    model = eval_mode.batchnorm_net().to(torch.bfloat16)
    assert eval_mode.predict(model, torch.randn(1, 4, dtype=torch.bfloat16)).dtype == torch.bfloat16


@pytest.mark.parametrize("x", [torch.randn(2, 4), torch.randn(4), torch.tensor(1.0)])
def test_in_two_batches_wants_one_example(x):
    _, batch_a, batch_b = eval_mode.inputs()
    with pytest.raises(ValueError, match="x must hold one example"):
        eval_mode.in_two_batches(eval_mode.batchnorm_net(), x, batch_a, batch_b)
