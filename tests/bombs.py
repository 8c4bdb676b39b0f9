"""Decompression bombs for the upload tests and ``benchmarks/bench_upload_memory.py``, built in
a second or less without holding their decoded bytes: gzip members and deflate blocks of one
zero chunk, compressed once and repeated.

* :func:`fits_gz` — a gzip FITS of image HDUs (each ``shape``, zeros below four noisy rows,
  a FREQ axis over the four GLEAM bands for a 3D cube): one cube at the upload pixel budget
  (4096×4096×4) is 1.1 MB and decodes to 268 MB; 30 of them are 32 MB of gzip for 8 GB.
* :func:`npz` — a samples ``.npz`` (images, physical, meta) whose two arrays are zeros of
  ``n`` images of 4×128×128 float32: 8192 images are 2 MB of zip for 2 GiB decoded.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np

ZERO_CHUNK = 1 << 24  # 16 MiB
_ZEROS = bytes(ZERO_CHUNK)
_cache: dict[str, bytes] = {}


def _card(key: str, value) -> bytes:
    if isinstance(value, bool):
        text = "T" if value else "F"
        return f"{key:<8}= {text:>20}".ljust(80).encode()
    if isinstance(value, str):
        return f"{key:<8}= '{value:<8}'".ljust(80).encode()
    return f"{key:<8}= {value!s:>20}".ljust(80).encode()


def fits_header(shape: tuple[int, ...], primary: bool = True, bitpix: int = -32) -> bytes:
    """A FITS header (whole 2880-byte blocks) for an image of numpy ``shape`` with a celestial WCS
    (and a FREQ axis over the GLEAM bands when 3D)."""
    axes = list(reversed(shape))  # FITS order
    cards = [_card("SIMPLE", True) if primary else _card("XTENSION", "IMAGE")]
    cards += [_card("BITPIX", bitpix), _card("NAXIS", len(axes))]
    cards += [_card(f"NAXIS{i}", n) for i, n in enumerate(axes, start=1)]
    if not primary:
        cards += [_card("PCOUNT", 0), _card("GCOUNT", 1)]
    nx, ny = axes[0], axes[1]
    cards += [
        _card("CTYPE1", "RA---SIN"),
        _card("CTYPE2", "DEC--SIN"),
        _card("CRVAL1", 10.0),
        _card("CRVAL2", -30.0),
        _card("CRPIX1", (nx + 1) / 2),
        _card("CRPIX2", (ny + 1) / 2),
        _card("CDELT1", -0.01),
        _card("CDELT2", 0.01),
        _card("BUNIT", "Jy/beam"),
    ]
    if len(axes) == 3:  # 88, 120, 152, 184 MHz: one plane in each GLEAM band
        cards += [_card("CTYPE3", "FREQ"), _card("CRVAL3", 88e6), _card("CDELT3", 32e6), _card("CRPIX3", 1.0)]
    head = b"".join(cards) + b"END".ljust(80)
    return head.ljust(-(-len(head) // 2880) * 2880, b" ")


def _gzip_member(data: bytes, level: int = 9) -> bytes:
    import gzip

    return gzip.compress(data, compresslevel=level, mtime=0)


def _zeros_member(n: int = ZERO_CHUNK) -> bytes:
    key = f"gz{n}"
    if key not in _cache:
        _cache[key] = _gzip_member(bytes(n))
    return _cache[key]


def _plane_bytes(ny: int, nx: int, seed: int, bitpix: int) -> list[bytes]:
    """gzip members of one big-endian plane: four noisy rows, zeros after."""
    rows = min(4, ny)
    rng = np.random.default_rng(seed)
    dtype = {-32: ">f4", -64: ">f8", 16: ">i2", 32: ">i4", 8: "u1"}[bitpix]
    noisy = (rng.normal(0.0, 0.05, (rows, nx)) * (1 if bitpix < 0 else 1000)).astype(dtype).tobytes()
    out = [_gzip_member(noisy, 6)]
    left = (ny - rows) * nx * (abs(bitpix) // 8)
    out += [_zeros_member()] * (left // ZERO_CHUNK)
    if left % ZERO_CHUNK:
        out.append(_zeros_member(left % ZERO_CHUNK))
    return out


def fits_gz(path: Path, shape: tuple[int, ...], hdus: int = 1, bitpix: int = -32) -> Path:
    """A gzip FITS file of ``hdus`` image HDUs of numpy ``shape`` (2D or 3D), written as
    concatenated gzip members (which every gzip reader takes as one stream)."""
    path = Path(path)
    nbytes = int(np.prod(shape)) * (abs(bitpix) // 8)
    with open(path, "wb") as fh:
        for k in range(hdus):
            fh.write(_gzip_member(fits_header(shape, primary=k == 0, bitpix=bitpix)))
            planes = shape[0] if len(shape) == 3 else 1
            for p in range(planes):
                for m in _plane_bytes(shape[-2], shape[-1], 10 * k + p, bitpix):
                    fh.write(m)
            pad = -nbytes % 2880
            if pad:
                fh.write(_zeros_member(pad))
    return path


# -- npz ----------------------------------------------------------------------------------------


def _deflate_zeros(n: int) -> tuple[bytes, int]:
    """(raw deflate stream of ``n`` zero bytes, its CRC-32), from one compressed 16 MiB block
    repeated (a full flush makes each block's output independent of what came before)."""
    key = "deflate"
    if key not in _cache:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        _cache[key] = c.compress(_ZEROS) + c.flush(zlib.Z_FULL_FLUSH)
        _cache["crc"] = zlib.crc32(_ZEROS)
    whole, rest = divmod(n, ZERO_CHUNK)
    crc, block, k = 0, _cache["crc"], whole  # CRC of whole × 16 MiB of zeros, by doubling
    size = ZERO_CHUNK
    while k:
        if k & 1:
            crc = _crc_combine(crc, block, size)
        block, size, k = _crc_combine(block, block, size), 2 * size, k >> 1
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = c.compress(bytes(rest)) + c.flush(zlib.Z_FINISH)
    crc = zlib.crc32(bytes(rest), crc)
    return _cache[key] * whole + tail, crc


def _zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip archive of (name, compressed data, crc, uncompressed size, method) members."""
    out, central = io.BytesIO(), []
    for name, data, crc, size, method in members:
        off = out.tell()
        nb = name.encode()
        out.write(
            struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size, len(nb), 0)
        )
        out.write(nb + data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(nb),
                0,
                0,
                0,
                0,
                0,
                off,
            )
            + nb
        )
    start = out.tell()
    for c in central:
        out.write(c)
    size = out.tell() - start
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), size, start, 0))
    return out.getvalue()


def _npy_head(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def npz(path: Path, n: int, side: int = 128) -> Path:
    """A samples ``.npz`` of ``n`` zero images of 4×side×side float32 (images and physical)."""
    shape = (n, 4, side, side)
    nbytes = int(np.prod(shape)) * 4
    members = []
    for name in ("images.npy", "physical.npy"):
        head = _npy_head(shape)
        zeros, crc0 = _deflate_zeros(nbytes)
        # the header is stored in front of the zeros: a deflate stream of it, then the zeros' blocks
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        lead = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
        crc = zlib.crc32(head)
        crc = _crc_combine(crc, crc0, nbytes)
        members.append((name, lead + zeros, crc, len(head) + nbytes, 8))
    meta = json.dumps({"checkpoint": "edm_gleam.safetensors", "label": "non-halo", "kind": "edm"})
    buf = io.BytesIO()
    np.save(buf, np.array(meta))
    raw = buf.getvalue()
    members.append(("meta.npy", raw, zlib.crc32(raw), len(raw), 0))
    Path(path).write_bytes(_zip(members))
    return Path(path)


def _crc_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of A+B from crc(A), crc(B) and len(B) (zlib's crc32_combine, in Python)."""

    def times(mat, vec):
        s, i = 0, 0
        while vec:
            if vec & 1:
                s ^= mat[i]
            vec >>= 1
            i += 1
        return s

    def square(mat):
        return [times(mat, mat[n]) for n in range(32)]

    if len2 == 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = square(odd)
    odd = square(even)
    while True:
        even = square(odd)
        if len2 & 1:
            crc1 = times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = square(even)
        if len2 & 1:
            crc1 = times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2
