"""Splitting by sky position, before any augmentation.

Sources whose centres lie within ``link_radius`` of each other (friends-of-friends) form one
group and always land on the same side of a split: ORC 2 and ORC 3, for example, are two names
for one field 2′ apart.  The default radius is 1°, the width of a 64-pixel cut-out in the
coarsest band, so no two sides share sky.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord

DEFAULT_LINK_RADIUS_DEG = 1.0


def sky_groups(positions: SkyCoord, link_radius_deg: float = DEFAULT_LINK_RADIUS_DEG) -> np.ndarray:
    """Group index per position; positions closer than the radius (transitively) share a group."""
    n = len(positions)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if n > 1:
        i, j, _, _ = positions.search_around_sky(positions, link_radius_deg * u.deg)
        for a, b in zip(i, j, strict=True):
            ra, rb = find(int(a)), find(int(b))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    roots = [find(i) for i in range(n)]
    _, groups = np.unique(roots, return_inverse=True)
    return groups


def group_folds(groups: np.ndarray, labels: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Fold index (0..k−1) per source; whole groups move together, classes spread evenly."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(groups), dtype=int)
    load = np.zeros((k, 2))
    uniq = rng.permutation(np.unique(groups))
    for g in uniq:
        members = np.flatnonzero(groups == g)
        cls = int(round(float(np.mean(labels[members])))) if len(labels) else 0
        f = int(np.argmin(load[:, cls] + 1e-3 * load.sum(1)))
        fold[members] = f
        load[f, cls] += len(members)
    return fold


def train_val_split(
    groups: np.ndarray, labels: np.ndarray, val_fraction: float = 0.2, seed: int = 0
) -> np.ndarray:
    """Boolean mask of validation sources; about ``val_fraction`` of each class, by group."""
    k = max(2, int(round(1 / val_fraction)))
    return group_folds(groups, labels, k, seed) == 0
