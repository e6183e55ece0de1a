"""Snippets of the cnn chapter."""
