"""What the 36 TRAIN sources support without a network: a one-number classifier (the central
cut-out's peak flux in one band: halos are fainter than the radio galaxies among the non-halos)
under exactly the folds of ``radioviz cv`` (4 folds by sky group × 10 seeds), threshold chosen
on each fold's training sources for balanced accuracy.

Run:  python scripts/cv_flux_baseline.py --data ../shared/data/GLEAM-Data
      (add --json docs/classifiers/flux_baseline_cv.json to write the table)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from radioviz.data.dataset import DatasetConfig, build_dataset
from radioviz.data.splits import group_folds
from radioviz.metrics.classification import binary_metrics


def fit_threshold(x: np.ndarray, y: np.ndarray) -> float:
    """The cut on x (halo if x < cut) with the best balanced accuracy on (x, y)."""
    cands = np.unique(x)
    cuts = np.concatenate([cands, [cands.max() + 1]])
    best = max(cuts, key=lambda c: 0.5 * (np.mean(x[y == 1] < c) + np.mean(x[y == 0] >= c)))
    return float(best)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--json")
    a = ap.parse_args()
    ds, _, _ = build_dataset(
        DatasetConfig(a.data, "TRAIN", offcentre_per_halo=2), a.cache_dir, progress=False
    )
    rows = np.flatnonzero(ds.is_centre & (ds.aug == 0))
    peak = np.zeros((len(ds.source_names), ds.images.shape[1]))
    peak[ds.source[rows]] = np.log10(np.maximum(ds.images[rows].max(axis=(2, 3)), 1e-4))
    y = ds.source_labels
    out = {}
    for b, band in enumerate(ds.meta["bands"]):
        runs = []
        for seed in range(a.seeds):
            folds = group_folds(ds.source_group, y, a.k, seed)
            score = np.zeros(len(y))
            for f in range(a.k):
                tr, te = folds != f, folds == f
                cut = fit_threshold(peak[tr, b], y[tr])
                score[te] = 1.0 / (1.0 + np.exp(4 * (peak[te, b] - cut)))  # ≥ 0.5 below the cut
            runs.append(binary_metrics(y, score))
        out[band] = {
            m: {"mean": float(np.mean([r[m] for r in runs])), "std": float(np.std([r[m] for r in runs]))}
            for m in ("accuracy", "f1", "roc_auc")
        }
        print(
            f"{band:>12s}  accuracy {out[band]['accuracy']['mean']:.3f} ± {out[band]['accuracy']['std']:.3f}"
            f"  F1 {out[band]['f1']['mean']:.3f}  ROC AUC {out[band]['roc_auc']['mean']:.3f}"
        )
    if a.json:
        Path(a.json).write_text(
            json.dumps(
                {
                    "k": a.k,
                    "seeds": a.seeds,
                    "feature": "log10 peak of the central 64x64 cut-out",
                    "per_band": out,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
