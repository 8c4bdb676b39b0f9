"""Cached, augmented training sets built from a split of the published layout.

``build_dataset`` reads every source, clips it, cuts it out (band convention of choice), assigns
sky-position groups and a train/validation split *before* augmenting, then augments.  The result
is saved as an ``.npz`` whose name is a hash of the configuration and of the input files, so a
second build with the same inputs is a cache hit.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from tqdm.auto import tqdm

from ..errors import UnreadableError, os_problem
from ..io.bands import GLEAM_BANDS
from ..io.fits import require_regular_file
from ..io.layout import SourceFiles, read_stack, split_sources
from .augment import augment
from .preprocess import clip_stack, stack_cutout
from .single_frequency import SINGLE_FREQUENCY, read_single_frequency_set, single_frequency_files
from .splits import DEFAULT_LINK_RADIUS_DEG, sky_groups, train_val_split

#: Offset (deg) of the "empty space" negatives from a halo field's centre (Mishra et al. §4).
OFFCENTRE_RADIUS_DEG = 0.9


@dataclass(frozen=True)
class DatasetConfig:
    root: str
    split: str = "TRAIN"
    band_convention: str = "native"
    cutout_size: int = 64
    nsigma: float = 3.0
    val_fraction: float = 0.2
    seed: int = 0
    link_radius_deg: float = DEFAULT_LINK_RADIUS_DEG
    augment: bool = True
    offcentre_per_halo: int = 0

    def key(self, data_hash: str) -> str:
        d = asdict(self)
        d["root"] = "."  # the data hash, not the path, says what the data is
        blob = json.dumps(d, sort_keys=True) + data_hash
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class Dataset:
    """Arrays of a built data set (physical, clipped Jy/beam) and what each row is."""

    images: np.ndarray  # (N, C, H, W) float32
    labels: np.ndarray  # (N,) 0 non-halo, 1 halo
    source: np.ndarray  # (N,) index into source_names
    is_val: np.ndarray  # (N,) bool
    is_centre: np.ndarray  # (N,) bool: central cut-out (False: off-centre "empty space")
    aug: np.ndarray  # (N,) augmentation index 0..159 (0 = identity)
    source_names: np.ndarray
    source_labels: np.ndarray
    source_ra: np.ndarray
    source_dec: np.ndarray
    source_group: np.ndarray
    meta: dict

    def save(self, path: Path) -> Path:
        arrays = {k: v for k, v in self.__dict__.items() if k != "meta"}
        np.savez(path, meta=json.dumps(self.meta), **arrays)
        return path

    @classmethod
    def load(cls, path: Path) -> Dataset:
        with np.load(path, allow_pickle=False) as z:
            fields = {k: z[k] for k in z.files if k != "meta"}
            meta = json.loads(str(z["meta"]))
        return cls(meta=meta, **fields)


def default_cache_dir() -> Path:
    return Path(os.environ.get("RADIOVIZ_CACHE", Path.home() / ".cache" / "radioviz"))


def hash_files(paths: list[Path], root: Path) -> str:
    """SHA-256 over relative names and contents: the identity of a training set."""
    h = hashlib.sha256()
    for p in sorted(paths):
        require_regular_file(p)  # a FIFO would block the read below forever
        h.update(str(p.relative_to(root)).encode("utf-8", "surrogateescape"))
        try:
            h.update(hashlib.sha256(p.read_bytes()).digest())
        except OSError as exc:
            raise UnreadableError(p, f"cannot be read ({os_problem(exc)})") from None
    return h.hexdigest()


def source_paths(sources: list[SourceFiles]) -> list[Path]:
    return [p for s in sources for p in list(s.files.values()) + s.unbanded]


def build_dataset(
    config: DatasetConfig, cache_dir: Path | None = None, progress: bool = True, force: bool = False
) -> tuple[Dataset, Path, bool]:
    """Build (or load from cache) a data set; returns (dataset, cache path, was_cached)."""
    root = Path(config.root)
    if config.band_convention == SINGLE_FREQUENCY:
        sources, files = [], single_frequency_files(root)
    else:
        sources = split_sources(root, config.split)
        files = source_paths(sources)
    data_hash = hash_files(files, root)
    cache_dir = Path(cache_dir or default_cache_dir())
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"dataset-{config.split}-{config.key(data_hash)}.npz"
    if path.exists() and not force:
        return Dataset.load(path), path, True

    if config.band_convention == SINGLE_FREQUENCY:
        cutouts, rows, names, labels, ras, decs = _read_single_frequency(files, config, progress)
        bands = [SINGLE_FREQUENCY]
    else:
        cutouts, rows, names, labels, ras, decs = _read_sources(sources, config, progress)
        bands = [b.name for b in GLEAM_BANDS]

    positions = SkyCoord(ras * u.deg, decs * u.deg)
    groups = sky_groups(positions, config.link_radius_deg)
    val_source = train_val_split(groups, np.array(labels), config.val_fraction, config.seed)

    base = np.stack(cutouts)
    n_aug = 160 if config.augment else 1
    images = (
        np.concatenate([augment(im) for im in tqdm(base, desc="augmenting", disable=not progress)])
        if config.augment
        else base
    )
    row = np.repeat(np.arange(len(base)), n_aug)
    src_idx = np.array([r[0] for r in rows])[row]
    ds = Dataset(
        images=images.astype(np.float32),
        labels=np.array([r[1] for r in rows])[row],
        source=src_idx,
        is_val=val_source[src_idx],
        is_centre=np.array([r[2] for r in rows])[row],
        aug=np.tile(np.arange(n_aug), len(base)),
        source_names=np.array(names),
        source_labels=np.array(labels),
        source_ra=np.array(ras),
        source_dec=np.array(decs),
        source_group=groups,
        meta={"config": asdict(config), "data_hash": data_hash, "n_sources": len(names), "bands": bands},
    )
    ds.save(path)
    return ds, path, False


def _read_sources(sources: list[SourceFiles], config: DatasetConfig, progress: bool):
    """Central (and off-centre) 4-band cut-outs of every source of a published-layout split."""
    rng = np.random.default_rng(config.seed)
    cutouts, rows = [], []  # rows: (source index, label, is_centre)
    names, labels, ras, decs = [], [], [], []
    for si, src in enumerate(tqdm(sources, desc=f"reading {config.split}", disable=not progress)):
        clipped = clip_stack(read_stack(src), config.nsigma)
        centre = clipped.stack.centre()
        names.append(src.name)
        labels.append(int(src.label))
        ras.append(centre.ra.deg)
        decs.append(centre.dec.deg)
        cutouts.append(stack_cutout(clipped, config.cutout_size, None, config.band_convention))
        rows.append((si, int(src.label), True))
        if src.label == 1:
            finest = clipped.stack.images[-1]  # the smallest field: keep the off-centre cut-out inside it
            half = (min(finest.shape) - config.cutout_size) / 2 * finest.pixel_scale_deg
            radius = min(OFFCENTRE_RADIUS_DEG, half)
            for _ in range(config.offcentre_per_halo):
                pa = rng.uniform(0, 360) * u.deg
                pos = centre.directional_offset_by(pa, radius * u.deg)
                cutouts.append(stack_cutout(clipped, config.cutout_size, pos, config.band_convention))
                rows.append((si, 0, False))

    return cutouts, rows, names, labels, ras, decs


def _read_single_frequency(files: list[Path], config: DatasetConfig, progress: bool):
    """One 1-channel central cut-out per file; every image is a halo cluster (Mishra et al. §3)."""
    images = read_single_frequency_set(files, config.cutout_size, config.nsigma, progress)
    rows = [(i, 1, True) for i in range(len(images))]
    return (
        [im.cutout for im in images],
        rows,
        [im.name for im in images],
        [1] * len(images),
        [im.ra for im in images],
        [im.dec for im in images],
    )


def clip_levels(ds: Dataset, rows: np.ndarray) -> list[float]:
    """Per-band dead-band clip level (Jy/beam) of the source data behind ``rows``: read from
    right-angle rotations only (45° ones interpolate across the dead band's edge), with the
    intensity scaling of each augmentation undone."""
    from .augment import all_augmentations
    from .preprocess import dead_band_floor

    rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
    if not ds.meta["config"].get("augment", True):
        return dead_band_floor(ds.images[rows])
    augs = all_augmentations()
    keep = np.array([augs[a].rotation_deg % 90 == 0 for a in ds.aug[rows]])
    rows = rows[keep]
    return dead_band_floor(ds.images[rows], [augs[a].scale for a in ds.aug[rows]])


def source_clip_levels(ds: Dataset) -> list[list[float]]:
    """Each training source's own per-band clip level (smallest non-zero |x| of its un-augmented
    central cut-out; 0 for an empty band), which generated samples draw from."""
    rows = np.flatnonzero(ds.is_centre & (ds.aug == 0))
    out = []
    for im in ds.images[rows]:
        out.append([float(np.min(np.abs(p[p != 0]))) if np.any(p != 0) else 0.0 for p in im])
    return out


def source_is_halo(ds: Dataset) -> list[bool]:
    """Whether each source of :func:`source_clip_levels` (same order) is a halo source: a sample
    of a halo class draws its clip levels from those, as halo fields are clipped lower (median
    3σ level at 170–231 MHz: 0.024 Jy/beam for the 18 TRAIN halo fields, 0.032 for the others)."""
    rows = np.flatnonzero(ds.is_centre & (ds.aug == 0))
    return [bool(ds.labels[r] > 0) for r in rows]
