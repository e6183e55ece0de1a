"""Two eval-mode calls on the same input disagree: something changed
between them - the running statistics, the input, or the mode."""

import torch
from torch import nn


def bn_classifier() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)
    )


# --8<-- [start:stats]
@torch.no_grad()
def stats_changed_between_calls(model, x, other_batch):
    """eval, then one train-mode forward pass on other data (a training
    step, a 'quick check' in train mode, even under no_grad), then eval
    again: max |difference| between the two eval outputs."""
    first = model.eval()(x)
    model.train()(other_batch)  # updates running_mean and running_var
    second = model.eval()(x)
    return (first - second).abs().max().item()


# --8<-- [end:stats]


# --8<-- [start:inplace]
class NormaliseInPlace(nn.Module):
    """Subtracts a mean from the caller's tensor, in place."""

    def __init__(self, mean: float):
        super().__init__()
        self.mean = mean

    def forward(self, x):
        return x.sub_(self.mean)  # fix: x - self.mean


# --8<-- [end:inplace]


def main() -> None:
    # --8<-- [start:demo]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(4, 4, generator=generator)
    other = torch.randn(16, 4, generator=generator) + 3.0
    print(stats_changed_between_calls(bn_classifier(), x, other) > 0.01)
    #> True
    model = nn.Sequential(NormaliseInPlace(0.5), nn.Linear(4, 2)).eval()
    with torch.no_grad():
        first, second = model(x), model(x)  # x itself changed in between
    print(torch.equal(first, second))
    #> False
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
