"""Fill numbers in the prose from the snippets that compute them.

A page writes ``[[dropout.inverted:expected:.0f]]`` where a number belongs. At build time
the site's Markdown extension (docs_hooks/extension.py) imports ``snippets.dropout.inverted``,
calls its ``facts()`` and formats the value named ``expected`` with the format spec ``.0f``.
A list or tensor is written as ``[a, b, c]``; ``key[i]`` picks one element. A page that
declares a default module with ``<!-- facts: dropout.inverted -->`` may drop the module:
``[[expected:.0f]]``; the long form stays valid on every page. A marker that names no
module, no key or no element, a bad format spec, or a facts() that raises fails the build
with a message naming the page (or its default module) and the marker, so a stale number
never ships.

Facts are cached, keyed by a hash of everything they depend on: the snippet module's file,
the ``snippets`` modules it imports (transitively, read from the sources), and every project
file its facts() read (the experiments read ``docs/experiments/results/*.json``). A rebuild
with nothing changed reuses the cache; after an edit (``mkdocs serve``) the changed modules are
reloaded, dependencies first, and facts() runs again. A cache given a ``store`` folder also
keeps each module's facts on disk (``reports/facts/``), with the list of files and their
digest: a fresh build process reads them without importing torch or running any snippet,
until one of those files changes. Only the build uses the store; the tests compute.

The logic lives in plain functions and one :class:`FactsCache` that take explicit arguments
(the page's path, the package), so a Markdown extension can call them the same way.
"""

from __future__ import annotations

import ast
import difflib
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

try:  # MkDocs logs its own error class as one line; other engines show the message
    from mkdocs.exceptions import PluginError as _BuildError
except ImportError:  # pragma: no cover - an engine without MkDocs installed

    class _BuildError(Exception):
        """A page that cannot be built; the engine shows the message."""


# [[chapter.topic:key]], [[chapter.topic:key[i]:fmt]]; with a page default, [[key:fmt]]. A
# module always has a dot, a key never does, so the two forms cannot be confused.
FACT = re.compile(
    r"\[\[(?:(?P<module>[a-z_]\w*(?:\.\w+)+):)?(?P<key>[A-Za-z_]\w*)"
    r"(?:\[(?P<index>\d+)\])?(?::(?P<fmt>[^\]]*))?\]\]"
)
# Anything that looks like a marker (a name, a colon, up to "]]") but is not one, e.g.
# [[Dropout.inverted:h]] or [[dropout.inverted:h-x]]: left alone it would ship as text.
LOOKS_LIKE_A_FACT = re.compile(r"\[\[[A-Za-z_][\w.-]*:[^\n]*?\]\]")
# The page's default module: <!-- facts: dropout.inverted -->
DEFAULT = re.compile(r"<!--\s*facts:\s*(?P<module>[^\s>]*)\s*-->")
MODULE = re.compile(r"[a-z_]\w*(?:\.\w+)+")


class FactError(_BuildError, LookupError):
    """A ``[[module:key]]`` marker that does not give a number; the build aborts."""


def _torch_threads() -> None:
    """The same setting as tests/conftest.py, so facts computed at build time equal the
    tested ones. Imported only when a facts() has to run: a build from the store never
    imports torch."""
    import torch

    torch.set_num_threads(1)


@functools.cache
def _torch_version() -> str:
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "none"


def platform_key() -> str:
    """What else, beside the sources, decides the last bits of a fact: the torch build and
    the CPU kernels it uses. Read without importing torch."""
    cpu = os.environ.get("ATEN_CPU_CAPABILITY", "native")
    return f"torch {_torch_version()}, {platform.machine()}, kernels {cpu}"


# ----------------------------------------------------------------- what facts depend on
class FileDigests:
    """sha256 of files, re-read only when a file's stat changes.

    A file modified within ``RACY_NS`` of the moment it was hashed is re-read on every
    lookup: two saves within one tick of the file system's clock can leave the same size and
    mtime (git's "racy" entries), and an edit must never be missed.
    """

    RACY_NS = 2_000_000_000

    def __init__(self) -> None:
        self._memo: dict[Path, tuple[tuple, str, int]] = {}

    def digest(self, path: Path) -> str:
        try:
            st = os.stat(path)
        except OSError:
            return "missing"
        sig = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        hit = self._memo.get(path)
        if hit and hit[0] == sig and hit[2] - max(st.st_mtime_ns, st.st_ctime_ns) > self.RACY_NS:
            return hit[1]
        try:
            value = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return "missing"
        self._memo[path] = (sig, value, time.time_ns())
        return value


def imported_names(source: bytes, name: str, is_package: bool, package: str) -> list[str]:
    """The modules of ``package`` that a module's source imports, anywhere in it (also inside
    functions), in source order. ``from a.b import c`` counts as ``a.b`` and ``a.b.c``; the
    caller drops names that are not modules."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []  # importing it will fail and say why
    here = name if is_package else name.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = here.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    return [n for n in dict.fromkeys(found) if n == package or n.startswith(package + ".")]


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


# Files opened for reading while a facts() runs, one set per facts() on the stack. Filled by an
# audit hook (installed once, on the first facts() call); the stack is empty the rest of the time.
_READS: list[set[str]] = []
_AUDIT_INSTALLED = False


def _audit(event: str, args: tuple) -> None:
    if event != "open" or not _READS or len(args) != 3:
        return
    path, mode, flags = args
    if not isinstance(path, (str, bytes, os.PathLike)):
        return
    if isinstance(mode, str):
        if any(c in mode for c in "wax+"):
            return
    elif not isinstance(flags, int) or flags & (os.O_WRONLY | os.O_RDWR):
        return
    _READS[-1].add(os.fsdecode(path))


def _install_audit_hook() -> None:
    global _AUDIT_INSTALLED
    if not _AUDIT_INSTALLED:
        sys.addaudithook(_audit)  # cannot be removed; costs one check per open() elsewhere
        _AUDIT_INSTALLED = True


class Entry(NamedTuple):
    digest: str  # of the files below, names and contents
    facts: dict
    reads: frozenset[Path]  # project files its facts() opened
    files: tuple[Path, ...]  # the module's file and those of its imports, then the reads


_LOADED: dict[str, str] = {}


class FactsCache:
    """``facts()`` of the modules of one package (``snippets``), recomputed only when a source
    they depend on changed. One instance, :data:`CACHE`, serves the hook and the claims page."""

    def __init__(self, package: str = "snippets", store: Path | None = None) -> None:
        self.package = package
        self.store = store  # a folder for facts kept across processes, or None
        self.files = FileDigests()
        self.entries: dict[str, Entry] = {}
        self.calls: dict[str, int] = {}  # facts() runs per module: a rebuild must not add any
        # module -> digest of its import closure when loaded. sys.modules is one per process,
        # so every cache of the process shares what it knows of it.
        self._loaded: dict[str, str] = _LOADED
        self._paths: dict[str, Path] = {}
        self._imports: dict[tuple[Path, str], list[str]] = {}

    # ---- sources
    def module_file(self, name: str) -> Path | None:
        """The file of module ``name`` (found as import would find it), or None."""
        path = self._paths.get(name)
        if path is not None:
            return path
        parent = name.rpartition(".")[0]
        if parent.startswith(self.package) and parent != self.package:
            parent_file = self.module_file(parent)
            if parent_file is None or parent_file.name != "__init__.py":
                return None  # ``from a.b import c`` with a.b a module: c is a name in it
        try:
            spec = importlib.util.find_spec(name)
        except Exception:  # noqa: BLE001 - a parent package's own error: importing will show it
            return None
        if spec is None or not spec.origin or not spec.has_location:
            return None
        path = Path(spec.origin).resolve()
        self._paths[name] = path
        return path

    def _deps(self, name: str) -> list[str]:
        deps = [p for p in _parents(name) if p.startswith(self.package)]
        path = self.module_file(name)
        if path is None:
            return deps
        digest = self.files.digest(path)
        key = (path, digest)
        if key not in self._imports:
            try:
                source = path.read_bytes()
            except OSError:
                source = b""
            names = imported_names(source, name, path.name == "__init__.py", self.package)
            self._imports[key] = [n for n in names if n != name]
        for dep in self._imports[key]:
            if dep not in deps and self.module_file(dep) is not None:
                deps.append(dep)
        return deps

    def closure(self, name: str) -> list[str]:
        """``name`` and the package modules it imports, transitively, dependencies first."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(module: str) -> None:
            if module in seen:
                return
            seen.add(module)
            for dep in self._deps(module):
                visit(dep)
            order.append(module)

        visit(name)
        return order

    def _digest(self, files) -> str:
        h = hashlib.sha256()
        for path in files:
            h.update(f"{path}\0{self.files.digest(path)}\0".encode())
        return h.hexdigest()

    def _files(self, modules: list[str], reads: frozenset[Path] = frozenset()) -> tuple[Path, ...]:
        found = [self.module_file(m) for m in modules]
        return tuple(dict.fromkeys([p for p in found if p is not None] + sorted(reads)))

    def sources(self, module: str) -> list[Path]:
        """Every file the facts of ``snippets.<module>`` depend on (after computing them)."""
        self.facts(module)
        return sorted(self.entries[f"{self.package}.{module}"].files)

    def _roots(self) -> list[Path]:
        pkg = sys.modules.get(self.package)
        return [Path(p).resolve().parent for p in getattr(pkg, "__path__", [])]

    def _project_files(self, opened: set[str]) -> frozenset[Path]:
        """Of the files a facts() opened, those of the project: under the folder that holds
        the package, not in a virtual environment, not bytecode."""
        roots = self._roots()
        skip = {Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}}
        out = set()
        for raw in opened:
            path = Path(raw)
            if not path.is_absolute():
                path = Path.cwd() / path
            path = path.resolve()
            if "__pycache__" in path.parts or ".git" in path.parts or not path.is_file():
                continue
            if any(path.is_relative_to(r) for r in roots) and not any(path.is_relative_to(s) for s in skip):
                out.add(path)
        return frozenset(out)

    # ---- modules
    def _load(self, modules: list[str]) -> ModuleType:
        """Import each module, dependencies first; reload the ones whose sources (or whose
        imports' sources) changed since they were loaded. Returns the last one."""
        module = None
        for name in modules:
            digest = self._digest(self._files(self.closure(name)))
            module = sys.modules.get(name)
            if module is None:
                module = importlib.import_module(name)
            elif self._loaded.get(name, digest) != digest:
                # The .pyc check is mtime (seconds) and size: a same-length edit within the
                # second would load the old bytecode. The source's hash says it changed.
                path = self.module_file(name)
                if path is not None and path.suffix == ".py":
                    Path(importlib.util.cache_from_source(str(path))).unlink(missing_ok=True)
                module = importlib.reload(module)
            # A module first seen already imported (by a test, say) is taken as loaded now.
            self._loaded[name] = digest
        return module

    def facts(self, module: str) -> dict:
        """``snippets.<module>.facts()``, from the cache while none of its sources changed."""
        name = f"{self.package}.{module}"
        entry = self.entries.get(name)
        # Fast path: the files it depended on last time are unchanged. Which modules it imports
        # is a function of those files' contents, so the import closure cannot have changed.
        if entry is not None and entry.digest == self._digest(entry.files):
            return entry.facts
        stored = self._from_store(name)
        if stored is not None:
            self.entries[name] = stored
            return stored.facts
        self._paths.clear()  # a module may have moved (file <-> package): find them afresh
        if self.module_file(name) is None:
            raise FactError(f"no snippet module {name}")
        try:
            modules = self.closure(name)
            mod = self._load(modules)
        except Exception as exc:
            raise FactError(f"{name}: importing it raised {_describe(exc)}") from exc
        if not callable(getattr(mod, "facts", None)):
            raise FactError(f"{name} has no facts() function")
        _torch_threads()
        _install_audit_hook()
        _READS.append(set())
        try:
            self.calls[name] = self.calls.get(name, 0) + 1
            table = mod.facts()
        except Exception as exc:
            raise FactError(f"{name}.facts() raised {_describe(exc)}") from exc
        finally:
            opened = _READS.pop()
        if not isinstance(table, dict):
            raise FactError(f"{name}.facts() returned a {type(table).__name__}, not a dict")
        # Files read before stay tracked: a cached helper may not read them a second time.
        reads = self._project_files(opened) | (entry.reads if entry else frozenset())
        files = self._files(modules, reads)
        self.entries[name] = Entry(self._digest(files), table, reads, files)
        self._to_store(name, self.entries[name])
        return table

    # ---- the store: facts kept on disk for the next process
    def _store_file(self, name: str) -> Path | None:
        return None if self.store is None else Path(self.store) / f"{name}.json"

    def _from_store(self, name: str) -> Entry | None:
        """The stored entry of ``name`` if its files and the platform are unchanged."""
        path = self._store_file(name)
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            files = tuple(Path(f) for f in data["files"])
            reads = frozenset(Path(f) for f in data["reads"])
            facts, digest, where = data["facts"], data["digest"], data["platform"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # unreadable or from an older layout: compute afresh
        if where != platform_key() or digest != self._digest(files):
            return None
        return Entry(digest, facts, reads, files)

    def _to_store(self, name: str, entry: Entry) -> None:
        path = self._store_file(name)
        if path is None:
            return
        try:
            text = json.dumps(
                {
                    "platform": platform_key(),
                    "digest": entry.digest,
                    "files": [str(f) for f in entry.files],
                    "reads": sorted(str(f) for f in entry.reads),
                    "facts": {k: _plain_deep(v) for k, v in entry.facts.items()},
                },
                sort_keys=True,
            )
        except (TypeError, ValueError):
            return  # a value JSON cannot hold: this module is computed in every process
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)  # a reader sees the old or the new file, never half


def _describe(exc: BaseException) -> str:
    """``Type: message (at file:line in function)``: the innermost frame in the project's own
    code (not in the standard library or an installed package), else the innermost one."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{text} (at {_short(exc.filename)}:{exc.lineno})"
    frames = traceback.extract_tb(exc.__traceback__)
    installed = tuple(str(Path(p).resolve()) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    own = [
        f
        for f in frames
        if not str(Path(f.filename).resolve()).startswith(installed)
        and not f.filename.startswith("<")
        and Path(f.filename).resolve() != Path(__file__).resolve()
    ]
    if own or frames:
        last = (own or frames)[-1]
        return f"{text} (at {_short(last.filename)}:{last.lineno} in {last.name})"
    return text


def _short(filename: str) -> str:
    try:
        return Path(filename).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return filename


ROOT = Path(__file__).resolve().parents[1]
CACHE = FactsCache()  # the tests' cache: always computes (coverage counts the facts() runs)
BUILD_CACHE = FactsCache(store=ROOT / "reports" / "facts")  # the build's: reads the store


def facts_of(module: str, cache: FactsCache | None = None) -> dict:
    """``snippets.<module>.facts()`` through the shared cache."""
    return (cache or CACHE).facts(module)


# ----------------------------------------------------------------- formatting
def _plain(value):
    """A tensor, numpy array or number as plain Python numbers."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    return value


def _plain_deep(value):
    """:func:`_plain` all the way down: what the store writes as JSON."""
    value = _plain(value)
    if isinstance(value, (list, tuple)):
        return [_plain_deep(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain_deep(v) for k, v in value.items()}
    return value


def format_value(value, fmt: str) -> str:
    value = _plain(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v, fmt) for v in value) + "]"
    text = format(value, fmt)
    # "-0.00" is what format() gives for tiny negatives; nobody writes that.
    return text[1:] if re.fullmatch(r"-0(\.0*)?", text) else text


def _unknown_key(name: str, key: str, table: dict) -> str:
    keys = sorted(table)
    message = f"{name}.facts() has no {key!r}"
    close = difflib.get_close_matches(key, keys, n=4, cutoff=0.5)
    close += [k for k in keys if (key in k or k in key) and k not in close][: 4 - len(close)]
    if close:
        message += "; closest: " + ", ".join(map(repr, close))
    if len(keys) <= 20:
        return message + f"; it has {keys}"
    return message + f"; it has {len(keys)} keys"


def value_of(module: str, key: str, index: str | None, fmt: str | None, cache: FactsCache | None = None) -> str:
    """The text of one marker. Raises FactError (without the page: the caller adds it)."""
    cache = cache or CACHE
    name = f"{cache.package}.{module}"
    table = cache.facts(module)
    if key not in table:
        raise FactError(_unknown_key(name, key, table))
    value = _plain(table[key])
    if index is not None:
        i = int(index)
        if not isinstance(value, (list, tuple)):
            raise FactError(f"cannot index {key}: it is a {type(value).__name__} ({value!r}), not a list")
        if i >= len(value):
            raise FactError(f"index {i} out of range: {key} has {len(value)} items")
        value, key = value[i], f"{key}[{i}]"
    try:
        return format_value(value, fmt or "")
    except (ValueError, TypeError) as exc:
        raise FactError(f"bad format spec {fmt!r} for {key} = {value!r}: {exc}") from exc


def default_module(markdown: str) -> str | None:
    """The module a page's ``<!-- facts: chapter.topic -->`` names, or None. A page declares
    at most one, and it must look like a module."""
    found = DEFAULT.findall(markdown)
    if not found:
        return None
    if len(found) > 1:
        raise FactError(
            f"<!-- facts: ... --> is declared {len(found)} times ({', '.join(found)}); a page has one default module"
        )
    if not MODULE.fullmatch(found[0]):
        raise FactError(f"<!-- facts: {found[0]} -->: not a module; write <!-- facts: chapter.topic -->")
    return found[0]


def fill(markdown: str, page: str | None = None, cache: FactsCache | None = None, default: str | None = None) -> str:
    """Every marker of ``markdown`` replaced by its value. ``page`` (the page's path under
    docs/, e.g. ``dropout/inverted.md``) starts every error message; a build, which does not
    know the page's path, starts them with the page's default module. ``default`` is the
    module of short markers (``[[key:fmt]]``); without it the page's own declaration."""
    default = default or default_module(markdown)
    where = f"{page}: " if page else (f"the page of <!-- facts: {default} -->: " if default else "")

    def resolve(match: re.Match) -> str:
        module, key, index, fmt = match.group("module", "key", "index", "fmt")
        try:
            if module is None:
                if default is None:
                    raise FactError(
                        "no module: name it, [[chapter.topic:"
                        + match.group(0)[2:]
                        + ", or declare the page's default, <!-- facts: chapter.topic -->"
                    )
                module = default
            return value_of(module, key, index, fmt, cache=cache)
        except FactError as exc:
            raise FactError(f"{where}{match.group(0)}: {exc}") from exc

    filled = FACT.sub(resolve, DEFAULT.sub("", markdown))
    bad = LOOKS_LIKE_A_FACT.search(filled)
    if bad:
        raise FactError(
            f"{where}{bad.group(0)}: not a fact marker; write [[chapter.topic:key]], "
            "[[chapter.topic:key:fmt]] or [[chapter.topic:key[i]:fmt]], or [[key:fmt]] "
            "with the page's <!-- facts: chapter.topic --> "
            "(lower-case module, key of letters, digits and _)"
        )
    return filled
