"""The browser suite cannot silently stop running: without Chromium it skips on a developer's
machine, and fails in CI (CI=true)."""

import pytest

from tests.browser.conftest import page_paths, require_browser


def test_a_missing_browser_fails_in_ci_and_skips_elsewhere():
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI: chromium is missing"):
        require_browser("chromium is missing", ci=True)
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        require_browser("chromium is missing", ci=False)
    require_browser(None, ci=True)  # present: nothing happens


def test_every_page_is_visited():
    paths = page_paths()
    assert "" in paths and "dropout/inverted/" in paths and "playground/masks/" in paths
    assert len(paths) == len(set(paths)) >= 30
