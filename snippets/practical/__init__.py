"""Snippets of the practical chapter."""
