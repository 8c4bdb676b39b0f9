"""A 64×64 image plot built once and updated in place: one Bokeh figure, its data source, colour
mapper and colorbar.  A frame change swaps the array and the colour limits (a few kB over the
websocket), never rebuilds the figure: that is what makes scrubbing and Play smooth.

The mouse wheel scrolls the page (no wheel-zoom tool); pan and box zoom stay in the toolbar.
"""

from __future__ import annotations

import numpy as np
from bokeh.models import ColorBar, ColumnDataSource, Label, LinearColorMapper
from bokeh.palettes import RdBu11, gray
from bokeh.plotting import figure

from .session import on_session

TOOLS = "pan,box_zoom,reset,save"
PALETTES = {"gray": gray(256), "diverging": list(RdBu11), "inferno": "Inferno256"}


class ImagePanel:
    def __init__(self, title: str, palette: str = "gray", name: str | None = None, size: int = 64, width=290):
        self.size = size
        self.mapper = LinearColorMapper(palette=PALETTES[palette], low=-1.0, high=1.0)
        self.source = ColumnDataSource({"image": [np.zeros((size, size), np.float32)]}, name=name)
        fig = figure(
            x_range=(0, size),
            y_range=(0, size),
            width=width,
            height=width - 30,
            tools=TOOLS,
            toolbar_location=None,
            title=title,
            name=f"{name}_figure" if name else None,
        )
        fig.image("image", x=0, y=0, dw=size, dh=size, source=self.source, color_mapper=self.mapper)
        fig.add_layout(ColorBar(color_mapper=self.mapper, width=10, padding=2), "right")
        fig.axis.visible = False
        fig.grid.visible = False
        fig.min_border = 2
        fig.min_border_right = 44  # room for the widest colour-bar label ("−0.015"), which was clipped
        # per-frame words drawn on the canvas: changing a title or a Div re-lays out the page
        # (≈ 80 and 300+ ms a frame in headless Chromium), a canvas label only repaints
        self.corner = Label(
            x=4,
            y=4,
            x_units="screen",
            y_units="screen",
            text="",
            text_font_size="11px",
            text_color="white",
            background_fill_color="black",
            background_fill_alpha=0.6,
        )
        fig.add_layout(self.corner)
        self.figure = fig
        # drawn from the server or by the browser's frame player: never sent back per frame
        for m in (self.source, self.mapper, self.corner):
            m.syncable = False

    def update(self, image: np.ndarray, low: float, high: float, title: str | None = None) -> None:
        """Show ``image`` (rows = y, row 0 at the bottom) with colour limits low…high."""
        img = np.ascontiguousarray(image, np.float32)
        low, high = float(low), float(high)
        if high <= low:
            high = low + 1e-6

        def push():
            self.source.data = {"image": [img]}
            self.mapper.update(low=low, high=high)
            if title is not None:
                self.figure.title.text = title

        on_session(push, self.figure)
