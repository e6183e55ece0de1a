"""The playground widgets: the Python side of what the dropout, batch-norm
and mask widgets compute."""
