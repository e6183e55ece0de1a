"""Figures: the same drawing gives the same bytes, with the alt text inside."""

import re

import matplotlib.pyplot as plt

from snippets.experiments import plotting


def draw(alt: str) -> bytes:
    with plt.rc_context(plotting.STYLE):
        fig, ax = plt.subplots()
        plotting.band(ax, [[3.0, 2.0, 1.0], [3.5, 2.5, 1.5]], "loss", plotting.COLORS[0])
        ax.set(xlabel="epoch", ylabel="loss (nats)")
        return plotting.svg_bytes(fig, alt)


def test_a_figure_is_deterministic_transparent_and_labelled():
    first, second = draw('Two "curves" & a band'), draw('Two "curves" & a band')
    assert first == second
    assert b'<title>Two "curves" &amp; a band</title>' in first
    assert b'<svg role="img" aria-label="Two &quot;curves&quot; &amp; a band"' in first
    assert b"#ffffff" not in first and b"<dc:date>" not in first
    paths = re.findall(rb' d="([^"]*)"', first)
    assert paths and not any(re.search(rb"\.\d\d", d) for d in paths), "a tenth of a point is enough"
    assert not plt.get_fignums(), "svg_bytes closes the figure"
