"""A 64×64 segmentation-mask canvas: freehand strokes and polygons, each with a class.

Drawing happens in the browser with Bokeh's FreehandDrawTool / PolyDrawTool; every shape keeps
its class in a ``cls`` column (the tools' ``default_overrides`` give it the class chosen when
the shape is drawn), and the mask is re-rasterised from all shapes on every change.  Undo removes
the most recent shape; Clear removes all; a mask can also be loaded from a file or derived
from a field (both replace the drawing with a fixed base layer under it).

The shapes, their order and the mask are held in :class:`MaskDrawing`, a param object with no
Bokeh or widget in it; :class:`MaskCanvas` is the view that keeps it and the browser in step.
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
from .jobs import on_session

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


TOOLS = {"poly": "polygon", "free": "freehand"}  # each tool's shapes, painted in this order (strokes on top)


def _plain(data) -> dict:
    """A shape source's columns as plain nested lists (the browser may send arrays)."""
    conv = lambda v: np.asarray(v).tolist() if not isinstance(v, str) else v  # noqa: E731
    return {k: [conv(v) for v in vals] for k, vals in data.items()}


def _no_shapes() -> dict:
    return {"xs": [], "ys": [], "cls": []}


class MaskDrawing(param.Parameterized):
    """The drawing as data, apart from Bokeh and the widgets (so it can be tested without either).

    Each tool's shapes are held as the columns its browser source has; every change assigns new
    objects, never mutates in place, so param sees it and the mask is rasterised again.
    """

    free = param.Dict(default={}, doc="Freehand strokes: xs, ys and cls columns, as the browser has them")
    poly = param.Dict(default={}, doc="Polygons: xs, ys and cls columns, as the browser has them")
    history = param.List(default=[], doc="Which tool drew each shape still there, oldest first (for Undo)")
    base = param.Array(
        default=np.zeros((SIZE, SIZE), np.int64), doc="A loaded or derived mask under the shapes"
    )
    mask = param.Array(
        default=np.zeros((SIZE, SIZE), np.int64), doc="Class indices (0 background … 3 diffuse)"
    )
    counts = param.Dict(default={}, doc="Pixels of each drawable class in the mask")

    def __init__(self, **params):
        params.setdefault("free", _no_shapes())
        params.setdefault("poly", _no_shapes())
        super().__init__(**params)
        self._rasterise()

    @param.depends("free", "poly", "base", watch=True)
    def _rasterise(self):
        m = np.asarray(self.base, np.int64).copy()
        for tool, kind in TOOLS.items():
            d = getattr(self, tool)
            for xs, ys, cls in zip(d["xs"], d["ys"], d["cls"], strict=True):
                if cls in MASK_CLASSES:
                    m[rasterize_shape(xs, ys, kind)] = MASK_CLASSES.index(cls)
        self.param.update(mask=m, counts={c: int((m == i).sum()) for i, c in enumerate(MASK_CLASSES) if i})

    def replace(self, tool: str, columns: dict) -> bool:
        """A tool's shapes as they are now (drawn, moved or deleted in the browser); False when
        nothing changed (our own change coming back)."""
        columns = _plain(columns)
        old = getattr(self, tool)
        if columns == old:
            return False
        history, n_old, n = list(self.history), len(old["xs"]), len(columns["xs"])
        history += [tool] * (n - n_old)
        for _ in range(n_old - n):  # deleted in the browser: forget this tool's latest shapes
            if tool in history:
                del history[len(history) - 1 - history[::-1].index(tool)]
        self.param.update({tool: columns, "history": history})
        return True

    def add(self, tool: str, xs, ys, cls: str) -> None:
        """One more shape from ``tool`` ('free' or 'poly')."""
        old = getattr(self, tool)
        self.replace(
            tool, {"xs": [*old["xs"], list(xs)], "ys": [*old["ys"], list(ys)], "cls": [*old["cls"], cls]}
        )

    def undo(self) -> str | None:
        """Remove the most recent shape; the tool it came from, or None when there was none."""
        if not self.history:
            return None
        tool = self.history[-1]
        old = getattr(self, tool)
        self.param.update({tool: {k: list(v)[:-1] for k, v in old.items()}, "history": self.history[:-1]})
        return tool

    def clear(self) -> None:
        """No shapes and no base layer."""
        self.param.update(
            free=_no_shapes(), poly=_no_shapes(), history=[], base=np.zeros((SIZE, SIZE), np.int64)
        )


#: the summary of a mask with no pixel of any class (cleared, undone, or never drawn)
EMPTY_MASK = "no mask drawn (empty)"


def mask_words(counts: dict[str, int]) -> str:
    """The summary's words for a mask's pixels per class: "compact 12 px · extended 0 px · …",
    or :data:`EMPTY_MASK` when none has any ("compact 0 px · extended 0 px · diffuse 0 px" read
    like a drawing that came out empty, not like no drawing)."""
    if not any(counts.values()):
        return EMPTY_MASK
    return " · ".join(f"{c} {n} px" for c, n in counts.items())


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
        self.drawing = MaskDrawing()
        self.free = ColumnDataSource(_no_shapes())
        self.poly = ColumnDataSource(_no_shapes())
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
        # the class goes in default_overrides: BokehJS pads a new shape's cls with the value it
        # infers from the column ("" once it holds a string) before it looks at empty_value, so
        # empty_value labelled only the first shape in an empty source
        self.free_tool = FreehandDrawTool(
            renderers=[r_free], default_overrides={"cls": self.draw_class}, description="Freehand stroke"
        )
        self.poly_tool = PolyDrawTool(
            renderers=[r_poly],
            default_overrides={"cls": self.draw_class},
            # Bokeh 3 starts and ends a polygon on a press (hold); a double tap does nothing
            description="Polygon: press and hold to start, tap each corner, press and hold to finish",
        )
        fig.add_tools(self.free_tool, self.poly_tool)
        fig.toolbar.active_drag = self.free_tool
        fig.background_fill_color = "#111111"
        fig.grid.visible = False
        self.figure = fig
        self._tool_class = self.draw_class  # the class the browser's tools give a new shape
        self._mask_words = mask_words(self.drawing.counts)
        self.summary = pn.pane.Markdown(self._summary_text())
        self.drawing.param.watch(self._mask_changed, "mask")
        self.free.on_change("data", lambda attr, old, new: self._from_browser("free"))
        self.poly.on_change("data", lambda attr, old, new: self._from_browser("poly"))

    @staticmethod
    def _rgba(mask: np.ndarray) -> np.ndarray:
        rgba = np.zeros(mask.shape + (4,), np.uint8)
        for k, c in COLOURS.items():
            rgba[mask == k] = c
        return rgba.view(np.uint32).reshape(mask.shape)

    def _summary_text(self) -> str:
        return f"mask: {self._mask_words} · next stroke: {self._tool_class}"

    @param.depends("draw_class", watch=True)
    def _class_changed(self):
        cls = self.draw_class

        def push():
            self.free_tool.default_overrides = {"cls": cls}
            self.poly_tool.default_overrides = {"cls": cls}
            self._tool_class = cls  # told after the tools, so "next stroke" is true once shown
            self.summary.object = self._summary_text()

        on_session(push, self.figure)

    def _source(self, tool: str) -> ColumnDataSource:
        return self.free if tool == "free" else self.poly

    def _from_browser(self, tool: str):
        """A shape drawn, moved or deleted in the browser (runs on the session's thread)."""
        columns = _plain(self._source(tool).data)
        missing = len(columns["xs"]) - len(columns.get("cls", []))
        if missing > 0:  # a tool that left the class out: the current one
            columns["cls"] = list(columns.get("cls", [])) + [self.draw_class] * missing
        if self.drawing.replace(tool, columns) and missing > 0:
            self._push(tool)

    def _push(self, tool: str) -> None:
        """The browser's source set to the drawing's shapes as they are when this runs."""
        src, columns = self._source(tool), getattr(self.drawing, tool)
        if _plain(src.data) != columns:
            src.data = {k: list(v) for k, v in columns.items()}

    def _mask_changed(self, event):
        m = event.new
        rgba = self._rgba(m)
        on_session(lambda: setattr(self.image, "data", {"image": [rgba]}), self.figure)
        self.mask = m
        self._mask_words = mask_words(self.drawing.counts)
        self.summary.object = self._summary_text()

    def _on_drawing(self, change) -> None:
        """Change the drawing on the session's thread, where the browser's shapes arrive (so the
        two never interleave), then send the browser the shapes it changed."""

        def run():
            before = {t: getattr(self.drawing, t) for t in TOOLS}
            change()
            for tool in TOOLS:
                if getattr(self.drawing, tool) is not before[tool]:
                    self._push(tool)

        on_session(run, self.figure)

    def add_shape(self, kind: str, xs, ys, cls: str | None = None) -> None:
        """Add a shape from Python (tests, notebooks): kind 'freehand' or 'polygon'."""
        tool = {k: t for t, k in TOOLS.items()}[kind]
        cls = cls or self.draw_class
        self._on_drawing(lambda: self.drawing.add(tool, xs, ys, cls))

    @param.depends("undo", watch=True)
    def _undo(self):
        self._on_drawing(self.drawing.undo)

    @param.depends("clear", watch=True)
    def _clear(self):
        self._on_drawing(self.drawing.clear)

    def set_base(self, mask: np.ndarray) -> None:
        """Use a loaded or derived mask (rows = y) as the layer under the drawing."""
        base = np.asarray(mask, np.int64).copy()
        self._on_drawing(lambda: setattr(self.drawing, "base", base))

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
