"""Overfitting, measured: a network with far more weights than data
points memorises the noise."""

import torch
import torch.nn.functional as F
from torch import nn

# --8<-- [start:data]
# a tiny training set, and a large validation set to judge it by
N_TRAIN, N_VAL = 20, 200
NOISE = 0.3  # std of the label noise: no model can predict it
WIDTH = 64  # hidden units per layer: thousands of weights for 20 points
EPOCHS, LR, SEED = 1000, 0.01, 0


def true_function(x: torch.Tensor) -> torch.Tensor:
    """The smooth signal the network should learn."""
    return torch.sin(3 * x)


def make_data(n: int, noise: float, generator: torch.Generator):
    """n points x in [-1, 1], targets sin(3x) plus Gaussian noise: its
    standard deviation is `noise`."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got n={n}")
    x = torch.rand(n, 1, generator=generator) * 2 - 1
    y = true_function(x) + noise * torch.randn(n, 1, generator=generator)
    return x, y


def make_model(width: int) -> nn.Sequential:
    """A two-hidden-layer MLP: far more capacity than 20 points need."""
    return nn.Sequential(
        nn.Linear(1, width),
        nn.Tanh(),
        nn.Linear(width, width),
        nn.Tanh(),
        nn.Linear(width, 1),
    )


# --8<-- [end:data]


# --8<-- [start:train]
def train(
    seed: int = SEED, epochs: int = EPOCHS, width: int = WIDTH
) -> dict:
    """Full-batch Adam on the training set, both losses logged every epoch.

    Returns tensors `train` and `val` of length epochs + 1: index e is the
    loss after e epochs, index 0 that of the untrained model.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got epochs={epochs}")
    generator = torch.Generator().manual_seed(seed)
    # float64: in float32, a thousand steps let the CPU kernels' rounding
    # reach the 4th digit (AVX2 and portable kernels printed other losses).
    x_train, y_train = (
        t.double() for t in make_data(N_TRAIN, NOISE, generator)
    )
    x_val, y_val = (t.double() for t in make_data(N_VAL, NOISE, generator))
    # seed the weight init without touching the caller's RNG
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = make_model(width).double()
        optimizer = torch.optim.Adam(model.parameters(), lr=LR)

        def evaluate() -> tuple[float, float]:
            with torch.no_grad():
                return (
                    F.mse_loss(model(x_train), y_train).item(),
                    F.mse_loss(model(x_val), y_val).item(),
                )

        history = [evaluate()]
        for _ in range(epochs):
            optimizer.zero_grad()
            F.mse_loss(model(x_train), y_train).backward()
            optimizer.step()
            history.append(evaluate())
    losses = torch.tensor(history)
    return {
        "train": losses[:, 0],
        "val": losses[:, 1],
        "n_params": sum(p.numel() for p in model.parameters()),
        # What a model that knew sin(3x) exactly would score: the noise,
        # and nothing else.
        "oracle_train": F.mse_loss(true_function(x_train), y_train).item(),
        "oracle_val": F.mse_loss(true_function(x_val), y_val).item(),
    }


# --8<-- [end:train]


# --8<-- [start:signature]
def signature(run: dict) -> dict:
    """The numbers that show overfitting: where validation loss bottoms
    out, and what follows."""
    train_loss, val_loss = run["train"], run["val"]
    best = int(val_loss.argmin())  # the epoch early stopping would keep
    return {
        "best_epoch": best,
        "last_epoch": len(val_loss) - 1,
        "train_start": train_loss[0].item(),
        "train_at_best": train_loss[best].item(),
        "train_end": train_loss[-1].item(),
        "val_start": val_loss[0].item(),
        "val_best": val_loss[best].item(),
        "val_end": val_loss[-1].item(),
    }


# --8<-- [end:signature]


# rows printed on the page
TABLE_EPOCHS = (0, 25, 50, 250, 500, 600, 700, 800, 1000)


def facts() -> dict:
    run = train()
    sig = signature(run)
    return {
        "n_train": N_TRAIN,
        "n_val": N_VAL,
        "noise": NOISE,
        "noise_var": NOISE**2,
        "width": WIDTH,
        "epochs": EPOCHS,
        "lr": LR,
        "n_params": run["n_params"],
        "params_per_point": run["n_params"] / N_TRAIN,
        "oracle_train": run["oracle_train"],
        "oracle_val": run["oracle_val"],
        "val_rise": sig["val_end"] / sig["val_best"],
        **sig,
    }


def main() -> None:
    # --8<-- [start:demo]
    run = train()
    sig = signature(run)
    print(f"{run['n_params']:,} parameters, {N_TRAIN} training points")
    #> 4,353 parameters, 20 training points
    print("epoch  train loss  val loss")
    #> epoch  train loss  val loss
    # Few digits: late in training the 3rd digit of the validation loss
    # depends on the kind of CPU (its kernels round differently).
    for epoch in sorted({*TABLE_EPOCHS, sig["best_epoch"]}):
        note = "  <- lowest val loss" if epoch == sig["best_epoch"] else ""
        t_loss, v_loss = run["train"][epoch], run["val"][epoch]
        print(f"{epoch:5d}  {t_loss:10.3f}  {v_loss:8.2f}{note}")
        #>     0       0.500      0.66
        #>    25       0.142      0.21
        #>    50       0.096      0.15
        #>    84       0.060      0.11  <- lowest val loss
        #>   250       0.055      0.12
        #>   500       0.048      0.12
        #>   600       0.032      0.13
        #>   700       0.018      0.17
        #>   800       0.009      0.21
        #>  1000       0.005      0.26
    print(
        f"true sin(3x) scores: train {run['oracle_train']:.4f}, "
        f"val {run['oracle_val']:.4f}"
    )
    #> true sin(3x) scores: train 0.0792, val 0.0990
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
