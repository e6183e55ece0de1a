"""The notebook page, rendered by mkdocs-jupyter, made like every other page of the site.

nbconvert's template loads MathJax from a CDN (mkdocs-jupyter leaves its URL empty, which
requests the page itself) and carries a Mermaid loader that imports from a CDN. The site
draws math as MathML at build time and has no diagrams, so both go; the TeX in the
notebook's Markdown cells, which nbconvert leaves as ``$...$``, becomes MathML like the
TeX of the Markdown pages (docs_hooks/mathml.py).
"""

from __future__ import annotations

import base64
import html as html_lib
import re

from docs_hooks.mathml import to_mathml

MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>\s*'
                     r"(?:<style[^>]*>(?:(?!</style>).)*?jp-Mermaid.*?</style>\s*)?"
                     r"(?:<!-- End of mermaid configuration -->)?", re.S)
# Math is only looked for outside code, outputs, scripts, styles and figures.
PROTECTED = re.compile(r"(<(pre|code|script|style|svg)\b.*?</\2>)", re.S)
# nbconvert shows an SVG output as an <img> with a placeholder alt; the SVG's <title> is better.
SVG_IMAGE = re.compile(r'<img alt="No description has been provided for this image" '
                       r'src="data:image/svg\+xml;base64,(?P<data>[^"]+)"')
# A code cell wider than the column scrolls sideways; keyboard users must be able to reach it.
CODE_DIV = re.compile(r'<div class="highlight-ipynb')
# JupyterLab's prompt, operator and comment colours are below WCAG AA contrast on Material's
# light and dark (slate) backgrounds; these pass on both.
CONTRAST_CSS = """<style>
.jupyter-wrapper { --jp-cell-inprompt-font-color: #1f5f99; --jp-cell-outprompt-font-color: #99401f;
  --jp-cell-prompt-not-active-opacity: 1; --jp-cell-prompt-not-active-font-color: #595959;
  --jp-mirror-editor-number-color: #006600;
  --jp-mirror-editor-operator-color: #7a1fb8; --jp-mirror-editor-comment-color: #2d6363; }
[data-md-color-scheme=slate] .jupyter-wrapper { --jp-cell-inprompt-font-color: #7fb5e6;
  --jp-cell-outprompt-font-color: #e69a80; --jp-mirror-editor-operator-color: #cf99ff;
  --jp-mirror-editor-comment-color: #8cc4c4; }
</style>"""
DISPLAY_PARAGRAPH = re.compile(r"<p>\s*\$\$(?P<tex>.+?)\$\$\s*</p>", re.S)
DISPLAY = re.compile(r"\$\$(?P<tex>.+?)\$\$", re.S)
INLINE = re.compile(r"(?<![\\$])\$(?!\$)(?P<tex>[^$]+?)(?<!\\)\$")


def math_to_mathml(text: str) -> str:
    text = DISPLAY_PARAGRAPH.sub(lambda m: f'<div class="math">{to_mathml(m["tex"], "block")}</div>', text)
    text = DISPLAY.sub(lambda m: to_mathml(m["tex"], "block"), text)
    return INLINE.sub(lambda m: to_mathml(m["tex"], "inline"), text)


def svg_alt(match: re.Match) -> str:
    svg = base64.b64decode(match["data"]).decode("utf-8")
    title = re.search(r"<title>(.*?)</title>", svg, re.S)
    alt = html_lib.unescape(title[1]) if title else "A figure drawn by the notebook"
    return f'<img alt="{html_lib.escape(alt, quote=True)}" src="data:image/svg+xml;base64,{match["data"]}"'


def render(html: str) -> str:
    html = MERMAID.sub("", MATHJAX.sub("", html))
    html = CODE_DIV.sub('<div tabindex="0" class="highlight-ipynb', SVG_IMAGE.sub(svg_alt, html))
    parts = PROTECTED.split(html)
    # split() with two groups yields: text, protected block, tag name, text, ...
    body = "".join(part if i % 3 else math_to_mathml(part) for i, part in enumerate(parts) if i % 3 != 2)
    return body + CONTRAST_CSS


def on_page_content(html, page, **kwargs):
    if page.file.src_uri.endswith(".ipynb"):
        return render(html)
    return html
