"""Fill numbers in the prose from the snippets that compute them.

A page writes ``[[dropout.inverted:expected:.0f]]`` where a number belongs. At build time
this hook imports ``snippets.dropout.inverted``, calls its ``facts()`` and formats the value
named ``expected`` with the format spec ``.0f``. A list or tensor is written as
``[a, b, c]``; ``key[i]`` picks one element. An unknown module, key or index raises, so a
stale number fails the build instead of shipping.
"""

from __future__ import annotations

import importlib
import re
from functools import cache

import torch

# The same setting as tests/conftest.py, so facts computed at build time equal the tested ones.
torch.set_num_threads(1)

FACT = re.compile(r"\[\[(?P<module>[a-z_][\w.]*):(?P<key>\w+)(?:\[(?P<index>\d+)\])?(?::(?P<fmt>[^\]]*))?\]\]")


class FactError(LookupError):
    """A ``[[module:key]]`` marker that does not name a value a snippet computes."""


@cache
def facts_of(module: str) -> dict:
    try:
        mod = importlib.import_module(f"snippets.{module}")
    except ModuleNotFoundError as exc:
        raise FactError(f"no snippet module snippets.{module}") from exc
    if not hasattr(mod, "facts"):
        raise FactError(f"snippets.{module} has no facts() function")
    return mod.facts()


def _plain(value):
    """A tensor, numpy array or number as plain Python numbers."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    return value


def format_value(value, fmt: str) -> str:
    value = _plain(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v, fmt) for v in value) + "]"
    text = format(value, fmt)
    # "-0.00" is what format() gives for tiny negatives; nobody writes that.
    return text[1:] if re.fullmatch(r"-0(\.0*)?", text) else text


def resolve(match: re.Match) -> str:
    module, key, index, fmt = match.group("module", "key", "index", "fmt")
    table = facts_of(module)
    if key not in table:
        raise FactError(f"snippets.{module}.facts() has no {key!r}; it has {sorted(table)}")
    value = _plain(table[key])
    if index is not None:
        try:
            value = value[int(index)]
        except (IndexError, TypeError) as exc:
            raise FactError(f"{match.group(0)}: cannot index {value!r}") from exc
    return format_value(value, fmt or "")


def fill(markdown: str) -> str:
    return FACT.sub(resolve, markdown)


def on_page_markdown(markdown, page, **kwargs):
    # MkDocs loads this file as a module of its own; fill through the package module so the
    # hook and the claims page share one cache, and each snippet's facts() runs once.
    from docs_hooks import facts as shared

    try:
        return shared.fill(markdown)
    except FactError as exc:
        raise FactError(f"{page.file.src_uri}: {exc}") from exc
