"""Whole fields on one common pixel grid, scaled by a field-level rule: the detector's input.

The four GLEAM bands have different pixel scales (56″ to 28″), so the 300 px of each file cover
different sky.  The detector sees all four on one grid: the reference (highest-frequency) band's
projection and footprint, resampled to ``pixel_deg`` (default 56″, the coarsest band's pixel,
which halves the compute of the 28″ grid and still samples the 2′ beam at 170–231 MHz).  Each
band is reprojected bilinearly and its dead band restored.

Scaling is per band and per *field*, never per window: ``asinh(x / σ_b) / asinh(1000)`` with σ_b
the band's noise from :func:`radioviz.data.noise.estimate_noise` on the whole native image.  A
pixel's input value therefore does not depend on which tile or window it is seen in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from astropy.wcs import WCS

from ..io.layout import SourceStack
from .compact_residual import compact_residual
from .noise import clip_dead_band, clip_image
from .spectral_index import spectral_index_channel

#: The coarsest GLEAM band's pixel (72–103 MHz): the default detector grid.
DEFAULT_GRID_PIXEL_DEG = 0.015556
ASINH_NORM = float(np.arcsinh(1000.0))

#: What a detector's input can hold, by group, in the order a network lists the groups it reads:
#: the bands on the field-level scale (one channel each), their spectral index (one channel,
#: ``spectral_index.spectral_index_channel``) and the bands with their compact sources subtracted,
#: on the bands' scale (one channel each, ``compact_residual``).  Every detector before #26's
#: ablations reads the bands only.
INPUT_GROUPS = ("bands", "spectral index", "residual")
BANDS_ONLY = ("bands",)


@dataclass(frozen=True)
class GridSpec:
    """How a field is put on the detector's grid; recorded in the model card."""

    pixel_deg: float = DEFAULT_GRID_PIXEL_DEG
    nsigma: float = 3.0  # dead band for raw (unclipped) files; published files keep theirs
    rule: str = "asinh(x / sigma_band) / asinh(1000); sigma_band from the whole native band image"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> GridSpec:
        return cls(**{k: d[k] for k in ("pixel_deg", "nsigma", "rule") if k in d})


@dataclass
class GriddedField:
    """A field's bands on the common grid (clipped Jy/beam), their noise and dead bands."""

    name: str
    data: np.ndarray  # (C, H, W) float32 Jy/beam, dead band restored, 0 outside a band's footprint
    wcs: WCS
    sigmas: np.ndarray  # (C,) noise σ per band (Jy/beam)
    thresholds: np.ndarray  # (C,) dead band per band (Jy/beam)
    bands: list[str]
    label: int | None = None

    @property
    def pixel_deg(self) -> float:
        return float(abs(self.wcs.wcs.cdelt[1]) if not self.wcs.wcs.has_cd() else abs(self.wcs.wcs.cd[1, 1]))

    @property
    def area_deg2(self) -> float:
        return float(self.data.shape[1] * self.data.shape[2] * self.pixel_deg**2)

    def scaled(self, inputs: tuple[str, ...] = BANDS_ONLY) -> np.ndarray:
        """The detector's input for this field: the groups ``inputs`` names (:data:`INPUT_GROUPS`)."""
        return field_scale(self.data, self.sigmas, inputs, self.pixel_deg)


def _asinh_scaled(data: np.ndarray, sigmas) -> np.ndarray:
    s = np.asarray(sigmas, dtype=np.float64).reshape(-1, 1, 1)
    s = np.where(s > 0, s, 1.0)
    return (np.arcsinh(np.asarray(data, np.float64) / s) / ASINH_NORM).astype(np.float32)


def field_scale(
    data: np.ndarray, sigmas, inputs: tuple[str, ...] = BANDS_ONLY, pixel_deg: float = DEFAULT_GRID_PIXEL_DEG
) -> np.ndarray:
    """The detector's input: for the group "bands" each band's asinh in units of its noise σ, /
    asinh(1000); then the other groups ``inputs`` names, in its order (:data:`INPUT_GROUPS`; only
    those asked for are computed).  ``data`` is (C, H, W) Jy/beam on a grid of ``pixel_deg``, or a
    batch (N, C, H, W) of the same field."""
    parts = []
    for group in inputs:
        if group == "bands":
            parts.append(_asinh_scaled(data, sigmas))
        elif group == "spectral index":
            parts.append(spectral_index_channel(data, sigmas))
        elif group == "residual":
            parts.append(_asinh_scaled(compact_residual(data, sigmas, pixel_deg), sigmas))
        else:
            raise ValueError(f"unknown detector input {group!r}: one of {', '.join(INPUT_GROUPS)}")
    return np.concatenate(parts, axis=-3)


def input_channel_names(inputs: tuple[str, ...], bands: list[str]) -> list[str]:
    """What each channel of :func:`field_scale`'s output holds, for the card."""
    names = {
        "bands": list(bands),
        "spectral index": ["spectral index"],
        "residual": [f"{b} compact-source residual" for b in bands],
    }
    return [n for group in inputs for n in names[group]]


def input_channel_count(inputs: tuple[str, ...], n_bands: int) -> int:
    return len(input_channel_names(inputs, [str(i) for i in range(n_bands)]))


def grid_wcs(ref_wcs: WCS, ref_shape: tuple[int, int], ref_pixel_deg: float, pixel_deg: float):
    """The reference band's projection resampled to ``pixel_deg``: same sky footprint."""
    f = pixel_deg / ref_pixel_deg
    ny, nx = (max(1, int(round(n / f))) for n in ref_shape)
    w = ref_wcs.celestial.deepcopy()
    w.wcs.crpix = (np.asarray(w.wcs.crpix) - 0.5) / f + 0.5
    if w.wcs.has_cd():
        w.wcs.cd = w.wcs.cd * f
    else:
        w.wcs.cdelt = np.asarray(w.wcs.cdelt) * f
    w.wcs.set()
    return w, (ny, nx)


def grid_field(stack: SourceStack, spec: GridSpec = GridSpec()) -> GriddedField:
    """Reproject every band of ``stack`` onto the common grid; noise from the native images."""
    from reproject import reproject_interp

    ref = stack.images[-1]
    wcs, shape = grid_wcs(ref.wcs, ref.shape, ref.pixel_scale_deg, spec.pixel_deg)
    planes, sigmas, thresholds = [], [], []
    for im in stack.images:
        data, noise, t = clip_image(im.data, spec.nsigma)
        sigmas.append(noise.sigma if noise.sigma > 0 else max(t / 3.0, 1e-6))
        thresholds.append(t)
        out, _ = reproject_interp((data, im.wcs.celestial), wcs, shape_out=shape, order="bilinear")
        planes.append(clip_dead_band(out, t))
    return GriddedField(
        stack.name,
        np.stack(planes).astype(np.float32),
        wcs,
        np.asarray(sigmas, float),
        np.asarray(thresholds, float),
        [str(b.name) if b is not None else "?" for b in stack.bands],
        stack.label,
    )
