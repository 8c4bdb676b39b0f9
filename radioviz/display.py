"""Display helpers shared by the app and notebooks: stretches with percentile clipping."""

from __future__ import annotations

import numpy as np
from astropy.visualization import AsinhStretch, LinearStretch, LogStretch, PercentileInterval, SqrtStretch

SAMPLE_LIMIT = 1_000_000  # percentile limits of bigger images come from a regular subsample

STRETCHES = {
    "linear": LinearStretch,
    "sqrt": SqrtStretch,
    "log": lambda: LogStretch(a=1000),
    "asinh": lambda: AsinhStretch(a=0.02),
}


def stretch_limits(data: np.ndarray, percentile: float = 99.5) -> tuple[float, float]:
    """(vmin, vmax) in data units that :func:`stretch_image` maps to 0 and 1."""
    d = np.nan_to_num(np.asarray(data, dtype=np.float32))
    sample = (
        d if d.size <= SAMPLE_LIMIT else d.reshape(-1)[:: d.size // SAMPLE_LIMIT]
    )  # limits from ≤ 1 M pixels
    nonzero = sample[sample != 0]
    interval = PercentileInterval(percentile)
    vmin, vmax = interval.get_limits(nonzero if nonzero.size > 10 else sample)
    if np.median(sample) >= 0:
        vmin = 0.0  # the dead band (exact zeros) is the background: show it as the darkest colour
    if vmax <= vmin:
        vmax = vmin + 1.0
    return float(vmin), float(vmax)


def stretch_values(values, stretch: str, vmin: float, vmax: float) -> np.ndarray:
    """Data values (e.g. Jy/beam) to display levels in [0, 1] for given limits."""
    if stretch not in STRETCHES:
        raise ValueError(f"unknown stretch {stretch!r}; choose from {sorted(STRETCHES)}")
    d = np.nan_to_num(np.asarray(values, dtype=np.float32))
    scaled = np.clip((d - np.float32(vmin)) / np.float32(vmax - vmin), 0, 1)
    return np.asarray(STRETCHES[stretch]()(scaled), dtype=np.float32)


def stretch_image(data: np.ndarray, stretch: str = "asinh", percentile: float = 99.5) -> np.ndarray:
    """Map an image to [0, 1] for display: percentile interval, then the named stretch."""
    if stretch not in STRETCHES:
        raise ValueError(f"unknown stretch {stretch!r}; choose from {sorted(STRETCHES)}")
    return stretch_values(data, stretch, *stretch_limits(data, percentile))
