"""What every generator trainer learns from, built once: the central cut-outs in the model's
[−1, 1] space, their class labels, and the card entries that describe them (preprocessing,
training data, dead-band clip levels).

Labels are the halo subtypes of Mishra et al. Table 1 — ``non-halo``, ``H``, ``cH``, ``mH``
(mini-halos and candidate mini-halos) — found by matching each source's position to the
built-in cluster table.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import torch

from ..data.dataset import Dataset, clip_levels
from ..data.preprocess import Preprocessing, generator_normalization
from ..io.catalogs import builtin_clusters, crossmatch

LABEL_NAMES = ("non-halo", "H", "cH", "mH")
_SUBTYPE = {"H": "H", "cH": "cH", "cmH": "mH", "mH": "mH"}


def source_subtypes(ds: Dataset, radius_arcmin: float = 10.0) -> np.ndarray:
    """Label index (into LABEL_NAMES) per source: non-halo for class 0, else the Table 1 subtype
    of the nearest listed cluster (a halo source with no listed match counts as ``H``)."""
    clusters = builtin_clusters()
    t1 = clusters[clusters["table"] == "T1"]
    m = crossmatch(ds.source_ra, ds.source_dec, t1, radius_arcmin)
    types = {str(n): str(k) for n, k in zip(t1["name"], t1["type"], strict=True)}
    out = np.zeros(len(ds.source_names), dtype=np.int64)
    for i, (lab, near, ok) in enumerate(zip(ds.source_labels, m["nearest"], m["matched"], strict=True)):
        if lab == 1:
            out[i] = LABEL_NAMES.index(_SUBTYPE.get(types.get(str(near), "H"), "H")) if ok else 1
    return out


@dataclass
class GeneratorData:
    x: torch.Tensor  # (N, C, H, W) in [−1, 1]
    labels: torch.Tensor  # (N,) indices into LABEL_NAMES
    images: np.ndarray  # the same cut-outs in Jy/beam (for flux and masks)
    card: dict  # preprocessing, data and dead_band_jy entries of the model card


def generator_data(ds: Dataset) -> GeneratorData:
    """Every central cut-out (a generator has no validation hold-out), normalised log10(1+x)
    → min-max → [−1, 1]."""
    train = ds.is_centre
    images = ds.images[train]
    norm = generator_normalization(images)
    pre = Preprocessing(
        cutout_size=int(images.shape[-1]),
        band_convention=ds.meta["config"]["band_convention"],
        nsigma=ds.meta["config"]["nsigma"],
        bands=ds.meta["bands"],
        normalization=norm,
    )
    card = {
        "preprocessing": pre.to_dict(),
        "data": {
            "hash": ds.meta["data_hash"],
            "config": ds.meta["config"],
            "n_train_images": int(train.sum()),
        },
        "dead_band_jy": clip_levels(ds, train),
    }
    return GeneratorData(
        torch.from_numpy(norm.to_model(images)),
        torch.from_numpy(source_subtypes(ds)[ds.source[train]]),
        images,
        card,
    )


def training_command() -> str | None:
    """The ``radioviz ...`` command line that is running, for the model card."""
    return " ".join(["radioviz", *sys.argv[1:]]) if sys.argv and sys.argv[0].endswith("radioviz") else None
