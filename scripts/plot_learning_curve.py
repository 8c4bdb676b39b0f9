"""Plot a generator card's learning curve (quick evaluations during training) against CPU hours.

Run:  python scripts/plot_learning_curve.py checkpoints/edm_gleam.json --out docs/generators/edm_lc.png
"""

from __future__ import annotations

import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("card")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    curve = [p for p in json.load(open(a.card))["training"]["learning_curve"] if "hist_err" in p]
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
    last, name = curve[-1], a.card.rsplit("/", 1)[-1]
    how = f"{last.get('n', '?')} samples, {last.get('sampler', 'heun-25')}"
    fig.suptitle(
        f"{name}: quick evaluations ({how}, median dead band); top axis: step",
        fontsize=8,
    )
    fig.tight_layout()
    fig.savefig(a.out, dpi=90)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
