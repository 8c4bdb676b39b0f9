"""Extended emission — halos, mini-halos, relics and the radio galaxies that mimic them — rendered
on any pixel grid and injected into real fields with a truth mask (per class): the detector's
training signal and its injection–recovery test.

Shapes follow :mod:`radioviz.simulate.sky`: a halo is an exponential disc I0·exp(−r/r_e) with
R_H ≈ 2.6 r_e (Murgia et al. 2009), 0.5–1.5 Mpc, α ≈ −1.3; a mini-halo is 0.1–0.5 Mpc around a
compact central galaxy (the galaxy is not part of the mask); a relic is an arc of elongated
Gaussians 0.5–2 Mpc long at α ≈ −1.2 whose spectrum steepens across its width (the shock front
flatter, the downstream side steeper: van Weeren et al. 2019); an extended radio galaxy — the
commonest impostor — is a compact flat-spectrum host with two lobes (straight, FR II-like, or bent
tails, α steepening along them) 0.1–1 Mpc across, its host included in its mask.  Each band is
convolved with its beam (FWHM 2′ at 200 MHz, ∝ 1/ν) and scaled to Jy/beam.

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
from ..io.bands import GLEAM_BANDS, REFERENCE_MHZ, beam_fwhm_arcmin
from .sky import COSMOLOGY

KINDS = ("halo", "minihalo", "relic")
#: Every kind the simulator draws: the cluster's own diffuse kinds and the radio galaxy.
ALL_KINDS = (*KINDS, "radio_galaxy")
#: Total flux at 200 MHz drawn log-uniformly from these ranges (Jy): from far below GLEAM's
#: detectability (σ ≈ 9 mJy/beam at 170–231 MHz) to the brightest known halos.
FLUX_RANGE = {
    "halo": (0.01, 3.0),
    "minihalo": (0.005, 0.5),
    "relic": (0.01, 2.0),
    "radio_galaxy": (0.02, 5.0),
}
SIZE_RANGE_MPC = {"halo": (0.5, 1.5), "minihalo": (0.1, 0.5), "relic": (0.5, 2.0), "radio_galaxy": (0.1, 1.0)}
ALPHA_MEAN = {"halo": -1.3, "minihalo": -1.2, "relic": -1.2, "radio_galaxy": -0.8}


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
    core_flux_jy: float = 0.0  # mini-halo: the central galaxy (not diffuse); radio galaxy: its host
    curvature: float = 0.0  # relic: arc bending (radians over its length); radio galaxy: tail bending
    gradient: float = 0.0  # relic: α difference front − back; radio galaxy: α steepening to the lobe ends

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
    """A random source at grid pixel (x, y); any argument given is kept as is.  Without ``kind``,
    one of the cluster kinds (halo 0.5, mini-halo 0.2, relic 0.3) — the old detector's mix."""
    kind = kind or KINDS[int(rng.choice(3, p=[0.5, 0.2, 0.3]))]
    if kind not in ALL_KINDS:
        raise ValueError(f"kind must be one of {ALL_KINDS}, not {kind!r}")
    lo, hi = FLUX_RANGE[kind]
    flux = float(flux_jy if flux_jy is not None else np.exp(rng.uniform(np.log(lo), np.log(hi))))
    lo, hi = SIZE_RANGE_MPC[kind]
    size = float(size_mpc if size_mpc is not None else rng.uniform(lo, hi))
    z = float(z if z is not None else rng.uniform(0.05, 0.45))
    alpha = float(alpha if alpha is not None else rng.normal(ALPHA_MEAN[kind], 0.2))
    axis = {"relic": (0.1, 0.25), "radio_galaxy": (0.15, 0.35)}.get(kind, (0.7, 1.0))
    core = {"minihalo": (0.3, 2.0), "radio_galaxy": (0.02, 0.3)}.get(kind)
    bend = {"relic": (0.3, 1.2), "radio_galaxy": (0.0, 2.5)}.get(kind)
    grad = {"relic": (0.3, 0.8), "radio_galaxy": (0.0, 0.8)}.get(kind)
    return DiffuseSource(
        kind,
        float(x),
        float(y),
        flux,
        size,
        z,
        alpha,
        axis_ratio=float(rng.uniform(*axis)),
        pa_deg=float(rng.uniform(0, 180)),
        core_flux_jy=float(rng.uniform(*core) * flux) if core else 0.0,
        curvature=float(rng.uniform(*bend) * rng.choice([-1, 1])) if bend else 0.0,
        gradient=float(rng.uniform(*grad)) if grad else 0.0,
    )


def _gauss(yy, xx, cx, cy, sig_a, sig_b, pa):
    t = np.deg2rad(pa)
    dx, dy = xx - cx, yy - cy
    u_ = dx * np.cos(t) + dy * np.sin(t)
    v_ = -dx * np.sin(t) + dy * np.cos(t)
    return np.exp(-0.5 * ((u_ / sig_a) ** 2 + (v_ / sig_b) ** 2)) / (2 * np.pi * sig_a * sig_b)


def _rotate(src: DiffuseSource, xx, yy):
    t = np.deg2rad(src.pa_deg)
    dx, dy = xx - src.x, yy - src.y
    return dx * np.cos(t) + dy * np.sin(t), -dx * np.sin(t) + dy * np.cos(t)


def _arc(src: DiffuseSource, yy, xx, d_px: float, n: int, width: float, offset: float = 0.0, half=None):
    """Unnormalised sum of ``n`` elongated Gaussians along an arc of length ``d_px`` (source frame,
    bending by ``curvature`` radians), shifted ``offset`` px across it; ``half`` = −1 / +1 keeps
    one half of the arc (a radio galaxy's lobe on one side of its host)."""
    s = np.linspace(-0.5, 0.5, n)
    if half is not None:
        s = s[s * half > 0]
    c = src.curvature
    ang = c * s
    ax = d_px * (np.sin(ang) / c if abs(c) > 1e-6 else s)
    ay = d_px * ((1 - np.cos(ang)) / c if abs(c) > 1e-6 else 0.0 * s) + offset
    t = np.deg2rad(src.pa_deg)
    px = src.x + ax * np.cos(t) - ay * np.sin(t)
    py = src.y + ax * np.sin(t) + ay * np.cos(t)
    seg = max(d_px / n / 1.5, 0.4)
    return sum(
        _gauss(yy, xx, cx, cy, seg, width, src.pa_deg + np.rad2deg(a))
        for cx, cy, a in zip(px, py, ang, strict=True)
    )


def _unit(prof: np.ndarray) -> np.ndarray:
    total = prof.sum()
    return prof / total if total > 0 else prof


def _components(src: DiffuseSource, shape: tuple[int, int], pix_arcsec: float) -> list[tuple]:
    """(unit-flux map per pixel before the beam, share of the total flux, spectral index) of each
    part of the source: one for a halo, front and back for a relic, lobe segments for a radio galaxy."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    d_px = src.size_arcsec / pix_arcsec
    if src.kind in ("halo", "minihalo"):
        r_e = max(d_px / 2 / 2.6, 0.3)
        u_, v_ = _rotate(src, xx, yy)
        return [
            (_unit(np.exp(-np.sqrt((u_ / r_e) ** 2 + (v_ / (r_e * src.axis_ratio)) ** 2))), 1.0, src.alpha)
        ]
    width = max(d_px * src.axis_ratio / 2.3548, 0.4)
    if src.kind == "relic":  # the shock front (flatter) and the ageing plasma behind it (steeper)
        g = src.gradient / 2
        return [
            (_unit(_arc(src, yy, xx, d_px, 7, width / 2, offset=-width / 2)), 0.5, src.alpha + g),
            (_unit(_arc(src, yy, xx, d_px, 7, width / 2, offset=+width / 2)), 0.5, src.alpha - g),
        ]
    # radio galaxy: two lobes (or tails, when bent) from the host outwards, steepening with distance
    parts = []
    for side in (-1, 1):
        for k, frac in enumerate((0.25, 0.75)):  # inner and outer halves of each lobe
            prof = _arc(src, yy, xx, d_px, 12, width, half=side)
            u_, _ = _rotate(src, xx, yy)
            near = np.abs(u_) < d_px / 4
            part = np.where(near if k == 0 else ~near, prof, 0.0)
            parts.append((_unit(part), 0.5 * (0.4 if k == 0 else 0.6), src.alpha - src.gradient * frac))
    return parts


def _shape(src: DiffuseSource, shape: tuple[int, int], pix_arcsec: float) -> np.ndarray:
    """Unit-flux map (per pixel) of the extended component on the grid, before the beam."""
    return _unit(sum(m * share for m, share, _ in _components(src, shape, pix_arcsec)))


def render_source(
    src: DiffuseSource, shape: tuple[int, int], pix_arcsec: float, band_mhz, beam_arcmin=None
) -> tuple[np.ndarray, np.ndarray]:
    """(C, H, W) Jy/beam of the extended component per band, and of the compact core (the
    mini-halo's central galaxy; a radio galaxy's host is part of the first, as it is of its mask)."""
    parts = _components(src, shape, pix_arcsec)
    diffuse, core = [], []
    for k, nu in enumerate(band_mhz):
        fwhm = beam_arcmin[k] if beam_arcmin is not None else 2.0 * REFERENCE_MHZ / nu
        sig = fwhm * 60 / pix_arcsec / 2.3548
        beam_area = 2 * np.pi * sig**2
        sky = sum(m * share * src.flux_jy * (nu / REFERENCE_MHZ) ** a for m, share, a in parts)
        diffuse.append(ndimage.gaussian_filter(sky, sig, mode="constant") * beam_area)
        c = np.zeros(shape)
        if src.core_flux_jy > 0:
            iy, ix = int(round(src.y)), int(round(src.x))
            if 0 <= iy < shape[0] and 0 <= ix < shape[1]:
                c[iy, ix] = src.core_flux_jy * (nu / REFERENCE_MHZ) ** (
                    -0.7 if src.kind == "minihalo" else -0.3
                )
            c = ndimage.gaussian_filter(c, sig, mode="constant") * beam_area
        if src.kind == "radio_galaxy":
            diffuse[-1], c = diffuse[-1] + c, np.zeros(shape)
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
    out, classes, ignore = inject_classes(
        data, sources, sigmas, thresholds, pix_arcsec, rng, band_mhz, beam_arcmin, mask_nsigma, detect_nsigma
    )
    return out, classes > 0, ignore


def inject_classes(
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
    """:func:`inject` with the truth per class: an int8 map holding 1 + the index in
    :data:`ALL_KINDS` of the source whose emission is brightest at each pixel (0: none)."""
    shape = data.shape[1:]
    sig = np.asarray(sigmas, float).reshape(-1, 1, 1)
    total = np.zeros(data.shape)
    classes = np.zeros(shape, np.int8)
    brightest = np.zeros(shape)
    ignore = np.zeros(shape, bool)
    for src in sources:
        diffuse, core = render_source(src, shape, pix_arcsec, band_mhz, beam_arcmin)
        total += diffuse + core
        snr = (diffuse / sig).max(0)
        footprint = snr >= mask_nsigma
        if snr.max() >= detect_nsigma:
            take = footprint & (snr > brightest)
            classes[take] = 1 + ALL_KINDS.index(src.kind)
            brightest[take] = snr[take]
        else:
            ignore |= footprint
    filled = fill_dead_band(data, sigmas, thresholds, pix_arcsec, rng, beam_arcmin)
    out = np.stack([clip_dead_band(filled[b] + total[b], thresholds[b]) for b in range(data.shape[0])])
    return out.astype(np.float32), classes, ignore & (classes == 0)
