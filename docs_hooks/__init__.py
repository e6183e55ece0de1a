"""MkDocs hooks of this site (listed under `hooks:` in mkdocs.yml)."""
