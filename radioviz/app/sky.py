"""Sky furniture for a field plot, as ds9/Aladin/jdaviz users expect: RA/Dec axes with
sexagesimal ticks from the WCS, a colorbar labelled in Jy/beam, the beam ellipse, a scale bar,
and catalogue overlays, as plain data for ``sky_figure.SkyFigure``.  Plots stay in pixel
coordinates (square pixels); the axes translate.

The RA axis follows the field's central row and the Dec axis its central column, sampled
through the WCS every few pixels and interpolated in the browser (a Bokeh ``CustomJSTicker``
picks round sexagesimal steps for the visible range; a ``CustomJSTickFormatter`` writes them),
so the labels are exact along those lines, as on a ds9 axis without the curved grid.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.wcs import WCS
from bokeh.models import CustomJSTicker, CustomJSTickFormatter, FixedTicker

from ..display import stretch_limits, stretch_values

_INTERP = """
function interp(x, xs, ys) {
  let n = xs.length;
  if (xs[0] > xs[n - 1]) { xs = xs.slice().reverse(); ys = ys.slice().reverse(); }
  let i = 1;
  while (i < n - 1 && xs[i] < x) i++;
  const t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
  return ys[i - 1] + t * (ys[i] - ys[i - 1]);
}
"""

_TICKS = (
    _INTERP
    + """
const a = interp(cb_data.start, px, val), b = interp(cb_data.end, px, val);
const lo = Math.min(a, b), hi = Math.max(a, b);
const unit = kind === "ra" ? 15 / 3600 : 1 / 3600;   // a second of time or of arc, in degrees
const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18000, 36000];
let step = steps[steps.length - 1] * unit;
for (const s of steps) { if ((hi - lo) / (s * unit) <= 5) { step = s * unit; break; } }
const ticks = [];
for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(interp(v, val, px));
return ticks;
"""
)

_FORMAT = (
    _INTERP
    + """
const v = interp(tick, px, val);
let span = 3600;
if (ticks.length > 1) span = Math.abs(interp(ticks[1], px, val) - interp(ticks[0], px, val));
const pad = (n) => String(n).padStart(2, "0");
if (kind === "ra") {
  const fine = span < 15 / 60 - 1e-9;                       // steps under a minute of time
  const unitS = fine ? 1 : 60;
  let s = Math.round((((v % 360) + 360) % 360) / 15 * 3600 / unitS) * unitS;
  s = s % 86400;
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return fine ? `${pad(h)}h${pad(m)}m${pad(sec)}s` : `${pad(h)}h${pad(m)}m`;
}
const fine = span < 1 / 60 - 1e-9;                          // steps under an arcminute
const unitS = fine ? 1 : 60;
const sign = v < 0 ? "\u2212" : "+";
const s = Math.round(Math.abs(v) * 3600 / unitS) * unitS;
const d = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
const dm = `${sign}${pad(d)}\u00b0${pad(m)}\u2032`;
return fine ? `${dm}${pad(sec)}\u2033` : dm;
"""
)


def axis_samples(wcs: WCS, shape: tuple[int, int], every: int = 4) -> dict:
    """Plot coordinate (pixel edge convention: pixel i spans [i, i+1]) → RA along the central
    row and Dec along the central column, a little past the edges for panning."""
    ny, nx = shape
    pad_x, pad_y = nx, ny
    x = np.arange(-pad_x, nx + pad_x + 1, max(1, every), dtype=float)
    y = np.arange(-pad_y, ny + pad_y + 1, max(1, every), dtype=float)
    ra = wcs.pixel_to_world_values(x - 0.5, np.full_like(x, ny / 2 - 0.5))[0]
    dec = wcs.pixel_to_world_values(np.full_like(y, nx / 2 - 0.5), y - 0.5)[1]
    ra = np.rad2deg(np.unwrap(np.deg2rad(np.asarray(ra, float))))
    okx, oky = np.isfinite(ra), np.isfinite(dec)
    return {
        "x": x[okx].tolist(),
        "ra": ra[okx].tolist(),
        "y": y[oky].tolist(),
        "dec": np.asarray(dec, float)[oky].tolist(),
    }


def sky_axes(wcs: WCS, shape: tuple[int, int]) -> dict:
    """Bokeh tickers and formatters for the x (RA) and y (Dec) axes of a plot in pixels."""
    s = axis_samples(wcs, shape)
    out = {}
    for axis, px, val, kind in (("x", s["x"], s["ra"], "ra"), ("y", s["y"], s["dec"], "dec")):
        args = {"px": px, "val": val, "kind": kind}
        out[axis] = (
            CustomJSTicker(args=args, major_code=_TICKS),
            CustomJSTickFormatter(args=args, code=_FORMAT),
        )
    return out


#: A display level's label: the one given for the nearest tick (labels are read by position, with a
#: tolerance, never by a float key — ``major_label_overrides`` keyed by float missed in the browser,
#: and bare levels "0.2 … 0.8" showed on a Jy/beam bar; walk 16)
_LEVEL_LABEL = """
let best = -1, gap = Infinity;
for (let i = 0; i < pos.length; i++) {
  const d = Math.abs(pos[i] - tick);
  if (d < gap) { gap = d; best = i; }
}
return best >= 0 && gap < 1e-6 ? labels[best] : '';
"""


def level_formatter(positions: list[float], labels: list[str]) -> CustomJSTickFormatter:
    """Tick labels for a colorbar of display levels: ``labels[i]`` at ``positions[i]``."""
    return CustomJSTickFormatter(args={"pos": list(positions), "labels": list(labels)}, code=_LEVEL_LABEL)


def colorbar_opts(plane: np.ndarray, stretch: str, percentile: float, nticks: int = 6) -> dict:
    """Colorbar options for an image shown as display levels: ticks where round Jy/beam values
    fall, labelled in Jy/beam (mJy/beam below 1 Jy/beam)."""
    vmin, vmax = stretch_limits(plane, percentile)
    raw = np.linspace(vmin, vmax, 200)
    levels = stretch_values(raw, stretch, vmin, vmax)
    ticks, labels = [], []
    for target in np.linspace(0, 1, nticks):
        v = float(np.interp(target, levels, raw))
        if v != 0:
            mag = 10 ** np.floor(np.log10(abs(v)))
            v = float(np.round(v / mag, 1) * mag)
        pos = float(stretch_values([v], stretch, vmin, vmax)[0])
        if ticks and pos - ticks[-1] < 0.06:
            continue
        ticks.append(pos)
        labels.append(f"{v * 1e3:.3g}" if max(abs(vmin), abs(vmax)) < 1 else f"{v:.3g}")
    title = "mJy/beam" if max(abs(vmin), abs(vmax)) < 1 else "Jy/beam"
    return {
        "ticker": FixedTicker(ticks=ticks),
        "formatter": level_formatter(ticks, labels),
        "title": title,
    }


def beam_axes(header, band) -> tuple[float, float, float, bool]:
    """(major, minor FWHM in degrees, position angle in degrees, from_header)."""
    if header is not None and header.get("BMAJ") and header.get("BMIN"):
        return float(header["BMAJ"]), float(header["BMIN"]), float(header.get("BPA", 0.0)), True
    from ..io.bands import beam_fwhm_arcmin  # GLEAM's nominal resolution for the band

    fwhm = beam_fwhm_arcmin(band) / 60
    return fwhm, fwhm, 0.0, False


def beam_and_scalebar(wcs: WCS, shape: tuple[int, int], header, band) -> tuple[dict, dict, dict, str]:
    """Data for the beam ellipse (lower left), the scale bar and its length (lower right), in
    plot pixels, as ``ColumnDataSource`` data; and a description of the beam."""
    from astropy.wcs.utils import proj_plane_pixel_scales

    from .sky_figure import ellipse_path

    ny, nx = shape
    pix_deg = float(np.mean(np.abs(proj_plane_pixel_scales(wcs.celestial))))
    bmaj, bmin, bpa, from_header = beam_axes(header, band)
    a, b = bmaj / pix_deg, bmin / pix_deg  # FWHM in pixels
    cx, cy = max(0.06 * nx, a), max(0.06 * ny, a)
    xs, ys = ellipse_path(cx, cy, a / 2, b / 2, bpa)  # position angle east (left) of north (up)
    field_deg = nx * pix_deg
    choices_arcmin = [1, 2, 5, 10, 15, 30, 60, 120, 300]
    length_arcmin = max([c for c in choices_arcmin if c / 60 <= field_deg / 4] or [choices_arcmin[0]])
    length_px = length_arcmin / 60 / pix_deg
    x1, y0 = 0.95 * nx, 0.06 * ny
    label = f"{length_arcmin // 60}°" if length_arcmin >= 60 else f"{length_arcmin}′"
    desc = f"beam {bmaj * 60:.2f}′ × {bmin * 60:.2f}′" + ("" if from_header else " (GLEAM nominal)")
    return (
        {"xs": [xs], "ys": [ys]},
        {"xs": [[x1 - length_px, x1]], "ys": [[y0, y0]]},
        {"x": [x1 - length_px / 2], "y": [y0 + 0.035 * ny], "text": [label]},
        desc,
    )


def catalog_in_field(table: Table, wcs: WCS, shape: tuple[int, int], margin: float = 0.0) -> Table:
    """Rows of a catalogue (``name``, ``ra``, ``dec``) inside the field, with plot x/y added."""
    ny, nx = shape
    if len(table) == 0:
        return Table({"name": [], "ra": [], "dec": [], "x": [], "y": []})
    coords = SkyCoord(np.asarray(table["ra"], float) * u.deg, np.asarray(table["dec"], float) * u.deg)
    px, py = wcs.world_to_pixel(coords)
    x, y = np.asarray(px) + 0.5, np.asarray(py) + 0.5
    keep = np.isfinite(x) & np.isfinite(y)
    keep &= (x >= -margin) & (x <= nx + margin) & (y >= -margin) & (y <= ny + margin)
    names = table["name"] if "name" in table.colnames else [str(i) for i in range(len(table))]
    return Table(
        {
            "name": [str(n) for n, k in zip(names, keep, strict=True) if k],
            "ra": np.asarray(table["ra"], float)[keep],
            "dec": np.asarray(table["dec"], float)[keep],
            "x": x[keep],
            "y": y[keep],
        }
    )
