"""Snippets of the rnn chapter."""
