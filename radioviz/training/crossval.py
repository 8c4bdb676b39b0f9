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
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..data.augment import SCALES
from ..data.dataset import Dataset
from ..data.preprocess import generator_normalization
from ..data.splits import group_folds
from ..metrics.classification import binary_metrics
from ..metrics.images import dihedral, nearest_neighbours
from ..models.classifiers import predict_halo_scores as predict_scores
from .classifier import TrainConfig, fit_classifier


def _source_rows(ds: Dataset, sources: np.ndarray) -> np.ndarray:
    return np.isin(ds.source, sources)


def _identity_scale(ds: Dataset) -> float:
    """Intensity scale of augmentation 0 (the identity rotation): SCALES[0] in augmented sets."""
    return SCALES[0] if ds.meta["config"].get("augment", True) else 1.0


def nearest_real_source(ds: Dataset, generated: np.ndarray) -> np.ndarray:
    """For each generated halo, the halo source whose central cut-out (in any of 8 orientations)
    it resembles most (SSIM in the generators' log min-max scale)."""
    rows = np.flatnonzero(ds.is_centre & (ds.aug == 0) & (ds.labels == 1))
    real = ds.images[rows] / _identity_scale(ds)
    norm = generator_normalization(real)
    _, idx = nearest_neighbours(
        np.clip(norm.forward(generated), 0, 1), np.clip(norm.forward(dihedral(real)), 0, 1)
    )
    return ds.source[rows][idx % len(rows)]


def cross_validate(
    ds: Dataset,
    cfg: TrainConfig,
    k: int = 4,
    seeds: list[int] | range = range(10),
    progress: bool = True,
    generated: np.ndarray | None = None,
) -> dict:
    """Out-of-fold scores and metrics for every seed; see the module docstring.

    With ``generated`` halos and ``cfg.generated_ratio`` > 0 (the diffusion-assisted variants),
    each fold only draws generated images whose nearest real source is one it trains on: a
    generator trained on every source reproduces them closely, and a copy of a held-out halo in
    the training set would inflate the held-out score.
    """
    gen_source = (
        nearest_real_source(ds, generated) if generated is not None and cfg.generated_ratio > 0 else None
    )
    pool_sizes = []
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
            inner = group_folds(
                ds.source_group[train_src], ds.source_labels[train_src], max(k - 1, 2), seed + 1000
            )
            val_src = train_src[inner == 0]
            fit_src = train_src[inner != 0]
            pool = None
            if gen_source is not None:
                pool = generated[np.isin(gen_source, fit_src)]
                pool_sizes.append(len(pool))
            fold_cfg = replace(
                cfg,
                seed=seed * 100 + f,
                generated_ratio=cfg.generated_ratio if pool is None or len(pool) else 0.0,
            )
            res = fit_classifier(
                ds,
                _source_rows(ds, fit_src),
                _source_rows(ds, val_src),
                fold_cfg,
                progress=False,
                generated=pool,
            )
            rows = _source_rows(ds, test_src) & centre
            img_scores[rows] = predict_scores(res.model, res.normalization.forward(ds.images[rows]))
            # the un-augmented central cut-out: augmentation 0 is the identity at scale SCALES[0]
            ident = np.flatnonzero(rows & (ds.aug == 0))
            src_scores[ds.source[ident]] = predict_scores(
                res.model, res.normalization.forward(ds.images[ident] / _identity_scale(ds))
            )
        rows = centre & np.isfinite(img_scores)
        per_image = binary_metrics(ds.labels[rows], img_scores[rows])
        per_source = binary_metrics(ds.source_labels, src_scores)
        per_seed.append(
            {
                "seed": seed,
                "per_image": per_image,
                "per_source": per_source,
                "source_scores": src_scores.tolist(),
                "image_scores_centre": img_scores[rows].tolist(),
                "image_labels_centre": ds.labels[rows].tolist(),
            }
        )

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
        "generated": None
        if gen_source is None
        else {
            "n_images": int(len(generated)),
            "ratio": cfg.generated_ratio,
            "pool_per_fold_min": int(min(pool_sizes)),
            "pool_per_fold_mean": float(np.mean(pool_sizes)),
            "folds_without_generated": int(sum(n == 0 for n in pool_sizes)),
            "rule": "a fold draws only generated halos whose nearest real halo source "
            "(SSIM, 8 orientations) it trains on",
        },
        "per_image": summary("per_image"),
        "per_source": summary("per_source"),
        "runs": per_seed,
    }


def cv_tag(arch: str, with_generated: bool) -> str:
    """File-name tag of a CV run: the architecture, marked when generated halos were added."""
    return arch + ("_generated" if with_generated else "")


def write_cv_report(result: dict, out: Path, tag: str) -> Path:
    """Write ``cv_<tag>.json`` and its ROC (per source, per image) and confusion plots into ``out``."""
    import json

    from ..metrics.plots import plot_confusion, plot_roc, roc_curve

    out.mkdir(parents=True, exist_ok=True)
    path = out / f"cv_{tag}.json"
    path.write_text(json.dumps(result))
    runs = result["runs"]
    plot_roc(
        [(*roc_curve(result["source_labels"], r["source_scores"]), f"seed {r['seed']}") for r in runs],
        out / f"roc_{tag}_per_source.png",
        f"{tag}: per-source ROC, {result['k']}-fold x {len(result['seeds'])} seeds",
    )
    plot_roc(
        [(*roc_curve(r["image_labels_centre"], r["image_scores_centre"]), f"seed {r['seed']}") for r in runs],
        out / f"roc_{tag}_per_image.png",
        f"{tag}: per-image ROC",
    )
    pooled = binary_metrics(
        np.concatenate([result["source_labels"]] * len(runs)),
        np.concatenate([r["source_scores"] for r in runs]),
    )
    plot_confusion(
        pooled["confusion"], out / f"confusion_{tag}_per_source.png", f"{tag}: per source, all seeds"
    )
    return path


def attach_cv_to_card(checkpoint: Path, result: dict) -> None:
    """Record a CV summary (not the per-run scores) under metrics.cv in a checkpoint's card."""
    from ..models.checkpoint import read_card

    card = read_card(checkpoint)
    keys = ("k", "seeds", "per_image", "per_source", "wall_seconds", "command", "train_config")
    card.metrics["cv"] = {k: result[k] for k in keys}
    card.write(checkpoint)
