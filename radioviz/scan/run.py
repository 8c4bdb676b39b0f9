"""Scanning fields from files: score-map FITS plus an ECSV candidate list per field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from tqdm.auto import tqdm

from ..io.catalogs import MATCH_RADIUS_ARCMIN, crossmatch, matched_names
from ..io.layout import discover, read_stack
from ..metrics.evaluate import load_classifier
from ..validate import fits_text
from .detector import candidates as detector_candidates
from .detector import to_scoremap
from .scoremap import ScoreMap, find_candidates, score_map


def candidates_table(
    smap: ScoreMap, threshold: float, catalog: Table | None = None, radius_arcmin: float = MATCH_RADIUS_ARCMIN
) -> Table:
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


def write_scoremap(smap: ScoreMap, path: Path, meta: dict) -> Path:
    header = smap.wcs.to_header()
    header["BUNIT"] = "halo score"
    header["STRIDE"] = (smap.stride, "reference-band pixels between window centres")
    for k, v in meta.items():
        header[k[:8].upper()] = fits_text(v) if isinstance(v, str) else v  # FITS cards are ASCII
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(smap.scores.astype(np.float32), header).writeto(path, overwrite=True)
    return path


def write_probmap(prob: np.ndarray, wcs, path: Path, meta: dict) -> Path:
    """A detector's calibrated probability map on its own grid, with that grid's WCS."""
    header = wcs.to_header()
    header["BUNIT"] = "probability"
    for k, v in meta.items():
        header[k[:8].upper()] = fits_text(v) if isinstance(v, str) else v
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(prob.astype(np.float32), header).writeto(path, overwrite=True)
    return path


def scan_path(
    path: str | Path,
    checkpoint: str | Path,
    out: str | Path,
    stride: int = 4,
    threshold: float | None = None,
    catalog: Table | None = None,
    radius_arcmin: float = MATCH_RADIUS_ARCMIN,
    progress: bool = True,
    callback: Callable | None = None,
    device: str = "cpu",
) -> list[dict]:
    """Scan every 4-band field under ``path``; returns one summary dict per field.

    ``threshold`` defaults to the card's calibrated ``default_threshold`` (a detector's), else
    0.95 (the paper's, for a window classifier).  A detector also writes its probability map on its own grid
    (``<field>_probmap.fits``) and a richer candidate table (area, flux per band, spectral index).
    The model runs on ``device`` (auto, cpu or cuda).
    """
    model, pre, card = load_classifier(checkpoint, device)
    detector = getattr(model, "is_detector", False)
    if threshold is None:  # the model's own (a survey's default too): ModelCard.default_threshold
        threshold = model.threshold if detector else card.default_threshold
    out = Path(out)
    sources = discover(path)
    results = []
    for src in tqdm(sources, desc="scanning", disable=not progress or len(sources) < 2):
        stack = read_stack(src)
        safe = src.name.replace(" ", "_")
        meta = {"CHECKPT": Path(checkpoint).name, "ARCH": card.arch}
        if detector:
            prob, grid = model.probability(stack)
            ref = stack.images[-1]
            smap = to_scoremap(prob, grid, ref.wcs, ref.shape, stride)
            write_probmap(prob, grid.wcs, out / f"{safe}_probmap.fits", meta)
            cls = model.raw_class_probabilities(grid.scaled())
            if cls is not None:  # the class detector's any-diffuse map beside the halo map
                diffuse = 1 - cls[model.classes.index("background")]
                write_probmap(diffuse, grid.wcs, out / f"{safe}_diffusemap.fits", meta)
            table = detector_candidates(
                prob,
                grid,
                threshold,
                catalog,
                radius_arcmin=radius_arcmin,
                class_probs=cls,
                classes=model.classes,
            )
            if callback is not None:
                callback(1, 1)
        else:
            smap = score_map(stack, model, stride, pre, callback=callback)
            table = candidates_table(smap, threshold, catalog, radius_arcmin)
        fits_path = write_scoremap(smap, out / f"{safe}_scoremap.fits", meta)
        table.meta["field"] = src.name
        ecsv = out / f"{safe}_candidates.ecsv"
        table.write(ecsv, overwrite=True)
        results.append(
            {
                "field": src.name,
                "scoremap": str(fits_path),
                "candidates": str(ecsv),
                "n_candidates": len(table),
                "max_score": float(np.nanmax(smap.scores)),
            }
        )
    return results
