"""What the Vet tab shows of one candidate, computed before it is shown: the four band cut-outs
(as the Fields tab cuts them), a wider cut-out of the reference band with the score map's
threshold contour, and the candidate's numbers (flux per band, spectral index, area).

Why here and not in the view: a survey's candidates come from many fields, and these are made
ahead of the cursor (the browser swaps them in on a key press, see ``shortcuts.Vetter``), so the
one function that makes a cache row is shared by the first page and every prefetch.
"""

from __future__ import annotations

import functools
import html
import math
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..data.preprocess import stack_cutout
from ..display import stretch_limits, stretch_values
from ..errors import InputError
from ..models.segmenter_spec import CLASS_NAMES
from ..scan.queue import QueueCandidate, region_mask, region_numbers
from . import resources
from .fields_state import BANDS, CUT_SIZE

CONTEXT_PX = 192  # reference-band pixels across the context cut-out (3× the classifier's window)
CONTEXT_BIN = 2  # shown binned 2×2: 96×96 values a candidate
CONTEXT_SIDE = CONTEXT_PX // CONTEXT_BIN
PANELS = len(BANDS) + 1  # the band cut-outs, then the context
_Z = np.zeros((1, 1), np.float32)


def image_folder(c: QueueCandidate) -> str:
    """The candidate's field folder as a server path.  A survey written from another folder
    recorded it relative to there: tried from here and from the repository (the bundled
    sample).  Served with a data root, only folders inside it (or the sample) are read."""
    p = Path(c.folder)
    if not p.is_absolute():
        p = next((b / p for b in (Path.cwd(), resources.REPO) if (b / p).is_dir()), p)
    root = resources.data_root()
    if root is not None:
        real = p.resolve()
        if not (real.is_relative_to(root) or real.is_relative_to(resources.SAMPLE_DATA.resolve())):
            raise InputError(None, f"{c.field}: its images lie outside the data folder this server shares")
    return str(p)


@functools.lru_cache(maxsize=64)
def _scoremap(path: str, mtime: float):
    from ..survey.results import read_scoremap

    return read_scoremap(path)


def scoremap(c: QueueCandidate):
    try:
        return _scoremap(c.scoremap, Path(c.scoremap).stat().st_mtime)
    except OSError:
        raise InputError(None, f"{c.field}: its score map is missing") from None


def empty_columns(n: int) -> dict:
    """Cache columns for ``n`` candidates none of which is drawn yet (1×1 placeholders)."""
    cols = {f"{k}{b}": [_Z] * n for k in ("level", "flux") for b in range(PANELS)}
    return {**cols, "ctx_x": [np.zeros(0, np.float32)] * n, "ctx_y": [np.zeros(0, np.float32)] * n}


def render(c: QueueCandidate, stretch: str = "asinh", percentile: float = 99.5) -> tuple[dict, dict]:
    """(one cache row: ``level0..4`` (0–255), ``flux0..3`` (Jy/beam, for the hover), ``ctx_x``,
    ``ctx_y``; the candidate's numbers)."""
    clipped = resources.clipped_field(image_folder(c), c.field)
    smap = scoremap(c)
    cuts = stack_cutout(clipped, CUT_SIZE, (float(c.x), float(c.y)), "native")
    ref = clipped.stack.images[-1].data
    context = _context(ref, c.x, c.y)
    row: dict = {}
    for b, raw in enumerate([*cuts, context]):
        vmin, vmax = stretch_limits(raw, percentile)
        # display levels as bytes (a quarter of the float32 the page would otherwise be sent)
        row[f"level{b}"] = np.round(255 * stretch_values(raw, stretch, vmin, vmax)).astype(np.uint8)
        row[f"flux{b}"] = np.nan_to_num(raw).astype(np.float32) if b < len(BANDS) else _Z  # hover: bands
    row["ctx_x"], row["ctx_y"] = _contour(smap.scores, smap.stride, c.x, c.y, c.threshold)
    region = region_mask(smap.scores, smap.stride, c.x, c.y, c.threshold)
    return row, region_numbers(clipped.stack.images, smap.scores, smap.wcs, region)


def _context(plane: np.ndarray, x: int, y: int) -> np.ndarray:
    """CONTEXT_PX² of the reference band centred on (x, y), zero outside the field, binned."""
    half = CONTEXT_PX // 2
    out = np.zeros((CONTEXT_PX, CONTEXT_PX), np.float32)
    ny, nx = plane.shape
    ya, yb, xa, xb = max(y - half, 0), min(y + half, ny), max(x - half, 0), min(x + half, nx)
    if ya < yb and xa < xb:
        out[ya - (y - half) : yb - (y - half), xa - (x - half) : xb - (x - half)] = plane[ya:yb, xa:xb]
    k = CONTEXT_BIN
    return np.nan_to_num(out).reshape(CONTEXT_SIDE, k, CONTEXT_SIDE, k).mean(axis=(1, 3))


def _contour(
    scores: np.ndarray, stride: int, x: int, y: int, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """The score map's threshold contour around (x, y) in the context cut-out's plot units, one
    line with NaN between its pieces (one Bokeh line glyph draws it)."""
    from skimage.measure import find_contours

    s, half = max(stride, 1), CONTEXT_PX // 2
    ja, ia = max((y - half) // s - 1, 0), max((x - half) // s - 1, 0)
    jb, ib = min((y + half) // s + 2, scores.shape[0]), min((x + half) // s + 2, scores.shape[1])
    crop = np.pad(np.nan_to_num(scores[ja:jb, ia:ib], nan=0.0), 1)  # padded: contours close at edges
    xs, ys = [], []
    for path in find_contours(crop, threshold) if crop.size >= 4 else []:
        ref_y, ref_x = (path[:, 0] - 1 + ja) * s, (path[:, 1] - 1 + ia) * s
        xs += [*((ref_x - (x - half) + 0.5) / CONTEXT_BIN), math.nan]
        ys += [*((ref_y - (y - half) + 0.5) / CONTEXT_BIN), math.nan]
    return np.asarray(xs, np.float32), np.asarray(ys, np.float32)


def numbers_html(c: QueueCandidate, nums: dict | None) -> str:
    """The candidate's header line: field, score, classes, flux, α, area, nearest cluster."""
    parts = [f"{c.field} · score {c.score:.3f} (threshold {c.threshold:.2f})"]
    if c.class_probs:
        ranked = sorted(c.class_probs.items(), key=lambda kv: -kv[1])
        probs = ", ".join(f"{CLASS_NAMES.get(k, k)} {v:.2f}" for k, v in ranked)
        parts.append(f"class {CLASS_NAMES.get(c.cls, c.cls)} ({probs})")
    if nums:
        flux = " / ".join("—" if math.isnan(f) else f"{f:.2g}" for f in nums["flux_jy"])
        alpha = nums["spectral_index"]
        parts.append(f"S {flux} Jy (72→231 MHz)")
        parts.append("α —" if math.isnan(alpha) else f"α {alpha:+.2f}")
        parts.append(f"{nums['area_arcmin2']:.0f} arcmin²")
    parts.append(f"RA {c.ra:.4f}° Dec {c.dec:+.4f}°")
    near = f"nearest {c.nearest_cluster} ({c.separation_arcmin:.1f}′)" if c.nearest_cluster else "nearest —"
    parts.append(near)
    return html.escape(" · ".join(parts))


class Renderer:
    """Rendered candidates (the latest ``keep``), and a background thread rendering the ``ahead``
    candidates after the cursor, so a key press finds the next ones done and the page's event
    only sends them.  A candidate that cannot be rendered (its field gone or unreadable) is kept
    as ``({}, None, reason)``."""

    def __init__(self, keep: int = 256, ahead: int = 48):
        self.keep, self.ahead = keep, ahead
        self._done: OrderedDict[str, tuple[dict, dict | None, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._rows: list[QueueCandidate] = []
        self._at = 0
        self._closed = False
        self._thread: threading.Thread | None = None

    def get(self, c: QueueCandidate) -> tuple[dict, dict | None, str] | None:
        with self._lock:
            return self._done.get(c.id)

    def render(self, c: QueueCandidate) -> tuple[dict, dict | None, str]:
        got = self.get(c)
        if got is None:
            try:
                got = (*render(c), "")
            except (InputError, OSError, StopIteration, ValueError) as exc:
                got = ({}, None, resources.public_message(f"{c.field}: no cut-outs ({exc})"))
            with self._lock:
                self._done[c.id] = got
                while len(self._done) > self.keep:
                    self._done.popitem(last=False)
        return got

    def follow(self, rows: list[QueueCandidate], at: int) -> None:
        """Render ahead of ``at`` in ``rows`` (in the background)."""
        self._rows, self._at = rows, max(at, 0)
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, daemon=True, name="radioviz-vet-render")
            self._thread.start()
        self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            while not self._closed and not self._wake.is_set():
                rows, at = self._rows, self._at
                n = len(rows)
                ahead = (rows[(at + d) % n] for d in range(min(self.ahead, n)))
                todo = next((c for c in ahead if self.get(c) is None), None)
                if todo is None:
                    break
                self.render(todo)
