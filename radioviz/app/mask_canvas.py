"""A 64×64 segmentation-mask canvas: freehand strokes and polygons, each with a class.

Drawing happens in the browser with Bokeh's FreehandDrawTool / PolyDrawTool; every shape keeps
its class in a ``cls`` column (the tools' ``empty_value`` is set to the class chosen when the
shape is drawn), and the mask is re-rasterised from all shapes on every change.  Undo removes
the most recent shape; Clear removes all; a mask can also be loaded from a file or derived
from a field (both replace the drawing with a fixed base layer under it).
"""

from __future__ import annotations

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, FreehandDrawTool, PolyDrawTool
from bokeh.plotting import figure
from scipy import ndimage
from skimage.draw import line, polygon

from ..data.conditions import MASK_CLASSES

SIZE = 64
COLOURS = {0: (0, 0, 0, 0), 1: (80, 170, 255, 200), 2: (255, 170, 40, 200), 3: (120, 230, 120, 200)}
DRAW_CLASSES = MASK_CLASSES[1:]


def rasterize_shape(xs, ys, kind: str, size: int = SIZE, brush: float = 1.5) -> np.ndarray:
    """Boolean (size, size) footprint of a polygon (filled) or a freehand stroke (a brush line,
    filled when it closes on itself) given in pixel coordinates (x right, y up)."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    out = np.zeros((size, size), bool)
    if len(xs) == 0:
        return out
    closed = len(xs) >= 3 and np.hypot(xs[0] - xs[-1], ys[0] - ys[-1]) <= 4
    if kind == "polygon" or closed:
        if len(xs) >= 3:
            rr, cc = polygon(ys, xs, (size, size))
            out[rr, cc] = True
    if kind == "freehand":
        for x0, y0, x1, y1 in zip(xs[:-1], ys[:-1], xs[1:], ys[1:], strict=True):
            rr, cc = line(int(round(y0)), int(round(x0)), int(round(y1)), int(round(x1)))
            ok = (rr >= 0) & (rr < size) & (cc >= 0) & (cc < size)
            out[rr[ok], cc[ok]] = True
        if len(xs) == 1 and 0 <= int(ys[0]) < size and 0 <= int(xs[0]) < size:
            out[int(ys[0]), int(xs[0])] = True
        out = ndimage.binary_dilation(out, iterations=max(1, int(round(brush))))
    return out


class MaskCanvas(pn.viewable.Viewer):
    draw_class = param.Selector(
        default="diffuse", objects=list(DRAW_CLASSES), doc="Class of the next stroke or polygon"
    )
    mask = param.Array(
        default=np.zeros((SIZE, SIZE), np.int64), doc="Class indices (0 background … 3 diffuse)"
    )
    undo = param.Event()
    clear = param.Event()

    def __init__(self, **params):
        super().__init__(**params)
        self.base = np.zeros((SIZE, SIZE), np.int64)  # a loaded or derived mask under the drawing
        self.history: list[str] = []  # which source got each new shape, for undo
        self.free = ColumnDataSource({"xs": [], "ys": [], "cls": []})
        self.poly = ColumnDataSource({"xs": [], "ys": [], "cls": []})
        self.image = ColumnDataSource({"image": [self._rgba(self.mask)]})
        fig = figure(
            x_range=(0, SIZE),
            y_range=(0, SIZE),
            width=340,
            height=340,
            tools="",
            toolbar_location="right",
            title="mask (64×64): draw strokes or polygons",
        )
        fig.image_rgba("image", x=0, y=0, dw=SIZE, dh=SIZE, source=self.image)
        r_free = fig.multi_line(
            "xs", "ys", source=self.free, line_width=3, line_color="white", line_alpha=0.6
        )
        r_poly = fig.patches(
            "xs", "ys", source=self.poly, fill_alpha=0.15, fill_color="white", line_color="white"
        )
        self.free_tool = FreehandDrawTool(
            renderers=[r_free], empty_value=self.draw_class, description="Freehand stroke"
        )
        self.poly_tool = PolyDrawTool(
            renderers=[r_poly],
            empty_value=self.draw_class,
            description="Polygon: tap vertices, double-tap to finish",
        )
        fig.add_tools(self.free_tool, self.poly_tool)
        fig.toolbar.active_drag = self.free_tool
        fig.background_fill_color = "#111111"
        fig.grid.visible = False
        self.figure = fig
        self._counts = {"free": 0, "poly": 0}
        self.summary = pn.pane.Markdown("mask: empty (draw on the canvas)")
        self.free.on_change("data", lambda attr, old, new: self._changed("free"))
        self.poly.on_change("data", lambda attr, old, new: self._changed("poly"))

    @staticmethod
    def _rgba(mask: np.ndarray) -> np.ndarray:
        rgba = np.zeros(mask.shape + (4,), np.uint8)
        for k, c in COLOURS.items():
            rgba[mask == k] = c
        return rgba.view(np.uint32).reshape(mask.shape)

    @param.depends("draw_class", watch=True)
    def _class_changed(self):
        self.free_tool.empty_value = self.draw_class
        self.poly_tool.empty_value = self.draw_class

    def _source(self, name: str) -> ColumnDataSource:
        return self.free if name == "free" else self.poly

    def _changed(self, name: str):
        src = self._source(name)
        n = len(src.data["xs"])
        cls = list(src.data.get("cls", []))
        if len(cls) < n:  # a tool without empty_value support: label new shapes with the current class
            src.data["cls"] = cls + [self.draw_class] * (n - len(cls))
            return
        if n > self._counts[name]:
            self.history.extend([name] * (n - self._counts[name]))
        self._counts[name] = n
        self._render()

    def add_shape(self, kind: str, xs, ys, cls: str | None = None) -> None:
        """Add a shape from Python (tests, notebooks): kind 'freehand' or 'polygon'."""
        name = "free" if kind == "freehand" else "poly"
        src = self._source(name)
        data = {k: list(v) for k, v in src.data.items()}
        data["xs"].append(list(xs))
        data["ys"].append(list(ys))
        data["cls"].append(cls or self.draw_class)
        src.data = data

    def _render(self):
        m = self.base.copy()
        for name, kind in (("poly", "polygon"), ("free", "freehand")):
            d = self._source(name).data
            for xs, ys, cls in zip(d["xs"], d["ys"], d["cls"], strict=True):
                if cls in MASK_CLASSES:
                    m[rasterize_shape(xs, ys, kind)] = MASK_CLASSES.index(cls)
        self.image.data = {"image": [self._rgba(m)]}
        self.mask = m
        self.summary.object = "mask: " + " · ".join(
            f"{c} {int((m == i).sum())} px" for i, c in enumerate(MASK_CLASSES) if i
        )

    @param.depends("undo", watch=True)
    def _undo(self):
        if not self.history:
            return
        name = self.history.pop()
        src = self._source(name)
        data = {k: list(v)[:-1] for k, v in src.data.items()}
        self._counts[name] = len(data["xs"])
        src.data = data
        self._render()

    @param.depends("clear", watch=True)
    def _clear(self):
        self.history.clear()
        self.base = np.zeros((SIZE, SIZE), np.int64)
        self._counts = {"free": 0, "poly": 0}
        self.free.data = {"xs": [], "ys": [], "cls": []}
        self.poly.data = {"xs": [], "ys": [], "cls": []}
        self._render()

    def set_base(self, mask: np.ndarray) -> None:
        """Use a loaded or derived mask (rows = y) as the layer under the drawing."""
        self.base = np.asarray(mask, np.int64).copy()
        self._render()

    def __panel__(self):
        legend = " · ".join(
            f"<span style='color:rgb{COLOURS[i][:3]}'>■</span> {c}" for i, c in enumerate(MASK_CLASSES) if i
        )
        return pn.Column(
            pn.pane.Bokeh(self.figure),
            pn.pane.HTML(legend),
            self.summary,
            pn.widgets.RadioButtonGroup.from_param(self.param.draw_class, color="default"),
            pn.Row(
                pn.widgets.Button.from_param(self.param.undo, label="Undo"),
                pn.widgets.Button.from_param(self.param.clear, label="Clear"),
            ),
        )
