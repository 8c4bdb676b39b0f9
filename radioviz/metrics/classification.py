"""Binary classification metrics (labels 1 = halo), from scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (ties count half); NaN when only one class is present."""
    labels = np.asarray(labels).astype(bool)
    if labels.all() or not labels.any():
        return float("nan")
    return float(skm.roc_auc_score(labels, np.asarray(scores, dtype=np.float64)))


def binary_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """accuracy, balanced accuracy, precision, recall, f1, roc_auc and the confusion counts at
    ``threshold``.  An undefined ratio (no positives predicted, none present) counts 0, and the
    balanced accuracy is the mean of the two classes' recalls, an absent class's recall 0."""
    labels = np.asarray(labels).astype(bool)
    pred = np.asarray(scores) >= threshold
    (tn, fp), (fn, tp) = skm.confusion_matrix(labels, pred, labels=[False, True]).tolist()
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        labels, pred, average="binary", pos_label=True, zero_division=0.0
    )
    tnr = tn / (tn + fp) if tn + fp else 0.0
    return {
        "accuracy": (tp + tn) / max(len(labels), 1),
        "balanced_accuracy": 0.5 * (float(recall) + tnr),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "roc_auc": roc_auc(labels, scores),
        "confusion": {"tp": tp, "tn": tn, "fp": fp, "fn": fn},
    }
