"""Snippets of the batchnorm chapter."""
