"""From clipped band images to model-ready 64×64 cut-outs, and the normalisations models carry.

Two band conventions (recorded in every :class:`Preprocessing`):

* ``native`` — the paper's: each band's own 64×64 pixels around the position; since pixel
  scales differ, the four bands cover different sky areas (56″ to 28″ pixels);
* ``coregistered`` — all bands reprojected (``reproject_interp``) onto one TAN grid with the
  finest band's pixel scale, so a pixel is the same sky in every band.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.nddata import Cutout2D, NoOverlapError
from astropy.wcs import WCS

from ..errors import InputError
from ..io.fits import BandImage
from ..io.layout import SourceStack
from .noise import clip_dead_band, clip_image

BandConvention = Literal["native", "coregistered"]
BAND_CONVENTIONS = ("native", "coregistered")
CUTOUT_SIZE = 64


@dataclass
class Normalization:
    """Min-max normalisation, optionally after ``log10(1 + x)`` (Mishra et al. App. A).

    ``per_image=False`` (the paper's): one min and max over the whole data set, stored here.
    ``per_image=True``: each image and band scaled by its own min and max — with bright radio
    galaxies of ~30 Jy/beam in the set, the data-set-wide scale squeezes a 0.1 Jy/beam halo into
    the bottom 0.3 % of [0, 1]; classifiers record which one they were trained with.
    ``forward`` maps Jy/beam to [0, 1]; ``to_model``/``from_model`` add the generator's
    [−1, 1] rescaling.  The constants travel in every model card.
    """

    log: bool
    lo: float
    hi: float
    per_image: bool = False
    snr: bool = False  # asinh of each band in units of its own noise σ (dead band t = 3σ), / asinh(1000)
    asinh_soft: list[float] | None = None  # per band (Jy/beam): the generators' asinh stretch, see below

    @classmethod
    def fit(cls, images: np.ndarray, log: bool, per_image: bool = False) -> Normalization:
        t = _log1p10(images) if log else np.asarray(images, dtype=np.float64)
        lo, hi = float(np.min(t)), float(np.max(t))
        if hi <= lo:
            raise ValueError("cannot normalise: all pixel values are equal")
        return cls(log, lo, hi, per_image)

    def _soft(self) -> np.ndarray:
        return np.asarray(self.asinh_soft, dtype=np.float64).reshape(-1, 1, 1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.snr:
            return snr_scale(x)
        if self.asinh_soft is not None:
            s = self._soft()
            z = np.arcsinh(np.asarray(x, dtype=np.float64) / s) / np.arcsinh(self.hi / s)
            return ((z + 1.0) / 2.0).astype(np.float32)
        t = _log1p10(x) if self.log else np.asarray(x, dtype=np.float64)
        if self.per_image:
            lo = t.min(axis=(-2, -1), keepdims=True)
            span = t.max(axis=(-2, -1), keepdims=True) - lo
            return ((t - lo) / np.where(span > 0, span, 1.0)).astype(np.float32)
        return ((t - self.lo) / (self.hi - self.lo)).astype(np.float32)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        if self.per_image or self.snr:
            raise ValueError("a per-image normalisation cannot be inverted (each image had its own scale)")
        if self.asinh_soft is not None:
            s = self._soft()
            z = 2.0 * np.asarray(y, dtype=np.float64) - 1.0
            return (s * np.sinh(z * np.arcsinh(self.hi / s))).astype(np.float32)
        t = np.asarray(y, dtype=np.float64) * (self.hi - self.lo) + self.lo
        return (np.power(10.0, t) - 1.0 if self.log else t).astype(np.float32)

    def to_model(self, x: np.ndarray) -> np.ndarray:
        return 2.0 * self.forward(x) - 1.0

    def from_model(self, z: np.ndarray) -> np.ndarray:
        return self.inverse((np.asarray(z) + 1.0) / 2.0)

    def to_dict(self) -> dict:
        return asdict(self)


def snr_scale(x: np.ndarray) -> np.ndarray:
    """asinh(x / σ) / asinh(1000) per image and band, σ = (smallest non-zero |x|) / 3.

    The dead band of a clipped image sits at 3σ, so its edge gives each band's noise without any
    data-set constant; faint diffuse emission stays visible next to a bright radio galaxy.
    """
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    t = np.where(a > 0, a, np.inf).min(axis=(-2, -1), keepdims=True)
    sigma = np.where(np.isfinite(t), t / 3.0, 1.0)
    return (np.arcsinh(x / sigma) / np.arcsinh(1000.0)).astype(np.float32)


def _log1p10(x) -> np.ndarray:
    # log10(1 + x) is undefined for x <= -1; strongly negative (anomalous) pixels are floored.
    return np.log10(1.0 + np.maximum(np.asarray(x, dtype=np.float64), -0.999))


@dataclass
class Preprocessing:
    """Everything needed to turn raw FITS into a model input, as one serialisable record."""

    cutout_size: int = CUTOUT_SIZE
    nsigma: float = 3.0
    band_convention: str = "native"
    bands: list[str] = field(default_factory=lambda: ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"])
    normalization: Normalization | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["normalization"] = None if self.normalization is None else self.normalization.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessing:
        d = dict(d)
        norm = d.pop("normalization", None)
        return cls(**d, normalization=None if norm is None else Normalization(**norm))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


@dataclass
class ClippedStack:
    """A source stack after noise clipping, with the per-band threshold used."""

    stack: SourceStack
    thresholds: list[float]
    sigmas: list[float]


def clip_stack(stack: SourceStack, nsigma: float = 3.0) -> ClippedStack:
    images, thresholds, sigmas = [], [], []
    for im in stack.images:
        data, noise, t = clip_image(im.data, nsigma)
        images.append(im.with_data(data))
        thresholds.append(t)
        sigmas.append(noise.sigma)
    return ClippedStack(SourceStack(stack.name, images, stack.label, stack.split), thresholds, sigmas)


def _position_in(image: BandImage, position) -> tuple[float, float] | SkyCoord:
    if position is None:
        ny, nx = image.shape
        return ((nx - 1) / 2, (ny - 1) / 2)
    return position


def require_cutout_size(image: BandImage, size: int = CUTOUT_SIZE) -> None:
    """Refuse a band smaller than the cut-out, naming its file (see :func:`cutout`)."""
    if min(image.shape) < size:
        ny, nx = image.shape
        raise InputError(image.path, f"band is {nx}×{ny} pixels, smaller than the {size}×{size} cut-out")


def cutout(image: BandImage, size: int = CUTOUT_SIZE, position=None) -> BandImage:
    """``size``×``size`` cut-out at the centre, a pixel (x, y) or a SkyCoord; off-image parts are 0.

    An image smaller than the cut-out is refused: zero-padding a 10×10 band to 64×64 would make
    an input no model was trained on, and a score of it would mean nothing."""
    require_cutout_size(image, size)
    try:
        cut = Cutout2D(
            image.data,
            _position_in(image, position),
            (size, size),
            wcs=image.wcs,
            mode="partial",
            fill_value=0.0,
        )
    except NoOverlapError:
        raise InputError(image.path, f"position {position} is outside the image") from None
    return image.with_data(np.asarray(cut.data, dtype=np.float32), cut.wcs)


def common_grid(centre: SkyCoord, size: int, pixel_deg: float) -> WCS:
    """A TAN grid of ``size``² pixels of ``pixel_deg`` centred on ``centre``."""
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    c = centre.icrs
    w.wcs.crval = [c.ra.deg, c.dec.deg]
    w.wcs.crpix = [(size + 1) / 2, (size + 1) / 2]
    w.wcs.cdelt = [-pixel_deg, pixel_deg]
    w.wcs.radesys = "ICRS"
    return w


def stack_cutout(
    clipped: ClippedStack, size: int = CUTOUT_SIZE, position=None, convention: str = "native"
) -> np.ndarray:
    """(C, size, size) cut-out of every band in one of the two band conventions."""
    images = clipped.stack.images
    if convention == "native":
        if position is not None and not isinstance(position, SkyCoord):
            # pixel positions are defined on the highest-frequency band; map them through the sky
            position = images[-1].wcs.pixel_to_world(*position)
        return np.stack([cutout(im, size, position).data for im in images])
    if convention != "coregistered":
        raise ValueError(f"unknown band convention {convention!r}; use one of {BAND_CONVENTIONS}")
    from reproject import reproject_interp

    if position is None:
        position = images[-1].centre()
    elif not isinstance(position, SkyCoord):
        position = images[-1].wcs.pixel_to_world(*position)
    target = common_grid(position, size, min(im.pixel_scale_deg for im in images))
    planes = []
    for im, t in zip(images, clipped.thresholds, strict=True):
        out, _ = reproject_interp((im.data, im.wcs), target, shape_out=(size, size), order="bilinear")
        planes.append(clip_dead_band(out, t))  # interpolation blurs the dead band; restore it
    return np.stack(planes).astype(np.float32)


def classifier_normalization(images: np.ndarray, per_image: bool = False, snr: bool = False) -> Normalization:
    """Min-max, no log (classifiers work better without, Mishra et al.); or the noise-unit scale."""
    norm = Normalization.fit(images, log=False, per_image=per_image)
    norm.snr = snr
    return norm


def generator_normalization(images: np.ndarray, soft: list[float] | None = None) -> Normalization:
    """The generators' scale.  With ``soft`` (per-band clip levels, Jy/beam): the asinh stretch
    ``asinh(x/s_b) / asinh(hi/s_b)``, hi = the largest |x| — empty sky is exactly 0 in model
    space (so a convolution's zero padding is empty sky), a clip-level pixel sits ≈ 0.13 above
    it and negative pixels stay negative.  Without: the paper's log10(1 + x) then min-max over
    the data set, which puts 99 % of pixels within ±0.02 of one value in [−1, 1] — finer than a
    short-trained denoiser's error, so its samples came out as noise (issue #13)."""
    if soft is None:
        return Normalization.fit(images, log=True)
    soft = [float(v) for v in soft]
    if len(soft) != images.shape[1] or min(soft) <= 0:
        raise ValueError(f"need one positive softening per band, got {soft}")
    hi = float(np.max(np.abs(images)))
    if hi <= 0:
        raise ValueError("cannot normalise: all pixel values are zero")
    return Normalization(log=False, lo=-hi, hi=hi, asinh_soft=soft)


def dead_band_floor(images: np.ndarray, scales=None) -> list[float]:
    """Per band, the median over images of the smallest non-zero pixel (divided by the image's
    intensity scaling, when augmented): the clip level below which the published data are
    exactly 0.  Generated images are clipped at it too, so their zero fraction is comparable."""
    scales = np.ones(len(images)) if scales is None else np.asarray(scales, float)
    out = []
    for b in range(images.shape[1]):
        mins = [
            float(np.min(p[p > 0]) / s) for p, s in zip(images[:, b], scales, strict=True) if np.any(p > 0)
        ]
        out.append(float(np.median(mins)) if mins else 0.0)
    return out


def apply_dead_band(images: np.ndarray, floor: list[float] | None) -> np.ndarray:
    """Zero every pixel with |x| below its band's ``floor`` (no-op when None): the published
    dead band is symmetric, so negative pixels beyond −floor stay, as in the real images."""
    if floor is None or len(floor) == 0:
        return images
    f = np.asarray(floor, dtype=images.dtype)
    f = f.reshape(1, -1, 1, 1) if f.ndim == 1 else f.reshape(len(f), -1, 1, 1)  # (C,) or (N, C)
    return np.where(np.abs(images) >= f, images, 0).astype(images.dtype)
