"""A per-pixel spectral index across the four GLEAM bands: an optional detector input (#26 item 2).

Halos are steep (α ≈ −1.1 … −1.6); the commonest impostors, the lobes of radio galaxies, are
flatter (≈ −0.6 … −0.9).  The index is the least-squares slope of log S against log ν over the
bands, computed only where every band is at least ``nsigma`` σ above zero (the dead band leaves
nothing to fit below 3σ); elsewhere it is 0.  S is in Jy/beam as the maps hold it, so for
emission larger than the beam the index also carries the beam's growth towards low frequencies
(the lower bands' beams are wider): the detector learns from it as it is, the ablation decides
whether it helps.
"""

from __future__ import annotations

import numpy as np

from ..io.bands import GLEAM_BANDS

GLEAM_CENTRES_MHZ = tuple(b.centre for b in GLEAM_BANDS)
ALPHA_RANGE = (-3.0, 1.5)  # indices outside are clipped (noise, or a band's footprint edge)
ALPHA_SCALE = 3.0  # the channel holds α / 3: about unit range, like the scaled bands


def spectral_index(data: np.ndarray, sigmas, freqs_mhz=GLEAM_CENTRES_MHZ, nsigma: float = 3.0) -> np.ndarray:
    """α per pixel of ``data`` (C, H, W) or (N, C, H, W) in Jy/beam: (H, W) or (N, H, W), 0 where any
    band is below ``nsigma`` σ (or not positive)."""
    x = np.asarray(data, np.float64)
    s = np.asarray(sigmas, np.float64).reshape(-1, 1, 1)
    lnu = np.log(np.asarray(freqs_mhz, np.float64)).reshape(-1, 1, 1)
    lnu = lnu - lnu.mean()
    ok = np.all(x >= nsigma * np.where(s > 0, s, np.inf), axis=-3)
    logs = np.log(np.where(x > 0, x, 1.0))
    slope = (lnu * (logs - logs.mean(axis=-3, keepdims=True))).sum(axis=-3) / (lnu**2).sum()
    return np.where(ok, np.clip(slope, *ALPHA_RANGE), 0.0).astype(np.float32)


def spectral_index_channel(data: np.ndarray, sigmas) -> np.ndarray:
    """The detector's α channel, (1, H, W) or (N, 1, H, W): α / ALPHA_SCALE for the four GLEAM
    bands; zeros for any other number of bands (no index to fit)."""
    x = np.asarray(data)
    if x.shape[-3] != len(GLEAM_CENTRES_MHZ):
        return np.zeros((*x.shape[:-3], 1, *x.shape[-2:]), np.float32)
    return (spectral_index(x, sigmas) / ALPHA_SCALE)[..., None, :, :]
