"""Is the simulator realistic?  Per-band statistics of simulated vs real fields, side by side."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.noise import estimate_noise
from ..io.bands import GLEAM_BANDS, Band
from ..io.fits import BandImage

STATS = ("sigma", "zero_fraction", "negative_fraction", "q50", "q90", "q99", "peak")


@dataclass
class BandStats:
    band: Band
    n_images: int
    values: dict[str, float]  # median over images of each statistic


def image_stats(im: BandImage) -> dict[str, float]:
    d = im.data[np.isfinite(im.data)]
    noise = estimate_noise(d)
    nz = d[d != 0]
    q = np.percentile(nz, [50, 90, 99]) if nz.size else [np.nan] * 3
    return {
        "sigma": noise.sigma,
        "zero_fraction": noise.zero_fraction,
        "negative_fraction": noise.negative_fraction,
        "q50": q[0],
        "q90": q[1],
        "q99": q[2],
        "peak": float(d.max()),
    }


def band_stats(stacks: list[list[BandImage]], bands: tuple[Band, ...] = GLEAM_BANDS) -> list[BandStats]:
    """Median over images of each statistic, band by band."""
    out = []
    for i, band in enumerate(bands):
        per = [image_stats(s[i]) for s in stacks]
        out.append(BandStats(band, len(per), {k: float(np.median([p[k] for p in per])) for k in STATS}))
    return out


def compare_table(sim: list[BandStats], real: list[BandStats]) -> str:
    """Plain-text table: each statistic's median for simulated and real, and their ratio."""
    lines = [f"{'band':<11s} {'statistic':<18s} {'simulated':>10s} {'real':>10s} {'sim/real':>9s}"]
    for s, r in zip(sim, real, strict=True):
        for k in STATS:
            a, b = s.values[k], r.values[k]
            ratio = a / b if b else float("nan")
            lines.append(f"{s.band.name:<11s} {k:<18s} {a:>10.4f} {b:>10.4f} {ratio:>9.2f}")
    lines.append(f"(medians over {sim[0].n_images} simulated and {real[0].n_images} real fields)")
    return "\n".join(lines)
