"""When, in one recorded sampling run, the picture is made: step by step, how close x̂0's brightest
source is to its final peak and how well x_t and x̂0 match the final image, and the first step
from which each stays past its threshold.

The Trajectory tab's "What to notice" line and its process plot come from these numbers, i.e.
from the frames on screen: a fixed table of σ stages had said "x_t starts to show the sources"
at step 15 of Heun-25 while x_t was still noise (issue #28).  Pure numpy, tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: x̂0's brightest source counts as "there" once within this fraction of its final peak
PEAK_TOLERANCE = 0.10
#: x_t "shows the sources" once its correlation with the final image stays above this — counted
#: from what the starting noise already had (see :func:`xt_threshold`)
XT_LEVEL = 0.5
#: x̂0 "has the final layout" (where the emission sits) once its correlation stays above this
LAYOUT_LEVEL = 0.9
#: pixels either side of the final peak searched in each x̂0 (a source may still move a little)
PEAK_WINDOW = 2


@dataclass(frozen=True)
class Landmarks:
    """Per recorded step (0-based arrays) and the steps (0-based; None: never in this run) from
    which each stays past its threshold."""

    peak_fraction: np.ndarray  # x̂0's brightest source ÷ its final peak, above the final's background
    xt_correlation: np.ndarray  # Pearson r of x_t with the final image
    x0_correlation: np.ndarray  # Pearson r of x̂0 with the final image
    peak_step: int | None
    xt_step: int | None
    layout_step: int | None
    final_peak: float  # the final image's brightest pixel, in the units given
    xt_threshold: float = XT_LEVEL  # the correlation x_t must pass in this run (xt_threshold())

    def __len__(self) -> int:
        return len(self.peak_fraction)


def correlation(frames: np.ndarray, final: np.ndarray) -> np.ndarray:
    """Pearson r of each frame (K, H, W) with ``final`` (H, W); 0 where either is constant."""
    f = np.asarray(frames, np.float64).reshape(len(frames), -1)
    g = np.asarray(final, np.float64).ravel()
    f = f - f.mean(axis=1, keepdims=True)
    g = g - g.mean()
    norm = np.sqrt((f * f).sum(axis=1) * (g * g).sum())
    return np.where(norm > 0, (f @ g) / np.where(norm > 0, norm, 1.0), 0.0)


def xt_threshold(start: float, level: float = XT_LEVEL) -> float:
    """The correlation with the final image x_t must pass to "show the sources": ``level`` of the
    way from what step 1's x_t already had (``start``, taken as 0 when negative) to 1.

    Why: a deterministic sampler (DDIM, η = 0) maps its starting noise to one final image, whose
    faint background keeps that noise's pattern; there step 1's pure noise already correlates
    0.5 with the final image, and a bare 0.5 threshold said "x_t shows the sources" at step 1.  For
    a stochastic run the start is ≈ 0 and the threshold is ``level``."""
    s = min(max(float(start), 0.0), 1.0)
    return level + (1.0 - level) * s


def settled_from(ok) -> int | None:
    """The first index from which ``ok`` stays true to the end (None if its last value is false):
    a value that touches a threshold once and falls back has not got there yet."""
    ok = np.asarray(ok, bool)
    if not ok.size or not ok[-1]:
        return None
    bad = np.flatnonzero(~ok)
    return int(bad[-1] + 1) if bad.size else 0


def peak_fraction(frames: np.ndarray, final: np.ndarray, window: int = PEAK_WINDOW) -> np.ndarray:
    """Each frame's brightest value within ``window`` px of the final image's brightest pixel, as a
    fraction of that peak; both measured above the final image's background (its median)."""
    final = np.asarray(final, np.float64)
    base = float(np.median(final))
    y, x = np.unravel_index(int(np.argmax(final)), final.shape)
    box = np.asarray(frames, np.float64)[
        :, max(0, y - window) : y + window + 1, max(0, x - window) : x + window + 1
    ]
    height = float(final[y, x]) - base
    if height <= 0:
        return np.ones(len(box))  # a flat final image: nothing to wait for
    return (box.reshape(len(box), -1).max(axis=1) - base) / height


def landmarks(
    xt: np.ndarray,
    x0: np.ndarray,
    final: np.ndarray,
    x0_flux: np.ndarray | None = None,
    final_flux: np.ndarray | None = None,
) -> Landmarks:
    """The landmarks of one band of one run: ``xt`` and ``x0`` (K, H, W) and the ``final`` image
    (H, W) on the model's data scale; the peak is read from ``x0_flux``/``final_flux`` (the same
    in Jy/beam) when given — a fraction of a peak means something in flux, not on an asinh or
    log scale."""
    xt_r, x0_r = correlation(xt, final), correlation(x0, final)
    peak_frames, peak_final = (x0, final) if x0_flux is None or final_flux is None else (x0_flux, final_flux)
    frac = peak_fraction(peak_frames, peak_final)
    xt_level = xt_threshold(xt_r[0]) if len(xt_r) else XT_LEVEL
    return Landmarks(
        peak_fraction=frac,
        xt_correlation=xt_r,
        x0_correlation=x0_r,
        peak_step=settled_from(np.abs(frac - 1) <= PEAK_TOLERANCE),
        xt_step=settled_from(xt_r >= xt_level),
        layout_step=settled_from(x0_r >= LAYOUT_LEVEL),
        final_peak=float(np.max(peak_final)),
        xt_threshold=xt_level,
    )
