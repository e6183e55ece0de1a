"""Keras runs on its PyTorch backend here (tests/troubleshooting/test_keras.py): no TensorFlow,
no JAX. Keras reads the variable once, at its import, so it is set before any test imports it."""

import os

os.environ["KERAS_BACKEND"] = "torch"
