"""A 64×64 image plot built once and updated in place: one Bokeh figure, its data source, colour
mapper and colorbar.  A frame change swaps the array and the colour limits (a few kB over the
websocket), never rebuilds the figure: that is what makes scrubbing and Play smooth.

The mouse wheel scrolls the page (no wheel-zoom tool); pan and box zoom stay in the toolbar.
"""

from __future__ import annotations

import numpy as np
from bokeh.models import ColorBar, ColumnDataSource, CustomJSTickFormatter, Label, LinearColorMapper
from bokeh.palettes import RdBu11, gray
from bokeh.plotting import figure

from .colorbars import swap_colorbar
from .jobs import on_session
from .lean_bokeh import AXES_OFF, lean

TOOLS = "pan,box_zoom,reset,save"
#: colour-bar labels of at most 7 characters ("−0.015", "−2.5e-3", "4"), so no frame changes width
_SHORT_TICK = """
if (tick === 0) return '0';
const a = Math.abs(tick);
if (a < 0.01 || a >= 1e4) return tick.toExponential(1).replace('.0e', 'e').replace('e+', 'e');
return String(Number(tick.toPrecision(3)));
"""
PALETTES = {"gray": gray(256), "diverging": list(RdBu11), "inferno": "Inferno256"}
#: the plot area behind an image not made yet: a neutral grey, never a colour of the map
EMPTY_FILL = "#eeeeee"


def centred_label(
    size: float, text: str = "", font_size: str = "13px", color: str = "#555555", **kw
) -> Label:
    """A grey note in the middle of a ``size``-square image figure (what an empty panel says)."""
    return Label(
        x=size / 2,
        y=size / 2,
        text=text,
        text_align="center",
        text_baseline="middle",
        text_font_size=font_size,
        text_color=color,
        **kw,
    )


class ImagePanel:
    def __init__(self, title: str, palette: str = "gray", name: str | None = None, size: int = 64, width=290):
        self.size, self.title = size, title
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
            background_fill_color=EMPTY_FILL,
            **AXES_OFF,
        )
        self.renderer = fig.image(
            "image", x=0, y=0, dw=size, dh=size, source=self.source, color_mapper=self.mapper
        )
        # small values as 6e-3, never "−0.00" cut off at the edge nor "6.000e-3" (x̂0 − x_t late in a run)
        formatter = self._plain_ticks = CustomJSTickFormatter(code=_SHORT_TICK)
        self.colorbar = ColorBar(color_mapper=self.mapper, width=10, padding=2, formatter=formatter)
        fig.add_layout(self.colorbar, "right")
        lean(fig)
        fig.min_border = 2
        # room for the widest colour-bar label ("−0.015", "−5e-3"): a label that did not fit clipped,
        # and one that changed the frame's width re-laid out the page on every frame of a play
        fig.min_border_right = 60
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
        # what makes the image, said in the middle of an empty panel (see show_empty)
        self.hint = centred_label(size)
        fig.add_layout(self.hint)
        self.figure = fig
        # drawn from the server or by the browser's frame player: never sent back per frame
        for m in (self.source, self.mapper, self.corner):
            m.syncable = False

    @property
    def empty(self) -> bool:
        """No image shown: the panel is blank and says what makes one."""
        return not self.renderer.visible

    def show_empty(self, hint: str) -> None:
        """Nothing to show yet: a blank grey square saying ``hint`` (the button that makes the
        image), no colour bar.  An all-zero placeholder read as a picture: on the inferno map
        it was a strong crimson square before the run it stands for was made."""

        def push():
            self.renderer.visible = self.colorbar.visible = False
            self.hint.text = hint
            self.corner.text = ""
            self.figure.title.text = self.title

        on_session(push, self.figure)

    def show_image(self) -> None:
        """The image again (the browser's frame player fills it; :meth:`update` shows it too)."""

        def push():
            self.renderer.visible = self.colorbar.visible = True
            self.hint.text = ""

        on_session(push, self.figure)

    def label_levels(self, colorbar: dict | None, palette: str = "gray", how: str = "") -> None:
        """Show display levels (a stretch, 0…1) with the colorbar ticked in data units (``colorbar``:
        ticker, formatter and title, as ``sky.colorbar_opts`` gives; the units go in the plot's
        title with ``how``, the bar has no room); None: plain values again."""
        opts = {"ticker": "auto", "formatter": self._plain_ticks, **(colorbar or {})}
        unit = opts.pop("title", None)
        title = f"{self.title} ({unit}{', ' + how if how else ''})" if unit else self.title

        def push():
            self.colorbar = swap_colorbar(self.figure, self.colorbar, **opts)  # see colorbars.py
            self.mapper.palette = PALETTES[palette]
            self.figure.title.text = title

        on_session(push, self.figure)

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
        self.show_image()
