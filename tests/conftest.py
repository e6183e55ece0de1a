"""Shared test settings."""

import torch

# One thread: tiny tensors gain nothing from two, and under load the second thread spin-waits
# (a 0.5 s training run took 20 s). Results are bit-identical; the build hook sets the same.
torch.set_num_threads(1)
