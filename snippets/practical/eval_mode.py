"""Forgetting model.eval(): dropout makes predictions random, BatchNorm
makes them batch-dependent."""

import torch
from torch import nn


# --8<-- [start:models]
def dropout_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), nn.Dropout(p=0.5), nn.Linear(8, 2)
    )


def batchnorm_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)
    )


# --8<-- [end:models]


# --8<-- [start:probes]
# no_grad: no gradients are recorded - it does NOT switch dropout off
@torch.no_grad()
def two_calls(model, x):
    """The same input twice: a deterministic model answers the same."""
    return model(x), model(x)


@torch.no_grad()
def in_two_batches(model, x, batch_a, batch_b):
    """The output for the one example x, batched with a, then with b."""
    if x.dim() < 1 or len(x) != 1:
        raise ValueError(
            f"x must hold one example, shape (1, ...), got {tuple(x.shape)}"
        )
    out_a = model(torch.cat([x, batch_a]))
    out_b = model(torch.cat([x, batch_b]))
    return out_a[0], out_b[0]


# --8<-- [end:probes]


# --8<-- [start:predict]
def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Eval mode AND no autograd; then restore every module's mode."""
    # each submodule's own flag: a BN layer the caller froze with .eval()
    # inside a training model must stay frozen afterwards
    modes = [(module, module.training) for module in model.modules()]
    # dropout off, BatchNorm uses its running statistics
    model.eval()
    try:
        with torch.inference_mode():  # no graph: faster, less memory
            return model(x)
    finally:
        for module, training in modes:  # the training loop goes on
            module.training = training


# --8<-- [end:predict]


def inputs(seed: int = 1):
    """One example x and two different batches to put it in."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 4, generator=generator)
    batch_a = torch.randn(7, 4, generator=generator)
    # a batch from elsewhere
    batch_b = torch.randn(7, 4, generator=generator) + 2.0
    return x, batch_a, batch_b


def facts() -> dict:
    x, batch_a, batch_b = inputs()
    drop_first, drop_second = two_calls(dropout_net(), x)
    bn_a, bn_b = in_two_batches(batchnorm_net(), x, batch_a, batch_b)
    return {
        "drop_first": drop_first[0],
        "drop_second": drop_second[0],
        "bn_in_a": bn_a,
        "bn_in_b": bn_b,
        "batch_size": 1 + len(batch_a),
    }


def main() -> None:
    # --8<-- [start:demo-dropout]
    x, batch_a, batch_b = inputs()
    model = dropout_net()  # a new module is in training mode
    print(*two_calls(model, x), sep="\n")  # no_grad, yet random
    #> tensor([[-0.2574, -0.1894]])
    #> tensor([[ 0.0659, -0.2741]])
    model.eval()
    print(*two_calls(model, x), sep="\n")
    #> tensor([[-0.0425, -0.2852]])
    #> tensor([[-0.0425, -0.2852]])
    # --8<-- [end:demo-dropout]

    # --8<-- [start:demo-batchnorm]
    model = batchnorm_net()  # training mode: batch statistics
    print(*in_two_batches(model, x, batch_a, batch_b), sep="\n")
    #> tensor([-0.2798, -0.2510])
    #> tensor([-0.3713,  0.6219])
    model.eval()  # eval mode: running statistics
    print(*in_two_batches(model, x, batch_a, batch_b), sep="\n")
    #> tensor([-0.0086, -0.2928])
    #> tensor([-0.0086, -0.2928])
    # --8<-- [end:demo-batchnorm]

    # --8<-- [start:demo-running]
    model = batchnorm_net()
    bn = model[1]
    print(bn.running_mean[:3])
    #> tensor([0., 0., 0.])
    with torch.no_grad():  # "just validating", in training mode
        model(batch_b)
    # the validation batch has leaked into the statistics:
    print(bn.running_mean[:3])
    #> tensor([-0.1308,  0.0579, -0.0648])
    # --8<-- [end:demo-running]

    # --8<-- [start:demo-predict]
    model = dropout_net()
    print(predict(model, x), predict(model, x), sep="\n")
    #> tensor([[-0.0425, -0.2852]])
    #> tensor([[-0.0425, -0.2852]])
    print("still training afterwards:", model.training)
    #> still training afterwards: True
    model = batchnorm_net()
    model[1].eval()  # BN frozen on purpose, the rest trains
    predict(model, x)
    print("BN still frozen:", not model[1].training, model.training)
    #> BN still frozen: True True
    # --8<-- [end:demo-predict]


if __name__ == "__main__":
    main()
