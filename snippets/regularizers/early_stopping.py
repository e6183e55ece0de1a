"""Early stopping: stop when the validation loss stops improving, and go
back to the best weights."""

import copy
import math
import numbers

import torch
from torch import nn

from snippets.cnn.dropout2d import FIGURE_STYLE, GREY, save_svg


def check_settings(patience, min_delta) -> None:
    """patience: a whole number of epochs >= 1; min_delta: a finite
    float >= 0."""
    if isinstance(patience, bool) or not isinstance(
        patience, numbers.Integral
    ):
        raise TypeError(
            f"patience must be an int, got patience={patience!r}"
        )
    if patience < 1:
        raise ValueError(
            f"patience must be at least 1 epoch, got patience={patience}"
        )
    if isinstance(min_delta, bool) or not isinstance(
        min_delta, numbers.Real
    ):
        raise TypeError(
            f"min_delta must be a float, got min_delta={min_delta!r}"
        )
    if not (math.isfinite(min_delta) and min_delta >= 0):
        raise ValueError(
            "min_delta must be a finite float >= 0, "
            f"got min_delta={min_delta}"
        )


def as_loss(val_loss) -> float:
    """A Python float from a number or a one-element tensor (NaN is
    allowed)."""
    if isinstance(val_loss, torch.Tensor) and val_loss.numel() == 1:
        return float(val_loss.detach())
    if isinstance(val_loss, bool) or not isinstance(val_loss, numbers.Real):
        raise TypeError(
            f"val_loss must be a number or a one-element tensor, "
            f"got val_loss={val_loss!r}"
        )
    return float(val_loss)


# --8<-- [start:helper]
class EarlyStopping:
    """Watch the validation loss once per epoch. An epoch counts as an
    improvement only if it beats the best loss so far by more than
    min_delta (a tie does not; NaN never does). After `patience` epochs in
    a row without one, step() says stop. The best weights are kept as a
    deep copy."""

    def __init__(self, patience: int, min_delta: float = 0.0):
        check_settings(patience, min_delta)
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_epoch, self.best_state = math.inf, 0, None
        self.epoch, self.bad_epochs = 0, 0

    def step(self, val_loss: float, model: nn.Module) -> bool:
        """Record one epoch's loss; True means: stop training now."""
        val_loss = as_loss(val_loss)  # a float: no tensor, no graph kept
        self.epoch += 1
        if val_loss < self.best_loss - self.min_delta:  # False for NaN
            self.best_loss, self.best_epoch = val_loss, self.epoch
            self.bad_epochs = 0
            # state_dict() holds references to the live tensors, which
            # the optimizer keeps changing in place: without the deep
            # copy the "best" weights would drift along with them.
            self.best_state = copy.deepcopy(model.state_dict())
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore(self, model: nn.Module) -> None:
        """Load the weights of the best epoch back into the model."""
        if self.best_state is None:
            raise RuntimeError(
                "restore() needs a step() that improved first"
            )
        # load_state_dict copies the values in: best_state stays a copy.
        model.load_state_dict(self.best_state)


# --8<-- [end:helper]


# A made-up validation curve: it falls, flattens, then rises as the model
# starts to overfit.
VAL_LOSSES = [
    0.92,
    0.71,
    0.60,
    0.54,
    0.52,
    0.515,
    0.53,
    0.55,
    0.56,
    0.58,
    0.61,
    0.65,
]


def fake_epoch(model: nn.Module, epoch: int) -> None:
    """Stand-in for an epoch of training: change the weights in place, as an
    optimizer does, to a value that says which epoch produced them."""
    with torch.no_grad():
        for param in model.parameters():
            param.fill_(float(epoch))


# --8<-- [start:loop]
def train_with_early_stopping(
    val_losses, patience: int, min_delta: float = 0.0
):
    """Run the epochs until the helper says stop; return (model, stopper)
    with the best epoch's weights restored."""
    model = nn.Linear(2, 1)
    stopper = EarlyStopping(patience, min_delta)
    for epoch, val_loss in enumerate(val_losses, start=1):
        fake_epoch(model, epoch)  # train for one epoch ...
        if stopper.step(val_loss, model):  # ... then validate
            break
    stopper.restore(model)
    return model, stopper


# --8<-- [end:loop]


# --8<-- [start:figure]
def save_figure(path, patience: int = 3) -> None:
    """The made-up validation curve, the best epoch, and the epoch where
    patience ran out."""
    import matplotlib
    from matplotlib.figure import Figure

    _, stopper = train_with_early_stopping(VAL_LOSSES, patience)
    seen = range(1, stopper.epoch + 1)
    unseen = range(stopper.epoch, len(VAL_LOSSES) + 1)
    with matplotlib.rc_context(FIGURE_STYLE):
        fig = Figure(figsize=(4.8, 4.0), layout="constrained")
        ax = fig.subplots()
        ax.set_gid("panel-curve")
        best, stop = stopper.best_epoch, stopper.epoch
        ax.plot(
            seen,
            VAL_LOSSES[:stop],
            color="#3b8bd9",
            marker="o",
            markersize=4,
            label="validation loss",
        )
        ax.plot(
            unseen,
            VAL_LOSSES[stop - 1 :],
            color=GREY,
            ls=":",
            marker="o",
            markersize=3,
            label="had training gone on (never computed)",
        )
        ax.axvspan(
            best,
            stop,
            color=GREY,
            alpha=0.2,
            lw=0,
            label=f"patience: {patience} epochs without improvement",
        )
        ax.plot(
            [best],
            [stopper.best_loss],
            "o",
            color="#e8891d",
            markersize=9,
            label=f"best epoch {best}: its weights are restored",
        )
        ax.axvline(
            stop,
            color="#e8891d",
            ls="--",
            lw=1.5,
            label=f"stop after epoch {stop}",
        )
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation loss")
        ax.set_xticks(list(range(1, len(VAL_LOSSES) + 1)))
        ax.spines[["top", "right"]].set_visible(False)
        legend = fig.legend(
            loc="outside upper center", frameon=False, fontsize=10
        )
        for text in legend.get_texts():
            text.set_color(GREY)
        save_svg(fig, path)


# --8<-- [end:figure]


# --8<-- [start:quadratic]
def kept_fractions(mu, lr: float, steps: int):
    """On a quadratic loss with Hessian eigenvalue mu, the fraction of the
    optimum w* that a direction has reached: after `steps` of gradient
    descent from w = 0, and with an L2 penalty (alpha / 2)||w||^2 where
    alpha = 1 / (lr * steps). Returns (early stopping, L2)."""
    mu = torch.as_tensor(mu, dtype=torch.float64)
    alpha = 1.0 / (lr * steps)
    early = 1 - (1 - lr * mu) ** steps  # a step closes lr * mu of the gap
    l2 = mu / (mu + alpha)  # the minimum of J(w) + (alpha / 2)||w||^2
    return early, l2


# --8<-- [end:quadratic]


LR, STEPS, RATIOS = 0.01, 100, [0.01, 0.1, 1.0, 10.0, 100.0]


def facts() -> dict:
    _, plain = train_with_early_stopping(VAL_LOSSES, patience=3)
    _, strict = train_with_early_stopping(
        VAL_LOSSES, patience=3, min_delta=0.01
    )
    return {
        "losses": VAL_LOSSES,
        "epochs": len(VAL_LOSSES),
        "patience": 3,
        "min_delta": 0.01,
        "best_epoch": plain.best_epoch,
        "best_loss": plain.best_loss,
        "stop_epoch": plain.epoch,
        "first_bad_epoch": plain.best_epoch + 1,
        "strict_best_epoch": strict.best_epoch,
        "strict_best_loss": strict.best_loss,
        "strict_stop_epoch": strict.epoch,
        "saved_epochs": len(VAL_LOSSES) - plain.epoch,
        "lr": LR,
        "steps": STEPS,
        "alpha": 1 / (LR * STEPS),
        "gap_at_alpha": float(abs(early_at(1.0) - l2_at(1.0))),
        "small_ratio": RATIOS[0],
        "small_rel_gap": float(
            abs(early_at(RATIOS[0]) / l2_at(RATIOS[0]) - 1)
        ),
        "overshoot": float(kept_fractions(1.5 / LR, LR, 1)[0]),
    }


def early_at(ratio: float):
    """kept_fractions at mu = ratio * alpha, early-stopping part."""
    return kept_fractions(ratio / (LR * STEPS), LR, STEPS)[0]


def l2_at(ratio: float):
    return kept_fractions(ratio / (LR * STEPS), LR, STEPS)[1]


def main() -> None:
    # --8<-- [start:demo]
    model, stopper = train_with_early_stopping(VAL_LOSSES, patience=3)
    print(
        f"stopped after epoch {stopper.epoch}; "
        f"best epoch {stopper.best_epoch}, loss {stopper.best_loss}"
    )
    #> stopped after epoch 9; best epoch 6, loss 0.515
    # the weights written in epoch 6, not those of epoch 9
    print(model.weight)
    #> Parameter containing:
    #> tensor([[6., 6.]], requires_grad=True)

    model, stopper = train_with_early_stopping(
        VAL_LOSSES, patience=3, min_delta=0.01
    )
    print(
        f"min_delta=0.01: stopped after epoch {stopper.epoch}; "
        f"best epoch {stopper.best_epoch}"
    )
    #> min_delta=0.01: stopped after epoch 8; best epoch 5
    # --8<-- [end:demo]

    # --8<-- [start:demo-quadratic]
    alpha = 1 / (0.01 * 100)  # lr = 0.01, 100 steps
    for ratio in (0.01, 0.1, 1.0, 10.0, 100.0):
        early, l2 = kept_fractions(ratio * alpha, lr=0.01, steps=100)
        print(
            f"mu = {ratio:>6} alpha:",
            f"early stopping {early:.4f}, L2 {l2:.4f}",
        )
        #> mu =   0.01 alpha: early stopping 0.0100, L2 0.0099
        #> mu =    0.1 alpha: early stopping 0.0952, L2 0.0909
        #> mu =    1.0 alpha: early stopping 0.6340, L2 0.5000
        #> mu =   10.0 alpha: early stopping 1.0000, L2 0.9091
        #> mu =  100.0 alpha: early stopping 1.0000, L2 0.9901
    # --8<-- [end:demo-quadratic]

    # --8<-- [start:shallow]
    model = nn.Linear(2, 1)
    fake_epoch(model, 1)
    shallow, deep = model.state_dict(), copy.deepcopy(model.state_dict())
    fake_epoch(model, 2)  # training goes on, in place
    print(shallow["weight"], deep["weight"])
    #> tensor([[2., 2.]]) tensor([[1., 1.]])
    # --8<-- [end:shallow]


if __name__ == "__main__":
    main()
