"""What the diffuse-emission detector gives a user: probability maps, cluster scores, candidates.

The detector (:class:`radioviz.models.segmenter.Detector`) scores a whole field in one pass on
its own grid.  This module turns that map into the score-map contract of the window classifiers
(a :class:`~radioviz.scan.scoremap.ScoreMap` on the reference band's strided grid, so ``radioviz
scan`` and the Fields view work unchanged), and into a ranked candidate list: connected regions
above a threshold, non-maximum suppressed, with area, integrated flux per band, spectral index
and the nearest catalogue cluster (named within the match radius, 10′ by default).
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.table import Table
from scipy import ndimage

from ..data.fieldgrid import GriddedField
from ..io.catalogs import MATCH_RADIUS_ARCMIN, crossmatch, matched_names
from ..simulate.diffuse import GLEAM_BAND_MHZ, GLEAM_BEAM_ARCMIN
from .maps import ScoreMap, map_wcs


def to_scoremap(
    prob: np.ndarray, grid: GriddedField, ref_wcs, ref_shape, stride: int, layers: dict | None = None
) -> ScoreMap:
    """The probability map (and any ``layers`` on the same grid) resampled onto the reference band's
    grid sampled every ``stride`` pixels."""
    from reproject import reproject_interp

    wcs = map_wcs(ref_wcs.celestial, stride)
    shape = (len(range(0, ref_shape[0], stride)), len(range(0, ref_shape[1], stride)))

    def resample(a):
        return reproject_interp((a, grid.wcs), wcs, shape_out=shape, order="bilinear")[0].astype(np.float32)

    return ScoreMap(
        resample(prob), wcs, stride, tuple(ref_shape), {k: resample(v) for k, v in (layers or {}).items()}
    )


def class_layers(detector, p: np.ndarray | None, halo: np.ndarray) -> dict[str, np.ndarray]:
    """A class detector's maps on its grid from its class probabilities ``p`` (``Detector.maps``):
    the (calibrated) halo map, any-diffuse and each class's probability; {} for a one-class
    detector (``p`` None)."""
    if p is None:
        return {}
    layers = {"halo": halo, "diffuse": 1 - p[detector.classes.index("background")]}
    layers.update({f"p_{c}": p[k] for k, c in enumerate(detector.classes)})
    return layers


def detector_score_map(field, detector, stride: int = 4, callback=None) -> ScoreMap:
    """``score_map`` for a detector: one pass, then the map on the reference band's strided grid
    (with a class detector's class and any-diffuse maps as layers)."""
    stack = getattr(field, "stack", field)
    prob, p, grid = detector.maps(stack)
    ref = stack.images[-1]
    smap = to_scoremap(prob, grid, ref.wcs, ref.shape, stride, class_layers(detector, p, prob))
    if callback is not None:
        callback(1, 1)
    return smap


def _spectral_index(fluxes: np.ndarray, freqs: np.ndarray) -> float:
    ok = fluxes > 0
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(freqs[ok]), np.log(fluxes[ok]), 1)[0])


def find_regions(prob: np.ndarray, threshold: float, nms_px: float) -> list[dict]:
    """Connected regions ≥ threshold, ranked by peak; a region whose peak lies within ``nms_px`` of a
    higher-ranked one is merged into it (non-maximum suppression)."""
    labels, n = ndimage.label(np.nan_to_num(prob, nan=0.0) >= threshold)
    regions = []
    for k, sl in enumerate(ndimage.find_objects(labels), start=1):
        sub = labels[sl] == k
        vals = np.where(sub, prob[sl], -np.inf)
        j, i = np.unravel_index(np.argmax(vals), vals.shape)
        regions.append({"peak": float(vals[j, i]), "y": j + sl[0].start, "x": i + sl[1].start, "labels": [k]})
    regions.sort(key=lambda r: -r["peak"])
    kept: list[dict] = []
    for r in regions:
        host = next((q for q in kept if np.hypot(q["x"] - r["x"], q["y"] - r["y"]) <= nms_px), None)
        if host is None:
            kept.append(r)
        else:
            host["labels"] += r["labels"]
    for r in kept:
        r["mask"] = np.isin(labels, r["labels"])
    return kept


def candidates(
    prob: np.ndarray,
    grid: GriddedField,
    threshold: float,
    catalog: Table | None = None,
    nms_arcmin: float = 10.0,
    radius_arcmin: float = MATCH_RADIUS_ARCMIN,
    band_mhz=GLEAM_BAND_MHZ,
    beam_arcmin=GLEAM_BEAM_ARCMIN,
    class_probs: np.ndarray | None = None,
    classes: tuple[str, ...] = (),
) -> Table:
    """The ranked candidate table of one field (ECSV-ready).  With a class detector's
    ``class_probs`` (K, H, W) each candidate also gets its classes' mean probability over its
    region (``p_<class>``) and its ``class``: the most probable one other than background."""
    pix = grid.pixel_deg
    regions = find_regions(prob, threshold, nms_arcmin / 60 / pix)
    freqs = np.asarray(band_mhz[: grid.data.shape[0]], float)
    beam_px = np.array([2 * np.pi * (b * 60 / (pix * 3600) / 2.3548) ** 2 for b in beam_arcmin])
    rows = []
    for r in regions:
        sky = grid.wcs.pixel_to_world(r["x"], r["y"])
        flux = np.array([grid.data[b][r["mask"]].sum() / beam_px[b] for b in range(grid.data.shape[0])])
        rows.append(
            (
                float(sky.ra.deg),
                float(sky.dec.deg),
                r["peak"],
                int(r["x"]),
                int(r["y"]),
                float(r["mask"].sum() * (pix * 60) ** 2),
                flux,
                _spectral_index(flux, freqs),
            )
        )
    nb = grid.data.shape[0]
    t = Table(
        {
            "rank": np.arange(1, len(rows) + 1),
            "ra": np.array([r[0] for r in rows], float) * u.deg,
            "dec": np.array([r[1] for r in rows], float) * u.deg,
            "peak_score": np.array([r[2] for r in rows], float),
            "x_grid": np.array([r[3] for r in rows], int),
            "y_grid": np.array([r[4] for r in rows], int),
            "area_arcmin2": np.array([r[5] for r in rows], float),
        }
    )
    for b in range(nb):
        name = grid.bands[b] if b < len(grid.bands) else str(b)
        t[f"flux_{name}"] = np.array([r[6][b] for r in rows], float) * u.Jy
    t["spectral_index"] = np.array([r[7] for r in rows], float)
    if class_probs is not None and classes:
        means = np.array([[class_probs[k][r["mask"]].mean() for k in range(len(classes))] for r in regions])
        means = means.reshape(len(regions), len(classes))
        named = [c for c in classes if c != "background"]
        t["class"] = np.array(
            [named[int(np.argmax(m[[classes.index(c) for c in named]]))] for m in means], dtype="U16"
        )
        for k, c in enumerate(classes):
            t[f"p_{c}"] = means[:, k]
    if catalog is not None:
        m = crossmatch(np.asarray(t["ra"]), np.asarray(t["dec"]), catalog, radius_arcmin)
        t["nearest_cluster"] = matched_names(m) if len(t) else np.array([], str)
        t["separation_arcmin"] = m["separation_arcmin"]
        t.meta["catalog"] = catalog.meta.get("catalog", "")
        t.meta["match_radius_arcmin"] = radius_arcmin
    t.meta.update(
        {"threshold": threshold, "nms_arcmin": nms_arcmin, "grid_pixel_deg": pix, "field": grid.name}
    )
    return t


# -- injection–recovery on the detector's grid --------------------------------------------------

INJECTION_CROP = 96


def injection_scores(
    prob_fn,
    grid: GriddedField,
    inj,
    radius_arcmin: float,
    seed: int = 0,
    inputs: tuple[str, ...] = ("bands",),
) -> tuple[list[tuple], list[float]]:
    """Cluster scores of halos injected ``inj.offset_deg`` from the field centre (one per grid
    cell and position angle), and of the same positions left blank.

    ``prob_fn(scaled (C, h, w)) -> (h, w)`` probabilities of the detector's input (the groups
    ``inputs``, ``data.fieldgrid.INPUT_GROUPS``).  Each injection is scored on a
    ``INJECTION_CROP``² crop around its position (the network's reach is well inside it), with the
    dead band filled by noise before adding (see :func:`radioviz.simulate.diffuse.inject`).
    """
    from ..models.segmenter import disc_max
    from ..simulate.diffuse import DiffuseSource, inject

    rng = np.random.default_rng(seed)
    c = INJECTION_CROP
    pix_arcsec = grid.pixel_deg * 3600
    r_px = radius_arcmin / 60 / grid.pixel_deg
    centre = grid.wcs.pixel_to_world((grid.data.shape[2] - 1) / 2, (grid.data.shape[1] - 1) / 2)
    rows, blanks = [], []
    for pa in inj.position_angles_deg:
        pos = centre.directional_offset_by(pa * u.deg, inj.offset_deg * u.deg)
        px, py = (float(v) for v in grid.wcs.world_to_pixel(pos))
        x0, y0 = int(round(px)) - c // 2, int(round(py)) - c // 2
        crop = np.zeros((grid.data.shape[0], c, c), np.float32)
        h, w = grid.data.shape[1:]
        ya, xa, yb, xb = max(y0, 0), max(x0, 0), min(y0 + c, h), min(x0 + c, w)
        crop[:, ya - y0 : yb - y0, xa - x0 : xb - x0] = grid.data[:, ya:yb, xa:xb]
        lx, ly = px - x0, py - y0
        blanks.append(disc_max(prob_fn(field_scale_of(grid, crop, inputs)), lx, ly, r_px))
        for flux in inj.fluxes_jy:
            for size in inj.sizes_mpc:
                src = DiffuseSource("halo", lx, ly, float(flux), float(size), inj.redshift, -1.3)
                data, _, _ = inject(crop, [src], grid.sigmas, grid.thresholds, pix_arcsec, rng)
                rows.append(
                    (pa, flux, size, disc_max(prob_fn(field_scale_of(grid, data, inputs)), lx, ly, r_px))
                )
    return rows, blanks


def field_scale_of(grid: GriddedField, data: np.ndarray, inputs: tuple[str, ...]) -> np.ndarray:
    from ..data.fieldgrid import field_scale

    return field_scale(data, grid.sigmas, inputs, grid.pixel_deg)


def summarise_injections(per: Table, blank_scores, inj, threshold: float) -> Table:
    """Completeness per (flux, size) at 0.5 and at ``threshold``; false-positive rates on blanks."""
    summary = []
    for flux in inj.fluxes_jy:
        for size in inj.sizes_mpc:
            s = np.asarray(per["score"][(per["flux_jy_200mhz"] == flux) & (per["size_mpc"] == size)])
            summary.append(
                (
                    flux,
                    size,
                    len(s),
                    float(np.mean(s >= 0.5)),
                    float(np.mean(s >= threshold)),
                    float(np.median(s)),
                )
            )
    summ = Table(
        rows=summary,
        names=("flux_jy_200mhz", "size_mpc", "n", "completeness_0.5", "completeness_0.95", "median_score"),
    )
    blank = np.asarray(blank_scores)
    summ.meta.update(
        {
            "false_positive_rate_0.5": float(np.mean(blank >= 0.5)),
            "false_positive_rate_0.95": float(np.mean(blank >= threshold)),
            "n_blank": int(len(blank)),
            "redshift": inj.redshift,
            "offset_deg": inj.offset_deg,
            "threshold_column_0.95": f"completeness_0.95 is at the detector's threshold {threshold:g}",
        }
    )
    return summ


def detector_injection_recovery(fields, detector, inj, progress: bool = True) -> tuple[Table, Table]:
    """The ``radioviz inject`` tables for a detector (same columns as the window classifiers')."""
    from tqdm.auto import tqdm

    from ..data.fieldgrid import grid_field

    def prob_fn(scaled):
        return detector.calibration(detector.raw_probability(scaled))

    rows, blanks = [], []
    for k, stack in enumerate(tqdm(fields, desc="injecting", disable=not progress)):
        grid = grid_field(stack, detector.spec)
        r, b = injection_scores(
            prob_fn, grid, inj, detector.cluster_radius_arcmin, seed=k, inputs=detector.net.inputs
        )
        rows += [(stack.name, *x) for x in r]
        blanks += b
    per = Table(
        rows=rows if rows else None,
        names=("field", "pa_deg", "flux_jy_200mhz", "size_mpc", "score"),
    )
    return per, summarise_injections(per, blanks, inj, detector.threshold)
