"""MC dropout: dropout left on at test time, T stochastic passes, and
what their spread says about the model's uncertainty."""

import functools

import torch
import torch.nn.functional as F
from torch import nn

MC_DROPOUT_TYPES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)


# --8<-- [start:enable]
def enable_mc_dropout(model: nn.Module) -> nn.Module:
    """Eval mode everywhere (BatchNorm keeps its running statistics),
    then train mode for the dropout modules only. Never model.train():
    BN would normalise with batch statistics and overwrite its running
    ones."""
    model.eval()
    found = False
    for module in model.modules():
        if isinstance(module, MC_DROPOUT_TYPES):
            module.train()
            found = True
    if not found:
        raise ValueError("model has no dropout module: all passes agree")
    return model


# --8<-- [end:enable]


# --8<-- [start:predict]
@torch.no_grad()
def mc_predict(model: nn.Module, x: torch.Tensor, passes: int = 50):
    """T = `passes` forward passes with dropout on. Per example: the mean
    class probabilities, the predictive entropy (of that mean, in nats),
    the mean entropy of single passes, and the variance of the
    probabilities over the passes (averaged over the classes)."""
    if type(passes) is not int or passes < 2:
        raise ValueError(f"passes must be an int >= 2, got {passes!r}")
    enable_mc_dropout(model)
    probs = torch.stack(
        [F.softmax(model(x), dim=-1) for _ in range(passes)]
    )
    mean = probs.mean(dim=0)  # (N, classes)
    return {
        "mean": mean,
        "entropy": entropy(mean),
        "expected_entropy": entropy(probs).mean(dim=0),
        "variance": probs.var(dim=0).mean(dim=-1),
    }


def entropy(p: torch.Tensor) -> torch.Tensor:
    """Entropy in nats over the last dimension; xlogy makes 0 * log 0
    count as 0 in every dtype."""
    return -torch.special.xlogy(p, p).sum(dim=-1)


# --8<-- [end:predict]


def two_blobs(n: int = 200, seed: int = 0):
    """Two overlapping Gaussian classes in 2-D, centred at (-1, 0) and
    (1, 0)."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=generator)
    x[:, 0] += 2.0 * y - 1.0
    return x, y


def mc_classifier() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(2, 64),
        nn.BatchNorm1d(64),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(64, 2),
    )


@functools.cache
def trained_classifier() -> nn.Module:
    """The classifier after 150 full-batch Adam steps on two_blobs."""
    x, y = two_blobs()
    model = mc_classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(150):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


PROBES = [[-3.0, 0.0], [0.0, 0.0], [3.0, 0.0]]  # class 0, border, class 1


def facts() -> dict:
    model = trained_classifier()
    probes = torch.tensor(PROBES)
    torch.manual_seed(0)
    mc = mc_predict(model, probes, passes=200)
    model.eval()
    with torch.no_grad():
        single = F.softmax(model(probes), dim=-1)
    return {
        "passes": 200,
        "mc_border": mc["mean"][1, 1].item(),
        "single_border": single[1, 1].item(),
        "mc_far": mc["mean"][2, 1].item(),
        "single_far": single[2, 1].item(),
        "entropy_border": mc["entropy"][1].item(),
        "entropy_far": mc["entropy"][2].item(),
        "variance_border": mc["variance"][1].item(),
        "variance_far": mc["variance"][2].item(),
    }


def main() -> None:
    # --8<-- [start:demo]
    model = trained_classifier()  # Linear, BatchNorm1d, ReLU, Dropout
    probes = torch.tensor(PROBES)  # deep in class 0, the border, class 1
    bn_mean = model[1].running_mean.clone()
    torch.manual_seed(0)
    mc = mc_predict(model, probes, passes=200)
    print(torch.equal(model[1].running_mean, bn_mean))  # BN untouched
    #> True
    # the border point: most uncertain, by entropy and by variance
    print(mc["entropy"].argmax().item(), mc["variance"].argmax().item())
    #> 1 1
    # entropy of the mean >= mean entropy of the passes (always)
    print(bool((mc["entropy"] >= mc["expected_entropy"]).all()))
    #> True
    model.eval()  # the usual single pass, weights scaled by dropout
    with torch.no_grad():
        single = F.softmax(model(probes), dim=-1)
    print(single.argmax(1).tolist(), mc["mean"].argmax(1).tolist())
    #> [0, 0, 1] [0, 0, 1]
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
