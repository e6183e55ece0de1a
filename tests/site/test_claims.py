"""The verified-claims rules, each shown to hold: a page claim without a test fails the build,
a test claim without a page fails the test run, and a missing or stale report never shows
"tested" (and fails a CI build)."""

import json
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from docs_hooks import claims

# Untraced (tests/conftest.py): the claims plugin (docs_hooks), not snippets/.
pytestmark = pytest.mark.untraced

ROOT = Path(__file__).resolve().parents[2]
# Built with +, so that the site's own scan of tests/ for declared claims skips these fakes
# (the formatter joins adjacent string literals, not a sum).
MARK = "@pytest." + "mark" + ".claim"


def project(tmp_path, page: str, test: str) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text(page, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    # Written as CLAIM here so that the site's own scan of tests/ does not count these fakes.
    test = textwrap.dedent(test).replace("CLAIM(", "mark" + ".claim(")
    (tmp_path / "tests" / "test_x.py").write_text(test, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n", encoding="utf-8")
    return tmp_path


def configure(root: Path) -> None:
    """What the site's Markdown extension does before the first page that has a claim."""
    claims.configure(root, root / "docs", "https://example.org/r")


def render(root: Path, markdown: str) -> str:
    return claims.render(markdown, root, root / "docs", "https://example.org/r")


WORKERS = pytest.mark.parametrize("workers", [[], ["-p", "xdist", "-n", "2"]], ids=["one-process", "xdist"])


def run_pytest(pytester, monkeypatch, workers: list[str]):
    """pytest on the project in pytester.path, in this process; with -n, xdist's workers run
    the tests in processes of their own and send their reports here."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the workers import docs_hooks
    # Only the plugins named: a worker that loads every installed one starts seconds later.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return pytester.runpytest_inprocess("-p", "docs_hooks.claims", "-q", "-p", "no:cacheprovider", *workers, "tests")


def test_the_site_makes_at_least_thirty_claims_and_every_one_has_a_test():
    made = claims.page_claims(ROOT / "docs")
    declared = claims.declared_claims(ROOT / "tests")
    assert len(made) >= 30
    assert set(made) <= set(declared)
    assert set(declared) <= set(made)


def test_sentence_before_a_marker():
    text = "Intro.\n\nFirst sentence. In eval mode the module is the identity. <!-- claim: a/b -->\nMore."
    assert claims.sentence_before(text, text.index("<!--")) == "In eval mode the module is the identity."


def test_the_report_names_the_torch_version_also_where_torch_is_not_imported(monkeypatch):
    """An xdist controller runs no test, so it has not imported torch: the installed
    distribution's version stands in, and it is the same string."""
    assert claims.torch_version() == torch.__version__
    monkeypatch.delitem(sys.modules, "torch")
    assert claims.torch_version() == torch.__version__


def test_a_page_claim_without_a_test_fails_the_build(tmp_path):
    root = project(tmp_path, "It is so. <!-- claim: x/orphan -->\n", "def test_nothing():\n    pass\n")
    with pytest.raises(claims.ClaimError, match="no test declares: x/orphan"):
        configure(root)


@WORKERS
def test_a_test_claim_without_a_page_fails_the_test_run(pytester, monkeypatch, workers):
    root = project(
        pytester.path,
        "No claims here.\n",
        """
        import pytest

        def test_fine():
            pass

        @pytest.CLAIM("x/unknown")
        def test_it():
            pass
        """,
    )
    result = run_pytest(pytester, monkeypatch, workers)
    output = result.stdout.str()
    assert result.ret != 0, output
    assert "tests declare claims that no page makes:\n  x/unknown: tests/test_x.py::test_it" in output
    assert result.parseoutcomes() == {"errors": 1}, "the file fails to collect: no test runs"
    assert not (root / claims.REPORT).exists()


@WORKERS
def test_the_run_writes_a_report_and_a_fresh_report_shows_tested(pytester, monkeypatch, workers):
    page = "It holds. <!-- claim: x/holds -->\n\nIt breaks. <!-- claim: x/breaks -->\n"
    root = project(
        pytester.path,
        page,
        """
        import pytest

        @pytest.CLAIM("x/holds")
        def test_holds():
            assert 1 + 1 == 2

        @pytest.CLAIM("x/breaks")
        def test_breaks():
            assert 1 + 1 == 3
        """,
    )
    result = run_pytest(pytester, monkeypatch, workers)
    assert result.ret == 1, result.stdout.str()
    assert result.parseoutcomes() == {"passed": 1, "failed": 1}
    assert ("bringing up nodes" in result.stdout.str()) == bool(workers), "xdist ran when asked"
    report = json.loads((root / claims.REPORT).read_text())
    lines = (root / "tests" / "test_x.py").read_text().splitlines()
    assert report["claims"] == {
        "x/holds": [
            {
                "test": "tests/test_x.py::test_holds",
                "path": "tests/test_x.py",
                "outcome": "passed",
                "line": lines.index(MARK + '("x/holds")') + 1,
            }
        ],
        "x/breaks": [
            {
                "test": "tests/test_x.py::test_breaks",
                "path": "tests/test_x.py",
                "outcome": "failed",
                "line": lines.index(MARK + '("x/breaks")') + 1,
            }
        ],
    }
    assert report["fingerprint"] == claims.fingerprint(root)
    assert report["torch"] == torch.__version__

    monkeypatch.delenv("CI", raising=False)
    html = render(root, "It holds. <!-- claim: x/holds --> It breaks. <!-- claim: x/breaks -->")
    assert 'class="claim claim--ok"' in html and "Tested by tests/test_x.py::test_holds with torch" in html
    assert 'href="https://example.org/r/blob/main/tests/test_x.py#L' in html
    assert 'class="claim claim--failed"' in html and "test failing" in html


def test_a_stale_or_missing_report_never_shows_tested(tmp_path, monkeypatch):
    root = project(tmp_path, "It holds. <!-- claim: x/holds -->\n", '@pytest.CLAIM("x/holds")\n')
    monkeypatch.delenv("CI", raising=False)

    html = render(root, "<!-- claim: x/holds -->")  # no report at all
    assert "not verified in this build" in html and "claim--ok" not in html

    (root / "reports").mkdir()
    (root / claims.REPORT).write_text(
        json.dumps(
            {
                "torch": "2",
                "fingerprint": "old",
                "claims": {"x/holds": [{"test": "t", "path": "t.py", "line": 1, "outcome": "passed"}]},
            }
        )
    )
    html = render(root, "<!-- claim: x/holds -->")
    assert "not verified in this build" in html and "stale" in html

    monkeypatch.setenv("CI", "true")
    with pytest.raises(claims.ClaimError, match="CI build without a fresh claims report"):
        configure(root)


def test_a_claim_made_twice_is_refused(tmp_path):
    root = project(tmp_path, "A. <!-- claim: x/a -->\nB. <!-- claim: x/a -->\n", "")
    with pytest.raises(claims.ClaimError, match="made twice"):
        claims.page_claims(root / "docs")


def test_a_wrong_fact_in_a_claim_names_its_own_page_not_the_claims_page(tmp_path, monkeypatch):
    """The Verified claims page fills the markers of every claim sentence; a typo there is the
    fault of the page that makes the claim, and the error says so (with the valid keys)."""
    from docs_hooks.facts import FactError

    root = project(tmp_path, "", '@pytest.CLAIM("x/typo")\n')
    (root / "docs" / "dropout").mkdir()
    marker = "[[dropout.inverted:inverted_expectd:.1f]]"
    (root / "docs" / "dropout" / "typo.md").write_text(f"# T\n\nThe mean stays {marker}. <!-- claim: x/typo -->\n")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(FactError) as caught:
        render(root, f"# Verified claims\n\n{claims.TABLE_MARKER}\n")
    message = str(caught.value)
    assert message.startswith(f"dropout/typo.md: {marker}: ")
    assert "'inverted_expected'" in message


def test_a_claimed_sentence_keeps_working_links_on_the_claims_page():
    """The claims page is at the top of docs/: a relative link copied from a sentence on
    dropout/inverted.md is made relative to it; addresses and absolute links stay."""
    sentence = "See [masks](bernoulli.md), [a part](#why), [BN](../batchnorm/manual.md#x) and [web](https://a.b/c)."
    assert claims.rebase_links(sentence, "dropout/inverted.md") == (
        "See [masks](dropout/bernoulli.md), [a part](dropout/inverted.md#why), "
        "[BN](batchnorm/manual.md#x) and [web](https://a.b/c)."
    )
    assert claims.rebase_links("[home](/x/) and [top](index.md)", "index.md") == "[home](/x/) and [top](index.md)"
