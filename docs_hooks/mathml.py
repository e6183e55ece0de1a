"""Render TeX to MathML at build time.

pymdownx.arithmatex (generic mode) marks math as ``<span class="arithmatex">\\(...\\)</span>``
and ``<div class="arithmatex">\\[...\\]</div>``; the site's Markdown extension
(docs_hooks/extension.py) replaces each with MathML from latex2mathml. Browsers draw MathML
natively, so the site ships no math JavaScript, no math fonts and makes no request to a CDN.
"""

from __future__ import annotations

import functools
import html

from latex2mathml.converter import convert


@functools.lru_cache(maxsize=4096)  # a page repeats its symbols; every build repeats its pages
def to_mathml(tex: str, display: str) -> str:
    mathml = convert(html.unescape(tex).strip(), display=display)
    # latex2mathml writes \sim as an ASCII tilde identifier; it is the relation "distributed as".
    return mathml.replace("<mi>&#x0007E;</mi>", "<mo>&#x0223C;</mo>")
