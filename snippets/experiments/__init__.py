"""Real training runs behind the claims of the site:
`python -m snippets.experiments run all`."""

# The experiments, in the order the site presents them; each is a module
# of this package.
EXPERIMENTS = (
    "overfitting",
    "dropout_placement",
    "bn_learning_rate",
    "rnn_dropout",
    "calibration",
    "modern",
    "bn_choices",
)
