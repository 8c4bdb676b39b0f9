"""The ``evaluate-classifier`` contract for a segmenter checkpoint.

Per source: the cluster score at the field centre (peak of the calibrated probability map within
the card's cluster radius).  Per image: the same score on each of the 160 augmentations (8
rotations × 2 flips × 10 intensity scalings, :mod:`radioviz.data.augment`) of the central
64×64 region of the detector's grid — the field's own noise σ is kept, so a brighter copy is a
genuinely brighter source, as for the window classifiers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..data.augment import augment
from ..io.layout import read_stack, split_sources
from .classification import binary_metrics

CENTRAL = 64


def central_region(data: np.ndarray, cx: float, cy: float, size: int = CENTRAL) -> np.ndarray:
    h, w = data.shape[-2:]
    y0, x0 = int(round(cy - size / 2 + 0.5)), int(round(cx - size / 2 + 0.5))
    out = np.zeros(data.shape[:-2] + (size, size), np.float32)
    ya, xa, yb, xb = max(y0, 0), max(x0, 0), min(y0 + size, h), min(x0 + size, w)
    out[..., ya - y0 : yb - y0, xa - x0 : xb - x0] = data[..., ya:yb, xa:xb]
    return out


@torch.no_grad()
def augmented_scores(detector, region: np.ndarray, sigmas) -> np.ndarray:
    """Cluster score at the centre of each of the 160 augmentations of a (C, 64, 64) region."""
    from ..models.device import model_device
    from ..models.segmenter import detector_input, disc_max

    aug = augment(region)
    x = torch.from_numpy(detector_input(detector.net, aug, sigmas, detector.spec.pixel_deg))
    x = x.to(model_device(detector))
    p = detector.calibration(torch.sigmoid(detector.net(x))[:, 0].cpu().numpy())
    r = detector.cluster_radius_arcmin / 60 / detector.spec.pixel_deg
    c = (CENTRAL - 1) / 2
    return np.array([disc_max(m, c, c, r) for m in p])


def evaluate_detector(checkpoint: str | Path, detector, card: dict, root, split: str, progress: bool = False):
    from tqdm.auto import tqdm

    names, labels, src_scores, img_scores, img_labels = [], [], [], [], []
    for s in tqdm(split_sources(root, split), desc="fields", disable=not progress):
        stack = read_stack(s)
        prob, grid = detector.probability(stack)
        ny, nx = prob.shape
        cx, cy = (nx - 1) / 2, (ny - 1) / 2
        names.append(s.name)
        labels.append(int(s.label))
        src_scores.append(detector.cluster_score(prob, grid.wcs, (cx, cy)))
        sc = augmented_scores(detector, central_region(grid.data, cx, cy), grid.sigmas)
        img_scores.append(sc)
        img_labels.append(np.full(len(sc), int(s.label)))
    y, s_ = np.array(labels), np.array(src_scores)
    per_image = binary_metrics(np.concatenate(img_labels), np.concatenate(img_scores))
    per_image["n_images"] = int(sum(len(x) for x in img_scores))
    per_source = binary_metrics(y, s_)
    per_source["n_sources"] = len(y)
    per_source["scores"] = {n: float(v) for n, v in zip(names, s_, strict=False)}
    per_source["labels"] = {n: int(v) for n, v in zip(names, y, strict=False)}
    return {
        "checkpoint": str(checkpoint),
        "split": split,
        "arch": card.arch if hasattr(card, "arch") else card["arch"],
        "threshold": 0.5,
        "per_image": per_image,
        "per_source": per_source,
    }
