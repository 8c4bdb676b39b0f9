"""The Generate tab's gallery: every generated image in one Bokeh figure, updated in place.

The first version rebuilt a grid of HoloViews panes for each run; the browser could still be
sending an event for a tile the server had just dropped, and Bokeh logged "reference pNNN isn't
known".  Here the figure, its data source and its colour mapper are built once per session and
a run only replaces the source's data (one atomic change) and the figure's height.
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d
from bokeh.plotting import figure

from .jobs import on_session
from .lean_bokeh import AXES_OFF, lean

TILE = 64  # pixels of a generated image
GAP = 6  # data units between tiles
LABEL = 12  # data units above each tile for its title
COLUMNS = 4
PX = 2.6  # screen pixels per data unit


def tile_positions(n: int, columns: int = COLUMNS) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the lower-left corner of each of ``n`` tiles, first row at the top."""
    rows = max(1, -(-n // columns))
    k = np.arange(n)
    x = (k % columns) * (TILE + GAP)
    y = (rows - 1 - k // columns) * (TILE + GAP + LABEL)
    return x.astype(float), y.astype(float)


class Gallery:
    """Images in [0, 1] (already stretched) with a title each, shown in a grid of ``COLUMNS``."""

    def __init__(self, name: str = "generate_gallery"):
        self.source = ColumnDataSource(
            {"image": [], "x": [], "y": [], "tx": [], "ty": [], "title": []}, name=f"{name}_source"
        )
        width = COLUMNS * (TILE + GAP)
        fig = figure(
            width=int(width * PX),
            height=int((TILE + GAP + LABEL) * PX),
            x_range=Range1d(-GAP / 2, width - GAP / 2),
            y_range=Range1d(-GAP / 2, TILE + LABEL),
            tools="save",
            toolbar_location=None,
            name=name,
            visible=False,
            **AXES_OFF,
        )
        mapper = LinearColorMapper(palette="Inferno256", low=0.0, high=1.0)
        fig.image("image", x="x", y="y", dw=TILE, dh=TILE, source=self.source, color_mapper=mapper)
        fig.text("tx", "ty", text="title", source=self.source, text_font_size="11px", text_baseline="bottom")
        lean(fig)
        fig.outline_line_color = None
        fig.min_border = 0
        self.figure = fig
        self.source.syncable = False  # drawn only: nothing to send back
        self.placeholder = pn.pane.Markdown("")
        self.head = pn.pane.Markdown("", sizing_mode="stretch_width")

    def show(self, images: list[np.ndarray], titles: list[str], head: str) -> None:
        """Replace every tile at once (from any thread)."""
        n = len(images)
        x, y = tile_positions(n)
        rows = max(1, -(-n // COLUMNS))
        data = {
            "image": [np.ascontiguousarray(np.asarray(im, np.float32)) for im in images],
            "x": x.tolist(),
            "y": y.tolist(),
            "tx": x.tolist(),
            "ty": (y + TILE + 1).tolist(),
            "title": list(titles),
        }
        top = rows * (TILE + GAP + LABEL) - GAP

        def push():
            self.source.data = data
            self.figure.y_range.update(start=-GAP / 2, end=top)
            self.figure.update(height=int((top + GAP / 2) * PX), visible=True)

        on_session(push, self.figure)
        self.head.object = head
        self.placeholder.visible = False

    def empty(self, text: str) -> None:
        self.placeholder.object, self.placeholder.visible = text, True

    def layout(self) -> pn.viewable.Viewable:
        return pn.Column(self.placeholder, self.head, pn.pane.Bokeh(self.figure), sizing_mode="stretch_width")
