"""Dropout still active after model.eval(), or doing nothing during
training: the usual mistakes, and a probe that tells them apart."""

import torch
import torch.nn.functional as F
from torch import nn

# --8<-- [start:probe]
DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)


@torch.no_grad()
def dropout_is_active(model: nn.Module, x: torch.Tensor) -> bool:
    """Two calls on the same input: only randomness can tell them apart
    (run it on a model without BatchNorm in train mode, or in eval mode;
    a train-mode BN layer would update its statistics in between)."""
    return not torch.equal(model(x), model(x))


def dropout_modes(model: nn.Module) -> dict[str, bool]:
    """name -> training flag of every dropout module that eval() and
    train() can reach."""
    return {
        name: module.training
        for name, module in model.named_modules()
        if isinstance(module, DROPOUTS)
    }


# --8<-- [end:probe]


# --8<-- [start:still-active]
class PlainList(nn.Module):
    """Layers in a Python list: model.eval() never reaches them."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 8)
        self.drops = [nn.Dropout(0.5)]  # fix: nn.ModuleList([...])

    def forward(self, x):
        return self.drops[0](self.linear(x))


class FunctionalDropout(nn.Module):
    """F.dropout defaults to training=True, whatever the model's mode."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 8)

    def forward(self, x):
        return F.dropout(
            self.linear(x), p=0.5
        )  # fix: training=self.training


# --8<-- [end:still-active]


# --8<-- [start:does-nothing]
class Unassigned(nn.Module):
    """F.dropout returns a new tensor; the result is thrown away."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 8)

    def forward(self, x):
        x = self.linear(x)
        F.dropout(
            x, p=0.5, training=self.training
        )  # fix: x = F.dropout(...)
        return x


def evaluate(model, x):
    model.eval()
    with torch.no_grad():
        return model(x)  # ... and never switches back: add model.train()


# --8<-- [end:does-nothing]


def plain_dropout_net() -> nn.Module:
    return nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5))


def main() -> None:
    # --8<-- [start:demo]
    torch.manual_seed(0)
    x = torch.ones(4, 8)
    for model in (
        plain_dropout_net(),
        PlainList(),
        FunctionalDropout(),
        Unassigned(),
    ):
        model.eval()
        print(type(model).__name__, dropout_is_active(model, x))
        #> Sequential False
        #> PlainList True
        #> FunctionalDropout True
        #> Unassigned False
    print(dropout_modes(PlainList().eval()))  # the list is invisible
    #> {}
    model = plain_dropout_net()  # train mode: dropout on
    print(dropout_is_active(model, x))
    #> True
    evaluate(model, x)  # a validation step in the middle of training
    print(dropout_is_active(model, x), dropout_modes(model))
    #> False {'1': False}
    model.train()  # at the start of every epoch
    print(dropout_is_active(model, x))
    #> True
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
