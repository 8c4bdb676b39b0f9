"""Figures written as images: ROC curves and confusion matrices (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rate, true-positive rate) at every distinct threshold (scikit-learn's: tied
    scores are one step); a class absent from ``labels`` gives its rate as 0 throughout."""
    import warnings

    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import roc_curve as sk_roc_curve

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        fpr, tpr, _ = sk_roc_curve(
            np.asarray(labels).astype(bool), np.asarray(scores, np.float64), drop_intermediate=False
        )
    return np.nan_to_num(fpr), np.nan_to_num(tpr)


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


def plot_side_by_side(
    real: np.ndarray,
    gens: dict[str, np.ndarray],
    path: str | Path,
    band: int = 3,
    n: int = 6,
    band_name: str = "170–231 MHz",
    seed: int = 0,
) -> Path:
    """Rows of ``n`` real and generated cut-outs (N, C, H, W in Jy/beam) of one band, all on one
    asinh stretch (softening = the real images' median clip level, top = their 99.5th
    percentile), so an eye can compare texture: real GLEAM emission is beam-smooth."""
    plt = pyplot()
    rng = np.random.default_rng(seed)
    rows = {"real": real, **gens}
    nz = np.abs(real[:, band][real[:, band] != 0])
    soft = float(np.median(nz)) if nz.size else 1.0
    top = float(np.percentile(real[:, band], 99.5))
    norm = np.arcsinh(top / soft)
    fig, axes = plt.subplots(len(rows), n, figsize=(1.6 * n, 1.7 * len(rows)), squeeze=False)
    for r, (name, ims) in enumerate(rows.items()):
        pick = rng.choice(len(ims), size=min(n, len(ims)), replace=False)
        for c in range(n):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(pick):
                ax.imshow(
                    np.arcsinh(ims[pick[c], band] / soft) / norm,
                    cmap="inferno",
                    vmin=-0.1,
                    vmax=1,
                    origin="lower",
                )
            if c == 0:
                ax.set_ylabel(name, fontsize=8)
    fig.suptitle(
        f"{band_name}, one asinh stretch for every row (soft {soft:.3g}, top {top:.3g} Jy/beam)", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_learning_curve(card: dict, out: str | Path, name: str = "") -> Path:
    """A generator card's learning curve (its quick evaluations during training: histogram error,
    zero fraction, domain FID, NN SSIM and, when measured, issue #30's power and peak ratios per
    band) against CPU hours, the training step on the top axis."""
    plt = pyplot()
    curve = [p for p in card["training"]["learning_curve"] if "hist_err" in p]
    if not curve:
        raise ValueError(f"{name}: no quick evaluation (hist_err) in its learning curve")
    h = [p["cpu_hours"] for p in curve]
    structure = any("power_ratio_high" in p for p in curve)  # issue #30's yardsticks
    fig, axes = plt.subplots(1, 6 if structure else 4, figsize=(18 if structure else 12, 2.6))
    if structure:
        bands = ("72–103", "103–134", "139–170", "170–231")
        for ax, key, title in zip(
            axes[4:],
            ("power_ratio_high", "peak_ratio"),
            ("power gen/real, 0.2–0.5 cyc/px (1 = real)", "median peak gen/real"),
            strict=True,
        ):
            for b, band in enumerate(bands):
                ax.plot(h, [(p.get(key) or [None] * 4)[b] for p in curve], "o-", ms=3, label=band)
            ax.axhline(1.0, ls="--", c="k")
            ax.set_yscale("log")
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("CPU hours")
            ax.legend(fontsize=6)
    for ax, key, title in zip(
        axes[:4],
        ("hist_err", "zero_fraction_gen", "fid_domain", "nn_ssim_max"),
        (
            "histogram error",
            "zero fraction (real dashed)",
            "domain FID (A features)",
            "NN SSIM max (median grey)",
        ),
        strict=True,
    ):
        ax.plot(h, [p.get(key) for p in curve], "o-")
        if key == "zero_fraction_gen":
            ax.axhline(curve[-1]["zero_fraction_real"], ls="--", c="k")
        if key == "nn_ssim_max":
            ax.axhline(0.95, ls="--", c="r")
            if any("nn_ssim_median" in p for p in curve):
                ax.plot(h, [p.get("nn_ssim_median") for p in curve], "s-", c="gray", label="median")
                ax.legend(fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("CPU hours")
        sec = ax.secondary_xaxis("top", functions=(lambda x: x, lambda x: x))
        sec.set_ticks(h[::2], labels=[str(p["step"]) for p in curve[::2]], fontsize=6)
    last = curve[-1]
    how = f"{last.get('n', '?')} samples, {last.get('sampler', 'heun-25')}"
    fig.suptitle(
        f"{name}: quick evaluations ({how}, median dead band); top axis: step",
        fontsize=8,
    )
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return Path(out)


def plot_sample_grid(
    rows: list[tuple[str, np.ndarray]], dead: np.ndarray, bands: list[str], title: str, out: str | Path
) -> Path:
    """Images (one row each, labelled ``(kind, (C, H, W) image)``) in each band (columns), every
    panel in the same asinh stretch in units of the band's clip level ``dead``, so noise, speckle,
    edge rows and missing negatives show at a glance; a row is labelled with its kind and peak."""
    plt = pyplot()
    c = rows[0][1].shape[0]
    fig, axes = plt.subplots(len(rows), c, figsize=(1.6 * c, 1.6 * len(rows)), squeeze=False)
    for r, (kind, im) in enumerate(rows):
        for b in range(c):
            ax = axes[r, b]
            ax.imshow(np.arcsinh(im[b] / dead[b]), origin="lower", cmap="inferno", vmin=-3, vmax=7)
            ax.set_xticks([])
            ax.set_yticks([])
            if b == 0:
                ax.set_ylabel(f"{kind} {im.max():.1f}", fontsize=7)
            if r == 0:
                ax.set_title(bands[b] if b < len(bands) else f"band {b}", fontsize=7)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return Path(out)
