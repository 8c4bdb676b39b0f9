"""Fewer Bokeh models per figure: every model is built by the server and again by the browser on
each first page (issue #27: the Fields page held 415 of them and took 2.0–2.5 s on a fresh server).

``bokeh.plotting`` gives every glyph renderer two copies of its glyph (for unselected and muted
data) although the app never selects through Bokeh nor mutes a legend; "auto" (the model's own
default) lets the browser derive them only if ever needed.  Figures whose axes are hidden are
better built without axes, tickers and grids at all (``AXES_OFF``)."""

from __future__ import annotations

from bokeh.models import GlyphRenderer

#: figure(**AXES_OFF): no axes, tickers, formatters or grids (ten models a figure)
AXES_OFF = {"x_axis_type": None, "y_axis_type": None}


def lean(fig):
    """Drop the per-state glyph copies of every glyph renderer of ``fig`` (returns ``fig``)."""
    for r in fig.renderers:
        if isinstance(r, GlyphRenderer):
            r.nonselection_glyph = "auto"
            r.muted_glyph = "auto"
    return fig
