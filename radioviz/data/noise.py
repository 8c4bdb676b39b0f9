"""Noise level and the dead-band clipping of radio images (Mishra et al. §3).

Two cases, told apart by the data:

* **raw** images: σ from a Gaussian fitted to the lower end of the pixel histogram (the side
  sources do not reach), cross-checked with ``astropy.stats.sigma_clipped_stats``;
* **already clipped** images (the published GLEAM files): pixels with ``|x| < t`` are exactly 0.
  The noise is then read from how many pixels fell inside the dead band versus below ``−t``:
  ``N(x < −t) / N(|x| < t) = Φ(−t/σ) / (1 − 2Φ(−t/σ))`` for zero-mean Gaussian noise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from astropy.stats import sigma_clipped_stats
from scipy.optimize import brentq, curve_fit
from scipy.stats import norm

#: An image counts as already clipped when this fraction of its finite pixels is exactly zero.
CLIPPED_ZERO_FRACTION = 0.2


@dataclass(frozen=True)
class NoiseEstimate:
    """σ and mean of the background noise, how they were found, and the dead band if any."""

    sigma: float
    mean: float
    method: str
    dead_band: float  # t of an already clipped image, 0.0 for a raw image
    sigma_check: float  # astropy sigma_clipped_stats std (raw) or t/3 (clipped): a cross-check
    zero_fraction: float
    negative_fraction: float

    @property
    def clipped(self) -> bool:
        return self.dead_band > 0

    def to_dict(self) -> dict:
        return asdict(self)


def gaussian(x, amp, mu, sigma):
    return amp * np.exp(-0.5 * ((x - mu) / sigma) ** 2)


def fit_lower_gaussian(values: np.ndarray, bins: int = 120) -> tuple[float, float]:
    """Fit a Gaussian to the lower end of the histogram (bins up to just past the peak)."""
    med = float(np.median(values))
    s0 = float(1.4826 * np.median(np.abs(values - med))) or float(np.std(values)) or 1e-6
    lo, hi = med - 6 * s0, med + 3 * s0
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    centres = 0.5 * (edges[1:] + edges[:-1])
    peak = centres[np.argmax(counts)]
    use = centres <= peak + 0.5 * s0
    if use.sum() < 5:
        return med, s0
    try:
        (amp, mu, sigma), _ = curve_fit(
            gaussian, centres[use], counts[use], p0=(counts.max(), peak, s0), maxfev=5000
        )
    except (RuntimeError, ValueError):
        return med, s0
    sigma = abs(float(sigma))
    if not np.isfinite(sigma) or sigma <= 0 or sigma > 10 * s0:
        return med, s0
    return float(mu), sigma


def dead_band_sigma(n_zero: int, n_below: int, t: float) -> tuple[float, str]:
    """σ of zero-mean Gaussian noise from the counts inside (−t, t) and below −t, and the method."""
    if n_below < 10 or n_zero == 0:
        return t / 3.0, "dead-band/3"  # too few negative pixels to measure: the published cut is 3σ
    ratio = n_below / n_zero

    def f(s):
        p = norm.cdf(-t / s)
        return p / (1 - 2 * p) - ratio

    try:
        return float(brentq(f, t / 50, t * 50)), "dead-band-counts"
    except ValueError:
        return t / 3.0, "dead-band/3"


def estimate_noise(data: np.ndarray) -> NoiseEstimate:
    """Noise of one image (NaNs ignored); see the module docstring for the two cases."""
    v = np.asarray(data, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = v.size
    zero = np.count_nonzero(v == 0)
    zero_fraction = float(zero / n) if n else 1.0
    nonzero = v[v != 0]
    negative_fraction = float(np.mean(v < 0)) if n else 0.0
    if nonzero.size == 0:
        return NoiseEstimate(0.0, 0.0, "empty", 0.0, 0.0, zero_fraction, negative_fraction)
    if zero_fraction >= CLIPPED_ZERO_FRACTION:
        t = float(np.min(np.abs(nonzero)))
        sigma, method = dead_band_sigma(zero, int(np.count_nonzero(v <= -t)), t)
        return NoiseEstimate(sigma, 0.0, method, t, t / 3.0, zero_fraction, negative_fraction)
    mu, sigma = fit_lower_gaussian(nonzero)
    _, _, std = sigma_clipped_stats(nonzero, sigma=3.0, maxiters=10)
    return NoiseEstimate(sigma, mu, "lower-gaussian-fit", 0.0, float(std), zero_fraction, negative_fraction)


def clip_dead_band(data: np.ndarray, threshold: float) -> np.ndarray:
    """Zero the pixels with ``|x| < threshold`` and the NaNs (a symmetric dead band, as published)."""
    out = np.nan_to_num(np.asarray(data, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    out[np.abs(out) < threshold] = 0.0
    return out


def clip_threshold(noise: NoiseEstimate, nsigma: float = 3.0) -> float:
    """The threshold to clip at: the existing dead band if the image is already clipped (so
    clipping is idempotent), else ``nsigma`` σ."""
    return noise.dead_band if noise.clipped else nsigma * noise.sigma


def clip_image(data: np.ndarray, nsigma: float = 3.0) -> tuple[np.ndarray, NoiseEstimate, float]:
    """Estimate the noise and clip; returns (clipped data, noise estimate, threshold used)."""
    noise = estimate_noise(data)
    t = clip_threshold(noise, nsigma)
    return clip_dead_band(data, t), noise, t


def anomalies(noise: NoiseEstimate, median: float) -> list[str]:
    """Human-readable flags for images that do not look like the bulk of the published files."""
    flags = []
    if median < 0 or noise.negative_fraction > 0.5:
        flags.append(f"mostly negative (median {median:.3g}, {100 * noise.negative_fraction:.0f}% < 0)")
    if not noise.clipped and noise.zero_fraction < CLIPPED_ZERO_FRACTION:
        flags.append(f"no dead band ({100 * noise.zero_fraction:.0f}% zeros)")
    elif noise.clipped and noise.sigma > 0 and noise.dead_band / noise.sigma < 1.5:
        flags.append(f"dead band only {noise.dead_band / noise.sigma:.1f}σ wide")
    return flags
