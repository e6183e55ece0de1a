"""Early stopping: stop when the validation loss stops improving, and go back to the best weights."""

import copy
import math

import torch
from torch import nn

from snippets.cnn.dropout2d import FIGURE_STYLE, GREY, save_svg


# --8<-- [start:helper]
class EarlyStopping:
    """Watch the validation loss once per epoch. An epoch counts as an improvement only if it
    beats the best loss so far by more than min_delta; after `patience` epochs in a row
    without one, step() says stop. The best weights are kept as a deep copy."""

    def __init__(self, patience: int, min_delta: float = 0.0):
        if patience < 1:
            raise ValueError(f"patience must be at least 1 epoch, got patience={patience}")
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got min_delta={min_delta}")
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_epoch, self.best_state = math.inf, 0, None
        self.epoch, self.bad_epochs = 0, 0

    def step(self, val_loss: float, model: nn.Module) -> bool:
        """Record one epoch's validation loss; True means: stop training now."""
        self.epoch += 1
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad_epochs = val_loss, self.epoch, 0
            # state_dict() holds references to the live tensors, which the optimizer will
            # keep changing in place: without the deep copy the "best" weights drift along.
            self.best_state = copy.deepcopy(model.state_dict())
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore(self, model: nn.Module) -> None:
        """Load the weights of the best epoch back into the model."""
        if self.best_state is None:
            raise RuntimeError("restore() needs at least one call of step() first")
        model.load_state_dict(self.best_state)
# --8<-- [end:helper]


# A made-up validation curve: it falls, flattens, then rises as the model starts to overfit.
VAL_LOSSES = [0.92, 0.71, 0.60, 0.54, 0.52, 0.515, 0.53, 0.55, 0.56, 0.58, 0.61, 0.65]


def fake_epoch(model: nn.Module, epoch: int) -> None:
    """Stand-in for an epoch of training: change the weights in place, as an optimizer does,
    to a value that says which epoch produced them."""
    with torch.no_grad():
        for param in model.parameters():
            param.fill_(float(epoch))


# --8<-- [start:loop]
def train_with_early_stopping(val_losses, patience: int, min_delta: float = 0.0):
    """Run the epochs until the helper says stop; return (model, stopper)."""
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
    """The made-up validation curve, the best epoch, and the epoch where patience ran out."""
    import matplotlib
    from matplotlib.figure import Figure

    _, stopper = train_with_early_stopping(VAL_LOSSES, patience)
    seen = range(1, stopper.epoch + 1)
    unseen = range(stopper.epoch, len(VAL_LOSSES) + 1)
    with matplotlib.rc_context(FIGURE_STYLE):
        fig = Figure(figsize=(4.8, 4.0), layout="constrained")
        ax = fig.subplots()
        ax.set_gid("panel-curve")
        ax.plot(seen, VAL_LOSSES[: stopper.epoch], color="#3b8bd9", marker="o", markersize=4,
                label="validation loss")
        ax.plot(unseen, VAL_LOSSES[stopper.epoch - 1 :], color=GREY, ls=":", marker="o", markersize=3,
                label="had training gone on (never computed)")
        ax.axvspan(stopper.best_epoch, stopper.epoch, color=GREY, alpha=0.2, lw=0,
                   label=f"patience: {patience} epochs without improvement")
        ax.plot([stopper.best_epoch], [stopper.best_loss], "o", color="#e8891d", markersize=9,
                label=f"best epoch {stopper.best_epoch}: its weights are restored")
        ax.axvline(stopper.epoch, color="#e8891d", ls="--", lw=1.5, label=f"stop after epoch {stopper.epoch}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation loss")
        ax.set_xticks(list(range(1, len(VAL_LOSSES) + 1)))
        ax.spines[["top", "right"]].set_visible(False)
        legend = fig.legend(loc="outside upper center", frameon=False, fontsize=10)
        for text in legend.get_texts():
            text.set_color(GREY)
        save_svg(fig, path)
# --8<-- [end:figure]


def facts() -> dict:
    _, plain = train_with_early_stopping(VAL_LOSSES, patience=3)
    _, strict = train_with_early_stopping(VAL_LOSSES, patience=3, min_delta=0.01)
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
    }


def main() -> None:
    # --8<-- [start:demo]
    model, stopper = train_with_early_stopping(VAL_LOSSES, patience=3)
    print(f"stopped after epoch {stopper.epoch}; "
          f"best epoch {stopper.best_epoch}, loss {stopper.best_loss}")
    #> stopped after epoch 9; best epoch 6, loss 0.515
    print(model.weight)  # the weights written in epoch 6, not those of epoch 9
    #> Parameter containing:
    #> tensor([[6., 6.]], requires_grad=True)

    model, stopper = train_with_early_stopping(VAL_LOSSES, patience=3, min_delta=0.01)
    print(f"min_delta=0.01: stopped after epoch {stopper.epoch}; "
          f"best epoch {stopper.best_epoch}")
    #> min_delta=0.01: stopped after epoch 8; best epoch 5
    # --8<-- [end:demo]

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
