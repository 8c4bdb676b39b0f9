"""Source-finder statistics (issue #30): what an astronomer's source finder makes of real and of
generated images — how many sources, how big (in beams), how bright, and their spectral index.

Detection, per image and band (:func:`find_sources`): ``photutils.segmentation.detect_sources``
with 8-connectivity and at least :data:`MIN_PIXELS` pixels above the image's *own* threshold —
its dead band when the image is already clipped (the published GLEAM cut-outs, and generated
images, which are clipped at the survey's clip levels), else 3σ of its fitted noise
(:func:`radioviz.data.noise.clip_threshold`, the rule the data were clipped by).  No deblending:
an island of emission is one source, as in the dead-band-clipped images themselves.

Per source: **size** = pixel area / beam area, the beam area of a Gaussian beam being
π·FWHM²/(4 ln 2) pixels of the band's own grid; **integrated flux** (Jy) = Σ pixels (Jy/beam) /
beam area.

**Spectral index**, one per image, from matched apertures: in the native band convention each
band's 64×64 cut-out covers a different sky area (the pixel scale halves from 72 to 231 MHz),
so pixel-by-pixel indices compare different sky.  Instead the aperture is the circle the
*smallest* band field covers, centred on the cut-out centre (the same sky position in every
band), in each band's own pixels; the flux of the detected emission inside it, each band with
its own beam area, gives α = ln(S_high/S_low) / ln(ν_high/ν_low) between the lowest and highest
band — for images with emission inside the aperture in both.  Simple, grid-independent, and it
measures the same sky at both frequencies; it does mix the spectra of all sources in the
aperture (a halo and a compact source in one cut-out give one blended α).

Real against generated: medians and the two-sample Kolmogorov–Smirnov statistic per quantity,
beside the ideal generator's KS — two independent draws (with replacement) from the real images
themselves, of the real and the generated sizes (as ``images.histogram_error_floor``): with 18
real cut-outs even a perfect generator's KS is far from 0.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import ks_2samp

from ..data.noise import clip_threshold, estimate_noise

#: the smallest island of connected pixels counted as a source
MIN_PIXELS = 5
#: detection threshold for images without a dead band, in σ of the fitted noise
DETECT_NSIGMA = 3.0
#: the per-band quantities (name: what it is)
QUANTITIES = {
    "sources_per_image": "detected sources per image",
    "size_beams": "source area in beams",
    "flux_jy": "integrated source flux (Jy)",
}


def beam_area_px(fwhm_px: float) -> float:
    """Area of a Gaussian beam of this FWHM, in pixels: π FWHM² / (4 ln 2)."""
    return math.pi * fwhm_px**2 / (4.0 * math.log(2.0))


def detection_threshold(image: np.ndarray, nsigma: float = DETECT_NSIGMA) -> float:
    """The image's own threshold: its dead band when clipped, else ``nsigma`` σ of its noise (0 for
    an empty image)."""
    return float(clip_threshold(estimate_noise(image), nsigma))


def find_sources(
    image: np.ndarray, nsigma: float = DETECT_NSIGMA, min_pixels: int = MIN_PIXELS
) -> np.ndarray:
    """(H, W) int labels of the sources in one band image (0: background); see the module
    docstring.  A clipped image's clip-level pixels count (the dead band keeps |x| ≥ t)."""
    from photutils.segmentation import detect_sources
    from photutils.utils.exceptions import NoDetectionsWarning

    image = np.nan_to_num(np.asarray(image, dtype=np.float64))
    t = detection_threshold(image, nsigma)
    if not np.any(image > 0):
        return np.zeros(image.shape, dtype=np.int32)
    # detect_sources keeps pixels > threshold; the clip level itself is a kept pixel
    thr = np.nextafter(t, -np.inf) if t > 0 else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDetectionsWarning)
        seg = detect_sources(image, thr, min_pixels, connectivity=8)
    return np.zeros(image.shape, dtype=np.int32) if seg is None else seg.data.astype(np.int32)


@dataclass
class Catalogue:
    """The sources of an image set: ``counts`` (N, C); per band, one entry per source of
    ``size_beams``, ``flux_jy`` and ``image`` (the index of the image it is in); ``alpha`` (N,)
    (NaN where it cannot be measured, all NaN for one band)."""

    counts: np.ndarray
    size_beams: list[np.ndarray]
    flux_jy: list[np.ndarray]
    image: list[np.ndarray]
    alpha: np.ndarray

    def subset(self, idx: np.ndarray) -> Catalogue:
        """The catalogue of the images ``idx`` (repeats allowed: a draw with replacement)."""
        idx = np.asarray(idx)
        size, flux, img = [], [], []
        for b in range(self.counts.shape[1]):
            # each chosen image contributes all its sources, once per time it was drawn
            rows = [self._rows(b)[i] for i in idx]
            take = np.concatenate(rows) if rows else np.zeros(0, int)
            size.append(self.size_beams[b][take])
            flux.append(self.flux_jy[b][take])
            img.append(np.repeat(np.arange(len(idx)), [len(r) for r in rows]))
        return Catalogue(self.counts[idx], size, flux, img, self.alpha[idx])

    def _rows(self, band: int) -> list[np.ndarray]:
        """Per image, the indices of its sources in ``band``'s arrays (cached)."""
        cache = self.__dict__.setdefault("_rows_cache", {})
        if band not in cache:
            order = np.argsort(self.image[band], kind="stable")
            bounds = np.searchsorted(self.image[band][order], np.arange(len(self.counts) + 1))
            cache[band] = [order[bounds[i] : bounds[i + 1]] for i in range(len(self.counts))]
        return cache[band]

    def values(self, quantity: str, band: int) -> np.ndarray:
        if quantity == "sources_per_image":
            return self.counts[:, band].astype(np.float64)
        return getattr(self, quantity)[band]


def aperture_radii(shape: tuple[int, int], pixel_deg=None) -> np.ndarray:
    """(C,) radius in pixels of each band of the matched sky aperture: the circle inscribed in
    the smallest band field, in each band's own pixels (all equal without ``pixel_deg``)."""
    c, h, w = shape
    r_px = min(h, w) / 2.0
    if pixel_deg is None:
        return np.full(c, r_px)
    pix = np.asarray(pixel_deg, dtype=np.float64)
    return r_px * pix.min() / pix


def catalogue(images: np.ndarray, beam_fwhm_px, freq_mhz=None, pixel_deg=None) -> Catalogue:
    """Find the sources of every band image of ``images`` ((N, C, H, W) Jy/beam) and measure them;
    ``beam_fwhm_px`` per band, ``freq_mhz``/``pixel_deg`` per band for the spectral index (without
    ``freq_mhz`` there is none)."""
    images = np.asarray(images, dtype=np.float64)
    n, c, h, w = images.shape
    areas = np.array([beam_area_px(f) for f in beam_fwhm_px], dtype=np.float64)
    if len(areas) != c:
        raise ValueError(f"need one beam FWHM per band ({c}), got {len(areas)}")
    radii = aperture_radii((c, h, w), pixel_deg)
    yy, xx = np.mgrid[:h, :w]
    rr = np.hypot(yy - (h - 1) / 2.0, xx - (w - 1) / 2.0)
    counts = np.zeros((n, c), dtype=np.int64)
    size, flux, img = ([[] for _ in range(c)] for _ in range(3))
    aperture_flux = np.zeros((n, c))
    for i in range(n):
        for b in range(c):
            seg = find_sources(images[i, b])
            k = int(seg.max())
            counts[i, b] = k
            if k:
                lab = seg.ravel()
                npix = np.bincount(lab, minlength=k + 1)[1:]
                total = np.bincount(lab, weights=images[i, b].ravel(), minlength=k + 1)[1:]
                size[b].append(npix / areas[b])
                flux[b].append(total / areas[b])
                img[b].append(np.full(k, i))
                inside = (seg > 0) & (rr <= radii[b])
                aperture_flux[i, b] = images[i, b][inside].sum() / areas[b]
    cat = lambda parts, dtype=np.float64: np.concatenate(parts) if parts else np.zeros(0, dtype)  # noqa: E731
    alpha = np.full(n, np.nan)
    if freq_mhz is not None and c > 1:
        s_lo, s_hi = aperture_flux[:, 0], aperture_flux[:, -1]
        ok = (s_lo > 0) & (s_hi > 0)
        alpha[ok] = np.log(s_hi[ok] / s_lo[ok]) / np.log(freq_mhz[-1] / freq_mhz[0])
    return Catalogue(
        counts,
        [cat(p) for p in size],
        [cat(p) for p in flux],
        [cat(p, np.int64) for p in img],
        alpha,
    )


def _ks(a: np.ndarray, b: np.ndarray) -> float | None:
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not (a.size and b.size):
        return None
    return float(ks_2samp(a, b, method="asymp").statistic)  # the statistic; no p-value used


def _median(a: np.ndarray) -> float | None:
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else None


def _r(v, d: int = 3):
    return None if v is None else round(float(v), d)


def _draws(real: Catalogue, n_gen: int, draws: int, seed: int) -> list[tuple[Catalogue, Catalogue]]:
    """Independent (reference, "generated") draws with replacement from the real catalogue."""
    rng = np.random.default_rng(seed)
    n = len(real.counts)
    return [
        (real.subset(rng.integers(0, n, n)), real.subset(rng.integers(0, n, n_gen))) for _ in range(draws)
    ]


def _ideal(pairs: list[tuple[Catalogue, Catalogue]], pick) -> dict:
    """p10/median/p90 of ``pick(reference, draw)`` over the ideal generator's draws."""
    vals = np.array([v for v in (pick(x, y) for x, y in pairs) if v is not None])
    if not vals.size:
        return {"median": None, "p10": None, "p90": None}
    p10, med, p90 = np.percentile(vals, [10, 50, 90])
    return {"median": _r(med), "p10": _r(p10), "p90": _r(p90)}


def source_report(
    real: np.ndarray,
    gen: np.ndarray,
    beam_fwhm_px,
    freq_mhz=None,
    pixel_deg=None,
    draws: int = 50,
    seed: int = 0,
) -> dict:
    """The source statistics of real and generated images, JSON-ready: per band lists of the
    median (real, generated), the KS statistic and the ideal generator's KS (median, p10, p90);
    the spectral index the same as scalars (None without two bands)."""
    cr = catalogue(real, beam_fwhm_px, freq_mhz, pixel_deg)
    cg = catalogue(gen, beam_fwhm_px, freq_mhz, pixel_deg)
    c = cr.counts.shape[1]
    pairs = _draws(cr, len(gen), draws, seed)
    rep: dict = {
        "method": (
            f"photutils detect_sources, 8-connected, ≥ {MIN_PIXELS} pixels above each image's own "
            f"clip level (dead band; {DETECT_NSIGMA:g}σ of the fitted noise when unclipped); size = "
            "area / beam area; flux = Σ Jy/beam / beam area"
        ),
        "beam_fwhm_px": [round(float(f), 3) for f in beam_fwhm_px],
        "n_sources_real": cr.counts.sum(0).tolist(),
        "n_sources_gen": cg.counts.sum(0).tolist(),
    }
    for q in QUANTITIES:
        entry = {
            k: [] for k in ("median_real", "median_gen", "ks", "ks_ideal", "ks_ideal_p10", "ks_ideal_p90")
        }
        for b in range(c):
            entry["median_real"].append(_r(_median(cr.values(q, b))))
            entry["median_gen"].append(_r(_median(cg.values(q, b))))
            entry["ks"].append(_r(_ks(cr.values(q, b), cg.values(q, b))))
            ideal = _ideal(pairs, lambda x, y, q=q, b=b: _ks(x.values(q, b), y.values(q, b)))
            entry["ks_ideal"].append(ideal["median"])
            entry["ks_ideal_p10"].append(ideal["p10"])
            entry["ks_ideal_p90"].append(ideal["p90"])
        rep[q] = entry
    if freq_mhz is not None and c > 1:
        ideal = _ideal(pairs, lambda x, y: _ks(x.alpha, y.alpha))
        rep["spectral_index"] = {
            "median_real": _r(_median(cr.alpha)),
            "median_gen": _r(_median(cg.alpha)),
            "ks": _r(_ks(cr.alpha, cg.alpha)),
            "ks_ideal": ideal["median"],
            "ks_ideal_p10": ideal["p10"],
            "ks_ideal_p90": ideal["p90"],
            "n_real": int(np.isfinite(cr.alpha).sum()),
            "n_gen": int(np.isfinite(cg.alpha).sum()),
            "bands": f"{freq_mhz[0]:g} vs {freq_mhz[-1]:g} MHz",
            "aperture": "the circle inscribed in the smallest band field, same sky in both bands; "
            "detected emission only",
        }
    else:
        rep["spectral_index"] = None
    return rep
