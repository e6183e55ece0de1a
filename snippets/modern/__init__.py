"""Snippets of the modern chapter: what modern CNNs use."""
