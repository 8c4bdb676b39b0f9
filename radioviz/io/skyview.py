"""Fetch a GLEAM field (four bands) from NASA SkyView through astroquery, for users online.

Offline, or without astroquery (the ``online`` extra), one line says so and suggests opening
local FITS files instead; nothing else depends on the network.  A cluster name from the
built-in table (Mishra et al.) resolves locally; other names go to SkyView's resolver; "RA, Dec"
in degrees is read directly.  Each band is fetched at its native GLEAM pixel scale, 300 × 300.
"""

from __future__ import annotations

import re
from pathlib import Path

from astropy import units as u
from astropy.coordinates import SkyCoord

from ..errors import InputError
from .bands import GLEAM_BANDS, GLEAM_PIXEL_DEG
from .catalogs import builtin_clusters
from .fits import BandImage, write_image

SKYVIEW_SURVEYS = {b: f"GLEAM {b.low:g}-{b.high:g} MHz" for b in GLEAM_BANDS}
OFFLINE_HINT = "open local FITS files (Upload) or a folder instead"


def resolve_target(target: str) -> tuple[str, SkyCoord | str]:
    """(a file-safe name, a SkyCoord or a name for SkyView's resolver)."""
    text = target.strip()
    m = re.fullmatch(r"\s*([-+]?\d+(?:\.\d*)?)\s*[, ]\s*([-+]?\d+(?:\.\d*)?)\s*", text)
    if m:
        ra, dec = float(m.group(1)), float(m.group(2))
        return f"ra{ra:.3f}_dec{dec:+.3f}", SkyCoord(ra * u.deg, dec * u.deg)
    clusters = builtin_clusters()
    for row in clusters:
        if str(row["name"]).replace(" ", "").lower() == text.replace(" ", "").lower():
            return str(row["name"]).replace(" ", "_"), SkyCoord(
                float(row["ra"]) * u.deg, float(row["dec"]) * u.deg
            )
    if not text:
        raise InputError(None, "give a cluster name or 'RA, Dec' in degrees")
    return re.sub(r"[^A-Za-z0-9+-]+", "_", text), text


def fetch_gleam_field(target: str, out_dir: str | Path, pixels: int = 300) -> Path:
    """Download the four GLEAM bands around ``target`` into ``out_dir``/<name>_GLEAM_<band>.fits."""
    name, position = resolve_target(target)
    try:
        from astroquery.skyview import SkyView
    except ImportError:
        raise InputError(
            None,
            "fetching from SkyView needs astroquery (pip install 'radioviz[online]') and a network; "
            f"{OFFLINE_HINT}",
        ) from None
    out = Path(out_dir) / name
    out.mkdir(parents=True, exist_ok=True)
    for band, survey in SKYVIEW_SURVEYS.items():
        width = pixels * GLEAM_PIXEL_DEG[band] * u.deg
        try:
            hdus = SkyView.get_images(
                position=position, survey=[survey], pixels=pixels, width=width, height=width
            )
        except Exception as exc:  # noqa: BLE001 - any network/service failure is one line
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                None, f"cannot reach SkyView for {target!r} (offline?): {first}; {OFFLINE_HINT}"
            ) from None
        if not hdus:
            raise InputError(
                None, f"SkyView returned no {survey} image for {target!r} (outside GLEAM's sky?)"
            )
        hdu = hdus[0][0]
        from astropy.wcs import WCS

        write_image(
            out / f"{name}_GLEAM_{band.name}.fits",
            BandImage(hdu.data.astype("float32"), WCS(hdu.header).celestial, band),
        )
    return out
