"""The Fields tab's sky plot: the band or RGB image, contours, catalogue, score map and
candidate markers drawn into one Bokeh figure; pointer readout, clicks, pan/zoom on mosaics, blink."""

from __future__ import annotations

import numpy as np
import panel as pn
import param

from ..data.noise import estimate_noise
from ..display import stretch_image, stretch_limits, stretch_values
from ..errors import InputError
from . import resources, sky
from .candidate_classes import class_colour, class_text
from .fields_catalogues import NO_CATALOGUE_FILE, _catalogue, _catalogue_message
from .fields_state import (
    BANDS,
    FieldsState,
)
from .jobs import on_session
from .session_memory import folder_cached
from .sky_figure import contour_paths, empty_image, image_at, rgba_image, set_data

MAX_SHOWN = 1024  # pixels a side sent to the browser for a big mosaic's viewport


def _empty_score() -> dict:
    return {"image": [np.full((1, 1), np.nan, np.float32)], **image_at(0, 0, 1, 1)}


def _palette(cmap: str) -> list[str]:
    from bokeh import palettes

    return {
        "inferno": palettes.Inferno256,
        "viridis": palettes.Viridis256,
        "gray": palettes.Greys256,  # black → white, as ds9
        "magma": palettes.Magma256,
        "cividis": palettes.Cividis256,
    }[cmap]


@folder_cached(32)
def _sky_grid(root: str, name: str, band: int) -> tuple[np.ndarray, np.ndarray]:
    """RA and Dec (degrees) of every display pixel, for the hover (cached per field and band)."""
    plane, wcs = resources.display_plane(root, name, band)
    ny, nx = plane.shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    ra, dec = wcs.pixel_to_world_values(xx, yy)
    return np.asarray(ra, np.float32), np.asarray(dec, np.float32)


@folder_cached(32)
def _big_limits(root: str, name: str, band: int, percentile: float) -> tuple[float, float]:
    """Stretch limits of a whole mosaic band (from a subsample), so a pan keeps one scale."""
    plane, _ = resources.display_plane(root, name, band)
    return stretch_limits(plane, percentile)


class FieldsDisplay(FieldsState):
    """The display section of the Fields tab (drawing from the state into ``self.sky``)."""

    def _bounds(self):
        plane, _ = resources.display_plane(self._root(), self.field, 3)
        ny, nx = plane.shape
        return (0, 0, nx, ny)

    def _big(self) -> bool:
        return bool(self.field) and resources.is_big(self._root(), self.field)

    def image_data(self, view: tuple[float, float, float, float] | None = None) -> dict:
        """The band as the image source's data: display levels, Jy/beam, RA and Dec per pixel
        (for the hover).  A big mosaic sends only the viewport ``view`` (x0, x1, y0, y1; all of it
        when None), decimated to at most ``MAX_SHOWN`` pixels a side."""
        if not self.field:
            return empty_image()
        plane, _ = resources.display_plane(self._root(), self.field, self._band_index())
        ny, nx = plane.shape
        if not resources.is_big(self._root(), self.field):
            level = stretch_image(plane, self.stretch, self.percentile)
            ra, dec = _sky_grid(self._root(), self.field, self._band_index())
            return {
                "level": [level],
                "flux": [np.nan_to_num(plane)],
                "ra": [ra],
                "dec": [dec],
                **image_at(0, 0, nx, ny),
            }
        x0, x1, y0, y1 = view or (0, nx, 0, ny)
        x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        x1, y1 = min(nx, int(np.ceil(x1))), min(ny, int(np.ceil(y1)))
        if x1 <= x0 or y1 <= y0:
            return empty_image()
        step = max(1, int(np.ceil(max(x1 - x0, y1 - y0) / MAX_SHOWN)))
        part = plane[y0:y1:step, x0:x1:step]
        vmin, vmax = _big_limits(self._root(), self.field, self._band_index(), self.percentile)
        nan = np.full_like(part, np.nan, dtype=np.float32)
        return {
            "level": [stretch_values(part, self.stretch, vmin, vmax).astype(np.float32)],
            "flux": [np.nan_to_num(part)],
            "ra": [nan],
            "dec": [nan],
            **image_at(x0, y0, part.shape[1] * step, part.shape[0] * step),
        }

    def rgb_data(self) -> dict | None:
        """Three chosen bands on the reference grid as one RGBA image; None when one band is shown
        (or for a big mosaic, whose bands are not co-registered for display)."""
        if not self.field or self.band != "RGB":
            return None
        if resources.is_big(self._root(), self.field):
            self.show_error(
                f"{self.field}: RGB needs the bands co-registered, which is not offered above "
                f"{resources.BIG_FIELD_PIXELS} pixels a band; pick one band"
            )
            return None
        planes = resources.display_planes(self._root(), self.field)
        chans = [
            stretch_image(planes[BANDS.index(b)], self.stretch, self.percentile)
            for b in (self.red, self.green, self.blue)
        ]
        ny, nx = chans[0].shape
        return {"image": [rgba_image(chans)], **image_at(0, 0, nx, ny)}

    def contour_data(self) -> dict:
        """Contours at k, 2k, 4k, 8k × σ of the shown band — in RGB, of the blue channel's band
        (the walk found them silently off there) — none when off or on mosaics."""
        if not self.field or self.contour_sigma <= 0 or self._big():
            return {"xs": [], "ys": []}
        band = BANDS.index(self.blue) if self.band == "RGB" else self._band_index()
        plane = resources.display_plane(self._root(), self.field, band)[0]
        sigma = estimate_noise(plane).sigma or 1.0
        return contour_paths(plane, [self.contour_sigma * sigma * f for f in (1, 2, 4, 8)])

    def score_data(self) -> dict:
        """The score map above the threshold as one image (0 at the threshold, 1 at a score of 1;
        NaN, i.e. transparent, below), placed on the field's pixel grid."""
        smap = self.scoremap
        if smap is None:
            return _empty_score()
        s, st, thr = smap.scores, smap.stride, self.threshold
        ny, nx = s.shape
        level = np.where(s >= thr, (s - thr) / max(1.0 - thr, 1e-6), np.nan).astype(np.float32)
        return {"image": [level], **image_at(0.5 - st / 2, 0.5 - st / 2, st * nx, st * ny)}

    def candidate_data(self) -> dict:
        """Candidate markers: pixel centres, score and 1-based number (for the hover)."""
        cs = self.candidates
        return {
            "x": [c["x"] + 0.5 for c in cs],
            "y": [c["y"] + 0.5 for c in cs],
            "score": [float(c["peak_score"]) for c in cs],
            "candidate": list(range(1, len(cs) + 1)),
            "colour": [class_colour(c) for c in cs],
            "kind": [class_text(c) or "—" for c in cs],
        }

    def _draw_overlay(self) -> None:
        """Redraw the score map and candidate circles by replacing their sources' data."""
        set_data(self.sky.score, self.score_data())
        set_data(self.sky.candidates, self.candidate_data())

    def catalog_data(self) -> dict:
        """The chosen catalogue's objects inside the field, in plot pixels, with names for the hover."""
        empty = {"x": [], "y": [], "name": [], "ra": [], "dec": []}
        if self.catalogue == "none":
            self.clear_error("catalogue")
            return empty
        if self.catalogue == "uploaded file" and not self._catalog_path:
            self.show_error(NO_CATALOGUE_FILE, cause="catalogue")
            return empty
        try:
            table = _catalogue(self.catalogue, self._catalog_path)
        except InputError as exc:
            self.show_error(_catalogue_message(self.catalogue, exc, self._catalog_path), cause="catalogue")
            return empty
        self.clear_error("catalogue")
        if table is None or not self.field:
            return empty
        plane, wcs = resources.display_plane(self._root(), self.field, 3)
        t = sky.catalog_in_field(table, wcs, plane.shape)
        return {c: np.asarray(t[c]).tolist() for c in ("x", "y", "name", "ra", "dec")}

    def _draw_furniture(self, plane, wcs) -> None:
        """Beam ellipse (lower left) and scale bar (lower right) of the current field."""
        im = self.clipped().stack.images[-1]
        beam, bar, text, self._beam_desc = sky.beam_and_scalebar(wcs, plane.shape, im.header, im.band)
        set_data(self.sky.beam, beam)
        set_data(self.sky.bar, bar)
        set_data(self.sky.bar_text, text)

    @param.depends("band", "stretch", "percentile", "red", "green", "blue", watch=True)
    def _draw_image(self) -> None:
        if not self.field:
            self.sky.set_image(empty_image(), None)
            return
        try:
            plane, _ = resources.display_plane(self._root(), self.field, self._band_index())
            rgb = self.rgb_data()
            cbar = sky.colorbar_opts(plane, self.stretch, self.percentile)
            self.sky.set_image(self.image_data(self._view if self._big() else None), cbar, rgb)
        except InputError as exc:
            self.show_error(str(exc))
        self._draw_contours()

    @param.depends("contour_sigma", watch=True)
    def _draw_contours(self) -> None:
        set_data(self.sky.contours, self.contour_data())

    @param.depends("catalogue", watch=True)
    def _draw_catalogue(self) -> None:
        set_data(self.sky.catalogue, self.catalog_data())

    @param.depends("cmap", watch=True)
    def _draw_palette(self) -> None:
        self.sky.set_palette(_palette(self.cmap))
        self._cut_mapper_palette()

    def _draw_field(self) -> None:
        """Everything on the sky plot for a newly opened field (or none)."""
        self._view = None
        self.readout = ""  # the pointer's last position was on the field before
        if self.field and self._axes is not None:
            plane, wcs = resources.display_plane(self._root(), self.field, 3)
            self.sky.set_field(plane.shape, self._axes)
            self._draw_furniture(plane, wcs)
        self._draw_image()
        self._draw_catalogue()

    def _on_pointer(self, x, y):
        if x is None or not self.field:
            return
        b = self._band_index()
        plane, wcs = resources.display_plane(self._root(), self.field, b)
        ny, nx = plane.shape
        if not (0 <= x < nx and 0 <= y < ny):
            self.readout = ""
            return
        sky_pos = wcs.pixel_to_world(x - 0.5, y - 0.5)
        value = plane[int(y), int(x)]
        self.readout = (
            f"RA {sky_pos.ra.to_string('hourangle', sep='hms', precision=1)} "
            f"Dec {sky_pos.dec.to_string(sep='dms', precision=0, alwayssign=True)} "
            f"({sky_pos.ra.deg:.4f}°, {sky_pos.dec.deg:+.4f}°)  {BANDS[b]}: {value * 1e3:.1f} mJy/beam"
        )

    def _on_tap(self, x, y):
        if x is None or not self.candidates:
            return
        d = [(c["x"] + 0.5 - x) ** 2 + (c["y"] + 0.5 - y) ** 2 for c in self.candidates]
        k = int(np.argmin(d))
        if d[k] <= (3 * self.stride + 6) ** 2:
            self.selected = k

    def _on_ranges(self, event) -> None:
        """Pan/zoom on a big mosaic: send the viewport's pixels, decimated to the screen."""
        self._view = (event.x0, event.x1, event.y0, event.y1)
        if self._big() and self.band != "RGB":
            self.sky.set_image(self.image_data(self._view), sky.colorbar_opts(*self._cbar_args()))

    def _cbar_args(self):
        plane, _ = resources.display_plane(self._root(), self.field, self._band_index())
        return plane, self.stretch, self.percentile

    def field_plot(self):
        """The sky plot: one Bokeh figure (see ``sky_figure``); clicks select the nearest candidate,
        the pointer's position feeds the readout, pan/zoom on a mosaic fetches its viewport."""
        from bokeh.events import MouseMove, RangesUpdate, Tap

        fig = self.sky.fig
        if not self._events:
            fig.on_event(MouseMove, lambda e: self._safe(lambda: self._on_pointer(e.x, e.y)))
            fig.on_event(Tap, lambda e: self._safe(lambda: self._on_tap(e.x, e.y)))
            fig.on_event(RangesUpdate, lambda e: self._safe(lambda: self._on_ranges(e)))
            self._events = True
        return pn.pane.Bokeh(fig, sizing_mode="fixed")

    def _blink_step(self):
        order = BANDS
        k = order.index(self.band) if self.band in order else -1
        self.band = order[(k + 1) % len(order)]

    @param.depends("blink", watch=True)
    def _toggle_blink(self):
        """Blink cycles the bands; stopping it shows the band (or RGB) shown before it started."""
        if self.blink and self._blink_cb is None and pn.state.curdoc is not None:
            self._band_before_blink = self.band
            self._blink_cb = pn.state.add_periodic_callback(self._blink_step, period=900)
        elif not self.blink and self._blink_cb is not None:
            self._blink_cb.stop()
            self._blink_cb = None
            before, self._band_before_blink = getattr(self, "_band_before_blink", None), None
            if before is not None:
                self.band = before

    def _cut_mapper_palette(self):
        mapper, palette = self._cut_mapper, _palette(self.cmap)
        on_session(lambda: setattr(mapper, "palette", palette), mapper)
