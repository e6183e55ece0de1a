"""Dropout: Bernoulli masks, inverted dropout, nn.Dropout, why it works."""
