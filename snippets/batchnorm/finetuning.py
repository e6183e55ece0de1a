"""BatchNorm when fine-tuning: what requires_grad=False, eval(),
momentum=0, momentum=None and track_running_stats=False each freeze,
and how to re-estimate the running statistics."""

import torch
from torch import nn

BN_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def pretrained_features(seed: int = 0) -> nn.Module:
    """Stands in for a pretrained backbone: its BN layer has running
    statistics from "pretraining" data around 0 with spread 1."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2)
    )
    with torch.no_grad():
        for _ in range(50):
            model(torch.randn(64, 4))
    return model


def new_domain_batch(seed: int = 1) -> torch.Tensor:
    """A fine-tuning batch from a shifted domain: 4 examples."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(4, 4, generator=generator) * 3.0 + 2.0


# --8<-- [start:requires-grad]
def freeze_bn_affine(model: nn.Module) -> None:
    """requires_grad=False on gamma and beta: the optimizer leaves them
    alone, and that is ALL it does."""
    for module in model.modules():
        if isinstance(module, BN_TYPES):
            module.weight.requires_grad_(False)  # gamma
            module.bias.requires_grad_(False)  # beta


# --8<-- [end:requires-grad]


# --8<-- [start:step]
def fine_tune_step(model: nn.Module, x: torch.Tensor, lr: float = 0.1):
    """One SGD step on a made-up loss, with the model in train mode."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=lr)
    loss = model(x).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


# --8<-- [end:step]


# --8<-- [start:freeze]
def freeze_bn(model: nn.Module) -> nn.Module:
    """Freeze every BN layer completely: gamma and beta get no updates,
    and eval mode makes the layer normalise with its running statistics
    and stop updating them. model.train() undoes the eval() part."""
    freeze_bn_affine(model)
    for module in model.modules():
        if isinstance(module, BN_TYPES):
            module.eval()
    return model


class FrozenBN(nn.Sequential):
    """A Sequential whose BN layers stay frozen through model.train()."""

    def train(self, mode: bool = True):
        super().train(mode)  # dropout and everything else follow `mode`
        for module in self.modules():
            if isinstance(module, BN_TYPES):
                module.eval()  # ... except the BN layers
        return self


# --8<-- [end:freeze]


# --8<-- [start:reestimate]
@torch.no_grad()  # only the statistics change: no graph needed
def reestimate_bn(model: nn.Module, loader) -> None:
    """Recompute every BN layer's running statistics from scratch as a
    plain average over the batches of `loader` (what swa_utils.update_bn
    does, without autograd). Each layer's mode is restored afterwards."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model)}")
    layers = [m for m in model.modules() if isinstance(m, BN_TYPES)]
    modes = [(m, m.training) for m in model.modules()]
    momenta = [layer.momentum for layer in layers]
    batches = 0
    try:
        for layer in layers:
            layer.reset_running_stats()  # mean 0, var 1, count 0
            layer.momentum = None  # cumulative average of the batches
            layer.train()  # train mode: use and record batch statistics
        for batch in loader:
            model(batch[0] if isinstance(batch, (list, tuple)) else batch)
            batches += 1
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
        for module, training in modes:
            module.training = training
    if batches == 0 and layers:
        raise ValueError("loader gave no batches: nothing to estimate from")


# --8<-- [end:reestimate]


def main() -> None:
    # --8<-- [start:demo-requires-grad]
    model = pretrained_features()
    bn = model[1]
    before = bn.running_mean.clone(), bn.weight.clone()
    freeze_bn_affine(model)
    fine_tune_step(model, new_domain_batch())
    print("gamma changed:", not torch.equal(bn.weight, before[1]))
    #> gamma changed: False
    print(
        "running_mean changed:", not torch.equal(bn.running_mean, before[0])
    )
    #> running_mean changed: True
    # --8<-- [end:demo-requires-grad]

    # --8<-- [start:demo-freeze]
    model = freeze_bn(pretrained_features())
    model.train()  # the start of the next epoch ...
    print(model[1].training)  # ... and the BN layer is unfrozen again
    #> True
    model = FrozenBN(*pretrained_features())
    before = model[1].running_mean.clone()
    fine_tune_step(model, new_domain_batch())  # calls model.train()
    print(model[1].training, torch.equal(model[1].running_mean, before))
    #> False True
    # --8<-- [end:demo-freeze]

    # --8<-- [start:demo-options]
    x = torch.tensor([[1.0], [2.0], [3.0], [10.0]])
    for options in (
        {"momentum": 0.0},
        {"momentum": None},
        {"track_running_stats": False},
    ):
        bn = nn.BatchNorm1d(1, **options)
        bn(x)  # one training batch
        stats = None if bn.running_mean is None else bn.running_mean.item()
        print(
            options,
            stats,
            bn.eval()(x)[0].item() == bn.train()(x)[0].item(),
        )
        #> {'momentum': 0.0} 0.0 False
        #> {'momentum': None} 4.0 False
        #> {'track_running_stats': False} None True
    # --8<-- [end:demo-options]

    # --8<-- [start:demo-reestimate]
    model = freeze_bn(pretrained_features())  # stats of the old domain
    loader = [new_domain_batch(seed) for seed in range(10)]  # new domain
    reestimate_bn(model, loader)
    print(model[1].num_batches_tracked.item(), model[1].training)
    #> 10 False
    # --8<-- [end:demo-reestimate]


if __name__ == "__main__":
    main()
