"""A sky simulator that makes GLEAM-like four-band fields, their truth masks and catalogues.

Each band is rendered on its own native grid (300×300 pixels at the real band's pixel scale,
TAN, centred on the field) exactly as the published files are, so every loader and model runs
on simulated data unchanged.  Per band: sources are deposited in Jy/pixel, convolved with a
Gaussian beam (FWHM 2′ at 200 MHz, ∝ 1/ν) and scaled to Jy/beam; beam-correlated Gaussian noise
at the level measured on the real files is added; then the same symmetric dead band as the
published files zeroes ``|x| < 3σ``.

Components: point sources (power-law counts, α = −0.7 ± 0.2), extended radio galaxies (FRI,
FRII, bent-tail), radio halos with I(r) = I0·exp(−r/r_e) (Murgia et al. 2009; α = −1.3 ± 0.2,
0.5–1.5 Mpc at z = 0.05–0.45) and mini-halos around a bright central galaxy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.cosmology import FlatLambdaCDM
from astropy.table import Table
from astropy.wcs import WCS
from scipy import ndimage

from ..data.noise import clip_dead_band
from ..io.bands import GLEAM_BANDS, GLEAM_PIXEL_DEG, REFERENCE_MHZ, Band, beam_fwhm_arcmin
from ..io.fits import BandImage, write_image

COSMOLOGY = FlatLambdaCDM(H0=70, Om0=0.3)

#: Background noise σ (Jy/beam) per band: the median dead-band threshold of the 144 published
#: TRAIN files divided by 3 (their clipping is at 3σ); ``radioviz simulate --compare-real``
#: re-measures it against the real files.
BAND_NOISE = dict(zip(GLEAM_BANDS, (0.0427, 0.0230, 0.0141, 0.0087), strict=True))

#: Segmentation classes of the truth masks.
MASK_CLASSES = ("background", "compact", "extended", "diffuse")


@dataclass
class SimConfig:
    """What goes into a field.  Everything random is drawn from ``seed``."""

    seed: int = 0
    ra_deg: float | None = None  # field centre; random when None
    dec_deg: float | None = None
    size: int = 300
    point_density_per_deg2: float = 30.0  # above s_min at 200 MHz (GLEAM: ≈ 12.6 deg⁻² above 50 mJy)
    s_min_jy: float = 0.02
    s_max_jy: float = 10.0
    count_slope: float = 2.0  # dN/dS ∝ S^−slope
    n_extended: int | None = None  # radio galaxies; Poisson(4) when None
    halo: str | None = "halo"  # "halo", "minihalo" or None
    halo_offset_arcmin: float = 1.0  # the halo sits this far (at most) from the centre
    halo_flux_jy: float | None = None  # total at 200 MHz; log-uniform 0.1–1.5 Jy when None
    halo_size_mpc: float | None = None
    redshift: float | None = None
    nsigma_clip: float = 3.0
    noise_scale: float = 1.0
    bands: tuple[Band, ...] = GLEAM_BANDS


@dataclass
class SimulatedField:
    name: str
    images: list[BandImage]
    masks: list[np.ndarray]
    catalog: Table
    config: SimConfig
    noise: list[float] = field(default_factory=list)

    @property
    def label(self) -> int:
        return int(self.config.halo is not None)


def band_wcs(centre: SkyCoord, band: Band, size: int) -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [centre.ra.deg, centre.dec.deg]
    w.wcs.crpix = [(size + 1) / 2, (size + 1) / 2]
    pix = GLEAM_PIXEL_DEG.get(band, 0.0078 * REFERENCE_MHZ / band.centre)
    w.wcs.cdelt = [-pix, pix]
    w.wcs.radesys = "FK5"
    w.wcs.equinox = 2000.0
    return w


# -- components: each is a list of (ra, dec, flux at 200 MHz, alpha, shape, class) blobs ------------


@dataclass
class Blob:
    """One elementary emission shape: Gaussian (``profile='gauss'``) or exponential disc."""

    ra: float
    dec: float
    flux: float  # Jy at 200 MHz
    alpha: float
    major_arcsec: float = 0.0  # Gaussian FWHM or exponential r_e; 0 = point
    minor_arcsec: float = 0.0
    pa_deg: float = 0.0
    profile: str = "gauss"
    cls: int = 1  # index into MASK_CLASSES


def _offset(c: SkyCoord, pa_deg: float, sep_arcsec: float) -> SkyCoord:
    return c.directional_offset_by(pa_deg * u.deg, sep_arcsec * u.arcsec)


def radio_galaxy(rng, centre: SkyCoord, kind: str, flux: float) -> list[Blob]:
    """FRI (bright jets fading outwards), FRII (edge-brightened lobes) or bent-tail (curved jets)."""
    alpha = rng.normal(-0.8, 0.15)
    size = rng.uniform(180, 600)  # total extent, arcsec
    pa = rng.uniform(0, 360)
    blobs = [Blob(centre.ra.deg, centre.dec.deg, 0.05 * flux, rng.normal(-0.3, 0.2), cls=1)]
    if kind == "FRII":
        for side in (0, 180):
            for frac, w, f in ((1.0, 0.12, 0.30), (0.8, 0.3, 0.15)):
                p = _offset(centre, pa + side, frac * size / 2)
                blobs.append(
                    Blob(p.ra.deg, p.dec.deg, f * flux, alpha, w * size, 0.5 * w * size, pa + side, cls=2)
                )
    elif kind == "FRI":
        for side in (0, 180):
            for k in range(1, 6):
                p = _offset(centre, pa + side, k / 5 * size / 2)
                blobs.append(
                    Blob(
                        p.ra.deg,
                        p.dec.deg,
                        flux * 0.19 * (1.3 - k / 5),
                        alpha,
                        0.1 * size * (1 + k / 3),
                        0.07 * size,
                        pa + side,
                        cls=2,
                    )
                )
    else:  # bent: jets swept back along a common direction
        bend = rng.uniform(40, 120)
        for side in (+1, -1):
            for k in range(1, 7):
                ang = pa + side * (90 - bend * k / 6)
                p = _offset(centre, ang, k / 6 * size / 2)
                blobs.append(
                    Blob(
                        p.ra.deg,
                        p.dec.deg,
                        flux * 0.16 * (1.2 - k / 7),
                        alpha,
                        0.12 * size,
                        0.07 * size,
                        ang,
                        cls=2,
                    )
                )
    return blobs


def halo_blob(
    rng, centre: SkyCoord, kind: str, flux: float | None, size_mpc: float | None, z: float | None
) -> tuple[list[Blob], dict]:
    """A halo (0.5–1.5 Mpc, α ≈ −1.3) or a mini-halo (0.1–0.5 Mpc, with its central galaxy)."""
    z = float(z if z is not None else rng.uniform(0.05, 0.45))
    if kind == "halo":
        size_mpc = float(size_mpc if size_mpc is not None else rng.uniform(0.5, 1.5))
        flux = float(flux if flux is not None else np.exp(rng.uniform(np.log(0.1), np.log(1.5))))
        alpha = rng.normal(-1.3, 0.2)
    else:
        size_mpc = float(size_mpc if size_mpc is not None else rng.uniform(0.1, 0.5))
        flux = float(flux if flux is not None else np.exp(rng.uniform(np.log(0.05), np.log(0.5))))
        alpha = rng.normal(-1.2, 0.2)
    arcsec_per_mpc = COSMOLOGY.arcsec_per_kpc_proper(z).to(u.arcsec / u.kpc).value * 1000
    diameter_arcsec = size_mpc * arcsec_per_mpc
    r_e = diameter_arcsec / 2 / 2.6  # R_H ≈ 2.6 r_e (Murgia et al. 2009; Cassano et al. 2007)
    blobs = [
        Blob(
            centre.ra.deg,
            centre.dec.deg,
            flux,
            alpha,
            r_e,
            r_e * rng.uniform(0.7, 1.0),
            rng.uniform(0, 180),
            "exp",
            cls=3,
        )
    ]
    if kind == "minihalo":
        blobs.append(
            Blob(centre.ra.deg, centre.dec.deg, rng.uniform(0.3, 2.0) * flux, rng.normal(-0.7, 0.2), cls=1)
        )
    info = dict(z=z, size_mpc=size_mpc, size_arcsec=diameter_arcsec, r_e_arcsec=r_e, alpha=alpha, flux=flux)
    return blobs, info


# -- rendering ----------------------------------------------------------------------------------


def _render(blobs: list[Blob], wcs: WCS, size: int, band: Band) -> np.ndarray:
    """Jy/pixel map of the blobs (before the beam)."""
    img = np.zeros((size, size), np.float64)
    pix_arcsec = abs(wcs.wcs.cdelt[1]) * 3600
    if not blobs:
        return img
    ra = np.array([b.ra for b in blobs])
    dec = np.array([b.dec for b in blobs])
    x, y = wcs.world_to_pixel(SkyCoord(ra * u.deg, dec * u.deg, frame="fk5"))
    yy, xx = np.mgrid[0:size, 0:size]
    for b, bx, by in zip(blobs, x, y, strict=True):
        s = b.flux * (band.centre / REFERENCE_MHZ) ** b.alpha
        if b.major_arcsec <= 0:  # point: bilinear deposit keeps sub-pixel positions
            ix, iy = int(np.floor(bx)), int(np.floor(by))
            fx, fy = bx - ix, by - iy
            for dx, dy, w in (
                (0, 0, (1 - fx) * (1 - fy)),
                (1, 0, fx * (1 - fy)),
                (0, 1, (1 - fx) * fy),
                (1, 1, fx * fy),
            ):
                if 0 <= ix + dx < size and 0 <= iy + dy < size:
                    img[iy + dy, ix + dx] += s * w
            continue
        a, c = b.major_arcsec / pix_arcsec, max(b.minor_arcsec, 1e-3) / pix_arcsec
        reach = (8 if b.profile == "exp" else 3) * a
        if bx < -reach or by < -reach or bx > size + reach or by > size + reach:
            continue
        t = np.deg2rad(b.pa_deg + 90)  # PA east of north -> pixel axes (RA increases leftwards)
        dx, dy = xx - bx, yy - by
        u_ = dx * np.cos(t) + dy * np.sin(t)
        v_ = -dx * np.sin(t) + dy * np.cos(t)
        if b.profile == "exp":
            r = np.sqrt((u_ / a) ** 2 + (v_ / c) ** 2)
            prof = np.exp(-r)
            norm = 2 * np.pi * a * c
        else:
            sa, sc = a / 2.3548, c / 2.3548
            prof = np.exp(-0.5 * ((u_ / sa) ** 2 + (v_ / sc) ** 2))
            norm = 2 * np.pi * sa * sc
        img += s * prof / norm
    return img


def _beam_convolve(img: np.ndarray, beam_sigma_px: float) -> np.ndarray:
    """Jy/pixel -> Jy/beam: convolve with the beam normalised to unit peak."""
    return ndimage.gaussian_filter(img, beam_sigma_px, mode="constant") * (2 * np.pi * beam_sigma_px**2)


def _noise(rng, size: int, beam_sigma_px: float, sigma: float) -> np.ndarray:
    n = ndimage.gaussian_filter(rng.standard_normal((size, size)), beam_sigma_px, mode="wrap")
    return n * (sigma / n.std())


def simulate_field(config: SimConfig | None = None, name: str | None = None) -> SimulatedField:
    """Make one field; the same config (seed included) always gives the same field."""
    cfg = config or SimConfig()
    rng = np.random.default_rng(cfg.seed)
    ra = cfg.ra_deg if cfg.ra_deg is not None else rng.uniform(0, 360)
    dec = (
        cfg.dec_deg
        if cfg.dec_deg is not None
        else np.rad2deg(np.arcsin(rng.uniform(-1, np.sin(np.deg2rad(25)))))
    )
    centre = SkyCoord(ra * u.deg, dec * u.deg, frame="fk5")
    name = name or f"sim_{cfg.seed:04d}"
    half = max(GLEAM_PIXEL_DEG.get(b, 0.0078) for b in cfg.bands) * cfg.size / 2 * 1.05

    blobs: list[Blob] = []
    rows = []
    # point sources over the widest band's area (power law by inverse transform)
    area = (2 * half) ** 2
    n_pts = rng.poisson(cfg.point_density_per_deg2 * area)
    g = 1 - cfg.count_slope
    s = (cfg.s_min_jy**g + rng.uniform(size=n_pts) * (cfg.s_max_jy**g - cfg.s_min_jy**g)) ** (1 / g)
    dx, dy = rng.uniform(-half, half, (2, n_pts))
    for k in range(n_pts):
        p = centre.spherical_offsets_by(dx[k] * u.deg, dy[k] * u.deg)
        blobs.append(Blob(p.ra.deg, p.dec.deg, float(s[k]), rng.normal(-0.7, 0.2), cls=1))
        rows.append(("point", p, float(s[k]), blobs[-1].alpha, 0.0, {}))
    # extended radio galaxies
    n_ext = cfg.n_extended if cfg.n_extended is not None else rng.poisson(3)
    for _ in range(n_ext):
        kind = ["FRI", "FRII", "bent"][rng.integers(3)]
        p = centre.spherical_offsets_by(rng.uniform(-half, half) * u.deg, rng.uniform(-half, half) * u.deg)
        if p.separation(centre).deg < 0.25:  # keep the cluster centre for the halo
            p = _offset(centre, rng.uniform(0, 360), 0.3 * 3600)
        flux = float(np.exp(rng.uniform(np.log(0.3), np.log(3.0))))
        comp = radio_galaxy(rng, p, kind, flux)
        blobs.extend(comp)
        rows.append((kind, p, flux, comp[-1].alpha, 0.0, {}))
    # halo or mini-halo
    if cfg.halo is not None:
        if cfg.halo not in ("halo", "minihalo"):
            raise ValueError(f"halo must be 'halo', 'minihalo' or None, not {cfg.halo!r}")
        p = _offset(centre, rng.uniform(0, 360), rng.uniform(0, cfg.halo_offset_arcmin) * 60)
        comp, info = halo_blob(rng, p, cfg.halo, cfg.halo_flux_jy, cfg.halo_size_mpc, cfg.redshift)
        blobs.extend(comp)
        rows.append((cfg.halo, p, info["flux"], info["alpha"], info["size_arcsec"], info))

    images, masks, noises = [], [], []
    for band in cfg.bands:
        wcs = band_wcs(centre, band, cfg.size)
        pix_arcsec = abs(wcs.wcs.cdelt[1]) * 3600
        beam_sigma = beam_fwhm_arcmin(band) * 60 / pix_arcsec / 2.3548
        per_class = [
            _beam_convolve(_render([b for b in blobs if b.cls == c], wcs, cfg.size, band), beam_sigma)
            for c in (1, 2, 3)
        ]
        sigma = BAND_NOISE.get(band, 0.01) * cfg.noise_scale
        sky = sum(per_class) + _noise(rng, cfg.size, beam_sigma, sigma)
        t = cfg.nsigma_clip * sigma
        clipped = clip_dead_band(sky, t)
        stacked = np.stack(per_class)
        mask = np.where(stacked.max(0) >= t, stacked.argmax(0) + 1, 0).astype(np.uint8)
        header = {
            "SIMULATE": (True, "SIMULATED by RadioViz, not real data"),
            "ORIGIN": "RadioViz simulator: SIMULATED",
            "SIMSEED": cfg.seed,
            "OBJECT": name,
            "BMAJ": beam_fwhm_arcmin(band) / 60,
            "BMIN": beam_fwhm_arcmin(band) / 60,
        }
        im = BandImage(clipped.astype(np.float32), wcs, band)
        im.header.update({k: v for k, v in header.items()})
        images.append(im)
        masks.append(mask)
        noises.append(sigma)

    catalog = Table(
        {
            "ra": [r[1].ra.deg for r in rows] * u.deg,
            "dec": [r[1].dec.deg for r in rows] * u.deg,
            "type": [r[0] for r in rows],
            "alpha": [r[3] for r in rows],
            "size_arcsec": [r[4] for r in rows],
            "z": [r[5].get("z", np.nan) for r in rows],
            "size_mpc": [r[5].get("size_mpc", np.nan) for r in rows],
        }
    )
    for band in cfg.bands:
        catalog[f"flux_{band.name}"] = [r[2] * (band.centre / REFERENCE_MHZ) ** r[3] for r in rows] * u.Jy
    catalog.meta.update(
        {"field": name, "seed": cfg.seed, "simulated": True, "ra_centre": ra, "dec_centre": dec}
    )
    return SimulatedField(name, images, masks, catalog, cfg, noises)


def write_field(fld: SimulatedField, out_dir: str | Path, split: str = "SIM") -> list[Path]:
    """Write in the published layout (``<SPLIT>_DATA_<class>/``), truth under ``truth/``; gzipped."""
    out_dir = Path(out_dir)
    written = []
    data_dir = out_dir / f"{split}_DATA_{fld.label}"
    truth = out_dir / "truth"
    for im, mask in zip(fld.images, fld.masks, strict=True):
        extra = {k: im.header[k] for k in im.header}
        written.append(write_image(data_dir / f"{fld.name}_GLEAM_{im.band.name}_clipped.fits.gz", im, extra))
        mhdr = dict(extra)
        mhdr["MASKCLS"] = ",".join(MASK_CLASSES)
        written.append(
            write_image(
                truth / f"{fld.name}_GLEAM_{im.band.name}_mask.fits.gz",
                BandImage(mask.astype(np.float32), im.wcs, im.band),
                mhdr,
            )
        )
    cat = truth / f"{fld.name}_catalog.ecsv"
    fld.catalog.write(cat, overwrite=True)
    written.append(cat)
    return written


def halo_angular_size_arcsec(size_mpc: float, z: float) -> float:
    """Angular diameter (arcsec) of a halo of ``size_mpc`` at redshift ``z`` (flat ΛCDM, H0 = 70)."""
    return float(size_mpc * 1000 * COSMOLOGY.arcsec_per_kpc_proper(z).to(u.arcsec / u.kpc).value)


def render_halo(
    image: BandImage,
    position: SkyCoord,
    flux_jy_200mhz: float,
    size_mpc: float,
    z: float,
    alpha: float = -1.3,
) -> np.ndarray:
    """A halo (exponential profile, beam-convolved, Jy/beam) on ``image``'s grid, for injection."""
    band = image.band
    r_e = halo_angular_size_arcsec(size_mpc, z) / 2 / 2.6
    blob = Blob(position.ra.deg, position.dec.deg, flux_jy_200mhz, alpha, r_e, r_e, 0.0, "exp", cls=3)
    pix_arcsec = image.pixel_scale_deg * 3600
    beam_sigma = beam_fwhm_arcmin(band) * 60 / pix_arcsec / 2.3548
    ny, nx = image.shape
    if ny != nx:
        raise ValueError("render_halo needs a square image")
    return _beam_convolve(_render([blob], image.wcs, nx, band), beam_sigma)
