"""The real cut-outs generated images are compared with."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.dataset import DatasetConfig, build_dataset
from ..data.preprocess import Preprocessing


def real_cutouts(
    real_root: str | Path, split: str, pre: Preprocessing, label: str | None, cache_dir: Path | None = None
) -> np.ndarray:
    """The split's central cut-outs (no augmentation) in the generator's convention; only the
    matching class (halo for H/cH/mH, non-halo) when a label is given."""
    ds, _, _ = build_dataset(
        DatasetConfig(str(real_root), split, pre.band_convention, pre.cutout_size, pre.nsigma, augment=False),
        cache_dir,
        progress=False,
    )
    real = ds.images
    if label is not None:
        real = real[ds.labels == (0 if label == "non-halo" else 1)]
    return real
