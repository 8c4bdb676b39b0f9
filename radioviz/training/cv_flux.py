"""The one-number baseline's pieces (shared by ``scripts/cv_flux_baseline.py`` and the detector CV):
the central cut-out's log peak per band, and the cut on it fitted for balanced accuracy."""

from __future__ import annotations

import numpy as np


def fit_threshold(x: np.ndarray, y: np.ndarray) -> float:
    """The cut on x (halo if x < cut) with the best balanced accuracy on (x, y)."""
    cands = np.unique(x)
    cuts = np.concatenate([cands, [cands.max() + 1]])
    best = max(cuts, key=lambda c: 0.5 * (np.mean(x[y == 1] < c) + np.mean(x[y == 0] >= c)))
    return float(best)


def log_peak(ds) -> np.ndarray:
    """(sources, bands) log10 peak of each source's un-augmented central cut-out."""
    from .crossval import _identity_scale

    rows = np.flatnonzero(ds.is_centre & (ds.aug == 0))
    peak = np.zeros((len(ds.source_names), ds.images.shape[1]))
    peak[ds.source[rows]] = np.log10(np.maximum(ds.images[rows].max(axis=(2, 3)) / _identity_scale(ds), 1e-4))
    return peak
