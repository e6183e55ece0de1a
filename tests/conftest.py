"""Shared test settings, and a store for the results of the few slow, deterministic computations."""

import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from filelock import FileLock, Timeout
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# Hypothesis draws the same examples on every run and machine (derandomize), and keeps no
# example database: what the default run covers, the 100 % gate included, does not depend
# on luck or on what an earlier run found. HYPOTHESIS_PROFILE=explore draws new ones.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)  # and the example database
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# pytester runs a pytest inside the test run (tests/site/test_claims.py: the claims plugin).
pytest_plugins = ["pytester"]


def pytest_configure(config):
    """One thread: tiny tensors gain nothing from two, and under load the second thread
    spin-waits (a 0.5 s training run took 20 s). Results are bit-identical; the build sets the
    same. Not in an xdist controller, which only hands out the tests: without torch to import
    it starts its workers two seconds sooner."""
    config.addinivalue_line(
        "markers",
        "untraced: runs without coverage's tracer, setup and teardown included (coverage_paused)",
    )
    if getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput"):
        return
    import torch

    torch.set_num_threads(1)


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    """pytest keeps the test modules it rewrites (for its assertion messages) in __pycache__,
    but only where Python may write bytecode: with PYTHONDONTWRITEBYTECODE set, every process
    rewrites every test file on every run (about 4 s of each xdist worker's collection). So
    collection may write them (__pycache__ is ignored by git); the tests run with the setting
    as it was, since some import modules they write and edit within the same second."""
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        return (yield)
    finally:
        sys.dont_write_bytecode = saved


@contextlib.contextmanager
def coverage_paused():
    """No coverage measurement inside, for a session fixture that runs a lot of unmeasured
    code, such as the in-process site build (Python-Markdown): under coverage's tracer
    Python 3.11 runs every line about 1.7 times slower, measured or not. (pytest-cov's
    ``no_cover`` mark covers only a test's call, and in an xdist worker leaves a tracer on.)
    Code that only such a fixture runs goes unmeasured, and the 100 % gate says so."""
    import coverage

    # An xdist worker has two started Coverage objects: pytest-cov starts one before it knows
    # it is a worker and another at the session's start, without stopping the first. Stopping
    # only the newest (what pytest-cov's own pause() does) resumes the older one's tracer.
    stopped = []
    while (measuring := coverage.Coverage.current()) is not None:
        measuring.stop()
        stopped.append(measuring)
    try:
        yield
    finally:
        for measuring in reversed(stopped):
            measuring.start()


def untraced(item):
    """A test marked ``untraced`` runs, with its fixtures, outside coverage's tracer: tests
    of the site's machinery (docs_hooks/, tools/), which coverage does not measure, and re-runs
    of snippet code that other tests already run for the gate. They are a third of the default
    run's time, and under the tracer Python 3.11 runs each of their lines about 1.7 times
    slower. If a marked test were the only one to reach a line of snippets/, the 100 % gate
    would name that line."""
    return coverage_paused() if item.get_closest_marker("untraced") else contextlib.nullcontext()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    with untraced(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    with untraced(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item):
    with untraced(item):
        return (yield)


# Longest test files first. xdist (--dist loadfile --no-loadscope-reorder, pyproject.toml)
# hands whole files to its workers in collection order; a long file handed out last keeps
# one worker busy while the other has nothing left to do.
# The controller (or the one process without xdist) keeps each file's seconds in pytest's
# cache and hands the same numbers to every worker, which must collect in the same order.
# A fresh clone has no cache: it goes by tests/seconds-per-file.json, the seconds of a run on
# a fresh clone (refresh it from .pytest_cache/v/tests/seconds-per-file after one; a file it
# does not list just comes last).
SECONDS = "tests/seconds-per-file"
FRESH_CLONE_SECONDS = ROOT / "tests" / "seconds-per-file.json"
RUN: dict = {}  # this session's config, and the seconds spent per file


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def hands_out_tests(config) -> bool:
    return not hasattr(config, "workerinput")


def known_seconds(config) -> dict:
    """Seconds per test file: this machine's last run, else those of a fresh clone."""
    cache = getattr(config, "cache", None)
    seen = cache.get(SECONDS, {}) if cache else {}
    return seen or json.loads(FRESH_CLONE_SECONDS.read_text())


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    node.workerinput[SECONDS] = known_seconds(node.config)


@pytest.hookimpl(tryfirst=True)  # before --failed-first and --last-failed reorder them
def pytest_collection_modifyitems(config, items):
    seconds = known_seconds(config) if hands_out_tests(config) else config.workerinput[SECONDS]
    items.sort(key=lambda item: -seconds.get(file_of(item.nodeid), 0.0))  # stable: files stay whole


def pytest_runtest_logreport(report):
    config = RUN.get("config")
    if config is not None and hands_out_tests(config):
        spent = RUN.setdefault("seconds", {})
        spent[file_of(report.nodeid)] = spent.get(file_of(report.nodeid), 0.0) + report.duration


def pytest_sessionstart(session):
    RUN.clear()
    RUN["config"] = session.config


def pytest_sessionfinish(session):
    cache = getattr(session.config, "cache", None)
    if cache is not None and hands_out_tests(session.config) and RUN.get("seconds"):
        old = cache.get(SECONDS, {})
        cache.set(SECONDS, {**old, **{f: round(s, 2) for f, s in RUN["seconds"].items()}})


def digest(sources: Iterable[Path], extra=None) -> str:
    """What a training run's numbers depend on: the code it runs, and the platform. One torch
    build on one kind of CPU gives the same bits (snippets/experiments/results.py); another kind
    of CPU, or ATEN_CPU_CAPABILITY=default, is another platform and so another digest."""
    import torch

    from snippets.experiments.results import platform_info, versions

    found = hashlib.sha256()
    for path in sorted({Path(p).resolve() for p in sources}):
        found.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    context = [platform_info(), versions(), torch.get_num_threads(), extra]
    found.update(json.dumps(context, sort_keys=True, default=str).encode())
    return found.hexdigest()


class Store:
    """Results of slow, deterministic computations, each computed once for its sources.

    Kept in pytest's cache (``.pytest_cache``, dropped by ``--cache-clear``), so a run whose
    sources did not change since the last one reads them instead of training again; without
    the cache (``-p no:cacheprovider``), for the session only. xdist workers share it: a file
    lock makes one compute an entry while another waits for it."""

    digest = staticmethod(digest)

    def __init__(self, base: Path):
        self.base = base

    def folder(self, name: str, key: str, fill: Callable[[Path], None], wait: bool = True) -> Path | None:
        """The folder ``fill`` wrote for this key, made now if no run made it before. With
        ``wait=False``: None when another worker is making it at this moment."""
        folder = self.base / f"{name}-{key[:24]}"
        try:
            with FileLock(f"{folder}.lock", timeout=-1 if wait else 0):
                if not (folder / ".done").exists():
                    shutil.rmtree(folder, ignore_errors=True)  # what an interrupted run left
                    folder.mkdir(parents=True)
                    fill(folder)
                    (folder / ".done").touch()
                    self.prune(name, keep=folder)
        except Timeout:
            return None
        return folder

    def json(self, name: str, sources: Iterable[Path], compute: Callable[[], object]):
        """compute()'s value (JSON: floats come back exact) for these sources on this platform."""

        def fill(folder: Path) -> None:
            (folder / "value.json").write_text(json.dumps(compute()))

        return json.loads((self.folder(name, digest(sources, extra=name), fill) / "value.json").read_text())

    def prune(self, name: str, keep: Path, age: float = 3600) -> None:
        """Entries for sources as they were an hour ago or more: no run still reads them."""
        for old in self.base.glob(f"{name}-*"):
            if old != keep and old.is_dir() and time.time() - old.stat().st_mtime > age:
                shutil.rmtree(old, ignore_errors=True)
                Path(f"{old}.lock").unlink(missing_ok=True)


@pytest.fixture(scope="session")
def store(request, tmp_path_factory) -> Store:
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return Store(cache.mkdir("computed"))
    base = tmp_path_factory.getbasetemp()
    # An xdist worker's basetemp is <the session's>/popen-gwN: the parent is this run's alone.
    return Store(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)
