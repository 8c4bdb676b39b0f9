"""The Fields tab's cut-outs: four band cut-outs of the selected candidate, drawn in the browser
from a cache of the candidates around it (see ``shortcuts.Vetter``), topped up as the selection moves."""

from __future__ import annotations

import numpy as np
import panel as pn
import param

from ..data.preprocess import stack_cutout
from ..display import stretch_limits, stretch_values
from .fields_scoring import FieldsScoring
from .fields_state import (
    BANDS,
    CUT_SIZE,
)
from .jobs import on_session
from .sky_figure import set_data

CUT_PX = 185  # screen pixels a side of each band cut-out


def _empty_cut() -> dict:
    return {"level": [], "flux": []}


def _cache_data(info: list[str], marks: list[str], rows: list[int], cuts: dict | None = None) -> dict:
    """The browser's vetting cache: per candidate its header text, label, and the four bands'
    cut-outs (levels and Jy/beam) where ``ready`` (the ``rows``, in order, from ``cuts``); a 1×1
    placeholder elsewhere."""
    n, z = len(info), np.zeros((1, 1), np.float32)
    data = {f"{col}{b}": [z] * n for col in ("level", "flux") for b in range(len(BANDS))}
    for name, vals in (cuts or {}).items():
        for i, v in zip(rows, vals, strict=True):
            data[name][i] = v
    ready = [0] * n
    for i in rows:
        ready[i] = 1
    return {**data, "ready": ready, "info": list(info), "mark": list(marks)}


class FieldsCutouts(FieldsScoring):
    """The cut-out section of the Fields tab."""

    def cut_for(self, c: dict) -> np.ndarray:
        key = (c["x"], c["y"])
        if key not in self._cuts:
            self._cuts[key] = stack_cutout(self.clipped(), CUT_SIZE, (float(c["x"]), float(c["y"])), "native")
        return self._cuts[key]

    def cutout_plots(self):
        """Four band cut-outs as plain Bokeh figures with shared (linked) pan/zoom; the browser
        swaps their images from the cache on a key press (see ``shortcuts.Vetter``), and says so
        when no candidate is selected rather than drawing a flat square."""
        from bokeh.models import HoverTool
        from bokeh.plotting import figure

        from .image_panel import centred_label
        from .lean_bokeh import AXES_OFF, lean

        if getattr(self, "_cut_figs", None) is None:
            mapper, tag = self._cut_mapper, self.session
            figs, xr, yr = [], None, None
            for b, (band, src) in enumerate(zip(BANDS, self._cut_srcs, strict=True)):
                f = figure(
                    width=CUT_PX,
                    height=CUT_PX,
                    title=band,
                    tools="",  # the wheel scrolls the page; a zoom stuck on every later candidate (walk 18)
                    x_range=xr or (0, CUT_SIZE),
                    y_range=yr or (0, CUT_SIZE),
                    toolbar_location=None,
                    min_border=2,
                    **AXES_OFF,
                )
                xr, yr = f.x_range, f.y_range
                f.image(image="level", x=0, y=0, dw=CUT_SIZE, dh=CUT_SIZE, source=src, color_mapper=mapper)
                f.add_tools(HoverTool(tooltips=[("value", "@flux{0.0000} Jy/beam")]))
                f.add_layout(
                    centred_label(
                        CUT_SIZE, "no candidate selected", "10pt", "#666666", name=f"rv-cutnote-{b}-{tag}"
                    )
                )
                figs.append(lean(f))
            figs[0].tags = [self._cache]  # the cache travels to the page with the first cut-out
            self._cut_figs = figs
        side = 2 * (CUT_PX + 10)  # two fixed figures a row, each with Panel's 5 px margins
        return pn.GridBox(
            *[pn.pane.Bokeh(f, sizing_mode="fixed") for f in self._cut_figs],
            ncols=2,
            width=side,
            height=side,
            sizing_mode="fixed",
        )

    @param.depends("selected", watch=True)
    def _show_selected(self):
        """The server moved the selection (a button, a click on the map, a new list): the browser
        draws it (see ``shortcuts.Vetter``) from the cache, topped up around it here."""
        with self._vet_lock:
            self.vetter.index = self.selected
            self.vetter.heard = self.selected
        self._prefetch()

    def _index_from_client(self, event) -> None:
        """The browser has drawn a new candidate (a key or a click on a row): record it, send
        the cut-outs ahead of it; nothing is sent back to redraw."""
        with self._vet_lock:
            k = self.vetter.index  # the latest, should two moves be handled at once
            if k != self.selected and 0 <= k < len(self.candidates):
                self.selected = k
            self.vetter.heard = self.selected

    def _cache_rows(self, rows) -> dict:
        """Cut-out columns (display levels and Jy/beam per band) of the cache ``rows``."""
        out = {f"{col}{b}": [] for col in ("level", "flux") for b in range(len(BANDS))}
        for i in rows:
            for b, raw in enumerate(self.cut_for(self.candidates[i])):
                vmin, vmax = stretch_limits(raw, self.percentile)
                out[f"level{b}"].append(stretch_values(raw, self.stretch, vmin, vmax).astype(np.float32))
                out[f"flux{b}"].append(np.nan_to_num(raw).astype(np.float32))
        return out

    @param.depends("scan_version", watch=True)
    def _new_version(self) -> None:
        self.vetter.version = self.scan_version

    @param.depends("stretch", "percentile", watch=True)
    def _build_cache(self, selected: int | None = None) -> None:
        """Every candidate's header text and label, and the cut-outs of those around the selected
        one (``selected``, else the current), as the browser's cache: sent once per candidate
        list, stretch or percentile."""
        with self._vet_lock:
            cands = self.candidates
            rows = sorted(self._window(self.selected if selected is None else selected))
            cuts = self._cache_rows(rows)
            data = _cache_data(
                [self._info_html(c) for c in cands], [self._mark_html(c) for c in cands], rows, cuts
            )
            self._sent = set(rows)
        set_data(self._cache, data)

    def _prefetch(self) -> None:
        """Send the cut-outs of the candidates now near the selected one; forget those far away."""
        with self._vet_lock:
            want = self._window(self.selected)
            add, drop = sorted(want - self._sent), sorted(self._sent - want)
            if not add and not drop:
                return
            cuts = self._cache_rows(add)
            z = np.zeros((1, 1), np.float32)
            patch = {name: [(i, v) for i, v in zip(add, vals, strict=True)] for name, vals in cuts.items()}
            for name in cuts:
                patch[name] += [(i, z) for i in drop]
            patch["ready"] = [(i, 1) for i in add] + [(i, 0) for i in drop]
            self._sent = want
        cache = self._cache
        on_session(lambda: cache.patch(patch), cache)

    def _draw_marks(self) -> None:
        """Re-send the labels column of the cache (after the store was re-read)."""
        marks = [self._mark_html(c) for c in self.candidates]
        cache = self._cache
        if len(marks) == len(cache.data.get("mark", [])):
            on_session(lambda: cache.data.update(mark=marks), cache)

    def cutouts_view(self):
        """The selected candidate's header and its four cut-outs (for notebooks)."""
        return pn.Column(self.vetter, self.cutout_plots())
