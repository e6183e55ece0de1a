"""`mkdocs serve` tells the truth: after a snippet (or what its facts() read) changes, the next
build shows the new numbers; while nothing changed, facts() is not run again."""

import json
import logging
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

from docs_hooks import extension, facts

# Untraced (tests/conftest.py): the facts store (docs_hooks), not snippets/.
pytestmark = pytest.mark.untraced

ROOT = Path(__file__).resolve().parents[2]

TOPIC = """
    from {counter} import CALLS

    H, P = 10.0, 0.5


    def facts() -> dict:
        CALLS.append(__name__)
        return {{"h": H, "expected": (1 - P) * H / (1 - P)}}
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The build's cache, as a fresh build process has it, with a store of the test's own
    (the site's is reports/facts/)."""
    fresh = facts.FactsCache(store=tmp_path / "store")
    monkeypatch.setattr(facts, "BUILD_CACHE", fresh)
    return fresh


def page_says(cache, text):
    """What the site's Markdown extension hands on to the rest of Markdown."""
    return extension.render_text(text, ROOT / "docs", cache=cache)


def test_an_edited_snippet_shows_its_new_number(cache, tmp_chapter):
    path = tmp_chapter.write("inverted.py", TOPIC.format(counter=tmp_chapter.counter))
    text = f"h is {tmp_chapter.marker('inverted', 'h:.1f')}."
    assert page_says(cache, text) == "h is 10.0."
    # The edit of the issue: same length, likely the same second (a stale .pyc would win).
    path.write_text(path.read_text(encoding="utf-8").replace("H, P = 10.0", "H, P = 12.0"), encoding="utf-8")
    assert page_says(cache, text) == "h is 12.0."


def test_unchanged_sources_do_not_run_facts_again(cache, tmp_chapter):
    tmp_chapter.write("inverted.py", TOPIC.format(counter=tmp_chapter.counter))
    text = " ".join(tmp_chapter.marker("inverted", key) for key in ("h", "expected", "h:.2f"))
    for _ in range(3):  # three builds of a page with three markers
        assert page_says(cache, text) == "10.0 10.0 10.00"
    assert len(tmp_chapter.calls()) == 1


def test_an_edited_import_shows_its_new_number(cache, tmp_chapter):
    base = tmp_chapter.write("base.py", "H = 10.0\n")
    tmp_chapter.write(
        "topic.py",
        f"""
        from snippets.{tmp_chapter.name} import base
        from snippets.{tmp_chapter.name}.base import H


        def facts():
            return {{"h": H, "via_module": base.H}}
    """,
    )
    text = f"{tmp_chapter.marker('topic', 'h')} {tmp_chapter.marker('topic', 'via_module')}"
    assert page_says(cache, text) == "10.0 10.0"
    base.write_text("H = 12.0\n", encoding="utf-8")
    assert page_says(cache, text) == "12.0 12.0"


def test_an_edited_results_file_shows_its_new_number(cache, tmp_chapter):
    """The experiments' facts() read committed results files: those count as sources too."""
    results = tmp_chapter.root / "results" / "run.json"
    results.parent.mkdir()
    results.write_text(json.dumps({"acc": 90.6}), encoding="utf-8")
    tmp_chapter.write(
        "experiment.py",
        f"""
        import json
        from pathlib import Path

        from {tmp_chapter.counter} import CALLS

        RESULTS = Path(__file__).resolve().parents[2] / "results" / "run.json"


        def facts():
            CALLS.append(1)
            return json.loads(RESULTS.read_text(encoding="utf-8"))
    """,
    )
    text = tmp_chapter.marker("experiment", "acc:.1f")
    assert page_says(cache, text) == "90.6"
    assert page_says(cache, text) == "90.6"
    assert len(tmp_chapter.calls()) == 1
    results.write_text(json.dumps({"acc": 91.2}), encoding="utf-8")
    assert page_says(cache, text) == "91.2"
    assert len(tmp_chapter.calls()) == 2


def test_a_broken_edit_fails_and_the_fix_recovers(cache, tmp_chapter):
    """What `mkdocs serve` meets: a save with a typo fails the build; the next save works."""
    path = tmp_chapter.write("inverted.py", TOPIC.format(counter=tmp_chapter.counter))
    text = tmp_chapter.marker("inverted", "h")
    assert page_says(cache, text) == "10.0"
    path.write_text(path.read_text(encoding="utf-8").replace("H, P = 10.0", "H, P = (10.0"), encoding="utf-8")
    with pytest.raises(facts.FactError, match=r"inverted:h\]\]: .*SyntaxError"):
        page_says(cache, text)
    path.write_text(path.read_text(encoding="utf-8").replace("(10.0", "11.0"), encoding="utf-8")
    assert page_says(cache, text) == "11.0"


def test_the_experiments_facts_depend_on_their_results_and_shared_code():
    sources = {p.relative_to(ROOT).as_posix() for p in facts.CACHE.sources("experiments.overfitting")}
    assert {
        "snippets/experiments/overfitting.py",
        "snippets/experiments/training.py",
        "snippets/experiments/results.py",
        "snippets/experiments/data.py",
        "docs/experiments/results/overfitting.json",
        "docs/experiments/results/overfitting.timing.json",
    } <= sources
    assert not any("__pycache__" in s or s.startswith(".venv") for s in sources)


def test_the_claims_page_and_the_pages_share_one_cache(cache, tmp_chapter, monkeypatch):
    from docs_hooks import claims

    tmp_chapter.write("inverted.py", TOPIC.format(counter=tmp_chapter.counter))
    marker = tmp_chapter.marker("inverted", "h")
    assert page_says(cache, f"h is {marker}.") == "h is 10.0."
    monkeypatch.setattr(claims.State, "made", {"x/h": ("chapter/page.md", "h is [[h]].")})
    monkeypatch.setattr(claims.State, "defaults", {"chapter/page.md": f"{tmp_chapter.name}.inverted"})
    monkeypatch.setattr(claims.State, "report", None)
    assert "h is 10.0." in claims.claims_table()  # the short marker, under its page's default
    assert len(tmp_chapter.calls()) == 1


def test_a_new_process_reads_the_store_until_a_source_or_the_platform_changes(cache, tmp_chapter, monkeypatch):
    path = tmp_chapter.write("inverted.py", TOPIC.format(counter=tmp_chapter.counter))
    marker = tmp_chapter.marker("inverted", "h")
    assert page_says(cache, marker) == "10.0"
    assert len(tmp_chapter.calls()) == 1
    later = facts.FactsCache(store=cache.store)  # the next `mkdocs build`, say
    assert page_says(later, marker) == "10.0"
    assert len(tmp_chapter.calls()) == 1 and later.calls == {}  # read, not computed
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")  # other kernels: other last bits
    assert page_says(facts.FactsCache(store=cache.store), marker) == "10.0"
    assert len(tmp_chapter.calls()) == 2
    path.write_text(path.read_text(encoding="utf-8").replace("H, P = 10.0", "H, P = 13.0"), encoding="utf-8")
    assert page_says(facts.FactsCache(store=cache.store), marker) == "13.0"
    assert len(tmp_chapter.calls()) == 3


def test_a_damaged_or_unstorable_store_entry_is_computed_again(cache, tmp_chapter):
    tmp_chapter.write("inverted.py", TOPIC.format(counter=tmp_chapter.counter))
    marker = tmp_chapter.marker("inverted", "h")
    assert page_says(cache, marker) == "10.0"
    (stored,) = cache.store.glob("*.json")
    stored.write_text("{not json", encoding="utf-8")
    assert page_says(facts.FactsCache(store=cache.store), marker) == "10.0"
    assert len(tmp_chapter.calls()) == 2
    tmp_chapter.write("odd.py", "def facts():\n    return {'h': 1.5, 'thing': object()}\n")
    assert page_says(cache, tmp_chapter.marker("odd", "h")) == "1.5"
    assert not (cache.store / f"snippets.{tmp_chapter.name}.odd.json").exists()


def test_serve_two_builds_in_one_process(cache, tmp_chapter, tmp_path):
    """A real MkDocs build, twice in one process (what `mkdocs serve` does), with the extension."""
    path = tmp_chapter.write("inverted.py", TOPIC.format(counter=tmp_chapter.counter))
    docs = tmp_path / "site_docs"
    docs.mkdir()
    (docs / "index.md").write_text(f"# T\n\nh is {tmp_chapter.marker('inverted', 'h:.1f')}.\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\ndocs_dir: site_docs\nmarkdown_extensions:\n  - docs_hooks.extension\n", encoding="utf-8"
    )

    def build_once():
        config = load_config(str(tmp_path / "mkdocs.yml"), site_dir=str(tmp_path / "out"), strict=True)
        build(config)
        return (tmp_path / "out" / "index.html").read_text(encoding="utf-8")

    assert "h is 10.0." in build_once()
    path.write_text(path.read_text(encoding="utf-8").replace("H, P = 10.0", "H, P = 12.0"), encoding="utf-8")
    assert "h is 12.0." in build_once()


def test_a_bad_marker_aborts_the_build_naming_page_and_marker(cache, tmp_chapter, tmp_path, caplog):
    tmp_chapter.write("inverted.py", TOPIC.format(counter=tmp_chapter.counter))
    docs = tmp_path / "site_docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "index.md").write_text("# T\n", encoding="utf-8")
    marker = tmp_chapter.marker("inverted", "hh:.1f")
    (docs / "sub" / "page.md").write_text(f"# P\n\nh is {marker}.\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\ndocs_dir: site_docs\nmarkdown_extensions:\n  - docs_hooks.extension\n", encoding="utf-8"
    )
    config = load_config(str(tmp_path / "mkdocs.yml"), site_dir=str(tmp_path / "out"), strict=True)
    with caplog.at_level(logging.ERROR, logger="mkdocs"), pytest.raises(Abort, match="BuildError"):
        build(config)  # an Abort: the CLI prints the logged message, no traceback
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "sub/page.md" in logged and marker in logged
    assert "'h'" in logged  # the closest valid key
