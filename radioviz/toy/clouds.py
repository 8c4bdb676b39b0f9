"""The toy's data: point clouds in the plane, each standing for a kind of picture.

"halo + point sources" mirrors a radio field: one broad, faint blob (the halo: most points spread
wide) and a few tight clusters (compact sources).  The clouds are centred and scaled to unit
standard deviation per axis, so σ_data ≈ 1 for every one of them.
"""

from __future__ import annotations

import numpy as np

CLOUDS = ("two moons", "ring", "halo + point sources")


def sample_cloud(name: str, n: int, seed: int = 0) -> np.ndarray:
    """``n`` points (n, 2) float32 of cloud ``name``."""
    rng = np.random.default_rng(seed)
    if name == "two moons":
        t = rng.uniform(0, np.pi, n)
        upper = rng.random(n) < 0.5
        x = np.where(upper, np.cos(t), 1 - np.cos(t))
        y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
        pts = np.stack([x, y], 1) + rng.normal(0, 0.06, (n, 2))
    elif name == "ring":
        t = rng.uniform(0, 2 * np.pi, n)
        r = 1 + rng.normal(0, 0.05, n)
        pts = np.stack([r * np.cos(t), r * np.sin(t)], 1)
    elif name == "halo + point sources":
        halo = rng.random(n) < 0.6
        centres = np.array([[1.6, 1.2], [-1.4, 0.9], [0.9, -1.5], [-1.1, -1.2]])
        k = rng.integers(len(centres), size=n)
        pts = np.where(halo[:, None], rng.normal(0, 0.7, (n, 2)), centres[k] + rng.normal(0, 0.08, (n, 2)))
    else:
        raise ValueError(f"cloud must be one of {', '.join(CLOUDS)}, not {name!r}")
    pts = (pts - pts.mean(0)) / pts.std(0)
    return pts.astype(np.float32)
