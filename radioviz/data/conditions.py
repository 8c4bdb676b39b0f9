"""Conditions for controllable generation (RADiff): segmentation masks and background references.

Mask classes (as the simulator's truth masks): 0 background, 1 compact, 2 extended, 3 diffuse.
:func:`derive_mask` finds them on a real 4-band cut-out with photutils — ``detect_sources`` and
``deblend_sources`` on a noise-weighted sum of the bands, then morphology rules on each segment
against the beam: a segment whose half-peak footprint fits in ~1.5 beams is *compact*; a larger
one is *diffuse* when its emission is smooth (over 30 % of its area above half its peak, and a
peak below 20 σ) and *extended* otherwise.  Checked against the simulator's truth masks
(72–103 MHz, 12 fields): IoU compact 0.57, extended 0.26, diffuse ≈ 0 — simulated halos sit on
radio galaxies and merge into their segments, so "diffuse" is the weak class (docs/generators.md).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from photutils.segmentation import deblend_sources, detect_sources
from photutils.utils.exceptions import NoDetectionsWarning

from ..errors import InputError
from ..io.fits import read_image
from ..io.layout import read_stack, source_of
from .preprocess import CUTOUT_SIZE, clip_stack, stack_cutout

MASK_CLASSES = ("background", "compact", "extended", "diffuse")
BEAM_FWHM_PX = 4.5  # GLEAM's beam over its native pixels, about the same in all four bands


def _band_scale(band: np.ndarray) -> float:
    """A σ stand-in for clipped images: the smallest positive value is ≈ the 3σ clip level."""
    pos = band[band > 0]
    return float(pos.min() / 3.0) if pos.size else 1.0


def derive_mask(
    image: np.ndarray,
    band: int = 0,
    beam_fwhm_px: float = BEAM_FWHM_PX,
    npixels: int = 5,
    diffuse_fill: float = 0.3,
    diffuse_peak_snr: float = 20.0,
) -> np.ndarray:
    """(C, H, W) Jy/beam (noise-clipped) -> (H, W) uint8 class indices (MASK_CLASSES), on the
    pixel grid of ``band`` (default 72–103 MHz: in the native convention each band has its own
    grid, so a mask belongs to one of them)."""
    img = np.nan_to_num(np.asarray(image, dtype=np.float64))
    b = img[band] if img.ndim == 3 else img
    snr = b / _band_scale(b)
    out = np.zeros(snr.shape, dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDetectionsWarning)  # an empty cut-out is a valid answer
        seg = detect_sources(snr, threshold=1.0, n_pixels=npixels)
    if seg is None:
        return out
    if seg.n_labels > 1 or seg.areas.max() > 4 * npixels:
        try:
            seg = deblend_sources(snr, seg, n_pixels=npixels, n_levels=16, contrast=0.01, progress_bar=False)
        except ValueError:
            pass
    half_beam_area = np.pi * (beam_fwhm_px / 2) ** 2
    for lab in seg.labels:
        pix = seg.data == lab
        vals = snr[pix]
        peak = vals.max()
        half = (vals >= peak / 2).sum()
        if half <= 1.5 * half_beam_area:
            cls = 1
        elif half / pix.sum() > diffuse_fill and peak < diffuse_peak_snr:
            cls = 3
        else:
            cls = 2
        out[pix] = cls
    return out


def read_mask(path: str | Path, size: int = CUTOUT_SIZE) -> np.ndarray:
    """A drawn or derived mask from .npy (no pickles) or FITS: ``size``×``size`` class indices."""
    path = Path(path)
    if path.suffix == ".npy" and path.is_file():
        with open(path, "rb") as fh:
            if fh.read(6) != b"\x93NUMPY":
                raise InputError(path, "not a NumPy .npy file (or FITS): cannot read it as a mask")
    try:
        if path.suffix == ".npy":
            _check_npy_header(path, size)
            m = np.load(path, allow_pickle=False)
        else:
            m = read_image(path).data
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - one clear line for any unreadable file
        raise InputError(path, f"cannot read mask ({exc.__class__.__name__}: {exc})") from None
    m = np.asarray(m)
    if m.shape != (size, size):
        raise InputError(path, f"mask has shape {m.shape}; a {size}×{size} array of class indices is needed")
    if not np.all(np.isfinite(m)) or np.any(m != np.round(m)) or m.min() < 0 or m.max() >= len(MASK_CLASSES):
        raise InputError(
            path, f"mask values must be integers 0…{len(MASK_CLASSES) - 1} ({', '.join(MASK_CLASSES)})"
        )
    return m.astype(np.int64)


def _check_npy_header(path: Path, size: int) -> None:
    """Refuse a .npy whose header is not a size×size numeric array before reading its data (a
    header may claim 10¹² elements)."""
    from numpy.lib import format as npy

    if not path.is_file():
        raise InputError(path, "is not a regular file")
    with open(path, "rb") as fh:
        version = npy.read_magic(fh)
        read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, _, dtype = read(fh)
    if tuple(shape) != (size, size) or dtype.kind not in "biuf":
        raise InputError(
            path, f"mask is a {dtype} array of shape {tuple(shape)}; {size}×{size} class indices are needed"
        )


def read_background(path: str | Path, size: int = CUTOUT_SIZE) -> np.ndarray:
    """The central ``size``×``size`` 4-band cut-out (Jy/beam, noise-clipped) of the source that
    ``path`` (a band file, a cube or a source directory) belongs to."""
    return stack_cutout(clip_stack(read_stack(source_of(path))), size)
