"""A colorbar's ticks and labels changed in a live page: a new ColorBar in place of the old one.

Why not new ticks on the old bar: the browser's colorbar keeps the ticker and formatter it was
built with, so a bar re-ticked from the server showed the previous image's labels (walk 16, the
Trajectory panels) or only the one label both images shared ("0" on the Fields map after another
field was opened; walk 18) until the page was reloaded."""

from __future__ import annotations

from bokeh.models import ColorBar


def swap_colorbar(fig, old: ColorBar, **opts) -> ColorBar:
    """Put a new ColorBar (the old one's mapper, width, padding and visibility, then ``opts``) where
    ``old`` is in ``fig``'s right-hand panel; returns it.  Call on the session's thread."""
    keep = ("color_mapper", "width", "padding", "visible")
    bar = ColorBar(**{**{k: getattr(old, k) for k in keep}, **opts})
    fig.right = [bar if r is old else r for r in fig.right]
    return bar
