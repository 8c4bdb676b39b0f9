"""One figure per comparison: pixel histograms with the per-bin relative error beneath, image
mean / std / peak distributions, spectral indices, and nearest-training-neighbour pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..display import stretch_image
from .plots import pyplot


def ideal_error(report: dict) -> float | None:
    """The histogram error an ideal generator would have in this comparison (the real images' own
    sampling noise, ``metrics.images.histogram_error_floor``); None when not measured."""
    return (report.get("hist_err_floor") or {}).get("median")


def floor_text(report: dict) -> str:
    """The ideal generator's error for a histogram-error title, like " · ideal generator ≈ 0.29"."""
    f = ideal_error(report)
    return "" if f is None else f" · ideal generator ≈ {f:.2f}"


#: Real and generated keep these colours in every panel (the app's Compare tab uses them too).
REAL_COLOUR, GEN_COLOUR = "#222222", "#e07b00"
STAT_UNITS = {"mean": "image mean (Jy/beam)", "std": "image std (Jy/beam)", "peak": "image peak (Jy/beam)"}


def plot_comparison(cmp, path: str | Path, title: str = "", n_pairs: int = 4) -> Path:
    plt = pyplot()
    h = cmp.report["histogram"]
    edges = np.asarray(h["edges"])
    centres = np.sqrt(edges[:-1] * edges[1:])
    fig = plt.figure(figsize=(13, 7.5), dpi=100)
    gs = fig.add_gridspec(3, 5, height_ratios=[2, 1, 2], hspace=0.45, wspace=0.35)
    ax = fig.add_subplot(gs[0, 0:2])
    for key, ci, c, lab in (
        ("counts_real", "ci_real", REAL_COLOUR, "real"),
        ("counts_gen_scaled", "ci_gen_scaled", GEN_COLOUR, "generated (scaled)"),
    ):
        ax.step(centres, h[key], where="mid", color=c, label=lab)
        lo, hi = np.asarray(h[ci])
        ax.fill_between(centres, lo, hi, step="mid", color=c, alpha=0.2)
    ax.set(
        xscale="log",
        yscale="log",
        ylabel="pixels (count)",
        title=f"non-zero pixels (zero fraction real {cmp.report['zero_fraction_real']:.3f}, "
        f"gen {cmp.report['zero_fraction_gen']:.3f})",
    )
    ax.legend(fontsize=8)
    ax2 = fig.add_subplot(gs[1, 0:2], sharex=ax)
    ax2.axhline(0, color="k", lw=0.5)
    ax2.plot(centres, h["rel_err"], "o-", ms=3, color=GEN_COLOUR)
    ax2.set(
        xscale="log",
        ylim=(-2, 2),
        xlabel="|pixel| (Jy/beam)",
        ylabel="2(real−gen)/(real+gen)",
        title=f"mean |rel. err| {cmp.report['hist_mean_abs_rel_err']:.3f}{floor_text(cmp.report)}",
    )
    for j, key in enumerate(("mean", "std", "peak")):
        a = fig.add_subplot(gs[0, 2 + j])
        r, g = cmp.stats_real[key], cmp.stats_gen[key]
        bins = np.histogram_bin_edges(np.concatenate([r, g]), 20)
        a.hist(r, bins, alpha=0.5, color=REAL_COLOUR, density=True, label="real")
        a.hist(g, bins, alpha=0.5, color=GEN_COLOUR, density=True, label="generated")
        a.set(title=f"image {key}", xlabel=STAT_UNITS[key], ylabel="density (per Jy/beam)")
        a.legend(fontsize=7)
    a = fig.add_subplot(gs[1, 2:4])
    if cmp.alpha_real.size and cmp.alpha_gen.size:
        bins = np.linspace(-4, 2, 40)
        a.hist(cmp.alpha_real, bins, alpha=0.5, color=REAL_COLOUR, density=True, label="real")
        a.hist(cmp.alpha_gen, bins, alpha=0.5, color=GEN_COLOUR, density=True, label="generated")
        a.axvline(-1.3, color="C2", ls="--", lw=1)
        a.legend(fontsize=8)
    else:
        a.text(
            0.5,
            0.5,
            "no spectral index: single-frequency images"
            if cmp.real.shape[1] < 2
            else "no pixel positive in both bands",
            ha="center",
            va="center",
            transform=a.transAxes,
        )
    a.set(title="spectral index α, 72–103 vs 170–231 MHz", xlabel="α (S ∝ ν^α)", ylabel="density")
    a = fig.add_subplot(gs[1, 4])
    a.hist(cmp.nn_ssim, np.linspace(0, 1, 21), color=GEN_COLOUR)
    a.axvline(0.95, color="C3", ls="--")
    a.set(title="nearest-neighbour SSIM", xlabel="SSIM to nearest real image", ylabel="generated images")
    order = np.argsort(-cmp.nn_ssim)[:n_pairs]
    for k, i in enumerate(order):
        sub = gs[2, k].subgridspec(1, 2, wspace=0.05) if k < 5 else None
        if sub is None:
            break
        for col, (img, lab) in enumerate(((cmp.gen[i, 0], "gen"), (cmp.nn_images[i, 0], "nearest real"))):
            a = fig.add_subplot(sub[0, col])
            a.imshow(stretch_image(img, "asinh"), origin="lower", cmap="inferno")
            a.set_xticks([])
            a.set_yticks([])
            a.set_title(f"{lab}" + (f" SSIM {cmp.nn_ssim[i]:.2f}" if col == 0 else ""), fontsize=7)
    if cmp.scores is not None:
        a = fig.add_subplot(gs[2, 4])
        a.hist(cmp.scores, np.linspace(0, 1, 21), color=GEN_COLOUR)
        a.axvline(0.5, color="k", lw=0.5)
        a.set(
            title=f"A score: ≥0.5 {np.mean(cmp.scores >= 0.5):.2f}",
            xlabel="halo score (generated)",
            ylabel="images",
        )
    fig.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
