"""What every generator trainer learns from, built once: the central cut-outs in the model's
[−1, 1] space, their class labels, and the card entries that describe them (preprocessing,
training data, dead-band clip levels).

Labels are the halo subtypes of Mishra et al. Table 1 — ``non-halo``, ``H``, ``cH``, ``mH``
(mini-halos and candidate mini-halos) — found by matching each source's position to the
built-in cluster table.

Two ways to build it:

- :func:`generator_data`: the data set's central cut-outs with the paper's 160 augmentations
  (what the mask/background models and the WGAN train on);
- :func:`generator_crops`: more *distinct* images — the halo classes from the cluster centres
  (plus a few pixels of jitter), the non-halo class from random 64×64 crops anywhere in the
  300×300 non-halo fields and far from the centre of the halo fields (~20 distinct cut-outs per
  field instead of one) — augmented on the fly by the 8 exact right-angle rotations/flips and
  an intensity scale in [0.9, 1.4].  No 45° rotations: they interpolate across the dead band
  (values a real clipped image never has) and leave zero corners.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import torch

from ..data.dataset import Dataset, clip_levels, source_clip_levels, source_is_halo
from ..data.flux import peak_flux
from ..data.preprocess import Normalization, Preprocessing, clip_stack, generator_normalization, stack_cutout
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


SCALE_RANGE = (0.9, 1.4)  # Mishra et al.'s intensity-scaling coefficients span this range


@dataclass
class GeneratorData:
    x: torch.Tensor  # (N, C, H, W) in [−1, 1]
    labels: torch.Tensor  # (N,) indices into LABEL_NAMES
    images: np.ndarray  # the same cut-outs in Jy/beam (for flux and masks)
    card: dict  # preprocessing, data and dead_band_jy entries of the model card
    norm: Normalization | None = None
    online_augment: bool = False  # batch() applies a random right-angle turn/flip and scale

    def draw(self, n: int, rng: np.random.Generator, halo_share: float | None = 0.5) -> np.ndarray:
        """``n`` row indices; with ``halo_share``, that share comes from the halo classes (the
        crops give ~10 non-halo images per halo image; the halo classes are what users ask for)."""
        labels = self.labels.numpy()
        if halo_share is None or not (labels > 0).any() or not (labels == 0).any():
            return rng.integers(0, len(labels), n)
        w = np.where(labels > 0, halo_share / (labels > 0).sum(), (1 - halo_share) / (labels == 0).sum())
        return rng.choice(len(labels), n, p=w / w.sum())

    def batch(self, idx: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, np.ndarray]:
        """Rows ``idx`` in model space and their peak fluxes (Jy/beam), augmented on the fly
        when ``online_augment`` (the scale multiplies the peak, so the flux stays the truth)."""
        idx = np.asarray(idx)
        if not self.online_augment:
            return self.x[torch.from_numpy(idx)], peak_flux(self.images[idx])
        ims = self.images[idx].copy()
        for i in range(len(ims)):
            k, flip = int(rng.integers(4)), bool(rng.integers(2))
            im = np.rot90(ims[i], k, axes=(-2, -1))
            ims[i] = im[..., ::-1, :] if flip else im
        ims *= rng.uniform(*SCALE_RANGE, size=(len(ims), 1, 1, 1)).astype(np.float32)
        return torch.from_numpy(self.norm.to_model(ims).astype(np.float32)), peak_flux(ims)


def _card(ds: Dataset, images: np.ndarray, norm: Normalization, dead_band: list[float], extra: dict) -> dict:
    pre = Preprocessing(
        cutout_size=int(images.shape[-1]),
        band_convention=ds.meta["config"]["band_convention"],
        nsigma=ds.meta["config"]["nsigma"],
        bands=ds.meta["bands"],
        normalization=norm,
    )
    return {
        "preprocessing": pre.to_dict(),
        "data": {"hash": ds.meta["data_hash"], "config": ds.meta["config"], **extra},
        "dead_band_jy": dead_band,
        "dead_band_sources": source_clip_levels(ds),
        "dead_band_source_halo": source_is_halo(ds),
    }


def generator_data(ds: Dataset, stretch: str = "asinh") -> GeneratorData:
    """Every central cut-out with its 160 augmentations (a generator has no validation
    hold-out), in the asinh stretch (``stretch="log"``: the paper's log10(1+x) min-max)."""
    train = ds.is_centre
    images = ds.images[train]
    dead = clip_levels(ds, train)
    norm = generator_normalization(images, dead if stretch == "asinh" else None)
    card = _card(ds, images, norm, dead, {"n_train_images": int(train.sum())})
    return GeneratorData(
        torch.from_numpy(norm.to_model(images)),
        torch.from_numpy(source_subtypes(ds)[ds.source[train]]),
        images,
        card,
        norm,
    )


def generator_crops(
    ds: Dataset,
    per_field: int = 20,
    halo_jitter: int = 4,
    jitter_px: int = 3,
    min_offset_px: int = 90,
    seed: int = 0,
    progress: bool = False,
) -> GeneratorData:
    """Distinct training images read from the whole fields of ``ds``'s sources (see the module
    docstring); positions are pixels of the finest (170–231 MHz) band, as in
    :func:`~radioviz.data.preprocess.stack_cutout`.  Single-frequency sets (no fields to crop
    beyond the central cut-out) use their central cut-outs, augmented on the fly."""
    cfg = ds.meta["config"]
    subtypes = source_subtypes(ds)
    dead = clip_levels(ds, ds.is_centre)
    if cfg["band_convention"] not in ("native", "coregistered"):
        plain = ds.is_centre & (ds.aug == 0)
        images, labels = ds.images[plain], subtypes[ds.source[plain]]
        counts = {"central": int(plain.sum())}
    else:
        images, labels, counts = _cached_crops(
            ds, per_field, halo_jitter, jitter_px, min_offset_px, seed, progress
        )
    norm = generator_normalization(images * SCALE_RANGE[1], dead)
    card = _card(
        ds,
        images,
        norm,
        dead,
        {
            "n_train_images": int(len(images)),
            "n_distinct_images": int(len(images)),
            "crops": {
                "per_field": per_field,
                "halo_jitter": halo_jitter,
                "jitter_px": jitter_px,
                "min_offset_px": min_offset_px,
                "seed": seed,
                **counts,
            },
            "augmentation": "on the fly: 8 right-angle rotations/flips x intensity scale U(0.9, 1.4)",
        },
    )
    return GeneratorData(
        torch.from_numpy(norm.to_model(images)),
        torch.from_numpy(labels),
        images,
        card,
        norm,
        online_augment=True,
    )


def training_command() -> str | None:
    """The ``radioviz ...`` command line that is running, for the model card (run as the
    ``radioviz`` script or as ``python -m radioviz.cli``)."""
    if not sys.argv:
        return None
    prog = sys.argv[0].replace("\\", "/")
    if prog.endswith("radioviz") or prog.endswith("radioviz/cli/__main__.py"):
        return " ".join(["radioviz", *sys.argv[1:]])
    return None


def _cached_crops(ds: Dataset, per_field, halo_jitter, jitter_px, min_offset_px, seed, progress):
    """The crops of :func:`generator_crops`, cached beside the data sets (reading and clipping
    144 whole fields takes ~40 s)."""
    import hashlib
    import json

    from tqdm.auto import tqdm

    from ..data.dataset import default_cache_dir
    from ..io.layout import read_stack, split_sources

    cfg = ds.meta["config"]
    size = int(cfg["cutout_size"])
    subtypes = source_subtypes(ds)
    key = hashlib.sha256(
        json.dumps(
            [
                ds.meta["data_hash"],
                cfg["split"],
                cfg["band_convention"],
                cfg["nsigma"],
                size,
                per_field,
                halo_jitter,
                jitter_px,
                min_offset_px,
                seed,
            ]
        ).encode()
    ).hexdigest()[:16]
    path = default_cache_dir() / f"crops-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return z["images"], z["labels"], json.loads(str(z["counts"]))
    rng = np.random.default_rng(seed)
    sources = split_sources(cfg["root"], cfg["split"])
    images, labels = [], []
    counts = {
        "n_halo_centre": 0,
        "n_halo_jitter": 0,
        "n_nonhalo_centre": 0,
        "n_nonhalo_crop": 0,
        "n_halo_field_crop": 0,
    }
    for si, src in enumerate(tqdm(sources, desc="cropping fields", disable=not progress)):
        clipped = clip_stack(read_stack(src), cfg["nsigma"])
        ny, nx = clipped.stack.images[-1].shape
        c = ((nx - 1) / 2, (ny - 1) / 2)
        lo, hi_x, hi_y = size / 2, nx - size / 2, ny - size / 2

        def cut(pos, lab, kind, clipped=clipped):
            images.append(stack_cutout(clipped, size, pos, cfg["band_convention"]))
            labels.append(lab)
            counts[kind] += 1

        lab = int(subtypes[si])
        if src.label == 1:
            cut(None, lab, "n_halo_centre")
            for _ in range(halo_jitter):
                cut(
                    (
                        c[0] + rng.integers(-jitter_px, jitter_px + 1),
                        c[1] + rng.integers(-jitter_px, jitter_px + 1),
                    ),
                    lab,
                    "n_halo_jitter",
                )
            want, kind = per_field // 2, "n_halo_field_crop"
        else:
            cut(None, 0, "n_nonhalo_centre")
            want, kind = per_field, "n_nonhalo_crop"
        got, tries = 0, 0
        while got < want and tries < 50 * want:
            tries += 1
            p = (rng.uniform(lo, hi_x), rng.uniform(lo, hi_y))
            if src.label == 1 and np.hypot(p[0] - c[0], p[1] - c[1]) < min_offset_px:
                continue  # near the cluster: not a non-halo image
            cut(p, 0, kind)
            got += 1
    images, labels = np.stack(images).astype(np.float32), np.asarray(labels, np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, images=images, labels=labels, counts=json.dumps(counts))
    return images, labels, counts
