"""One ranked queue over every candidate of a survey.

Pure state (no Panel, no Bokeh): the Vet tab, a notebook and the tests use the same functions.
A queue is read from a finished ``radioviz survey`` folder (its task markers, which keep a class
detector's ``class`` / ``class_probs`` that ``candidates.ecsv`` drops); it is ranked by score, by
class probability or by uncertainty (|score − threshold| smallest first: the labels that teach a
model most), and filtered.  What labellers made of it (votes, κ, consensus, exports) is in
:mod:`.agreement`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError

ORDERS = ("score", "class probability", "uncertainty")
NEAREST_CLUSTER_ARCMIN = 30.0  # a built-in cluster is named beside a candidate only within this
Votes = dict[str, dict[str, str]]  # candidate id -> {labeller: label}


@dataclass
class QueueCandidate:
    """One candidate of a survey, with what is needed to show, rank, label and export it."""

    id: str  # "<field>@<x>,<y>": the Fields tab's id, so a label given in either tab is one label
    field: str
    survey: str
    ra: float
    dec: float
    score: float
    x: int  # reference-band pixel of the peak
    y: int
    n_map_pixels: int = 0
    cls: str = ""  # a class detector's most probable class other than background ("" otherwise)
    class_probs: dict[str, float] = field(default_factory=dict)
    nearest_cluster: str = ""
    separation_arcmin: float = math.nan
    folder: str = ""  # the field's image folder, as the survey recorded it
    scoremap: str = ""  # the field's score map (FITS)
    checkpoint: str = ""  # file name of the model that scored it
    threshold: float = math.nan
    stride: int = 0

    @property
    def uncertainty(self) -> float:
        """How far the score is from the threshold: small means the model was unsure."""
        return abs(self.score - self.threshold)

    def class_prob(self, name: str = "") -> float:
        """Probability of class ``name`` (of its own most probable class when empty); NaN for a
        one-class model's candidate."""
        if not self.class_probs:
            return math.nan
        name = name or self.cls
        return float(self.class_probs.get(name, math.nan))


@dataclass
class SurveyQueue:
    """Every candidate of one survey run, in the survey's order (best field first)."""

    name: str
    path: Path
    checkpoint: str
    threshold: float
    stride: int
    candidates: list[QueueCandidate]

    @property
    def fields(self) -> list[str]:
        return sorted({c.field for c in self.candidates})

    @property
    def classes(self) -> list[str]:
        """Class names a class detector gave (empty for a one-class model)."""
        return sorted({k for c in self.candidates for k in c.class_probs if k != "background"})

    def by_id(self) -> dict[str, QueueCandidate]:
        return {c.id: c for c in self.candidates}


def is_survey(folder: str | Path) -> bool:
    return (Path(folder) / "survey.json").is_file() and (Path(folder) / "tasks").is_dir()


def load_queue(folder: str | Path) -> SurveyQueue:
    """The queue of a survey output folder.  Only reads: a survey another process still writes
    (or a read-only one) is fine; a marker half seen is skipped like the survey's own reader."""
    folder = Path(folder)
    if not is_survey(folder):
        raise InputError(folder, "is not a survey output folder (no survey.json and tasks/)")
    try:
        config = json.loads((folder / "survey.json").read_text())["config"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(folder, f"cannot read survey.json ({exc})") from None
    ckpt = Path(str(config.get("checkpoint") or "")).name
    threshold, stride = float(config.get("threshold", math.nan)), int(config.get("stride", 0))
    cands: list[QueueCandidate] = []
    for path in sorted((folder / "tasks").glob("*.json")):
        try:
            marker = json.loads(path.read_text())
            row = marker["row"]
        except (OSError, ValueError, KeyError):
            continue
        if row.get("status") != "ok" or row.get("kind") == "tile":
            continue
        for c in marker.get("candidates", []):
            cands.append(_candidate(c, row, folder.name, ckpt, threshold, stride))
    _name_nearest(cands)
    cands.sort(key=lambda c: (-c.score, c.field, c.id))
    return SurveyQueue(folder.name, folder, ckpt, threshold, stride, cands)


def _candidate(c: dict, row: dict, survey: str, ckpt: str, threshold: float, stride: int) -> QueueCandidate:
    name = str(c.get("name") or row.get("name") or "")
    x, y = int(c.get("x", -1)), int(c.get("y", -1))
    probs = {str(k): float(v) for k, v in (c.get("class_probs") or {}).items()}
    sep = c.get("separation_arcmin")
    return QueueCandidate(
        id=f"{name}@{x},{y}",
        field=name,
        survey=survey,
        ra=float(c["ra"]),
        dec=float(c["dec"]),
        score=float(c["peak_score"]),
        x=x,
        y=y,
        n_map_pixels=int(c.get("n_map_pixels", c.get("n_pixels", 0)) or 0),
        cls=str(c.get("class") or ""),
        class_probs=probs,
        nearest_cluster=str(c.get("nearest_cluster") or ""),
        separation_arcmin=math.nan if sep is None else float(sep),
        folder=str(row.get("folder") or ""),
        scoremap=str(row.get("scoremap") or ""),
        checkpoint=ckpt,
        threshold=threshold,
        stride=stride,
    )


def _name_nearest(cands: list[QueueCandidate]) -> None:
    """Candidates of a field survey carry no match: name the nearest built-in cluster, as the
    Fields tab does (within NEAREST_CLUSTER_ARCMIN)."""
    todo = [c for c in cands if not c.nearest_cluster]
    if not todo:
        return
    from ..io.catalogs import builtin_clusters, crossmatch

    m = crossmatch(np.array([c.ra for c in todo]), np.array([c.dec for c in todo]), builtin_clusters(), 10.0)
    for c, name, sep in zip(todo, m["nearest"], m["separation_arcmin"], strict=True):
        if np.isfinite(sep) and sep <= NEAREST_CLUSTER_ARCMIN:
            c.nearest_cluster, c.separation_arcmin = str(name), float(sep)


# -- ranking and filters -------------------------------------------------------------------------


def rank(cands: Iterable[QueueCandidate], order: str = "score", class_name: str = "") -> list[QueueCandidate]:
    """Best first by ``order``: "score" (highest), "class probability" (of ``class_name``, else
    each candidate's own class; one-class candidates after, by score) or "uncertainty" (closest
    to the threshold first: most useful to label next).  Ties go by score, field and id."""
    tie = lambda c: (-c.score, c.field, c.id)  # noqa: E731
    if order == "score":
        key = tie
    elif order == "class probability":

        def key(c):
            p = c.class_prob(class_name)
            return (math.isnan(p), -(0.0 if math.isnan(p) else p), *tie(c))
    elif order == "uncertainty":

        def key(c):
            u = c.uncertainty
            return (math.isnan(u), 0.0 if math.isnan(u) else u, *tie(c))
    else:
        raise ValueError(f"order must be one of {ORDERS}, not {order!r}")
    return sorted(cands, key=key)


@dataclass
class QueueFilter:
    """What the queue shows; the defaults show everything."""

    fields: tuple[str, ...] = ()  # empty: every field
    score_min: float = 0.0
    score_max: float = 1.0
    class_name: str = ""  # a class detector's class ("" any)
    unlabelled_only: bool = False  # no label from ``labeller`` (from anyone when it is empty)
    labeller: str = ""
    disagreements_only: bool = False  # labellers gave it different labels
    near_arcmin: float | None = None  # a named cluster within this many arcmin

    def keeps(self, c: QueueCandidate, votes: Votes) -> bool:
        v = votes.get(c.id, {})
        if self.fields and c.field not in self.fields:
            return False
        if not self.score_min <= c.score <= self.score_max:
            return False
        if self.class_name and c.cls != self.class_name:
            return False
        if self.unlabelled_only and (self.labeller in v if self.labeller else v):
            return False
        if self.disagreements_only and len(set(v.values())) < 2:
            return False
        if self.near_arcmin is not None and not (
            c.nearest_cluster and c.separation_arcmin <= self.near_arcmin
        ):
            return False
        return True


def select(cands: Iterable[QueueCandidate], flt: QueueFilter, votes: Votes) -> list[QueueCandidate]:
    return [c for c in cands if flt.keeps(c, votes)]


# -- a candidate's numbers -----------------------------------------------------------------------


def region_mask(scores: np.ndarray, stride: int, x: int, y: int, threshold: float) -> np.ndarray:
    """The candidate's region on its score map: the connected map pixels ≥ threshold holding its
    peak (reference pixel ``x``, ``y``); the peak's pixel alone when it is below."""
    from scipy import ndimage

    s = max(stride, 1)
    j = int(np.clip(np.floor(y / s + 0.5), 0, scores.shape[0] - 1))
    i = int(np.clip(np.floor(x / s + 0.5), 0, scores.shape[1] - 1))
    labels, _ = ndimage.label(np.nan_to_num(scores, nan=0.0) >= threshold)
    if labels[j, i] == 0:
        mask = np.zeros(scores.shape, bool)
        mask[j, i] = True
        return mask
    return labels == labels[j, i]


def region_numbers(images, scores: np.ndarray, map_wcs, region: np.ndarray) -> dict:
    """Integrated flux per band (Jy: the Jy/beam pixels inside the region over each band's beam
    area in pixels), the spectral index fitted to the positive ones, and the region's area
    (arcmin²).  Each band is read on its own grid, only around the region (no reprojection of
    the field: a survey's fields are many)."""
    from astropy.wcs.utils import proj_plane_pixel_scales

    from ..simulate.diffuse import GLEAM_BAND_MHZ, GLEAM_BEAM_ARCMIN

    jj, ii = np.nonzero(region)
    j0, j1, i0, i1 = jj.min() - 0.5, jj.max() + 0.5, ii.min() - 0.5, ii.max() + 0.5
    # plain world values, not SkyCoord: every band of a field shares its celestial frame, and the
    # frame transformations cost more than the rest (a survey's candidates are many)
    mw = map_wcs.celestial
    ra, dec = mw.pixel_to_world_values([i0, i1, i0, i1], [j0, j0, j1, j1])
    fluxes = []
    for b, im in enumerate(images):
        wcs = im.wcs.celestial
        bx, by = wcs.world_to_pixel_values(ra, dec)
        ny, nx = im.data.shape
        xa, xb = max(int(np.floor(np.min(bx))), 0), min(int(np.ceil(np.max(bx))), nx - 1)
        ya, yb = max(int(np.floor(np.min(by))), 0), min(int(np.ceil(np.max(by))), ny - 1)
        if xb < xa or yb < ya:
            fluxes.append(math.nan)
            continue
        yy, xx = np.mgrid[ya : yb + 1, xa : xb + 1]
        mi, mj = mw.world_to_pixel_values(*wcs.pixel_to_world_values(xx.ravel(), yy.ravel()))
        # each map pixel owns the `stride` reference pixels from its centre up (half up, not to even)
        mi, mj = np.floor(mi + 0.5 + 1e-6), np.floor(mj + 0.5 + 1e-6)
        ok = (mi >= 0) & (mj >= 0) & (mi < region.shape[1]) & (mj < region.shape[0])
        ok[ok] = region[mj[ok].astype(int), mi[ok].astype(int)]
        pix_arcmin = float(np.mean(proj_plane_pixel_scales(wcs))) * 60
        beam_px = 2 * np.pi * (GLEAM_BEAM_ARCMIN[b] / 2.3548 / pix_arcmin) ** 2
        fluxes.append(float(np.nansum(im.data[yy, xx].ravel()[ok]) / beam_px))
    flux = np.asarray(fluxes, float)
    pos = flux > 0
    freqs = np.asarray(GLEAM_BAND_MHZ[: len(flux)], float)
    alpha = float(np.polyfit(np.log(freqs[pos]), np.log(flux[pos]), 1)[0]) if pos.sum() >= 2 else math.nan
    map_arcmin = float(np.mean(proj_plane_pixel_scales(mw))) * 60
    return {"flux_jy": fluxes, "spectral_index": alpha, "area_arcmin2": float(region.sum()) * map_arcmin**2}
