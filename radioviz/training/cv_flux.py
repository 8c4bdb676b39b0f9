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


def flux_baseline_cv(ds, k: int = 4, seeds: int = 10) -> dict:
    """What the TRAIN sources support without a network, under exactly the folds of ``radioviz cv``
    (k folds by sky group × seeds): per band, accuracy, F1 and ROC AUC (mean and std over seeds)
    of the peak-flux cut fitted on each fold's training sources."""
    from ..data.splits import group_folds
    from ..metrics.classification import binary_metrics

    peak, y = log_peak(ds), ds.source_labels
    out = {}
    for b, band in enumerate(ds.meta["bands"]):
        runs = []
        for seed in range(seeds):
            folds = group_folds(ds.source_group, y, k, seed)
            score = np.zeros(len(y))
            for f in range(k):
                tr, te = folds != f, folds == f
                cut = fit_threshold(peak[tr, b], y[tr])
                score[te] = 1.0 / (1.0 + np.exp(4 * (peak[te, b] - cut)))  # ≥ 0.5 below the cut
            runs.append(binary_metrics(y, score))
        out[band] = {
            m: {"mean": float(np.mean([r[m] for r in runs])), "std": float(np.std([r[m] for r in runs]))}
            for m in ("accuracy", "f1", "roc_auc")
        }
    return {"k": k, "seeds": seeds, "feature": "log10 peak of the central 64x64 cut-out", "per_band": out}
