"""Big mosaics, read lazily and scanned in overlapping chunks.

A mosaic is one source whose bands share one pixel grid (four band files, or a FREQ cube).  Each
band is a ``dask.array`` whose chunks are read from a memory-mapped FITS file only when a task
needs them; the tasks carry the file name, never the pixels.  :func:`mosaic_scores` maps a
scorer over chunks with ``map_overlap`` (depth = the scorer's halo, zeros beyond the edges, as a
one-piece scan pads), so every window sees exactly the pixels it would see in one piece: the
stitched map has no seams.  Chunk sides are multiples of the stride, so each chunk's window
centres lie on the global stride grid, and of the scorer's ``align`` (a U-Net detector's
pooling grid, so its tiles pool the same pixel pairs as one piece does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from ..data.noise import clip_dead_band, clip_threshold, estimate_noise
from ..errors import InputError, WCSError
from ..io.bands import GLEAM_BANDS, Band
from ..io.fits import read_planes
from ..io.layout import SourceFiles
from ..scan.scorer import Scorer
from ..validate import check_wcs, frame_of, wcs_problem

#: a source whose reference band is larger than this on a side is surveyed as a mosaic
MOSAIC_MIN_SIDE = 2048


class FitsPlane:
    """Array-like view of one plane of a FITS image: slicing opens the file memory-mapped and
    reads only the slice.  Pickles as (path, plane index), so Dask ships no pixels."""

    def __init__(self, path: str | Path, index: tuple = ()):
        self.path, self.index = str(path), tuple(index)
        with fits.open(self.path, memmap=True) as hdul:
            hdu = _image_hdu(hdul, self.path)
            full = hdu.shape
        self.shape = tuple(full[len(self.index) :])
        self.ndim, self.dtype = len(self.shape), np.dtype(np.float32)

    def __getitem__(self, key) -> np.ndarray:
        with fits.open(self.path, memmap=True) as hdul:
            data = _image_hdu(hdul, self.path).data
            out = np.array(data[self.index + (key if isinstance(key, tuple) else (key,))], np.float32)
        return out


def _image_hdu(hdul, path):
    for hdu in hdul:
        if hdu.is_image and hdu.header.get("NAXIS", 0) >= 2:
            return hdu
    raise InputError(path, "no image HDU")


@dataclass
class Mosaic:
    """A 4-band mosaic on one grid: lazy (C, H, W) pixels, its WCS and survey-wide clip levels."""

    name: str
    bands: list[Band]
    planes: list[FitsPlane]
    wcs: WCS
    shape: tuple[int, int]
    thresholds: list[float]

    @property
    def pixel_deg(self) -> float:
        """The grid's pixel side (degrees), which a detector scores at its own training pixel."""
        from astropy.wcs.utils import proj_plane_pixel_scales

        return float(np.mean(np.abs(proj_plane_pixel_scales(self.wcs))))

    def array(self, chunk: int) -> da.Array:
        return da.stack([da.from_array(p, chunks=(chunk, chunk), asarray=False) for p in self.planes])


def ref_shape(source: SourceFiles) -> tuple[int, int]:
    """Shape of a source's reference band from its header alone (no pixels read)."""
    path = source.files.get(GLEAM_BANDS[-1]) or next(iter(source.files.values()), None)
    path = path or (source.unbanded[0] if source.unbanded else None)
    if path is None:
        return (0, 0)
    with fits.open(path, memmap=True) as hdul:
        shape = _image_hdu(hdul, path).shape
    return tuple(shape[-2:])


def is_mosaic(source: SourceFiles) -> bool:
    try:
        return max(ref_shape(source)) > MOSAIC_MIN_SIDE
    except (OSError, InputError):
        return False  # unreadable: the field task reports it


def _threshold(plane: FitsPlane, nsigma: float, max_pixels: int = 4_000_000) -> float:
    """Clip level of a whole band from a regular subsample of its pixels (not the full plane)."""
    step = max(1, int(np.ceil(np.sqrt(plane.shape[0] * plane.shape[1] / max_pixels))))
    sample = plane[::step, ::step]
    return float(clip_threshold(estimate_noise(sample), nsigma))


def open_mosaic(source: SourceFiles, nsigma: float, bands=GLEAM_BANDS) -> Mosaic:
    """Headers and clip levels now, pixels later.  All bands must share one grid."""
    planes: dict[Band, FitsPlane] = {}
    wcs_of: dict[Band, WCS] = {}
    for band, path in source.files.items():
        first = read_header_plane(path)
        planes[band], wcs_of[band] = FitsPlane(path), first
    for cube in source.unbanded:
        for k, plane in enumerate(_cube_planes(cube)):
            planes[plane[0]], wcs_of[plane[0]] = FitsPlane(cube, (k,)), plane[1]
    missing = [b.name for b in bands if b not in planes]
    if missing:
        raise InputError(
            next(iter(source.files.values()), None),
            f"mosaic '{source.name}' lacks band(s) {', '.join(missing)}",
        )
    ordered = [planes[b] for b in bands]
    ref_wcs = wcs_of[bands[-1]]
    shapes = {p.shape for p in ordered}
    if len(shapes) != 1 or any(
        not np.allclose(wcs_of[b].wcs.cdelt, ref_wcs.wcs.cdelt)
        or not np.allclose(wcs_of[b].wcs.crval, ref_wcs.wcs.crval)
        for b in bands
    ):
        raise InputError(
            ordered[0].path,
            f"bands of mosaic '{source.name}' are not on one pixel grid; reproject them onto one grid first",
        )
    thresholds = [_threshold(p, nsigma) for p in ordered]
    return Mosaic(source.name, list(bands), ordered, ref_wcs, ordered[0].shape, thresholds)


def read_header_plane(path: Path) -> WCS:
    """The celestial WCS of a mosaic band from its header, checked (:func:`radioviz.validate.check_wcs`).
    A galactic or ecliptic mosaic is refused: fields are resampled onto RA/Dec as they are read,
    a mosaic is too large to be."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(path, memmap=True) as hdul:
            hdu = _image_hdu(hdul, path)
            shape = tuple(hdu.shape[-2:])
            try:
                wcs = WCS(hdu.header).celestial
            except Exception as exc:  # noqa: BLE001 - astropy raises many types for broken WCS keywords
                raise WCSError(path, wcs_problem(exc)) from None
    if not wcs.has_celestial:
        raise WCSError(path, "no celestial (RA/Dec) axes in the WCS")
    check_wcs(path, wcs, shape)
    frame = frame_of(wcs)
    if frame != "equatorial":
        raise WCSError(path, f"a {frame} mosaic: resample it onto an RA/Dec grid first")
    return wcs


def _cube_planes(path: Path) -> list[tuple[Band, WCS]]:
    """(band, celestial WCS) of each plane of a FREQ cube; reads the cube once, as io.fits does."""
    return [(p.band, p.wcs) for p in read_planes(path)]


def _clipped_block(block: np.ndarray, thresholds: list[float]) -> np.ndarray:
    return np.stack([clip_dead_band(b, t) for b, t in zip(block, thresholds, strict=False)])


def mosaic_scores(
    arr: da.Array,
    scorer: Scorer | str | Path,
    stride: int,
    thresholds: list[float],
    chunk: int,
    pixel_deg: float | None = None,
    device: str = "cpu",
) -> da.Array:
    """Lazy score map of a (C, H, W) array: chunk×chunk tiles, ``scorer.halo`` of overlap.

    Given a checkpoint path, each task loads the scorer on its worker (cached there), so the
    graph carries a file name rather than the weights, and ``device`` (where each worker runs the
    model).  ``pixel_deg`` (the mosaic's pixel) lets a detector score at the pixel it was trained at
    (:meth:`Scorer.at_pixel`).
    """
    from ..scan.scorer import load_scorer

    by_path = not isinstance(scorer, Scorer)
    loaded = (load_scorer(scorer, device) if by_path else scorer).at_pixel(pixel_deg)
    halo, align = loaded.halo, getattr(loaded, "align", 1)
    if chunk % stride:
        raise ValueError(f"chunk {chunk} must be a multiple of stride {stride}")
    if chunk % align:
        raise ValueError(f"chunk {chunk} must be a multiple of {align} (the model's pooling grid)")
    if chunk < halo:
        raise ValueError(f"chunk {chunk} must be at least the model's tile overlap, {halo} pixels")
    arr = arr.rechunk((arr.shape[0], _chunks(arr.shape[1], chunk, halo), _chunks(arr.shape[2], chunk, halo)))
    out_chunks = tuple(tuple(-(-c // stride) for c in cs) for cs in arr.chunks[1:])
    depth = {0: 0, 1: halo, 2: halo}

    def score_block(block: np.ndarray) -> np.ndarray:
        s = load_scorer(scorer, device).at_pixel(pixel_deg) if by_path else loaded
        return s.block_scores(_clipped_block(block, thresholds), stride, thresholds)

    return da.map_overlap(
        score_block,
        arr,
        depth=depth,
        boundary=0,
        trim=False,
        drop_axis=0,
        chunks=out_chunks,
        dtype=np.float32,
        meta=np.array((), np.float32).reshape(0, 0),
    )


def _chunks(n: int, chunk: int, halo: int) -> tuple[int, ...]:
    """chunk, chunk, …, remainder — a remainder thinner than the halo joins its neighbour (as
    ``map_overlap`` would otherwise do behind our back, changing the output chunks)."""
    sizes = [chunk] * (n // chunk) + ([n % chunk] if n % chunk else [])
    if len(sizes) > 1 and sizes[-1] < halo:
        sizes[-2:] = [sizes[-2] + sizes[-1]]
    return tuple(sizes)


def one_piece_scores(
    data: np.ndarray, scorer: Scorer, stride: int, thresholds: list[float], pixel_deg: float | None = None
) -> np.ndarray:
    """The same map in one piece (the reference a chunked scan must reproduce)."""
    scorer = scorer.at_pixel(pixel_deg)
    h = scorer.halo
    padded = np.pad(np.asarray(data, np.float32), ((0, 0), (h, h), (h, h)))
    return scorer.block_scores(_clipped_block(padded, thresholds), stride, thresholds)
