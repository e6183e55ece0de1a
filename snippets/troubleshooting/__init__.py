"""Snippets of the troubleshooting chapter."""
