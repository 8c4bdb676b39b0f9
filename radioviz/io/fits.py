"""Reading radio images from FITS, strictly.

One entry point, :func:`read_planes`, turns any 2D image or 3D/4D cube into 2D
:class:`BandImage` planes with a celestial WCS, or raises one :class:`~radioviz.errors.InputError`
that names the file and the problem.  Degenerate FREQ/STOKES axes are dropped; one
non-degenerate FREQ axis makes a multi-band cube; a non-degenerate STOKES axis keeps Stokes I.
"""

from __future__ import annotations

import os
import stat
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyWarning
from astropy.wcs import WCS, FITSFixedWarning

from ..errors import (
    AxisError,
    CorruptFileError,
    EmptyImageError,
    NotFITSError,
    TooLargeError,
    TruncatedFITSError,
    UnreadableError,
    WCSError,
    os_problem,
)
from ..validate import check_wcs, fits_text, frame_of, to_icrs, wcs_problem
from .bands import Band, detect_band, gleam_band_for

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")

#: Pixels one image HDU may declare before anything is read: an 8000×8000 four-band mosaic.
DEFAULT_MAX_PIXELS = 8000 * 8000 * 4
BLOCK = 2880
_MAX_HEADER_BLOCKS = 1000  # 2.9 MB of header cards: far beyond any real header
_GZIP_MAGIC = b"\x1f\x8b"


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


def pixel_budget() -> int:
    """The pixel budget of one image: ``RADIOVIZ_MAX_PIXELS``, else :data:`DEFAULT_MAX_PIXELS`."""
    try:
        return int(os.environ.get("RADIOVIZ_MAX_PIXELS", DEFAULT_MAX_PIXELS))
    except ValueError:
        return DEFAULT_MAX_PIXELS


def read_planes(path: str | Path, max_pixels: int | None = None) -> list[BandImage]:
    """All 2D planes of a FITS image or cube (one per frequency for a cube).

    Before any data is read the file is checked (:func:`check_fits`): a regular readable file, a
    whole gzip stream with a good CRC, data as long as the headers declare, and no image over
    ``max_pixels`` (default :func:`pixel_budget`).  Infinite pixels are blanks, like NaN.
    """
    path = Path(path)
    check_fits(path, max_pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        warnings.simplefilter("error", AstropyWarning)  # astropy warns, not raises, on truncation
        try:
            with fits.open(path, memmap=False, lazy_load_hdus=False) as hdul:
                hdu = _first_image_hdu(path, hdul)
                header = hdu.header.copy()
                data = np.asarray(hdu.data)
        except (OSError, AstropyWarning, ValueError, TypeError, EOFError, KeyError, IndexError) as exc:
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


def require_regular_file(path: str | Path) -> os.stat_result:
    """The stat of ``path`` if it is a regular file; else one :class:`~radioviz.errors.InputError`
    saying what it is (missing, a broken link, a link loop, a directory, a FIFO, no permission).
    Checked before opening: opening a FIFO would wait for a writer forever."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        problem = "broken symbolic link" if path.is_symlink() else "file does not exist"
        raise NotFITSError(path, problem) from None
    except OSError as exc:
        raise UnreadableError(path, f"cannot be read ({os_problem(exc)})") from None
    if stat.S_ISDIR(st.st_mode):
        raise UnreadableError(path, "is a directory, not a FITS file")
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableError(path, "is not a regular file (a FIFO, socket or device)")
    return st


def check_fits(path: str | Path, max_pixels: int | None = None) -> int:
    """Check a FITS file without reading its data into memory; return the largest image's pixels.

    Raises one :class:`~radioviz.errors.InputError` for: a path that is not a readable regular
    file (directory, FIFO, link loop, permissions), an empty or non-FITS file, a header that
    declares more than ``max_pixels`` pixels in one image, data shorter than its headers declare,
    and (for gzip) a stream that does not decompress to its end with a matching CRC.
    """
    path = Path(path)
    budget = pixel_budget() if max_pixels is None else max_pixels
    st = require_regular_file(path)
    try:
        with open(path, "rb") as raw:
            magic = raw.read(2)
            raw.seek(0)
            if magic == _GZIP_MAGIC:
                import gzip
                import zlib

                try:
                    with gzip.GzipFile(fileobj=raw, mode="rb") as fh:
                        return _walk_hdus(path, fh, budget, None, gz=True)
                except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
                    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    if isinstance(exc, EOFError):
                        raise TruncatedFITSError(path, f"gzip stream is truncated ({msg})") from None
                    raise CorruptFileError(path, f"corrupt gzip stream ({msg})") from None
            return _walk_hdus(path, raw, budget, st.st_size, gz=False)
    except OSError as exc:
        raise UnreadableError(path, f"cannot be read ({os_problem(exc)})") from None


def read_exact(fh, n: int) -> bytes:
    """Up to ``n`` bytes of ``fh``: fewer only where the stream ends (gzip reads come in pieces)."""
    out = bytearray()
    while len(out) < n:
        chunk = fh.read(n - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def _skip(fh, n: int, gz: bool) -> int:
    """Skip ``n`` bytes; returns how many were there.  A gzip stream is decompressed through
    (in 1 MiB pieces, nothing kept), so its CRC is checked when it reaches the end."""
    if not gz:
        fh.seek(n, 1)
        return n
    done = 0
    while done < n:
        chunk = fh.read(min(1 << 20, n - done))
        if not chunk:
            break
        done += len(chunk)
    return done


def _int_card(path: Path, cards: dict[str, str], key: str, default: int | None = None) -> int:
    if key not in cards:
        if default is None:
            raise NotFITSError(path, f"header lacks the {key} keyword")
        return default
    text = cards[key]
    try:
        return int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            f = float("nan")
        if f.is_integer():
            return int(f)
        raise NotFITSError(path, f"header keyword {key} is not an integer ({text[:20]!r})") from None


def _read_header(path: Path, fh, first: bool) -> dict[str, str] | None:
    """Header cards (keyword -> value text) of the next HDU; None at a clean end of file."""
    cards: dict[str, str] = {}
    for k in range(_MAX_HEADER_BLOCKS):
        block = read_exact(fh, BLOCK)
        if k == 0 and not block:
            if first:
                raise NotFITSError(path, "file is empty")
            return None
        if k == 0 and first and not block.startswith(b"SIMPLE  ="):
            raise NotFITSError(path, "not a FITS file (no SIMPLE card at the start)")
        if k == 0 and not first and not block.startswith(b"XTENSION="):
            return None  # trailing bytes after the last HDU: not ours to judge
        if len(block) < BLOCK:
            raise TruncatedFITSError(path, "file is truncated (header ends before its END card)")
        for i in range(0, BLOCK, 80):
            card = block[i : i + 80].decode("ascii", "replace")
            key = card[:8].rstrip()
            if key == "END":
                return cards
            if card[8:10] == "= " and key not in cards:
                cards[key] = card[10:].split("/")[0].strip()
    raise NotFITSError(path, f"header has no END card in its first {_MAX_HEADER_BLOCKS} blocks")


def _walk_hdus(path: Path, fh, budget: int, size: int | None, gz: bool) -> int:
    """Walk every HDU's header and skip its data; see :func:`check_fits`."""
    largest, first = 0, True
    while True:
        cards = _read_header(path, fh, first)
        if cards is None:
            break
        bitpix = _int_card(path, cards, "BITPIX")
        if bitpix not in (8, 16, 32, 64, -32, -64):
            raise NotFITSError(
                path, f"header keyword BITPIX is {bitpix}; FITS allows 8, 16, 32, 64, -32, -64"
            )
        naxis = _int_card(path, cards, "NAXIS")
        if not 0 <= naxis <= 999:
            raise NotFITSError(path, f"header keyword NAXIS is {naxis}; FITS allows 0 to 999")
        axes = [_int_card(path, cards, f"NAXIS{i}") for i in range(1, naxis + 1)]
        if any(n < 0 for n in axes):
            raise NotFITSError(path, f"header declares a negative axis length {axes}")
        groups = cards.get("GROUPS", "").upper() == "T" and axes and axes[0] == 0
        counted = axes[1:] if groups else axes
        pixels = int(np.prod(counted, dtype=object)) if counted else 0
        pcount, gcount = _int_card(path, cards, "PCOUNT", 0), _int_card(path, cards, "GCOUNT", 1)
        elements = gcount * (pcount + pixels) if naxis else 0
        image = first or cards.get("XTENSION", "").strip("' ").upper() == "IMAGE"
        if (image and pixels > budget) or elements > 2 * budget:
            shape = "×".join(str(n) for n in counted)
            raise TooLargeError(
                path,
                f"header declares {shape} = {pixels:.3g} pixels, over the budget of {budget:.3g} "
                "(RADIOVIZ_MAX_PIXELS)",
            )
        if image:
            largest = max(largest, pixels)
        nbytes = abs(bitpix) // 8 * elements
        data_start = None if gz else fh.tell()
        have = _skip(fh, -(-nbytes // BLOCK) * BLOCK, gz)
        if not gz:
            have = max(0, min(nbytes, size - data_start))
        if have < nbytes:
            raise TruncatedFITSError(
                path, f"file is truncated (header declares {nbytes} bytes of data, {have} present)"
            )
        first = False
    if gz:
        # read what follows the last HDU too: only the end of the stream checks its CRC
        limit = 64 * BLOCK * 1024
        if _skip(fh, limit, gz=True) >= limit and fh.read(1):
            raise NotFITSError(path, "gzip stream holds far more data after its last HDU than a FITS file")
    return largest


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
        raise WCSError(path, wcs_problem(exc)) from None
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
    first, second = sorted((wcs.wcs.lng, wcs.wcs.lat))  # numpy axis k = FITS axis ndim-1-k
    check_wcs(path, cel_wcs, (data.shape[data.ndim - 1 - second], data.shape[data.ndim - 1 - first]))
    frame = frame_of(cel_wcs)
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
            infinite = np.isinf(plane)
            what = "all Inf" if infinite.all() else "all NaN" if not infinite.any() else "all NaN or Inf"
            raise EmptyImageError(path, f"image is {what}{where}")
        if not finite.all():
            plane[~finite] = np.nan  # ±Inf is a blank, like NaN
        if not np.any(plane[finite]):
            raise EmptyImageError(path, f"image is all zero{where}")
        plane_wcs = cel_wcs
        if frame != "equatorial":  # galactic / ecliptic: resampled onto an ICRS grid
            plane, plane_wcs = to_icrs(plane, plane_wcs)
            header = header.copy()
            header["HISTORY"] = f"RadioViz: {frame} image resampled onto an ICRS TAN grid (bilinear)"
        out.append(BandImage(plane, plane_wcs, band, path, header))
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
        header[key] = fits_text(value) if isinstance(value, str) else value  # FITS cards are ASCII
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(np.asarray(image.data, dtype=np.float32), header).writeto(path, overwrite=overwrite)
    return path
