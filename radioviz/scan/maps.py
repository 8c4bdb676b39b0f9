"""What a score map is, whatever model made it: the map on the reference band's strided grid and
its candidates (one per connected region above a threshold)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from astropy import units as u
from astropy.table import Table
from astropy.wcs import WCS
from scipy import ndimage

from ..io.catalogs import MATCH_RADIUS_ARCMIN, crossmatch, matched_names


@dataclass
class ScoreMap:
    scores: np.ndarray  # (ny, nx) halo score per window centre
    wcs: WCS  # celestial WCS of the map (the reference band's, strided)
    stride: int
    ref_shape: tuple[int, int]
    #: A class detector's maps on the same grid: "halo" (calibrated, the cluster score), "diffuse"
    #: (any extended emission) and "p_<class>" (each class's probability); empty for a window
    #: classifier or a one-class detector.
    layers: dict[str, np.ndarray] = field(default_factory=dict)
    shown: str = "halo"  # which of the layers ``scores`` holds

    @property
    def classes(self) -> list[str]:
        """The classes whose probability maps the layers hold (background first), or []."""
        return [k[2:] for k in self.layers if k.startswith("p_")]

    def showing(self, mode: str) -> ScoreMap:
        """The same map with ``scores`` = the halo map or the any-diffuse layer (``mode``)."""
        if mode == self.shown or mode not in self.layers:
            return self
        return replace(self, scores=self.layers[mode], shown=mode)


def map_wcs(ref_wcs: WCS, stride: int) -> WCS:
    """WCS in which map pixel i sits on reference pixel stride·i (sampling, not binning)."""
    w = ref_wcs.deepcopy()
    w.wcs.crpix = (np.asarray(w.wcs.crpix) - 1) / stride + 1
    if w.wcs.has_cd():
        w.wcs.cd = w.wcs.cd * stride
    else:
        w.wcs.cdelt = np.asarray(w.wcs.cdelt) * stride
    w.wcs.set()
    return w


def class_at(smap: ScoreMap, j: int, i: int) -> dict:
    """A class detector's answer at map pixel (j, i): each class's probability and the most
    probable class other than background ({} when the map has no classes)."""
    classes = smap.classes
    if not classes:
        return {}
    probs = {c: float(smap.layers[f"p_{c}"][j, i]) for c in classes}
    best = max((c for c in classes if c != "background"), key=lambda c: probs[c])
    return {"class": best, "class_probs": probs}


def find_candidates(smap: ScoreMap, threshold: float = 0.95) -> list[dict]:
    """One candidate per connected region above ``threshold``: its peak score and position (and,
    from a class detector, its class probabilities at the peak)."""
    above = np.nan_to_num(smap.scores, nan=0.0) >= threshold
    labels, n = ndimage.label(above)
    out = []
    for k in range(1, n + 1):
        region = labels == k
        flat = np.where(region, smap.scores, -np.inf)
        j, i = np.unravel_index(np.argmax(flat), flat.shape)
        sky = smap.wcs.pixel_to_world(i, j)
        out.append(
            {
                "ra": float(sky.ra.deg),
                "dec": float(sky.dec.deg),
                "peak_score": float(smap.scores[j, i]),
                "x": int(i * smap.stride),
                "y": int(j * smap.stride),
                "n_pixels": int(region.sum()),
                **class_at(smap, j, i),
            }
        )
    return sorted(out, key=lambda c: -c["peak_score"])


def candidates_table(
    smap: ScoreMap, threshold: float, catalog: Table | None = None, radius_arcmin: float = MATCH_RADIUS_ARCMIN
) -> Table:
    """:func:`find_candidates` as an ECSV-ready table (cross-matched with ``catalog`` when given)."""
    cands = find_candidates(smap, threshold)
    t = Table(
        {
            "ra": np.array([c["ra"] for c in cands], float) * u.deg,
            "dec": np.array([c["dec"] for c in cands], float) * u.deg,
            "peak_score": np.array([c["peak_score"] for c in cands], float),
            "x": np.array([c["x"] for c in cands], int),
            "y": np.array([c["y"] for c in cands], int),
            "n_map_pixels": np.array([c["n_pixels"] for c in cands], int),
        }
    )
    if catalog is not None:
        m = crossmatch(np.asarray(t["ra"]), np.asarray(t["dec"]), catalog, radius_arcmin)
        t["nearest_cluster"] = matched_names(m) if len(t) else np.array([], str)
        t["separation_arcmin"] = m["separation_arcmin"]
        t.meta["catalog"] = catalog.meta.get("catalog", "")
        t.meta["match_radius_arcmin"] = radius_arcmin
    t.meta.update({"threshold": threshold, "stride": smap.stride})
    return t
