"""Every code example shown on the site. Each module is included, whole
or in marked sections, by a page under docs/; it runs on its own with
``python -m snippets.<chapter>.<topic>``, and the tests under
tests/<chapter>/ execute and check it."""
