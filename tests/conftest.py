"""Shared test settings."""

import torch

# pytester runs a pytest inside the test run (tests/site/test_claims.py: the claims plugin).
pytest_plugins = ["pytester"]

# One thread: tiny tensors gain nothing from two, and under load the second thread spin-waits
# (a 0.5 s training run took 20 s). Results are bit-identical; the build hook sets the same.
torch.set_num_threads(1)
