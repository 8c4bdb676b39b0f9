"""Display helpers shared by the app and notebooks: stretches with percentile clipping."""
from __future__ import annotations

import numpy as np
from astropy.visualization import AsinhStretch, LinearStretch, LogStretch, PercentileInterval, SqrtStretch

STRETCHES = {"linear": LinearStretch, "sqrt": SqrtStretch, "log": lambda: LogStretch(a=1000), "asinh": lambda: AsinhStretch(a=0.02)}


def stretch_image(data: np.ndarray, stretch: str = "asinh", percentile: float = 99.5) -> np.ndarray:
    """Map an image to [0, 1] for display: percentile interval, then the named stretch."""
    if stretch not in STRETCHES:
        raise ValueError(f"unknown stretch {stretch!r}; choose from {sorted(STRETCHES)}")
    d = np.nan_to_num(np.asarray(data, dtype=np.float64))
    nonzero = d[d != 0]
    interval = PercentileInterval(percentile)
    vmin, vmax = interval.get_limits(nonzero if nonzero.size > 10 else d)
    if np.median(d) >= 0:
        vmin = 0.0  # the dead band (exact zeros) is the background: show it as the darkest colour
    if vmax <= vmin:
        vmax = vmin + 1.0
    scaled = np.clip((d - vmin) / (vmax - vmin), 0, 1)
    return STRETCHES[stretch]()(scaled)
