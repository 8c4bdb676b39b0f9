"""Cross-validation by source (sky group), repeated over seeds: the honest classifier numbers.

For each seed the sources are dealt into ``k`` folds by sky group (classes balanced); each fold
is predicted by a model trained on the other folds, which early-stops on one further held-out
group of its training sources.  Every source thus gets an out-of-fold score:

* per image — the 160 augmentations of its central cut-out;
* per source — the central cut-out itself.

Metrics are computed per seed over all out-of-fold predictions; the report gives mean ± std
over seeds.
"""
from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
from tqdm.auto import tqdm

from ..data.augment import SCALES
from ..data.dataset import Dataset
from ..data.splits import group_folds
from ..metrics.classification import binary_metrics
from ..models.classifiers import predict_halo_scores as predict_scores
from .classifier import TrainConfig, fit_classifier


def _source_rows(ds: Dataset, sources: np.ndarray) -> np.ndarray:
    return np.isin(ds.source, sources)


def cross_validate(ds: Dataset, cfg: TrainConfig, k: int = 4, seeds: list[int] | range = range(10), progress: bool = True) -> dict:
    """Out-of-fold scores and metrics for every seed; see the module docstring."""
    n_src = len(ds.source_names)
    centre = ds.is_centre
    per_seed = []
    for seed in tqdm(list(seeds), desc=f"{cfg.arch} seeds", disable=not progress):
        folds = group_folds(ds.source_group, ds.source_labels, k, seed)
        img_scores = np.full(len(ds.labels), np.nan)
        src_scores = np.full(n_src, np.nan)
        for f in range(k):
            test_src = np.flatnonzero(folds == f)
            train_src = np.flatnonzero(folds != f)
            # an inner fold of the training sources, by group, for early stopping
            inner = group_folds(ds.source_group[train_src], ds.source_labels[train_src], max(k - 1, 2), seed + 1000)
            val_src = train_src[inner == 0]
            fit_src = train_src[inner != 0]
            res = fit_classifier(ds, _source_rows(ds, fit_src), _source_rows(ds, val_src), replace(cfg, seed=seed * 100 + f), progress=False)
            rows = _source_rows(ds, test_src) & centre
            img_scores[rows] = predict_scores(res.model, res.normalization.forward(ds.images[rows]))
            # the un-augmented central cut-out: augmentation 0 is the identity at scale SCALES[0]
            ident = np.flatnonzero(rows & (ds.aug == 0))
            src_scores[ds.source[ident]] = predict_scores(res.model, res.normalization.forward(ds.images[ident] / SCALES[0]))
        rows = centre & np.isfinite(img_scores)
        per_image = binary_metrics(ds.labels[rows], img_scores[rows])
        per_source = binary_metrics(ds.source_labels, src_scores)
        per_seed.append({"seed": seed, "per_image": per_image, "per_source": per_source, "source_scores": src_scores.tolist(), "image_scores_centre": img_scores[rows].tolist(), "image_labels_centre": ds.labels[rows].tolist()})

    def summary(level: str) -> dict:
        out = {}
        for key in ("accuracy", "precision", "recall", "f1", "roc_auc"):
            vals = np.array([r[level][key] for r in per_seed], dtype=float)
            out[key] = {"mean": float(np.nanmean(vals)), "std": float(np.nanstd(vals))}
        return out

    return {
        "arch": cfg.arch,
        "k": k,
        "seeds": list(seeds),
        "train_config": asdict(cfg),
        "n_sources": n_src,
        "source_names": ds.source_names.tolist(),
        "source_labels": ds.source_labels.tolist(),
        "per_image": summary("per_image"),
        "per_source": summary("per_source"),
        "runs": per_seed,
    }
