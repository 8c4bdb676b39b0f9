"""Yardsticks that see spatial structure (issue #30): the histogram error, the zero fraction
and a domain FID are blind to speckle finer than the beam, which an astronomer sees at once.

- :func:`power_spectrum` — each image's radially averaged power spectrum, normalised by its
  total power (so a brighter image is not "more structured"), per band; the median over images.
- :func:`power_ratio` — generated over real, per frequency bin: 1 everywhere is the target.
- :func:`autocorrelation_fwhm` — the width of each image's autocorrelation, per band; for
  beam-limited emission ≥ √2 × the beam FWHM.
- :func:`peak_ratio` — median brightest pixel, generated over real, per band.

Each is reported beside what an ideal generator would score with the same numbers of images
(:func:`ideal_power_ratio`: real images split in two and compared with themselves).
"""

from __future__ import annotations

import numpy as np

#: frequency bin edges in cycles/pixel (Nyquist = 0.5)
FREQ_EDGES = np.round(np.arange(0.0, 0.5001, 0.05), 3)


def _radial_power(img: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Radially averaged |FFT|² of one (H, W) image in the bins ``edges`` (total power 1)."""
    h, w = img.shape
    p = np.abs(np.fft.fft2(img - img.mean())) ** 2
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    r = np.hypot(fy, fx)
    tot = p.sum()
    if tot <= 0:
        return np.full(len(edges) - 1, np.nan)
    idx = np.digitize(r.ravel(), edges) - 1
    ok = (idx >= 0) & (idx < len(edges) - 1)
    sums = np.bincount(idx[ok], weights=p.ravel()[ok], minlength=len(edges) - 1)
    counts = np.bincount(idx[ok], minlength=len(edges) - 1)
    return np.where(counts > 0, sums / np.maximum(counts, 1) / tot, np.nan)


def power_spectrum(images: np.ndarray, edges: np.ndarray = FREQ_EDGES) -> np.ndarray:
    """(bands, bins): the median over images of the normalised radial power, per band.

    ``images`` is (N, C, H, W) in Jy/beam; empty images (all zero in a band) are left out."""
    images = np.asarray(images, dtype=np.float64)
    out = np.full((images.shape[1], len(edges) - 1), np.nan)
    for b in range(images.shape[1]):
        rows = [_radial_power(im, edges) for im in images[:, b] if np.any(im)]
        if rows:
            out[b] = np.nanmedian(np.stack(rows), axis=0)
    return out


def power_ratio(real: np.ndarray, gen: np.ndarray, edges: np.ndarray = FREQ_EDGES) -> np.ndarray:
    """(bands, bins): generated over real median normalised power per frequency bin."""
    return power_spectrum(gen, edges) / power_spectrum(real, edges)


def ideal_power_ratio(real: np.ndarray, n_gen: int, draws: int = 50, seed: int = 0) -> dict:
    """What a perfect generator scores: ``n_gen`` images drawn (with replacement) from the real
    set, against the real set.  The per-bin ratio's 10th–90th percentile over ``draws``."""
    rng = np.random.default_rng(seed)
    ps_real = power_spectrum(real)  # once, not once a draw
    ratios = np.stack(
        [power_spectrum(real[rng.integers(0, len(real), n_gen)]) / ps_real for _ in range(draws)]
    )
    return {"p10": np.nanpercentile(ratios, 10, axis=0), "p90": np.nanpercentile(ratios, 90, axis=0)}


def autocorrelation_fwhm(images: np.ndarray) -> np.ndarray:
    """(bands,): the median full width at half maximum (pixels) of each image's autocorrelation,
    along rows and columns averaged.  Beam-limited images give ≥ √2 × the beam FWHM."""
    images = np.asarray(images, dtype=np.float64)
    n, c, h, w = images.shape
    out = np.full(c, np.nan)
    for b in range(c):
        widths = []
        for im in images[:, b]:
            if not np.any(im):
                continue
            a = im - im.mean()
            f = np.fft.fft2(a, s=(2 * h, 2 * w))
            ac = np.fft.fftshift(np.fft.ifft2(np.abs(f) ** 2).real)
            ac /= ac.max()
            cy, cx = h, w
            widths.append(_half_width(ac[cy, cx:]) + _half_width(ac[cy:, cx]))
        if widths:
            out[b] = float(np.median(widths))
    return out


def _half_width(profile: np.ndarray) -> float:
    below = np.flatnonzero(profile < 0.5)
    if not len(below):
        return float(len(profile))
    i = int(below[0])
    return i - 1 + (profile[i - 1] - 0.5) / (profile[i - 1] - profile[i])


def peak_ratio(real: np.ndarray, gen: np.ndarray) -> np.ndarray:
    """(bands,): median brightest pixel of the generated images over that of the real ones."""
    pr = np.median(np.asarray(real).max(axis=(-2, -1)), axis=0)
    pg = np.median(np.asarray(gen).max(axis=(-2, -1)), axis=0)
    return pg / np.where(pr > 0, pr, np.nan)


def structure_report(real: np.ndarray, gen: np.ndarray, beam_fwhm_px=None) -> dict:
    """The structure yardsticks in one JSON-ready mapping (for cards, ``compare`` and the tab)."""
    ratio = power_ratio(real, gen)
    ideal = ideal_power_ratio(real, len(gen))
    hi = FREQ_EDGES[:-1] >= 0.2
    rep = {
        "freq_edges": FREQ_EDGES.tolist(),
        "power_ratio": np.round(ratio, 3).tolist(),
        "power_ratio_ideal_p10": np.round(ideal["p10"], 3).tolist(),
        "power_ratio_ideal_p90": np.round(ideal["p90"], 3).tolist(),
        "power_ratio_max_dev": float(np.nanmax(np.abs(np.log(ratio)))),
        "power_ratio_high_median": np.round(np.nanmedian(ratio[:, hi], axis=1), 3).tolist(),
        "acf_fwhm_real": np.round(autocorrelation_fwhm(real), 2).tolist(),
        "acf_fwhm_gen": np.round(autocorrelation_fwhm(gen), 2).tolist(),
        "peak_ratio": np.round(peak_ratio(real, gen), 3).tolist(),
    }
    if beam_fwhm_px is not None:
        rep["beam_fwhm_px"] = [float(v) for v in beam_fwhm_px]
    return rep
