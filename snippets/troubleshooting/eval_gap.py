"""Eval accuracy far below train accuracy: the usual BatchNorm causes,
each reproduced on a single BatchNorm layer."""

import torch
from torch import nn


# --8<-- [start:converged]
@torch.no_grad()
def running_mean_after(steps: int, momentum: float = 0.1) -> float:
    """running_mean of a fresh layer after `steps` training batches of
    32 values drawn around 5 (the layer starts from 0)."""
    generator = torch.Generator().manual_seed(0)
    bn = nn.BatchNorm1d(1, momentum=momentum)
    for _ in range(steps):
        bn(torch.randn(32, 1, generator=generator) + 5.0)
    return bn.running_mean.item()


# --8<-- [end:converged]


# --8<-- [start:sorted]
@torch.no_grad()
def class_gap(shuffled: bool, steps: int = 100) -> tuple[float, float]:
    """One feature, -2 for class 0 and +2 for class 1, plus noise. The
    gap between the classes after BN: (in train mode, in eval mode)."""
    generator = torch.Generator().manual_seed(0)
    bn = nn.BatchNorm1d(1)
    outputs, all_labels = [], []
    for step in range(steps):
        if shuffled:  # both classes in every batch
            labels = torch.randint(0, 2, (16,), generator=generator)
        else:  # sorted data: every batch holds one class
            labels = torch.full((16,), step % 2)
        x = 4.0 * labels - 2.0 + torch.randn(16, generator=generator)
        outputs.append(bn(x[:, None])[:, 0])  # this batch's statistics
        all_labels.append(labels)
    y, labels = torch.cat(outputs), torch.cat(all_labels)
    train_gap = (y[labels == 1].mean() - y[labels == 0].mean()).item()
    bn.eval()  # running statistics
    both = torch.tensor([[-2.0], [2.0]])
    eval_gap = (bn(both)[1] - bn(both)[0]).item()
    return train_gap, eval_gap


# --8<-- [end:sorted]


# --8<-- [start:preprocessing]
@torch.no_grad()
def scale_mismatch() -> tuple[float, float]:
    """Trained on pixels in [0, 1], tested on pixels in [0, 255]. The mean
    |output| on the test batch: (in train mode, in eval mode)."""
    generator = torch.Generator().manual_seed(0)
    bn = nn.BatchNorm1d(1)
    for _ in range(100):
        bn(torch.rand(64, 1, generator=generator))  # x / 255 in training
    test = torch.rand(64, 1, generator=generator) * 255  # forgot / 255
    in_eval_mode = bn.eval()(test).abs().mean().item()
    # train mode looks fine, because it normalises with the test batch's
    # own statistics (and overwrites the running ones while at it)
    in_train_mode = bn.train()(test).abs().mean().item()
    return in_train_mode, in_eval_mode


# --8<-- [end:preprocessing]


# --8<-- [start:momentum]
@torch.no_grad()
def running_mean_spread(momentum: float, batch_size: int = 4) -> float:
    """How far running_mean lands from the true mean 0, as a standard
    deviation over 2000 independent layers (one channel each)."""
    generator = torch.Generator().manual_seed(0)
    bn = nn.BatchNorm1d(2000, momentum=momentum)
    for _ in range(100):
        bn(torch.randn(batch_size, 2000, generator=generator))
    return bn.running_mean.std().item()


# --8<-- [end:momentum]


def facts() -> dict:
    return {
        "after_5": running_mean_after(5),
        "after_50": running_mean_after(50),
        "spread_01": running_mean_spread(0.1),
        "spread_099": running_mean_spread(0.99),
    }


def main() -> None:
    # --8<-- [start:demo-converged]
    for steps in (5, 20, 50):
        print(steps, round(running_mean_after(steps), 2))
        #> 5 2.05
        #> 20 4.45
        #> 50 5.01
    # --8<-- [end:demo-converged]

    # --8<-- [start:demo-sorted]
    for shuffled in (True, False):
        train_gap, eval_gap = class_gap(shuffled)
        print(
            f"shuffled={shuffled}:",
            f"{abs(train_gap):.2f}",
            f"{eval_gap:.2f}",
        )
        #> shuffled=True: 1.72 1.83
        #> shuffled=False: 0.00 3.85
    # --8<-- [end:demo-sorted]

    # --8<-- [start:demo-preprocessing]
    in_train_mode, in_eval_mode = scale_mismatch()
    print(f"train mode {in_train_mode:.2f}, eval mode {in_eval_mode:.0f}")
    #> train mode 0.87, eval mode 452
    # --8<-- [end:demo-preprocessing]

    # --8<-- [start:demo-momentum]
    for momentum in (0.1, 0.99):  # 0.99: a Keras habit, see below
        print(momentum, round(running_mean_spread(momentum), 3))
        #> 0.1 0.114
        #> 0.99 0.493
    print("one batch of 4:", round(4**-0.5, 3))
    #> one batch of 4: 0.5
    # --8<-- [end:demo-momentum]


if __name__ == "__main__":
    main()
