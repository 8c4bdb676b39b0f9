"""A simulated 4-band GLEAM-like mosaic on one grid, for trying and benchmarking surveys.

Every band is on the 170–231 MHz pixel grid (28″): beam-convolved noise at each band's GLEAM
level, a power-law population of point sources with spectral indices, and a few Gaussian halos
(steep spectrum) listed in ``<name>_halos.ecsv``, then clipped at 3σ as the published images
are.  Much simpler than :mod:`radioviz.simulate` (no radio-galaxy morphologies), so that an
8000×8000 mosaic takes seconds per band rather than hours.  Headers say SIMULATED.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
from scipy import ndimage

from ..data.noise import clip_dead_band
from ..io.bands import GLEAM_BANDS, GLEAM_PIXEL_DEG, REFERENCE_MHZ, beam_fwhm_arcmin
from ..io.fits import BandImage, write_image
from ..simulate.sky import BAND_NOISE, band_wcs


def simulate_mosaic(
    out_dir: str | Path,
    size: int = 8000,
    seed: int = 0,
    n_halos: int | None = None,
    centre: tuple[float, float] = (150.0, -30.0),
    name: str = "mosaic",
    point_density_per_deg2: float = 30.0,
) -> list[Path]:
    """Write ``<name>_GLEAM_<band>.fits`` (4 bands, size×size) and ``<name>_halos.ecsv``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ref = GLEAM_BANDS[-1]
    pix_deg = GLEAM_PIXEL_DEG[ref]
    wcs = band_wcs(SkyCoord(centre[0] * u.deg, centre[1] * u.deg, frame="fk5"), ref, size)
    area = (size * pix_deg) ** 2
    n_pts = rng.poisson(point_density_per_deg2 * area)
    g = -1.0  # dN/dS ∝ S^-2 above 20 mJy, up to 10 Jy
    flux = (0.02**g + rng.uniform(size=n_pts) * (10.0**g - 0.02**g)) ** (1 / g)
    px, py = rng.integers(0, size, (2, n_pts))
    alpha = rng.normal(-0.7, 0.2, n_pts)
    n_halos = n_halos if n_halos is not None else max(1, int(area / 50))
    margin = 64
    hx, hy = rng.uniform(margin, size - margin, (2, n_halos))
    h_flux = np.exp(rng.uniform(np.log(0.3), np.log(2.0), n_halos))
    h_fwhm = rng.uniform(4.0, 9.0, n_halos)  # arcmin
    h_alpha = rng.normal(-1.3, 0.1, n_halos)
    paths = []
    for band in GLEAM_BANDS:
        nu = band.centre / REFERENCE_MHZ
        beam_px = beam_fwhm_arcmin(band) / 60 / pix_deg / 2.3548
        img = np.zeros((size, size), np.float32)
        np.add.at(img, (py, px), (flux * nu**alpha).astype(np.float32))
        img = ndimage.gaussian_filter(img, beam_px, mode="constant") * np.float32(2 * np.pi * beam_px**2)
        noise = ndimage.gaussian_filter(rng.standard_normal((size, size), np.float32), beam_px, mode="wrap")
        img += noise * np.float32(BAND_NOISE[band] / noise.std())
        del noise
        for x, y, s, fwhm, a in zip(hx, hy, h_flux, h_fwhm, h_alpha, strict=False):
            _add_halo(img, x, y, s * nu**a, fwhm, beam_fwhm_arcmin(band), pix_deg)
        img = clip_dead_band(img, 3 * BAND_NOISE[band])
        im = BandImage(img, wcs, band)
        paths.append(
            write_image(
                out_dir / f"{name}_GLEAM_{band.name}.fits",
                im,
                {"SIMULATE": (True, "SIMULATED by RadioViz, not real data"), "SIMSEED": seed},
            )
        )
        del img, im
    sky = wcs.pixel_to_world(hx, hy)
    Table(
        {
            "name": [f"{name}_halo_{k}" for k in range(n_halos)],
            "ra": sky.ra.deg * u.deg,
            "dec": sky.dec.deg * u.deg,
            "flux_200MHz": h_flux * u.Jy,
            "fwhm_arcmin": h_fwhm,
            "x": hx,
            "y": hy,
        },
        meta={"simulated": True, "mosaic": name, "seed": seed},
    ).write(out_dir / f"{name}_halos.ecsv", overwrite=True)
    return paths


def _add_halo(img, x, y, flux, fwhm_arcmin, beam_arcmin, pix_deg) -> None:
    """A Gaussian halo of total ``flux`` seen through the beam (Jy/beam), added in a stamp."""
    tot = np.hypot(fwhm_arcmin, beam_arcmin)
    peak = flux * (beam_arcmin / tot) ** 2
    s = tot / 60 / pix_deg / 2.3548
    r = int(4 * s) + 1
    x0, x1 = max(0, int(x) - r), min(img.shape[1], int(x) + r + 1)
    y0, y1 = max(0, int(y) - r), min(img.shape[0], int(y) + r + 1)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    img[y0:y1, x0:x1] += (peak * np.exp(-0.5 * ((xx - x) ** 2 + (yy - y) ** 2) / s**2)).astype(np.float32)
