"""Reading radio images from FITS, strictly.

One entry point, :func:`read_planes`, turns any 2D image or 3D/4D cube into 2D
:class:`BandImage` planes with a celestial WCS, or raises one :class:`~radioviz.errors.InputError`
that names the file and the problem.  Degenerate FREQ/STOKES axes are dropped; one
non-degenerate FREQ axis makes a multi-band cube; a non-degenerate STOKES axis keeps Stokes I.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyWarning
from astropy.wcs import WCS, FITSFixedWarning

from ..errors import AxisError, EmptyImageError, NotFITSError, TruncatedFITSError, WCSError
from .bands import Band, detect_band, gleam_band_for

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")


@dataclass
class BandImage:
    """One 2D radio image: pixel values (Jy/beam, NaN for blanks), its WCS and where it came from."""

    data: np.ndarray
    wcs: WCS
    band: Band | None
    path: Path | None = None
    header: fits.Header = field(default_factory=fits.Header)

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.shape  # type: ignore[return-value]

    @property
    def pixel_scale_deg(self) -> float:
        """Mean absolute pixel scale in degrees."""
        from astropy.wcs.utils import proj_plane_pixel_scales

        return float(np.mean(np.abs(proj_plane_pixel_scales(self.wcs))))

    def centre(self):
        """Sky position of the image centre (SkyCoord)."""
        ny, nx = self.shape
        return self.wcs.pixel_to_world((nx - 1) / 2, (ny - 1) / 2)

    def with_data(self, data: np.ndarray, wcs: WCS | None = None) -> BandImage:
        return replace(self, data=data, wcs=self.wcs if wcs is None else wcs)


def is_fits_name(path: str | Path) -> bool:
    return str(path).lower().endswith(FITS_SUFFIXES)


def read_planes(path: str | Path) -> list[BandImage]:
    """All 2D planes of a FITS image or cube (one per frequency for a cube)."""
    path = Path(path)
    if not path.exists():
        raise NotFITSError(path, "file does not exist")
    if path.is_dir():
        raise NotFITSError(path, "is a directory, not a FITS file")
    _check_signature(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        warnings.simplefilter("error", AstropyWarning)  # astropy warns, not raises, on truncation
        try:
            with fits.open(path, memmap=False, lazy_load_hdus=False) as hdul:
                hdu = _first_image_hdu(path, hdul)
                header = hdu.header.copy()
                data = np.asarray(hdu.data)
        except (OSError, AstropyWarning, ValueError, TypeError, EOFError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "truncat" in msg.lower() or isinstance(exc, EOFError) or "buffer" in msg.lower():
                raise TruncatedFITSError(path, f"file is truncated ({msg})") from None
            raise NotFITSError(path, f"cannot be read as FITS ({msg})") from None
    return _planes_from_array(path, data, header)


def read_image(path: str | Path) -> BandImage:
    """A single 2D image; a cube with several planes is an error here."""
    planes = read_planes(path)
    if len(planes) != 1:
        raise AxisError(path, f"is a cube with {len(planes)} planes where one image was expected")
    return planes[0]


def _check_signature(path: Path) -> None:
    opener = open
    if path.suffix.lower() == ".gz":
        import gzip

        opener = gzip.open  # type: ignore[assignment]
    try:
        with opener(path, "rb") as fh:
            head = fh.read(80)
    except OSError as exc:
        raise NotFITSError(path, f"cannot be read ({exc})") from None
    if len(head) == 0:
        raise NotFITSError(path, "file is empty")
    if not head.startswith(b"SIMPLE  ="):
        raise NotFITSError(path, "not a FITS file (no SIMPLE card at the start)")


def _first_image_hdu(path: Path, hdul: fits.HDUList):
    for hdu in hdul:
        if (
            isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU))
            and hdu.header.get("NAXIS", 0) >= 2
        ):
            if hdu.data is None:
                break
            return hdu
    raise EmptyImageError(path, "no image HDU with data (empty primary HDU and no image extension)")


def _planes_from_array(path: Path, data: np.ndarray, header: fits.Header) -> list[BandImage]:
    if data.ndim < 2:
        raise EmptyImageError(path, f"image data has {data.ndim} dimension(s); need at least 2")
    data = data.astype(np.float32, copy=False)  # also makes big-endian data native
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = WCS(header, naxis=data.ndim)
    except Exception as exc:  # astropy raises many types for broken WCS keywords
        raise WCSError(path, f"invalid WCS ({str(exc).splitlines()[0]})") from None
    if not wcs.has_celestial:
        raise WCSError(path, "no celestial (RA/Dec) axes in the WCS")
    celestial_axes = {
        i
        for i, t in enumerate(wcs.wcs.ctype)
        if t[:4] in ("RA--", "DEC-", "GLON", "GLAT", "ELON", "ELAT")
        or wcs.world_axis_physical_types[i] in ("pos.eq.ra", "pos.eq.dec")
    }
    # numpy axis k corresponds to FITS axis ndim-1-k
    extra = [i for i in range(data.ndim) if i not in celestial_axes]
    nondegenerate = [i for i in extra if data.shape[data.ndim - 1 - i] > 1]
    if len(nondegenerate) > 1:
        kinds = ", ".join(wcs.wcs.ctype[i] or f"axis {i + 1}" for i in nondegenerate)
        raise AxisError(path, f"more than one non-degenerate extra axis ({kinds}); cannot reduce to images")
    cel_wcs = wcs.celestial
    planes: list[tuple[np.ndarray, Band | None]] = []
    index = [0] * data.ndim  # numpy index
    for i in range(data.ndim):
        if i in celestial_axes:
            index[data.ndim - 1 - i] = slice(None)
    if nondegenerate:
        ax = nondegenerate[0]
        ctype = wcs.wcs.ctype[ax].upper()
        n = data.shape[data.ndim - 1 - ax]
        if ctype.startswith("STOKES"):
            stokes = wcs.sub([ax + 1]).pixel_to_world_values(np.arange(n))
            hit = np.flatnonzero(np.isclose(np.ravel(stokes), 1.0))
            if hit.size == 0:
                raise AxisError(path, "STOKES axis has no Stokes I plane")
            index[data.ndim - 1 - ax] = int(hit[0])
            planes.append((data[tuple(index)], _band_of(path, header, wcs, None)))
        elif ctype.startswith("FREQ"):
            freqs = wcs.sub([ax + 1]).pixel_to_world_values(np.arange(n))
            for k in range(n):
                index[data.ndim - 1 - ax] = k
                f_mhz = float(np.ravel(freqs)[k]) / 1e6
                planes.append(
                    (data[tuple(index)], gleam_band_for(f_mhz) or Band(round(f_mhz, 3), round(f_mhz, 3)))
                )
        else:
            raise AxisError(
                path,
                f"non-degenerate extra axis {ctype or '(unnamed)'} of length {n}; expected FREQ or STOKES",
            )
    else:
        planes.append((data[tuple(index)], _band_of(path, header, wcs, None)))

    out = []
    for k, (plane, band) in enumerate(planes):
        plane = np.ascontiguousarray(plane, dtype=np.float32)
        where = f" (plane {k + 1} of {len(planes)})" if len(planes) > 1 else ""
        finite = np.isfinite(plane)
        if not finite.any():
            raise EmptyImageError(path, f"image is all NaN{where}")
        if not np.any(plane[finite]):
            raise EmptyImageError(path, f"image is all zero{where}")
        out.append(BandImage(plane, cel_wcs, band, path, header))
    if len(out) > 1 and any(p.band is None for p in out):
        raise AxisError(path, "cube planes have no frequencies")
    return out


def _band_of(path: Path, header: fits.Header, wcs: WCS, default: Band | None) -> Band | None:
    return detect_band(header, path.name) or default


def write_image(
    path: str | Path, image: BandImage, extra_header: dict | None = None, overwrite: bool = True
) -> Path:
    """Write a 2D image with its WCS (and band) as a FITS file (``.gz`` compresses)."""
    path = Path(path)
    header = image.wcs.to_header()
    header["BUNIT"] = "Jy/beam"
    if image.band is not None:
        header["RVBANDLO"] = (image.band.low, "[MHz] band lower edge (RadioViz)")
        header["RVBANDHI"] = (image.band.high, "[MHz] band upper edge (RadioViz)")
    for key, value in (extra_header or {}).items():
        header[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(np.asarray(image.data, dtype=np.float32), header).writeto(path, overwrite=overwrite)
    return path
