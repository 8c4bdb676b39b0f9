"""Every value a user gives RadioViz, checked where it enters: the one place for the rules.

* **numbers** — command-line options and model-card fields: :func:`number_problem` states the
  rule once; :func:`check_number` raises it for the library and :func:`int_range` /
  :func:`float_range` (``positive_int``, ``finite_float``, ``unit_interval`` …) are the argparse
  ``type=`` functions built on it, so ``--n 0`` and a card's ``default_threshold: 5`` are refused
  by the same code with the same words;
* **WCS** of a band image — :func:`check_wcs`: a celestial frame RadioViz computes in (galactic
  and ecliptic images are resampled onto an ICRS grid by :func:`to_icrs`), a CD/PC matrix that is
  not singular, a pixel scale and reference pixel that cannot move the image across the sky;
* **pointing** of a field's bands — :func:`check_pointing`: one band pointing elsewhere is refused
  naming that band's file;
* **positions** in a table — :func:`position_problem`: a bad row is reported and skipped;
* **names** written into FITS headers — :func:`fits_text` (FITS cards are printable ASCII: other
  characters are escaped there; the UTF-8 name stays in the non-FITS outputs beside them).

A refusal is one :class:`~radioviz.errors.InputError` (or argparse error) naming the file or the
option and the problem in one line.  Nothing here imports above :mod:`radioviz.errors`, so every
layer (io, models, survey, cli) can use it.
"""

from __future__ import annotations

import argparse
import math
import numbers
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError, WCSError

if TYPE_CHECKING:
    import numpy as np

# numpy and astropy are imported inside the functions that need them: the command line imports
# this module to parse its options, and starts without them.

# -- documented limits of command-line options ------------------------------------------------------

#: ``radioviz sample --n``: images in one run (one batch through the network; the app's Generate
#: tab allows 32).  More: run again with another ``--seed``.
MAX_SAMPLES = 256
#: ``radioviz simulate --n``: fields in one run.
MAX_SIM_FIELDS = 1000
#: sampler steps (``sample --steps``).
MAX_SAMPLER_STEPS = 10_000
#: training steps / iterations / epochs.
MAX_TRAIN_STEPS = 10_000_000
#: ``--stride``: pixels between windows / map samples.
MAX_STRIDE = 1024
#: ``survey --chunk``: mosaic tile side (pixels).
CHUNK_RANGE = (32, 16384)
#: cut-out / image sides in pixels (``--cutout``, ``--size``, ``fetch --pixels``).
SIDE_RANGE = (16, 4096)
#: ``survey --simulate-mosaic``: the largest side whose band fits the default pixel budget.
MOSAIC_SIDE_RANGE = (64, 16000)
#: classifier-free guidance ω (``sample --guidance``).
GUIDANCE_RANGE = (0.0, 20.0)
#: ``--device`` of every command that runs a network (argparse ``choices``; ``auto``: CUDA when
#: present).  Whether this machine has CUDA is checked when the command runs
#: (:func:`radioviz.models.device.resolve_device`), as this module imports no torch.
DEVICES = ("auto", "cpu", "cuda")
#: arcminutes (``--radius``, a card's ``cluster_radius_arcmin``).
MAX_RADIUS_ARCMIN = 600.0
#: worker processes per CPU core (``survey --workers``).
WORKERS_PER_CORE = 8
#: random seeds: what NumPy and PyTorch both accept.
MAX_SEED = 2**32 - 1


def max_workers() -> int:
    """``survey --workers`` at most: :data:`WORKERS_PER_CORE` per CPU core of this machine."""
    return WORKERS_PER_CORE * (os.cpu_count() or 1)


# -- numbers -------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def range_text(
    lo: float | None, hi: float | None, integer: bool, lo_open: bool = False, hi_open: bool = False
) -> str:
    """ "1..256" (integers), "(0, 1]", "≥ 0", "> 0" … (empty: any finite number)."""
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f"{'>' if lo_open else '≥'} {_fmt(lo)}"
    if lo is None:
        return f"{'<' if hi_open else '≤'} {_fmt(hi)}"
    if integer and not lo_open and not hi_open:
        return f"{_fmt(lo)}..{_fmt(hi)}"
    return f"{'(' if lo_open else '['}{_fmt(lo)}, {_fmt(hi)}{')' if hi_open else ']'}"


def number_problem(
    value,
    lo: float | None = None,
    hi: float | None = None,
    *,
    integer: bool = False,
    lo_open: bool = False,
    hi_open: bool = False,
) -> str | None:
    """What is wrong with ``value`` as a number in the range (None when nothing is): "0 is outside
    1..256", "nan is not finite (need [0, 1])", "'x' is not a number".  Booleans and strings are
    not numbers; NaN and ±Inf are refused always; integers must be whole."""
    rng = range_text(lo, hi, integer, lo_open, hi_open)
    joint = "" if not rng else f" {rng}" if rng[0] in "≥>≤<" else f" in {rng}"
    need = f" (need {'an integer' if integer else 'a number'}{joint})"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or type(value).__name__ == "bool_":
        return f"{value!r} is not a number{need}"
    if not math.isfinite(float(value)):
        return f"{_fmt(float(value))} is not finite{need}"
    if integer and not float(value).is_integer():
        return f"{_fmt(value)} is not an integer{need}"
    below = lo is not None and (value < lo or (lo_open and value == lo))
    above = hi is not None and (value > hi or (hi_open and value == hi))
    if below or above:
        if lo is not None and hi is not None:
            return f"{_fmt(value)} is outside {rng}"
        return f"{_fmt(value)} is not {rng}"
    return None


def check_number(
    path: str | Path | None,
    name: str,
    value,
    lo: float | None = None,
    hi: float | None = None,
    *,
    integer: bool = False,
    lo_open: bool = False,
    hi_open: bool = False,
):
    """``value`` if it is a number in the range, else an :class:`InputError` naming ``path`` and
    ``name`` (an option like ``--stride`` or a card field like ``grid.pixel_deg``)."""
    problem = number_problem(value, lo, hi, integer=integer, lo_open=lo_open, hi_open=hi_open)
    if problem:
        raise InputError(path, f"{name}: {problem}")
    return int(value) if integer else float(value)


def _parse(text: str, integer: bool):
    try:
        return int(text) if integer else float(text)
    except (TypeError, ValueError):
        if integer:
            try:
                f = float(text)
            except (TypeError, ValueError):
                f = None
            if f is not None:
                return int(f) if math.isfinite(f) and f.is_integer() else f  # 1.5: "not an integer"
        return text  # number_problem says it is not a number


def int_range(lo: int | None = None, hi: int | Callable[[], int] | None = None) -> Callable[[str], int]:
    """An argparse ``type=``: an integer in [lo, hi] (``hi`` may be a function, read at parse time)."""

    def parse(text: str) -> int:
        top = hi() if callable(hi) else hi
        v = _parse(text, True)
        problem = number_problem(v, lo, top, integer=True)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return int(v)

    parse.__name__ = "integer"
    return parse


def float_range(
    lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False
) -> Callable[[str], float]:
    """An argparse ``type=``: a finite number in the range (``lo_open``: lo itself excluded)."""

    def parse(text: str) -> float:
        v = _parse(text, False)
        problem = number_problem(v, lo, hi, lo_open=lo_open, hi_open=hi_open)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return float(v)

    parse.__name__ = "number"
    return parse


positive_int = int_range(1)
nonneg_int = int_range(0)
finite_float = float_range()
positive_float = float_range(0.0, None, lo_open=True)
nonneg_float = float_range(0.0)
#: a score or probability threshold: [0, 1]
unit_interval = float_range(0.0, 1.0)
#: a fraction strictly between 0 and 1
open_unit_interval = float_range(0.0, 1.0, lo_open=True, hi_open=True)
seed_int = int_range(0, MAX_SEED)


# -- WCS -----------------------------------------------------------------------------------------

#: the reference pixel may lie this many image sizes from the image (or 20° of sky, if more) …
CRPIX_IMAGE_SIZES = 10
CRPIX_MAX_DEG = 20.0
#: … the pixel scale is at least this (degrees; 0.36 milliarcsec) …
MIN_PIXEL_DEG = 1e-7
#: … and the image spans at most this much sky (degrees) along an axis.
MAX_SPAN_DEG = 180.0
#: axes are not independent when |det| < this × the product of the axis scales.
SINGULAR_RATIO = 1e-6

_EQUATORIAL = ("pos.eq.ra", "pos.eq.dec")


def wcs_problem(exc: BaseException) -> str:
    """One line for an error astropy/wcslib raised building a WCS: wcslib's own first line
    ("ERROR 3 in wcsset() at line … of file …:") is replaced by the reason on the next one."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [type(exc).__name__]
    why = lines[1] if lines[0].startswith("ERROR") and len(lines) > 1 else lines[0]
    return f"invalid WCS ({why.rstrip('.')})"


def frame_of(wcs) -> str:
    """'equatorial', 'galactic', 'ecliptic' or 'other' for a celestial WCS."""
    types = set(wcs.world_axis_physical_types)
    if types >= set(_EQUATORIAL):
        return "equatorial"
    if any(t and t.startswith("pos.galactic") for t in types):
        return "galactic"
    if any(t and t.startswith("pos.ecliptic") for t in types):
        return "ecliptic"
    return "other"


def check_wcs(path: str | Path | None, wcs, shape: tuple[int, int]):
    """A 2D celestial WCS checked for what would silently move positions; returns it.

    Refused (:class:`~radioviz.errors.WCSError` naming ``path``): a non-finite reference value
    or pixel, a latitude beyond ±90°, a singular CD/PC matrix (zero or parallel pixel axes), a
    pixel scale below :data:`MIN_PIXEL_DEG` or an image spanning more than :data:`MAX_SPAN_DEG`,
    a reference pixel further from the image than :data:`CRPIX_IMAGE_SIZES` image sizes (and
    :data:`CRPIX_MAX_DEG` of sky), and a projection that gives no sky position for the image's
    centre or corners.  A frame other than equatorial, galactic or ecliptic is refused too.
    """
    import numpy as np

    ny, nx = shape
    w = wcs.wcs
    if frame_of(wcs) == "other":
        kinds = "/".join(str(t) for t in w.ctype) or "none"
        raise WCSError(path, f"celestial axes {kinds} are neither equatorial (RA/Dec), galactic nor ecliptic")
    crval, crpix = np.asarray(w.crval, float), np.asarray(w.crpix, float)
    if not (np.all(np.isfinite(crval)) and np.all(np.isfinite(crpix))):
        raise WCSError(path, f"WCS reference value or pixel is not finite (CRVAL {crval}, CRPIX {crpix})")
    lat = crval[w.lat] if w.lat >= 0 else crval[1]
    if not -90.0 <= lat <= 90.0:
        raise WCSError(
            path, f"WCS reference latitude (CRVAL{(w.lat if w.lat >= 0 else 1) + 1}) is {lat:g}°, beyond ±90°"
        )
    try:
        m = np.asarray(wcs.pixel_scale_matrix, float)
    except Exception as exc:  # noqa: BLE001 - astropy raises several types for broken matrices
        raise WCSError(path, f"WCS matrix cannot be evaluated ({str(exc).splitlines()[0]})") from None
    cols = np.linalg.norm(m, axis=0) if m.shape == (2, 2) else np.zeros(2)
    det = abs(float(np.linalg.det(m))) if m.shape == (2, 2) and np.all(np.isfinite(m)) else 0.0
    if not np.all(np.isfinite(cols)) or np.any(cols == 0) or det <= SINGULAR_RATIO * cols[0] * cols[1]:
        which = "CD" if w.has_cd() else "PC × CDELT"
        how = "of zero length" if np.any(cols == 0) else "parallel"
        raise WCSError(
            path,
            f"WCS {which} matrix is singular (pixel axes {how}); sky positions cannot be computed from it",
        )
    scale = math.sqrt(det)
    if scale < MIN_PIXEL_DEG:
        raise WCSError(path, f"WCS pixel scale {scale:.3g}° is below {MIN_PIXEL_DEG:g}° (0.36 mas)")
    span = max(cols[0] * nx, cols[1] * ny)
    if span > MAX_SPAN_DEG:
        raise WCSError(
            path,
            f"WCS pixel scale {scale:.3g}° × {max(nx, ny)} pixels spans {span:.0f}° of sky "
            f"(at most {MAX_SPAN_DEG:g}°)",
        )
    for k, n in enumerate((nx, ny)):
        off = abs(crpix[k] - (n + 1) / 2)
        allowed = max(CRPIX_IMAGE_SIZES * n, CRPIX_MAX_DEG / scale)
        if off > allowed:
            raise WCSError(
                path,
                f"WCS reference pixel CRPIX{k + 1} = {crpix[k]:g} lies {off:.3g} pixels from the image "
                f"centre (at most {CRPIX_IMAGE_SIZES}× the image size, {CRPIX_MAX_DEG:g}° of sky); "
                "positions would be wrong",
            )
    xs = np.array([0, nx - 1, 0, nx - 1, (nx - 1) / 2], float)
    ys = np.array([0, 0, ny - 1, ny - 1, (ny - 1) / 2], float)
    try:
        world = np.asarray(wcs.pixel_to_world_values(xs, ys), float)
    except Exception as exc:  # noqa: BLE001
        raise WCSError(path, f"WCS gives no sky positions ({str(exc).splitlines()[0]})") from None
    if not np.all(np.isfinite(world)):
        raise WCSError(
            path, "WCS gives no sky position for the image's centre or corners (outside the projection)"
        )
    return wcs


def icrs_grid(wcs, shape: tuple[int, int]):
    """An ICRS TAN grid of the same shape and pixel scale, centred where ``wcs``'s image is."""
    import numpy as np
    from astropy.wcs import WCS
    from astropy.wcs.utils import proj_plane_pixel_scales

    ny, nx = shape
    centre = wcs.pixel_to_world((nx - 1) / 2, (ny - 1) / 2).icrs
    scale = float(np.sqrt(np.prod(np.abs(proj_plane_pixel_scales(wcs)))))
    out = WCS(naxis=2)
    out.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    out.wcs.crval = [float(centre.ra.deg), float(centre.dec.deg)]
    out.wcs.crpix = [(nx + 1) / 2, (ny + 1) / 2]
    out.wcs.cdelt = [-scale, scale]
    out.wcs.radesys = "ICRS"
    return out


def to_icrs(data: np.ndarray, wcs):
    """(data, wcs) of a galactic or ecliptic image resampled (bilinear) onto an ICRS TAN grid of
    the same shape, pixel scale and centre: RadioViz computes positions as RA/Dec.  Pixels the
    original does not cover are NaN (blank)."""
    import numpy as np
    from reproject import reproject_interp

    target = icrs_grid(wcs, data.shape)
    out, _ = reproject_interp((data, wcs), target, shape_out=data.shape, order="bilinear")
    return out.astype(np.float32), target


# -- pointing of a field's bands --------------------------------------------------------------------

#: a field's bands must point within this fraction of the smallest band's field of view …
POINTING_FRACTION = 0.1
#: … or this many arcminutes, whichever is larger.
POINTING_MIN_ARCMIN = 1.0


def check_pointing(name: str, images: Sequence) -> None:
    """The bands of one field (``BandImage``s) must share one pointing: the band whose centre is
    furthest from the others (by its median separation) must lie within :data:`POINTING_FRACTION`
    of the smallest band's field of view (at least :data:`POINTING_MIN_ARCMIN`).  Else one
    :class:`~radioviz.errors.WCSError` naming that band's file."""
    import numpy as np

    if len(images) < 2:
        return
    from astropy.coordinates import SkyCoord

    centres = SkyCoord([im.centre().icrs for im in images])
    fov = min(min(im.shape) * im.pixel_scale_deg * 60 for im in images)
    tol = max(POINTING_MIN_ARCMIN, POINTING_FRACTION * fov)
    seps = np.array([[a.separation(b).arcmin for b in centres] for a in centres])
    median = [float(np.median(np.delete(row, i))) for i, row in enumerate(seps)]
    k = int(np.argmax(median))
    if median[k] > tol:
        im = images[k]
        band = getattr(im.band, "name", "?")
        c = centres[k]
        raise WCSError(
            im.path,
            f"band {band} of '{name}' points {median[k] / 60:.3g}° from its other bands "
            f"(centre RA {c.ra.deg:.4f}, Dec {c.dec.deg:+.4f}); a field's bands must share one "
            f"pointing (within {tol:.1f}′)",
        )


# -- positions in a table -------------------------------------------------------------------------


def _as_float(value) -> float | None:
    import numpy as np

    if value is None or value is np.ma.masked or isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (bytes, np.bytes_)):
        value = value.decode("utf-8", "replace")
    try:
        f = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return f


def position_problem(ra, dec) -> tuple[float, float, str | None]:
    """(ra, dec, problem) of one table row's values: RA must be a number in [0, 360), Dec in
    [-90, 90] (degrees); ``problem`` says what is wrong (None when nothing is)."""
    import numpy as np

    r, d = _as_float(ra), _as_float(dec)
    for label, raw, v, lo, hi, top_open in (
        ("RA", ra, r, 0.0, 360.0, True),
        ("Dec", dec, d, -90.0, 90.0, False),
    ):
        shown = "empty" if raw is None or raw is np.ma.masked or str(raw).strip() == "" else repr(str(raw))
        if v is None:
            return float("nan"), float("nan"), f"{label} {shown} is not a number (degrees)"
        if not math.isfinite(v) or v < lo or (v > hi or (top_open and v == hi)):
            want = f"[{lo:g}, {hi:g}{')' if top_open else ']'}"
            return float("nan"), float("nan"), f"{label} {_fmt(v)} is outside {want} degrees"
    return r, d, None


# -- names in FITS headers ------------------------------------------------------------------------


def fits_text(value) -> str:
    """``value`` as a FITS header string: printable ASCII, other characters escaped (``\\u00e9``,
    undecodable bytes ``\\udce9``), so a name FITS cannot hold is still readable and unique.
    Long values are fine: astropy writes them with CONTINUE cards."""
    text = str(value).encode("ascii", "backslashreplace").decode("ascii")
    return "".join(c if " " <= c <= "~" else c.encode("unicode_escape").decode("ascii") for c in text)
