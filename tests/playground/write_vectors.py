"""Regenerate docs/assets/vectors.json from the Python snippets.

    python -m tests.playground.write_vectors

The file is committed; tests/playground/test_vectors.py fails while it differs from a fresh
generation, and the browser tests hold the widgets' JavaScript to it.
"""

from snippets.playground import vectors

if __name__ == "__main__":
    vectors.JSON_PATH.write_text(vectors.dumps(vectors.build()), encoding="utf-8")
    print(f"wrote {vectors.JSON_PATH}")
