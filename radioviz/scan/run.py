"""Scanning fields from files: score-map FITS plus an ECSV candidate list per field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from tqdm.auto import tqdm

from ..io.catalogs import MATCH_RADIUS_ARCMIN
from ..io.layout import discover, read_stack
from ..models.checkpoint import read_card
from ..validate import fits_text
from .maps import ScoreMap, candidates_table
from .scorer import load_scorer

__all__ = ["candidates_table", "scan_path", "write_probmap", "write_scoremap"]


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
    scorer = load_scorer(checkpoint, device)
    card = read_card(checkpoint)
    if threshold is None:  # the model's own (a survey's default too): ModelCard.default_threshold
        threshold = scorer.threshold
    out = Path(out)
    sources = discover(path)
    results = []
    for src in tqdm(sources, desc="scanning", disable=not progress or len(sources) < 2):
        stack = read_stack(src)
        safe = src.name.replace(" ", "_")
        meta = {"CHECKPT": Path(checkpoint).name, "ARCH": card.arch}
        found = scorer.candidates(stack, stride, threshold, catalog, radius_arcmin, callback)
        smap, table = found.smap, found.table
        for name, (data, wcs) in found.maps.items():
            write_probmap(data, wcs, out / f"{safe}_{name}.fits", meta)
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
