"""Every code example shown on the site. Each module is included (in whole or in marked
sections) by a page under docs/, runs on its own with ``python -m snippets.<chapter>.<topic>``,
and is executed and checked by the tests under tests/<chapter>/."""
