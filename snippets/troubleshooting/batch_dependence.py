"""The output for one example changes with the other examples in its
batch: reproduce it, and find the layer that does it."""

import torch
from torch import nn


# --8<-- [start:models]
def small_bn_net(*, track_running_stats: bool = True, softmax_dim: int = 1):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 8),
        nn.BatchNorm1d(8, track_running_stats=track_running_stats),
        nn.ReLU(),
        nn.Linear(8, 3),
        nn.Softmax(dim=softmax_dim),  # dim=0 is over the BATCH
    )


# --8<-- [end:models]


# --8<-- [start:finder]
@torch.no_grad()
def first_batch_dependent_layer(net, x, batch_a, batch_b, tol=1e-5):
    """Run the one example x once with batch_a and once with batch_b.
    The first layer whose output for x differs (every later layer then
    differs too), or None."""
    outputs = {}  # layer name -> [output for x in run a, in run b]

    def keep(name):
        return lambda layer, inputs, out: outputs.setdefault(
            name, []
        ).append(out[:1])

    leaves = [
        (n, m) for n, m in net.named_modules() if not list(m.children())
    ]
    hooks = [m.register_forward_hook(keep(n)) for n, m in leaves]
    try:
        net(torch.cat([x, batch_a]))
        net(torch.cat([x, batch_b]))
    finally:
        for hook in hooks:
            hook.remove()
    for name, layer in leaves:  # in Sequential: the order they run
        if (outputs[name][0] - outputs[name][1]).abs().max() > tol:
            return f"{name} {type(layer).__name__}"
    return None


# --8<-- [end:finder]


def one_and_two_batches(seed: int = 0):
    """One example and two batches of 7 to put it in, the second shifted."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 4, generator=generator)
    batch_a = torch.randn(7, 4, generator=generator)
    batch_b = torch.randn(7, 4, generator=generator) + 2.0
    return x, batch_a, batch_b


def main() -> None:
    # --8<-- [start:demo]
    x, batch_a, batch_b = one_and_two_batches()
    net = small_bn_net()  # a new model is in train mode
    print(first_batch_dependent_layer(net, x, batch_a, batch_b))
    #> 1 BatchNorm1d
    print(first_batch_dependent_layer(net.eval(), x, batch_a, batch_b))
    #> None
    net = small_bn_net(
        track_running_stats=False
    ).eval()  # eval: no difference
    print(first_batch_dependent_layer(net, x, batch_a, batch_b))
    #> 1 BatchNorm1d
    net = small_bn_net(softmax_dim=0).eval()
    print(first_batch_dependent_layer(net, x, batch_a, batch_b))
    #> 4 Softmax
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
