"""The Fields view: pick a field (bundled sample or a GLEAM-layout folder), see it band by band."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the renderer the opts below need)
import numpy as np
import panel as pn
import param

from ..data.noise import estimate_noise
from ..display import STRETCHES, stretch_image
from ..errors import InputError
from ..io.layout import SourceFiles, SourceStack, discover, read_stack

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "sample_data"


@lru_cache(maxsize=8)
def _sources(root: str) -> tuple[SourceFiles, ...]:
    """Sources under a folder, listed once per process (read-only, shared across sessions)."""
    return tuple(discover(root))


@lru_cache(maxsize=32)
def _stack(root: str, name: str) -> SourceStack:
    src = next(s for s in _sources(root) if s.name == name)
    return read_stack(src)


class FieldBrowser(pn.viewable.Viewer):
    """Browse a folder of fields; each band on its native grid with a chosen stretch and colormap."""

    data_dir = param.String(default=str(DEFAULT_DATA), doc="Folder of FITS files or a <SPLIT>_DATA_<class> root")
    field = param.Selector(default=None, objects=[], doc="Source/field to show")
    stretch = param.Selector(default="asinh", objects=list(STRETCHES))
    percentile = param.Number(default=99.5, bounds=(90, 100), step=0.1)
    cmap = param.Selector(default="inferno", objects=["inferno", "viridis", "gray", "magma", "cividis"])
    message = param.String(default="")

    def __init__(self, **params):
        super().__init__(**params)
        self._alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self._load_folder()

    @param.depends("data_dir", watch=True)
    def _load_folder(self):
        try:
            sources = _sources(str(Path(self.data_dir).expanduser()))
        except InputError as exc:
            self._show_error(str(exc))
            return
        names = sorted(s.name for s in sources)
        labels = {s.name: s.label for s in sources}
        self._labels = labels
        self.param.field.objects = names
        self._hide_error()
        if names and self.field not in names:
            self.field = names[0]

    def _show_error(self, text: str):
        self._alert.object = text
        self._alert.visible = True
        self.message = text

    def _hide_error(self):
        self._alert.visible = False
        self.message = ""

    @param.depends("field", "stretch", "percentile", "cmap")
    def bands_view(self):
        if not self.field:
            return pn.pane.Markdown("No fields found in this folder.")
        try:
            stack = _stack(str(Path(self.data_dir).expanduser()), self.field)
        except InputError as exc:
            self._show_error(str(exc))
            return pn.pane.Markdown(f"Cannot show **{self.field}**.")
        self._hide_error()
        plots = []
        for im in stack.images:
            shown = stretch_image(im.data, self.stretch, self.percentile)
            ny, nx = im.shape
            sigma = estimate_noise(im.data).sigma
            title = f"{im.band.name}  ({im.pixel_scale_deg * 3600:.0f}″/px, σ={sigma * 1e3:.1f} mJy/beam)"
            plots.append(hv.Image(shown[::-1], bounds=(0, 0, nx, ny), kdims=["x", "y"]).opts(cmap=self.cmap, title=title, width=330, height=300, xaxis=None, yaxis=None, toolbar="above", tools=["hover"]))
        label = {0: "non-halo", 1: "halo", None: "unlabelled"}[self._labels.get(self.field)]
        c = stack.centre()
        header = pn.pane.Markdown(f"### {self.field} — {label}\nCentre RA {c.ra.deg:.4f}°, Dec {c.dec.deg:.4f}° · each band on its native grid (they cover different sky areas)")
        return pn.Column(header, hv.Layout(plots).cols(4).opts(shared_axes=False))

    def __panel__(self):
        controls = pn.Param(self.param, parameters=["data_dir", "field", "stretch", "percentile", "cmap"], widgets={"percentile": pn.widgets.FloatSlider}, show_name=False, width=280)
        return pn.Row(controls, pn.Column(self._alert, self.bands_view, sizing_mode="stretch_width"), sizing_mode="stretch_width")
