"""The Fields tab's sky plot as one plain Bokeh figure.  Every layer (image, RGB, contours, score
map, candidates, selection, catalogue, beam, scale bar) has its own ``ColumnDataSource`` whose
data is replaced in place; nothing is re-rendered and nothing schedules itself, so a closed
page's session ends on time (a HoloViews DynamicMap here re-queued ``plot.refresh`` forever).

Plots are in pixel coordinates (pixel i spans [i, i+1]) with equal data units per screen pixel
on both axes; the RA/Dec axes come from ``sky.sky_axes``.  Changes made from a worker thread are
handed to the session's thread (Bokeh models may change only there)."""

from __future__ import annotations

import numpy as np
from bokeh.models import (
    BoxZoomTool,
    ColorBar,
    ColumnDataSource,
    CustomJS,
    CustomJSHover,
    DataRange1d,
    FixedTicker,
    HoverTool,
    LinearColorMapper,
)
from bokeh.plotting import figure

from .colorbars import swap_colorbar
from .jobs import on_session
from .lean_bokeh import lean

FRAME = 520  # screen pixels across the longer side of the field
HALO = "#000000"  # outline under the white beam, scale bar and its label

_RA_CODE = """const v = ((value % 360) + 360) % 360 / 15;
    const h = Math.floor(v), m = Math.floor((v - h) * 60);
    const s = ((v - h) * 60 - m) * 60; const p = (n) => String(n).padStart(2, '0');
    return `${h}h${p(m)}m${s.toFixed(1).padStart(4, '0')}s (${value.toFixed(4)}°)`;"""
_DEC_CODE = """const a = Math.abs(value), d = Math.floor(a), m = Math.floor((a - d) * 60);
    const s = ((a - d) * 60 - m) * 60; const p = (n) => String(n).padStart(2, '0');
    return `${value < 0 ? '−' : '+'}${d}°${p(m)}′${p(s.toFixed(0))}″ (${value.toFixed(4)}°)`;"""


def sky_formatters() -> dict:
    """Hover formatters for RA and Dec (new models for each figure: a Bokeh model belongs to one
    document, i.e. one browser session)."""
    return {"@ra": CustomJSHover(code=_RA_CODE), "@dec": CustomJSHover(code=_DEC_CODE)}


SKY_TOOLTIPS = [("RA", "@ra{custom}"), ("Dec", "@dec{custom}"), ("value", "@flux{0.0000} Jy/beam")]


def set_data(src: ColumnDataSource, data: dict) -> None:
    on_session(lambda: setattr(src, "data", data), src)


def empty_image(name: str = "level") -> dict:
    z = np.full((1, 1), np.nan, np.float32)
    return {name: [z], "flux": [z], "ra": [z], "dec": [z], "x": [0.0], "y": [0.0], "dw": [1.0], "dh": [1.0]}


def _empty_rgba() -> dict:
    return {"image": [np.zeros((1, 1), np.uint32)], "x": [0.0], "y": [0.0], "dw": [1.0], "dh": [1.0]}


def rgba_image(chans: list[np.ndarray]) -> np.ndarray:
    """Three [0, 1] planes → Bokeh's packed RGBA (uint32, row 0 at the bottom)."""
    rgb = [np.clip(np.nan_to_num(c), 0, 1) * 255 for c in chans]
    r, g, b = (c.astype(np.uint32) for c in rgb)
    return (255 << 24 | b << 16 | g << 8 | r).astype(np.uint32)


class SkyFigure:
    """One field plot; the FieldsView sets its layers' data and never rebuilds it."""

    def __init__(self, palette: list[str]):
        self.mapper = LinearColorMapper(palette=palette, low=0, high=1, nan_color=(0, 0, 0, 0))
        f = figure(
            frame_width=FRAME,
            frame_height=FRAME,
            x_range=DataRange1d(range_padding=0),
            y_range=DataRange1d(range_padding=0),
            match_aspect=True,  # square pixels whatever room the colorbar and axes take from the frame
            tools="pan,wheel_zoom,reset,save",
            active_scroll="wheel_zoom",
            toolbar_location="above",
            min_border_left=70,
            name="sky",
        )
        f.width = f.height = None  # the frame sets the size (a fixed width would squeeze it)
        f.add_tools(BoxZoomTool(match_aspect=True))  # a drawn box keeps pixels square
        f.xaxis.axis_label, f.yaxis.axis_label = "RA (J2000)", "Dec (J2000)"
        f.grid.grid_line_alpha = 0.25
        self.fig = f
        self.image = ColumnDataSource(empty_image(), name="sky_image")
        self.rgb = ColumnDataSource(_empty_rgba())
        self.contours = ColumnDataSource({"xs": [], "ys": []})
        self.score = ColumnDataSource({"image": [np.full((1, 1), np.nan, np.float32)], **_at(0, 0, 1, 1)})
        self.candidates = ColumnDataSource(
            {"x": [], "y": [], "score": [], "candidate": [], "colour": [], "kind": []}
        )
        self.selected = ColumnDataSource({"x": [], "y": []})
        self.catalogue = ColumnDataSource({"x": [], "y": [], "name": [], "ra": [], "dec": []})
        self.beam = ColumnDataSource({"xs": [[]], "ys": [[]]})
        self.bar = ColumnDataSource({"xs": [[]], "ys": [[]]})
        self.bar_text = ColumnDataSource({"x": [], "y": [], "text": []})
        img = f.image(
            image="level", x="x", y="y", dw="dw", dh="dh", source=self.image, color_mapper=self.mapper
        )
        self.image_renderer = img
        self.rgb_renderer = f.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=self.rgb)
        self.rgb_renderer.visible = False
        for r in (f.x_range, f.y_range):  # the field's pixels, not the overlays, set the view
            r.renderers = [img, self.rgb_renderer]
        # white contours with a dark edge, so they show on the bright end of every colour map
        f.multi_line("xs", "ys", source=self.contours, line_color="black", line_width=2.2, line_alpha=0.6)
        f.multi_line("xs", "ys", source=self.contours, line_color="white", line_width=0.8)
        greens = LinearColorMapper(
            palette=_greens(), low=0, high=1, nan_color=(0, 0, 0, 0)
        )  # the score map above the threshold
        f.image(
            image="image",
            x="x",
            y="y",
            dw="dw",
            dh="dh",
            source=self.score,
            color_mapper=greens,
            global_alpha=0.55,
        )
        cand = f.scatter(
            "x", "y", source=self.candidates, size=12, fill_alpha=0, line_color="colour", line_width=2
        )
        f.scatter(
            "x",
            "y",
            source=self.selected,
            size=28,
            marker="square",
            fill_alpha=0,
            line_color="yellow",
            line_width=3,
        )
        cat = f.scatter(
            "x",
            "y",
            source=self.catalogue,
            size=14,
            marker="diamond",
            fill_alpha=0,
            line_color="lime",
            line_width=2,
        )
        # beam and scale bar: white on a dark halo, seen on every colormap (dark or light sky)
        f.patches("xs", "ys", source=self.beam, fill_alpha=0, line_color=HALO, line_width=5, line_alpha=0.8)
        f.patches("xs", "ys", source=self.beam, fill_alpha=0, line_color="white", line_width=2)
        f.multi_line("xs", "ys", source=self.bar, line_color=HALO, line_width=6, line_alpha=0.8)
        f.multi_line("xs", "ys", source=self.bar, line_color="white", line_width=3)
        f.text(
            "x",
            "y",
            text="text",
            source=self.bar_text,
            text_color="white",
            text_font_size="11pt",
            text_align="center",
            background_fill_color=HALO,
            background_fill_alpha=0.6,
            padding=2,
        )
        f.add_tools(
            HoverTool(renderers=[img], tooltips=SKY_TOOLTIPS, formatters=sky_formatters()),
            HoverTool(
                renderers=[cand],
                tooltips=[("candidate", "@candidate"), ("score", "@score{0.000}"), ("class", "@kind")],
            ),
            HoverTool(
                renderers=[cat],
                tooltips=[("catalogue", "@name"), ("RA", "@ra{custom}"), ("Dec", "@dec{custom}")],
                formatters=sky_formatters(),
            ),
        )
        self.colorbar = ColorBar(color_mapper=self.mapper, ticker=FixedTicker(ticks=[]), width=14)
        f.add_layout(self.colorbar, "right")
        lean(f)
        self.shape: tuple[int, int] | None = None
        self.field_count = 0  # fields opened: a change of the figure's tags resets its view
        f.js_on_change("tags", CustomJS(args={"plot": f}, code="plot.reset.emit()"))

    # every setter below may be called from any thread

    def set_field(self, shape: tuple[int, int], axes: dict | None) -> None:
        """A new field: a frame of the field's shape (the ranges follow its image), RA/Dec axes."""
        ny, nx = shape
        self.shape = (ny, nx)
        self.field_count += 1
        fw, fh = (FRAME, max(120, round(FRAME * ny / nx))) if nx >= ny else (round(FRAME * nx / ny), FRAME)

        def apply():
            f = self.fig
            f.frame_width, f.frame_height = fw, fh
            # the whole new field in view, as the Reset tool does: a range the user zoomed or panned
            # stops following the data and kept the last field's window (walk 18: 30″ of RA of the
            # next field).  Reset in the browser, not ranges from here: match_aspect keeps pixels
            # square only on ranges the browser computes for the frame it really has.
            f.tags = [self.field_count]
            if axes:
                for key, axis_list, grids in (("x", f.xaxis, f.xgrid), ("y", f.yaxis, f.ygrid)):
                    ticker, formatter = axes[key]
                    for a in axis_list:
                        a.ticker, a.formatter = ticker, formatter
                    for g in grids:
                        g.ticker = ticker

        on_session(apply, self.fig)

    def set_image(self, data: dict, colorbar: dict | None, rgb: dict | None = None) -> None:
        """The band image (display levels plus Jy/beam, RA, Dec for the hover), or an RGB image
        in its place; with the colorbar's ticks and title in Jy/beam."""

        def apply():
            self.image.data = data
            self.image_renderer.visible = rgb is None
            self.rgb_renderer.visible = rgb is not None
            if rgb is not None:
                self.rgb.data = rgb
            self.colorbar.visible = colorbar is not None and rgb is None
            if colorbar:
                self.colorbar = swap_colorbar(self.fig, self.colorbar, **colorbar)  # see colorbars.py

        on_session(apply, self.fig)

    def set_palette(self, palette: list[str]) -> None:
        on_session(lambda: setattr(self.mapper, "palette", palette), self.fig)


def _at(x: float, y: float, dw: float, dh: float) -> dict:
    return {"x": [float(x)], "y": [float(y)], "dw": [float(dw)], "dh": [float(dh)]}


def image_at(x: float, y: float, dw: float, dh: float) -> dict:
    """Where an image source's one image lies, in plot pixels."""
    return _at(x, y, dw, dh)


def _greens() -> list[str]:
    from bokeh.palettes import Greens256

    return list(Greens256[::-1][64:])


def ellipse_path(cx: float, cy: float, a: float, b: float, angle_deg: float, n: int = 64):
    """(xs, ys) of a closed ellipse: semi-axes ``a`` (major, along +y at angle 0) and ``b``."""
    t = np.linspace(0, 2 * np.pi, n)
    th = np.deg2rad(angle_deg)
    x, y = b * np.cos(t), a * np.sin(t)
    return (cx + x * np.cos(th) - y * np.sin(th)).tolist(), (cy + x * np.sin(th) + y * np.cos(th)).tolist()


def contour_paths(plane: np.ndarray, levels: list[float]) -> dict:
    """Contour lines of a plane at ``levels`` in plot pixels (pixel centres at i + 0.5)."""
    from skimage.measure import find_contours

    xs, ys = [], []
    data = np.nan_to_num(plane)
    for lev in levels:
        for c in find_contours(data, lev):
            if len(c) >= 3:
                ys.append((c[:, 0] + 0.5).tolist())
                xs.append((c[:, 1] + 0.5).tolist())
    return {"xs": xs, "ys": ys}
