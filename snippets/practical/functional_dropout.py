"""F.dropout defaults to training=True: it keeps dropping after model.eval()
unless told otherwise."""

import torch
import torch.nn.functional as F
from torch import nn

from snippets.dropout.bernoulli import check_drop_prob


# --8<-- [start:heads]
class BuggyHead(nn.Module):
    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = check_drop_prob(p)

    def forward(self, x):
        return F.dropout(x, self.p)  # default training=True: always drops


class FixedHead(BuggyHead):
    def forward(self, x):
        # self.training is what model.train() / model.eval() set
        return F.dropout(x, self.p, training=self.training)


# --8<-- [end:heads]


def zero_fraction_in_eval(
    head: nn.Module, n: int = 10_000, seed: int = 0
) -> float:
    """Share of inputs zeroed by the head after .eval(): should be 0."""
    torch.manual_seed(seed)
    return (head.eval()(torch.ones(n)) == 0).float().mean().item()


def facts() -> dict:
    return {
        "p": 0.5,
        "buggy_zeros": zero_fraction_in_eval(BuggyHead(0.5)),
        "fixed_zeros": zero_fraction_in_eval(FixedHead(0.5)),
    }


def main() -> None:
    # --8<-- [start:demo]
    torch.manual_seed(0)
    x = torch.ones(6)
    print(BuggyHead(p=0.5).eval()(x))  # eval mode, yet it drops
    #> tensor([0., 0., 2., 0., 0., 0.])
    print(FixedHead(p=0.5).eval()(x))
    #> tensor([1., 1., 1., 1., 1., 1.])
    print(FixedHead(p=0.5).train()(x))  # drops while training
    #> tensor([2., 2., 0., 2., 2., 2.])
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
