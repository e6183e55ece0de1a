"""The batch-norm calculator's arithmetic: the chapter's batch norm, for one
channel typed as a list."""

import math

import torch

from snippets.batchnorm.manual import batch_norm
from snippets.batchnorm.pytorch import eval_batch_norm, update_running_stats


# --8<-- [start:calculator]
def column(values) -> torch.Tensor:
    """A typed list is N examples of C = 1 channel: shape (N, 1), in double
    precision like the calculator's JavaScript numbers."""
    return torch.tensor(values, dtype=torch.float64).reshape(-1, 1)


def param(value: float) -> torch.Tensor:
    # one value per channel
    return torch.tensor([float(value)], dtype=torch.float64)


def calculator_steps(values, gamma: float, beta: float, eps: float) -> dict:
    """Training mode: mu, sigma^2, x_hat and y for the batch, as the
    calculator shows them."""
    steps = batch_norm(column(values), param(gamma), param(beta), eps)
    return {
        "mean": steps.mean[0],
        "var": steps.var[0],
        "x_hat": steps.x_hat[:, 0],
        "y": steps.y[:, 0],
    }


def training_run(batches, momentum: float):
    """Running mean and variance after each training step, from a fresh
    layer (0 and 1)."""
    running_mean, running_var = param(0.0), param(1.0)
    history = []
    for values in batches:
        running_mean, running_var = update_running_stats(
            running_mean, running_var, column(values), momentum
        )
        history.append((running_mean[0], running_var[0]))
    return history


def calculator_eval(
    values, running_mean, running_var, gamma: float, beta: float, eps: float
):
    """Evaluation mode: the running statistics replace the batch's own."""
    out = eval_batch_norm(
        column(values),
        param(running_mean),
        param(running_var),
        param(gamma),
        param(beta),
        eps,
    )
    return out[:, 0]


# --8<-- [end:calculator]


# The worked example of the chapter, and the calculator's starting values.
X = [2.0, 4.0, 6.0, 8.0]
GAMMA, BETA, EPS, MOMENTUM = 2.0, 1.0, 1e-5, 0.1
# The longest batch the calculator takes: a table row per value, and 10,000
# values once took it seconds per keystroke.
MAX_BATCH = 64


def facts() -> dict:
    steps = calculator_steps(X, GAMMA, BETA, EPS)
    ((mean1, var1),) = training_run([X], MOMENTUM)
    return {
        "x": X,
        "x_text": ", ".join(f"{v:g}" for v in X),
        "n": len(X),
        "gamma": GAMMA,
        "beta": BETA,
        "eps": EPS,
        "eps_exponent": round(math.log10(EPS)),
        "momentum": MOMENTUM,
        "max_batch": MAX_BATCH,
        "mean": steps["mean"],
        "var": steps["var"],
        "centred": column(X)[:, 0] - steps["mean"],
        "x_hat": steps["x_hat"],
        "y": steps["y"],
        "unbiased_var": column(X).var(correction=1),
        "running_mean": mean1,
        "running_var": var1,
        "eval_y": calculator_eval(X, mean1, var1, GAMMA, BETA, EPS),
    }


def main() -> None:
    # --8<-- [start:demo]
    steps = calculator_steps([2, 4, 6, 8], gamma=2.0, beta=1.0, eps=1e-5)
    for name, value in steps.items():
        print(f"{name:>5} = {value.numpy().round(4)}")
        #>  mean = 5.0
        #>   var = 5.0
        #> x_hat = [-1.3416 -0.4472  0.4472  1.3416]
        #>     y = [-1.6833  0.1056  1.8944  3.6833]

    # One training step from a fresh layer, with momentum 0.1, then
    # evaluation mode:
    ((mean, var),) = training_run([[2, 4, 6, 8]], momentum=0.1)
    print(f"running mean {mean.item():.4f}, running var {var.item():.4f}")
    #> running mean 0.5000, running var 1.5667
    print(
        calculator_eval(
            [2, 4, 6, 8], mean, var, gamma=2.0, beta=1.0, eps=1e-5
        )
        .numpy()
        .round(4)
    )
    #> [ 3.3968  6.5925  9.7883 12.984 ]
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
