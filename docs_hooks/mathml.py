"""Render TeX to MathML at build time.

pymdownx.arithmatex (generic mode) marks math as ``<span class="arithmatex">\\(...\\)</span>``
and ``<div class="arithmatex">\\[...\\]</div>``; this hook replaces each with MathML from
latex2mathml. Browsers draw MathML natively, so the site ships no math JavaScript, no math
fonts and makes no request to a CDN.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

INLINE = re.compile(r'<span class="arithmatex">\\\((?P<tex>.*?)\\\)</span>', re.S)
BLOCK = re.compile(r'<div class="arithmatex">\\\[(?P<tex>.*?)\\\]</div>', re.S)


def to_mathml(tex: str, display: str) -> str:
    mathml = convert(html.unescape(tex).strip(), display=display)
    # latex2mathml writes \sim as an ASCII tilde identifier; it is the relation "distributed as".
    return mathml.replace("<mi>&#x0007E;</mi>", "<mo>&#x0223C;</mo>")


def render(content: str) -> str:
    content = BLOCK.sub(lambda m: f'<div class="math">{to_mathml(m["tex"], "block")}</div>', content)
    return INLINE.sub(lambda m: to_mathml(m["tex"], "inline"), content)


def on_page_content(html_content, page, **kwargs):
    return render(html_content)
