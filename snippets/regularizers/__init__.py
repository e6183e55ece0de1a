"""Snippets of the regularizers chapter."""
