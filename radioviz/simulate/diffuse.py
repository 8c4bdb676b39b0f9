"""Diffuse cluster emission — halos, mini-halos, relics — rendered on any pixel grid and injected
into real fields with a truth mask: the detector's training signal and its injection–recovery test.

Shapes follow :mod:`radioviz.simulate.sky`: a halo is an exponential disc I0·exp(−r/r_e) with
R_H ≈ 2.6 r_e (Murgia et al. 2009), 0.5–1.5 Mpc, α ≈ −1.3; a mini-halo is 0.1–0.5 Mpc around a
compact central galaxy (the galaxy is not part of the mask); a relic is an arc of elongated
Gaussians 0.5–2 Mpc long at α ≈ −1.2.  Each band is convolved with its beam (FWHM 2′ at 200 MHz,
∝ 1/ν) and scaled to Jy/beam.

Injection into a clipped field first fills its dead band (|x| < t, exactly 0 in the published
files) with beam-correlated noise confined to (−t, t), adds the source, and re-applies the dead
band — so a faint source sinks into the noise as it would on the sky, instead of standing out on
a noise-free zero background.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from astropy import units as u
from scipy import ndimage

from ..data.noise import clip_dead_band
from ..io.bands import GLEAM_BANDS
from .sky import COSMOLOGY, REFERENCE_MHZ, beam_fwhm_arcmin

KINDS = ("halo", "minihalo", "relic")
#: Total flux at 200 MHz drawn log-uniformly from these ranges (Jy): from far below GLEAM's
#: detectability (σ ≈ 9 mJy/beam at 170–231 MHz) to the brightest known halos.
FLUX_RANGE = {"halo": (0.01, 3.0), "minihalo": (0.005, 0.5), "relic": (0.01, 2.0)}
SIZE_RANGE_MPC = {"halo": (0.5, 1.5), "minihalo": (0.1, 0.5), "relic": (0.5, 2.0)}


@dataclass
class DiffuseSource:
    kind: str
    x: float  # grid pixel (0-based) of the centre
    y: float
    flux_jy: float  # total at 200 MHz
    size_mpc: float
    z: float
    alpha: float
    axis_ratio: float = 1.0
    pa_deg: float = 0.0
    core_flux_jy: float = 0.0  # mini-halo: the central compact galaxy (not diffuse)
    curvature: float = 0.0  # relic: arc bending (radians over its length)

    @property
    def size_arcsec(self) -> float:
        return float(
            self.size_mpc * 1000 * COSMOLOGY.arcsec_per_kpc_proper(self.z).to(u.arcsec / u.kpc).value
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "size_arcsec": self.size_arcsec}


def draw_source(
    rng: np.random.Generator,
    x: float,
    y: float,
    kind: str | None = None,
    flux_jy: float | None = None,
    size_mpc: float | None = None,
    z: float | None = None,
    alpha: float | None = None,
) -> DiffuseSource:
    """A random diffuse source at grid pixel (x, y); any argument given is kept as is."""
    kind = kind or KINDS[int(rng.choice(3, p=[0.5, 0.2, 0.3]))]
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    lo, hi = FLUX_RANGE[kind]
    flux = float(flux_jy if flux_jy is not None else np.exp(rng.uniform(np.log(lo), np.log(hi))))
    lo, hi = SIZE_RANGE_MPC[kind]
    size = float(size_mpc if size_mpc is not None else rng.uniform(lo, hi))
    z = float(z if z is not None else rng.uniform(0.05, 0.45))
    a_mean = {"halo": -1.3, "minihalo": -1.2, "relic": -1.2}[kind]
    alpha = float(alpha if alpha is not None else rng.normal(a_mean, 0.2))
    return DiffuseSource(
        kind,
        float(x),
        float(y),
        flux,
        size,
        z,
        alpha,
        axis_ratio=float(rng.uniform(0.7, 1.0)) if kind != "relic" else float(rng.uniform(0.1, 0.25)),
        pa_deg=float(rng.uniform(0, 180)),
        core_flux_jy=float(rng.uniform(0.3, 2.0) * flux) if kind == "minihalo" else 0.0,
        curvature=float(rng.uniform(0.3, 1.2)) if kind == "relic" else 0.0,
    )


def _gauss(yy, xx, cx, cy, sig_a, sig_b, pa):
    t = np.deg2rad(pa)
    dx, dy = xx - cx, yy - cy
    u_ = dx * np.cos(t) + dy * np.sin(t)
    v_ = -dx * np.sin(t) + dy * np.cos(t)
    return np.exp(-0.5 * ((u_ / sig_a) ** 2 + (v_ / sig_b) ** 2)) / (2 * np.pi * sig_a * sig_b)


def _shape(src: DiffuseSource, shape: tuple[int, int], pix_arcsec: float) -> np.ndarray:
    """Unit-flux map (per pixel) of the diffuse component on the grid, before the beam."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    d_px = src.size_arcsec / pix_arcsec
    if src.kind in ("halo", "minihalo"):
        r_e = max(d_px / 2 / 2.6, 0.3)
        t = np.deg2rad(src.pa_deg)
        dx, dy = xx - src.x, yy - src.y
        u_ = dx * np.cos(t) + dy * np.sin(t)
        v_ = -dx * np.sin(t) + dy * np.cos(t)
        prof = np.exp(-np.sqrt((u_ / r_e) ** 2 + (v_ / (r_e * src.axis_ratio)) ** 2))
    else:  # relic: 7 Gaussians along an arc of length d_px
        n = 7
        s = np.linspace(-0.5, 0.5, n)
        ang = src.curvature * s
        t = np.deg2rad(src.pa_deg)
        # arc in the source frame, rotated by pa
        ax = d_px * np.where(np.abs(src.curvature) > 1e-6, np.sin(ang) / max(src.curvature, 1e-6), s)
        ay = d_px * np.where(np.abs(src.curvature) > 1e-6, (1 - np.cos(ang)) / max(src.curvature, 1e-6), 0.0)
        px = src.x + ax * np.cos(t) - ay * np.sin(t)
        py = src.y + ax * np.sin(t) + ay * np.cos(t)
        width = max(d_px * src.axis_ratio / 2.3548, 0.4)
        seg = max(d_px / n / 1.5, 0.4)
        prof = sum(
            _gauss(yy, xx, cx, cy, seg, width, src.pa_deg + np.rad2deg(a))
            for cx, cy, a in zip(px, py, ang, strict=True)
        )
    total = prof.sum()
    return prof / total if total > 0 else prof


def render_source(
    src: DiffuseSource, shape: tuple[int, int], pix_arcsec: float, band_mhz, beam_arcmin=None
) -> tuple[np.ndarray, np.ndarray]:
    """(C, H, W) Jy/beam of the diffuse component per band, and of the compact core (mini-halos)."""
    unit = _shape(src, shape, pix_arcsec)
    diffuse, core = [], []
    for k, nu in enumerate(band_mhz):
        fwhm = beam_arcmin[k] if beam_arcmin is not None else 2.0 * REFERENCE_MHZ / nu
        sig = fwhm * 60 / pix_arcsec / 2.3548
        beam_area = 2 * np.pi * sig**2
        s = src.flux_jy * (nu / REFERENCE_MHZ) ** src.alpha
        diffuse.append(ndimage.gaussian_filter(unit * s, sig, mode="constant") * beam_area)
        c = np.zeros(shape)
        if src.core_flux_jy > 0:
            iy, ix = int(round(src.y)), int(round(src.x))
            if 0 <= iy < shape[0] and 0 <= ix < shape[1]:
                c[iy, ix] = src.core_flux_jy * (nu / REFERENCE_MHZ) ** -0.7
            c = ndimage.gaussian_filter(c, sig, mode="constant") * beam_area
        core.append(c)
    return np.stack(diffuse), np.stack(core)


GLEAM_BAND_MHZ = tuple(b.centre for b in GLEAM_BANDS)
GLEAM_BEAM_ARCMIN = tuple(beam_fwhm_arcmin(b) for b in GLEAM_BANDS)


def fill_dead_band(
    data: np.ndarray, sigmas, thresholds, pix_arcsec: float, rng: np.random.Generator, beam_arcmin=None
) -> np.ndarray:
    """Replace exact zeros (the dead band) by beam-correlated noise confined to (−t, t)."""
    out = np.array(data, dtype=np.float32, copy=True)
    beams = beam_arcmin or GLEAM_BEAM_ARCMIN
    for b in range(out.shape[0]):
        sig = beams[b] * 60 / pix_arcsec / 2.3548
        n = ndimage.gaussian_filter(rng.standard_normal(out.shape[1:]), sig, mode="wrap")
        n *= sigmas[b] / max(n.std(), 1e-12)
        t = thresholds[b]
        n = np.clip(n, -0.999 * t, 0.999 * t)
        zero = out[b] == 0
        out[b][zero] = n[zero]
    return out


def inject(
    data: np.ndarray,
    sources: list[DiffuseSource],
    sigmas,
    thresholds,
    pix_arcsec: float,
    rng: np.random.Generator,
    band_mhz=GLEAM_BAND_MHZ,
    beam_arcmin=None,
    mask_nsigma: float = 1.0,
    detect_nsigma: float = 2.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(injected clipped data, truth mask, ignore mask) for (C, H, W) clipped Jy/beam ``data``.

    Truth: pixels where a source's diffuse emission reaches ``mask_nsigma``·σ in any band.  A
    source whose brightest pixel stays below ``detect_nsigma``·σ in every band is not detectable
    per pixel; its footprint goes to the ignore mask instead (neither halo nor background).
    """
    shape = data.shape[1:]
    sig = np.asarray(sigmas, float).reshape(-1, 1, 1)
    total = np.zeros(data.shape)
    truth = np.zeros(shape, bool)
    ignore = np.zeros(shape, bool)
    for src in sources:
        diffuse, core = render_source(src, shape, pix_arcsec, band_mhz, beam_arcmin)
        total += diffuse + core
        footprint = (diffuse >= mask_nsigma * sig).any(0)
        if (diffuse.max(axis=(1, 2)) >= detect_nsigma * sig[:, 0, 0]).any():
            truth |= footprint
        else:
            ignore |= footprint
    filled = fill_dead_band(data, sigmas, thresholds, pix_arcsec, rng, beam_arcmin)
    out = np.stack([clip_dead_band(filled[b] + total[b], thresholds[b]) for b in range(data.shape[0])])
    return out.astype(np.float32), truth, ignore & ~truth
