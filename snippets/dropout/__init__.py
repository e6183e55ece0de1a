"""Dropout: Bernoulli masks, inverted dropout, nn.Dropout, and why it works."""
