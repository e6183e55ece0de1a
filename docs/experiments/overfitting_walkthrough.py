# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Notebook: experiment 1, step by step
#
# This notebook walks through [the overfitting signature](../overfitting/) from the data to
# the curves, with the code the experiment itself runs: the `snippets.experiments` package
# of this site. It trains one of the experiment's seeds and checks that it gets exactly the
# numbers of the committed results file: to the last bit on the kind of CPU that made
# that file, within a measured tolerance on any other. The outputs below are real: the command
# `python -m snippets.experiments run notebook` executes this notebook and saves it.
#
# [Download the notebook](overfitting_walkthrough.ipynb) and run it from a clone of the
# project, in the environment the README sets up.

# %%
from IPython.display import SVG

from snippets.experiments import overfitting
from snippets.experiments.data import digit_splits
from snippets.experiments.models import digit_cnn, n_parameters
from snippets.experiments.results import (
    load_results,
    rounded,
    run_gaps,
    same_platform,
    within_tolerance,
)
from snippets.experiments.training import deterministic, fit

# %% [markdown]
# ## The data: a small training set
#
# scikit-learn ships its handwritten digits, 8×8 pixels each, so nothing is downloaded. A
# fixed seed splits them into test, validation and a training pool; the experiment keeps the
# first few images of each class from that pool. The configuration says how many:

# %%
cfg = overfitting.config()
data = digit_splits(n_train=cfg["n_train"])
print(cfg)
print("training:  ", tuple(data.train.x.shape))
print("per class: ", data.train.y.bincount().tolist())
print("validation:", tuple(data.val.x.shape))

# %% [markdown]
# ## The model: more weights than training pixels
#
# The CNN has two convolution blocks and a dense head, with no dropout, no batch
# normalization and no weight decay. It has about twice as many weights as the whole
# training set has pixels.

# %%
model = digit_cnn()
print(f"{n_parameters(model):,} weights")
print(f"{data.train.x.numel():,} training pixels")

# %% [markdown]
# ## Training: one seed, every epoch measured
#
# Adam runs over small mini-batches. After every epoch the model is put in eval mode and its
# mean cross-entropy is measured on the whole training set and on the validation set. For one
# image with true class $y$ and predicted class probabilities $\hat{p}$, the loss is
#
# $$\ell = -\log \hat{p}_y$$
#
# A uniform guess over the ten classes scores $\log(10) \approx 2.3$; the loss approaches 0 as
# the probability of the right class approaches 1. `deterministic()` fixes the thread count
# and asks PyTorch for deterministic kernels: on one machine, the same seed gives the same
# numbers to the last bit. Another kind of CPU (AVX-512 rather than AVX2, say) runs other
# kernels that round differently, and the last digits drift apart as training goes on.

# %%
with deterministic():
    history = fit(
        digit_cnn,
        data,
        epochs=cfg["epochs"],
        lr=cfg["lr"],
        batch_size=cfg["batch_size"],
        optimizer=cfg["optimizer"],
        seed=0,
    )
for epoch in (1, 10, 25, 50, 100):
    train_loss = history["train_loss"][epoch - 1]
    val_loss = history["val_loss"][epoch - 1]
    print(
        f"epoch {epoch:3}: training loss {train_loss:.4f}, "
        f"validation loss {val_loss:.4f}"
    )

# %% [markdown]
# ## The signature
#
# The training loss keeps falling until the last epoch. The validation loss falls, bottoms
# out, and then climbs again. The dashed line marks the epoch with the lowest validation
# loss: the one early stopping would keep.

# %%
val_loss = history["val_loss"]
best = val_loss.index(min(val_loss)) + 1  # epochs count from 1
alt = f"Seed 0: validation loss is lowest at epoch {best}, then rises."
SVG(overfitting.draw([history], best, alt=alt))

# %%
last = len(val_loss)
for epoch in (best, last):
    accuracy = 100 * history["val_acc"][epoch - 1]
    print(
        f"epoch {epoch:3}: validation loss {val_loss[epoch - 1]:.4f}, "
        f"accuracy {accuracy:.1f} %"
    )

# %% [markdown]
# The accuracy hardly moves while the loss rises: past the best epoch the network does not
# get many more validation images wrong, it gets more *confident* about the ones it gets
# wrong. Cross-entropy punishes confident mistakes hard, so the validation loss is the
# earlier and more sensitive alarm.

# %% [markdown]
# ## The same numbers as the results file
#
# The results file committed with the site holds this seed's history, rounded to six
# significant digits, and the platform it was made on. On that platform training again gives
# the same values, bit for bit; on another the largest gap must stay within the tolerance
# measured across CPU kinds:

# %%
doc = load_results("overfitting")
committed = {"runs": doc["runs"]["histories"][:1]}
gaps = run_gaps(committed, {"runs": [rounded(history)]})
if same_platform(doc):
    reproduced = rounded(history) == committed["runs"][0]
else:
    reproduced = within_tolerance(gaps)
print("reproduced:", reproduced)
print(
    f"largest gap: {gaps['acc_points']:.2f} accuracy points, "
    f"{gaps['loss_nats']:.4f} nats of a loss"
)
