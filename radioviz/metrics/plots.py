"""Figures written as images: ROC curves and confusion matrices (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rate, true-positive rate) over all thresholds."""
    labels = np.asarray(labels).astype(bool)
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    tp = np.concatenate([[0], np.cumsum(labels[order])])
    fp = np.concatenate([[0], np.cumsum(~labels[order])])
    return fp / max(fp[-1], 1), tp / max(tp[-1], 1)


def pyplot():
    """matplotlib.pyplot on the Agg backend, imported on first use (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_roc(curves: list[tuple[np.ndarray, np.ndarray, str]], path: str | Path, title: str) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=110)
    for fpr, tpr, label in curves:
        ax.plot(fpr, tpr, lw=1.2, alpha=0.8, label=label)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(
        xlabel="false-positive rate", ylabel="true-positive rate", title=title, xlim=(0, 1), ylim=(0, 1.01)
    )
    if len(curves) <= 12:
        ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def plot_confusion(confusion: dict, path: str | Path, title: str) -> Path:
    plt = pyplot()
    m = np.array([[confusion["tn"], confusion["fp"]], [confusion["fn"], confusion["tp"]]], dtype=float)
    fig, ax = plt.subplots(figsize=(3.6, 3.2), dpi=110)
    ax.imshow(m, cmap="Blues")
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, f"{v:g}", ha="center", va="center", color="white" if v > m.max() / 2 else "black")
    ax.set_xticks([0, 1], ["non-halo", "halo"])
    ax.set_yticks([0, 1], ["non-halo", "halo"])
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
