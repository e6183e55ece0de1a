"""The verified-claims rules, each shown to hold: a page claim without a test fails the build,
a test claim without a page fails the test run, and a missing or stale report never shows
"tested" (and fails a CI build)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from docs_hooks import claims

ROOT = Path(__file__).resolve().parents[2]


def project(tmp_path, page: str, test: str) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text(page, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    # Written as CLAIM here so that the site's own scan of tests/ does not count these fakes.
    test = textwrap.dedent(test).replace("CLAIM(", "mark" + ".claim(")
    (tmp_path / "tests" / "test_x.py").write_text(test, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n", encoding="utf-8")
    return tmp_path


def fake_config(root: Path):
    return SimpleNamespace(config_file_path=str(root / "mkdocs.yml"), docs_dir=str(root / "docs"), repo_url="https://example.org/r")


def run_pytest(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "docs_hooks.claims", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_the_site_makes_at_least_thirty_claims_and_every_one_has_a_test():
    made = claims.page_claims(ROOT / "docs")
    declared = claims.declared_claims(ROOT / "tests")
    assert len(made) >= 30
    assert set(made) <= set(declared)
    assert set(declared) <= set(made)


def test_sentence_before_a_marker():
    text = "Intro.\n\nFirst sentence. In eval mode the module is the identity. <!-- claim: a/b -->\nMore."
    assert claims.sentence_before(text, text.index("<!--")) == "In eval mode the module is the identity."


def test_a_page_claim_without_a_test_fails_the_build(tmp_path):
    root = project(tmp_path, "It is so. <!-- claim: x/orphan -->\n", "def test_nothing():\n    pass\n")
    with pytest.raises(claims.ClaimError, match="no test declares: x/orphan"):
        claims.on_config(fake_config(root))


def test_a_test_claim_without_a_page_fails_the_test_run(tmp_path):
    root = project(tmp_path, "No claims here.\n", """
        import pytest

        @pytest.CLAIM("x/unknown")
        def test_it():
            pass
        """)
    result = run_pytest(root)
    assert result.returncode == 4, result.stdout + result.stderr  # pytest's usage error
    assert "tests declare claims that no page makes" in result.stderr and "x/unknown" in result.stderr


def test_the_run_writes_a_report_and_a_fresh_report_shows_tested(tmp_path, monkeypatch):
    root = project(tmp_path, "It holds. <!-- claim: x/holds -->\n\nIt breaks. <!-- claim: x/breaks -->\n", """
        import pytest

        @pytest.CLAIM("x/holds")
        def test_holds():
            assert 1 + 1 == 2

        @pytest.CLAIM("x/breaks")
        def test_breaks():
            assert 1 + 1 == 3
        """)
    result = run_pytest(root)
    assert result.returncode == 1, result.stdout
    report = json.loads((root / claims.REPORT).read_text())
    assert report["claims"]["x/holds"][0]["outcome"] == "passed"
    assert report["claims"]["x/breaks"][0]["outcome"] == "failed"
    assert report["claims"]["x/holds"][0]["test"] == "tests/test_x.py::test_holds"

    monkeypatch.delenv("CI", raising=False)
    claims.on_config(fake_config(root))
    html = claims.on_page_markdown("It holds. <!-- claim: x/holds --> It breaks. <!-- claim: x/breaks -->", page=None)
    assert 'class="claim claim--ok"' in html and "Tested by tests/test_x.py::test_holds with torch" in html
    assert 'href="https://example.org/r/blob/main/tests/test_x.py#L' in html
    assert 'class="claim claim--failed"' in html and "test failing" in html


def test_a_stale_or_missing_report_never_shows_tested(tmp_path, monkeypatch):
    root = project(tmp_path, "It holds. <!-- claim: x/holds -->\n", '@pytest.CLAIM("x/holds")\n')
    monkeypatch.delenv("CI", raising=False)

    claims.on_config(fake_config(root))  # no report at all
    html = claims.on_page_markdown("<!-- claim: x/holds -->", page=None)
    assert "not verified in this build" in html and "claim--ok" not in html

    (root / "reports").mkdir()
    (root / claims.REPORT).write_text(json.dumps({"torch": "2", "fingerprint": "old", "claims": {
        "x/holds": [{"test": "t", "path": "t.py", "line": 1, "outcome": "passed"}]}}))
    claims.on_config(fake_config(root))
    html = claims.on_page_markdown("<!-- claim: x/holds -->", page=None)
    assert "not verified in this build" in html and "stale" in html

    monkeypatch.setenv("CI", "true")
    with pytest.raises(claims.ClaimError, match="CI build without a fresh claims report"):
        claims.on_config(fake_config(root))


def test_a_claim_made_twice_is_refused(tmp_path):
    root = project(tmp_path, "A. <!-- claim: x/a -->\nB. <!-- claim: x/a -->\n", "")
    with pytest.raises(claims.ClaimError, match="made twice"):
        claims.page_claims(root / "docs")


def test_a_wrong_fact_in_a_claim_names_its_own_page_not_the_claims_page(tmp_path, monkeypatch):
    """The Verified claims page fills the markers of every claim sentence; a typo there is the
    fault of the page that makes the claim, and the error says so (with the valid keys)."""
    from docs_hooks.facts import FactError

    from .conftest import fake_page

    (tmp_path / "dropout").mkdir()
    marker = "[[dropout.inverted:inverted_expectd:.1f]]"
    (tmp_path / "dropout" / "typo.md").write_text(f"# T\n\nThe mean stays {marker}. <!-- claim: x/typo -->\n")
    monkeypatch.setattr(claims.State, "made", claims.page_claims(tmp_path))
    with pytest.raises(FactError) as caught:
        claims.on_page_markdown(f"# Verified claims\n\n{claims.TABLE_MARKER}\n", page=fake_page("claims.md"))
    message = str(caught.value)
    assert message.startswith(f"dropout/typo.md: {marker}: ")
    assert "'inverted_expected'" in message
