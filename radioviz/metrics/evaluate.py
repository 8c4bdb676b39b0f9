"""Evaluating a classifier checkpoint on any split of the published layout.

Per image: every one of the 160 augmentations of each source's central cut-out.  Per source:
the central cut-out itself.  Classification metrics use a 0.5 threshold on the halo score
(the paper flags candidates at 0.95; the score is reported so either can be applied).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ..data.dataset import DatasetConfig, build_dataset
from ..data.preprocess import Preprocessing
from ..models import registry
from ..models.checkpoint import ModelCardError, card_path, load_checkpoint, read_card
from ..models.classifiers import predict_halo_scores
from ..models.device import place
from .classification import binary_metrics


def load_classifier(path: str | Path, device: str = "cpu"):
    """(model, preprocessing, card) of a classifier checkpoint, read on the CPU and placed on
    ``device`` (auto, cpu or cuda).  A dense architecture (the segmenter) loads as a
    :class:`~radioviz.models.segmenter.Detector`; :func:`radioviz.scan.scorer.scorer_for` is
    where the rest of the library learns which of the two it holds."""
    if registry.scores_fields(read_card(path)) == registry.DENSE:
        from ..models.segmenter import Detector

        net, card = load_checkpoint(path, registry.builders("classifier", registry.DENSE), kind="classifier")
        return place(Detector(net, card), device), card.preprocessing or Preprocessing(), card
    model, card = load_checkpoint(path, registry.builders("classifier", registry.WINDOW), kind="classifier")
    model = place(model, device)
    pre = card.preprocessing or Preprocessing()
    if pre.normalization is None:  # a classifier's inputs are scaled as in training, or not at all
        raise ModelCardError(
            card_path(Path(path)), "preprocessing.normalization", "missing (a classifier needs it)"
        )
    return model, pre, card


def score_images(model, pre: Preprocessing, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """Halo scores of (N, C, H, W) clipped Jy/beam cut-outs."""
    return predict_halo_scores(model, pre.normalization.forward(images), batch)


def evaluate_classifier(
    checkpoint: str | Path,
    root: str | Path,
    split: str,
    cache_dir: Path | None = None,
    progress: bool = False,
    device: str = "cpu",
) -> dict:
    """The ``evaluate-classifier --json`` contract as a dict (the model run on ``device``)."""
    model, pre, card = load_classifier(checkpoint, device)
    if registry.scores_fields(card) == registry.DENSE:  # a whole-field detector: its own contract
        from .detector_eval import evaluate_detector

        return evaluate_detector(checkpoint, model, card, root, split, progress)
    cfg = DatasetConfig(
        str(root), split, pre.band_convention, pre.cutout_size, pre.nsigma, val_fraction=0.5, augment=True
    )
    aug, _, _ = build_dataset(cfg, cache_dir, progress=progress)
    plain, _, _ = build_dataset(replace(cfg, augment=False), cache_dir, progress=progress)
    per_image_scores = score_images(model, pre, aug.images)
    per_image = binary_metrics(aug.labels, per_image_scores)
    per_image["n_images"] = int(len(aug.labels))
    src_scores = score_images(model, pre, plain.images)
    per_source = binary_metrics(plain.labels, src_scores)
    per_source["n_sources"] = int(len(plain.labels))
    per_source["scores"] = {
        str(n): float(s) for n, s in zip(plain.source_names[plain.source], src_scores, strict=True)
    }
    per_source["labels"] = {
        str(n): int(y) for n, y in zip(plain.source_names[plain.source], plain.labels, strict=True)
    }
    return {
        "checkpoint": str(checkpoint),
        "split": split,
        "arch": card.arch,
        "threshold": 0.5,
        "per_image": per_image,
        "per_source": per_source,
    }
