"""Snippets of the basics chapter."""
