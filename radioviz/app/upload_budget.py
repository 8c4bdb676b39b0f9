"""How many bytes an upload decodes to, found from its headers before anything is decoded.

The upload byte limit (``RADIOVIZ_MAX_UPLOAD_BYTES``) bounds what a browser sends; a few kB of
gzip or zip can still decode to gigabytes.  :func:`measure` walks every file of one upload and
adds up what it will decode to, as the app holds it (float32 pixels at least: an 8- or 16-bit
image costs 4 bytes a pixel once read), and raises :class:`~radioviz.errors.TooLargeError` the
moment the total passes the budget — before that part is decoded:

* FITS (plain or gzip, bzip2, xz): every HDU's header, NAXISn × BITPIX (tile-compressed images by
  ZNAXISn × ZBITPIX, tables by their bytes); the data of an HDU within the budget is skipped (a
  compressed stream is read through, through a reader that stops at the budget), so the next
  header is checked before the next data is decoded;
* ``.npz`` (zip): the member count from the archive's end record, then each ``.npy`` member's
  array header (shape and dtype) and every member's declared uncompressed size;
* ``.npy``: its array header;
* any other compressed file: read through, stopped one byte past the budget;
* anything else (text tables): its size.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, TooLargeError
from ..io.fits import read_exact

DEFAULT_MAX_UPLOAD_PIXELS = 4096 * 4096 * 4


def max_upload_pixels() -> int:
    """What one upload may decode to, in float32 pixels (``RADIOVIZ_MAX_UPLOAD_PIXELS``)."""
    return int(os.environ.get("RADIOVIZ_MAX_UPLOAD_PIXELS", DEFAULT_MAX_UPLOAD_PIXELS))


#: Bytes the app holds a pixel in once read (float32), whatever the file stores.
BYTES_PER_PIXEL = 4
#: HDUs one FITS upload may hold (astropy parses every header of a file it opens).
MAX_HDUS = 64
#: Header blocks (2880 bytes) one FITS upload may hold in all: astropy keeps every card.
MAX_HEADER_BLOCKS = 1000
#: Members an ``.npz`` may hold (a samples file has three); checked before the directory is parsed.
MAX_ZIP_MEMBERS = 16
BLOCK = 2880
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}
ENV = "RADIOVIZ_MAX_UPLOAD_PIXELS"


def amount(n: int) -> str:
    """Bytes in decimal units with three significant digits (the drop box's units)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


@dataclass
class Tally:
    """The running total of one upload (all its files), against ``pixels`` float32 pixels."""

    pixels: int
    env: str = ENV
    nbytes: int = 0
    files: int = 0
    counted: int = 0  # pixels (or array values) counted so far
    parts: list[str] = field(default_factory=list)  # what the current file declares

    @property
    def limit(self) -> int:
        return self.pixels * BYTES_PER_PIXEL

    def budget_text(self) -> str:
        return f"the upload budget of {self.pixels:,} pixels ({amount(self.limit)} decoded; {self.env})"

    def add(self, path: Path, nbytes: int, values: int, part: str, noun: str = "pixels") -> None:
        """Count ``nbytes`` decoded (``values`` pixels, array values or bytes of ``part``);
        refuse past the budget, naming what the file declares."""
        self.nbytes += nbytes
        self.counted += values
        self.parts.append(part)
        if self.nbytes > self.limit:
            raise TooLargeError(path, self._over(noun))

    def _over(self, noun: str) -> str:
        parts = self.parts
        shown = " + ".join(parts) if len(parts) <= 4 else f"{parts[0]} + … ({len(parts)} parts so far)"
        others = " with the upload's other files" if self.files else ""
        if noun == "bytes":
            said = f"holds {shown} of data{others}"
        else:
            who = (
                ("headers declare" if len(parts) > 1 else "header declares")
                if noun == "pixels"
                else ("arrays declare" if len(parts) > 1 else "array declares")
            )
            said = f"{who} {shown} = {self.counted:,} {noun}{others}"
        return f"{said}, {amount(self.nbytes)} decoded ({self.nbytes:,} bytes), over {self.budget_text()}"


class LimitedReader:
    """A file's ``read`` that raises once more than ``limit`` bytes came through (a compressed
    stream decoded no further than its budget allows)."""

    def __init__(self, fh, limit: int, over: Callable[[], None]):
        self.fh, self.limit, self.over, self.done = fh, limit, over, 0

    def read(self, n: int = -1) -> bytes:
        left = self.limit - self.done + 1  # one byte past the limit tells "more"
        data = self.fh.read(left if n is None or n < 0 else min(n, left))
        self.done += len(data)
        if self.done > self.limit:
            self.over()
        return data


def measure(paths: list[Path], pixels: int, env: str = ENV) -> Tally:
    """What the files of one upload decode to in all; :class:`TooLargeError` (naming the file
    that crosses it) past ``pixels`` float32 pixels."""
    tally = Tally(pixels, env)
    for path in paths:
        tally.parts = []
        _measure_file(Path(path), tally)
        tally.files += 1
    return tally


def _measure_file(path: Path, tally: Tally) -> None:
    with open(path, "rb") as raw:
        magic = raw.read(8)
        raw.seek(0)
        kind = next((k for m, k in _MAGIC.items() if magic.startswith(m)), None)
        if kind is not None:
            _compressed(path, raw, kind, tally)
        elif magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            _npz(path, tally)
        elif magic.startswith(b"\x93NUMPY"):
            _npy(path, raw, None, tally)
        elif magic.startswith(b"SIMPLE  "):
            _fits(path, raw, tally, stream=False)
        else:
            size = path.stat().st_size
            tally.add(path, size, 0, amount(size), "bytes")


def _compressed(path: Path, raw, kind: str, tally: Tally) -> None:
    import bz2
    import gzip
    import lzma
    import zlib

    opener = {"gzip": gzip.GzipFile, "bzip2": bz2.BZ2File, "xz": lzma.LZMAFile}[kind]
    left = tally.limit - tally.nbytes

    def over():
        tally.nbytes = tally.limit + 1
        raise TooLargeError(
            path,
            f"{kind} stream decompresses to more than {amount(left)} ({left:,} bytes) "
            + ("with the upload's other files, " if tally.files else "")
            + f"over {tally.budget_text()}",
        )

    try:
        with opener(fileobj=raw, mode="rb") if kind == "gzip" else opener(raw, mode="rb") as fh:
            # headers are decoded too: at most MAX_HEADER_BLOCKS of them past the data budget
            stream = LimitedReader(fh, left + MAX_HEADER_BLOCKS * BLOCK, over)
            head = stream.read(8)
            if head.startswith(b"SIMPLE  "):
                _fits(path, _Prefixed(head, stream), tally, stream=True)
                return
            n = len(head)
            while chunk := stream.read(1 << 20):
                n += len(chunk)
                if n > left:
                    over()
            tally.add(path, n, 0, amount(n), "bytes")
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError):
        return  # a corrupt or truncated stream: the reader that opens it names the problem


class _Prefixed:
    """``read`` over bytes already read, then the rest of ``fh``."""

    def __init__(self, head: bytes, fh):
        self.head, self.fh = head, fh

    def read(self, n: int = -1) -> bytes:
        if not self.head:
            return self.fh.read(n)
        if n is None or n < 0:
            out, self.head = self.head + self.fh.read(), b""
            return out
        out, self.head = self.head[:n], self.head[n:]
        return out + (self.fh.read(n - len(out)) if len(out) < n else b"")


# -- FITS ---------------------------------------------------------------------------------------


def _header(fh, first: bool, blocks_left: int) -> tuple[dict[str, str], int] | None:
    """(keyword -> value text, blocks) of the next HDU's header; None at its end or where the
    header is not one (left to the FITS check, which names the problem)."""
    cards: dict[str, str] = {}
    for k in range(blocks_left + 1):
        block = read_exact(fh, BLOCK)
        if len(block) < BLOCK or (k == 0 and not block.startswith(b"SIMPLE  =" if first else b"XTENSION=")):
            return None
        if k == blocks_left:
            return cards, k + 1  # over the header budget: the caller refuses
        for i in range(0, BLOCK, 80):
            card = block[i : i + 80].decode("ascii", "replace")
            key = card[:8].rstrip()
            if key == "END":
                return cards, k + 1
            if card[8:10] == "= " and key not in cards:
                cards[key] = card[10:].split("/")[0].strip().strip("'").strip()
    return None


def _int(cards: dict[str, str], key: str, default: int | None = None) -> int | None:
    try:
        v = float(cards[key]) if key in cards else default
    except ValueError:
        return None
    return None if v is None or not float(v).is_integer() else int(v)


def _fits(path: Path, fh, tally: Tally, stream: bool) -> None:
    """Walk every HDU header; count each one's decoded bytes before its data is skipped."""
    blocks, first, hdus = 0, True, 0
    while True:
        got = _header(fh, first, MAX_HEADER_BLOCKS - blocks)
        if got is None:
            return
        cards, n = got
        blocks += n
        hdus += 1
        if blocks > MAX_HEADER_BLOCKS or hdus > MAX_HDUS:
            raise TooLargeError(
                path,
                f"more than {MAX_HDUS} HDUs or {MAX_HEADER_BLOCKS} header blocks; "
                "an image upload needs one image HDU per file",
            )
        bitpix, naxis = _int(cards, "BITPIX"), _int(cards, "NAXIS")
        if bitpix not in (8, 16, 32, 64, -32, -64) or naxis is None or not 0 <= naxis <= 999:
            return  # not a header we can count: the FITS check names what is wrong
        axes = [_int(cards, f"NAXIS{i}") for i in range(1, naxis + 1)]
        if any(a is None or a < 0 for a in axes):
            return
        pcount, gcount = _int(cards, "PCOUNT", 0), _int(cards, "GCOUNT", 1)
        if pcount is None or gcount is None or pcount < 0 or gcount < 0:
            return
        groups = cards.get("GROUPS", "").upper() == "T" and axes and axes[0] == 0
        counted = axes[1:] if groups else axes
        elements = int(np.prod(counted, dtype=object)) if naxis else 0
        raw = abs(bitpix) // 8 * gcount * (pcount + elements) if naxis else 0
        xtension = cards.get("XTENSION", "").upper()
        if cards.get("ZIMAGE", "").upper() == "T":  # a tile-compressed image: what it expands to
            zn = _int(cards, "ZNAXIS") or 0
            zaxes = [_int(cards, f"ZNAXIS{i}") or 0 for i in range(1, zn + 1)]
            zbitpix = abs(_int(cards, "ZBITPIX") or 32)
            pixels = int(np.prod(zaxes, dtype=object)) if zaxes else 0
            tally.add(path, pixels * max(zbitpix // 8, BYTES_PER_PIXEL) + raw, pixels, _shape(zaxes))
        elif first or xtension == "IMAGE":
            tally.add(path, elements * max(abs(bitpix) // 8, BYTES_PER_PIXEL), elements, _shape(counted))
        elif raw:  # a table: its bytes (and at least 2 a value)
            tally.add(path, max(raw, 2 * gcount * (pcount + elements)), elements, f"table of {amount(raw)}")
        padded = -(-raw // BLOCK) * BLOCK
        if not stream:
            fh.seek(padded, 1)
        else:
            done = 0
            while done < padded:
                chunk = fh.read(min(1 << 20, padded - done))
                if not chunk:
                    return  # truncated: the FITS check says so
                done += len(chunk)
        first = False


def _shape(axes: list[int]) -> str:
    return "×".join(str(a) for a in axes) if axes else "no data"


# -- NumPy --------------------------------------------------------------------------------------


def _zip_entries(path: Path) -> int | None:
    """Entries the zip's end-of-central-directory record declares (before zipfile reads them)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - (22 + 65535)))
        tail = fh.read()
    i = tail.rfind(b"PK\x05\x06")
    if i < 0 or len(tail) < i + 12:
        return None
    return struct.unpack("<H", tail[i + 10 : i + 12])[0]


def _npz(path: Path, tally: Tally) -> None:
    import zipfile

    entries = _zip_entries(path)
    if entries is not None and entries > MAX_ZIP_MEMBERS:
        shown = "65,535 or more" if entries == 0xFFFF else f"{entries:,}"
        raise TooLargeError(path, f"archive holds {shown} members; at most {MAX_ZIP_MEMBERS} are read")
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise TooLargeError(
                    path, f"archive holds {len(infos):,} members; at most {MAX_ZIP_MEMBERS} are read"
                )
            for info in infos:
                if info.filename.endswith(".npy"):
                    with z.open(info) as member:
                        _npy(path, member, info, tally)
                else:
                    tally.add(path, info.file_size, 0, f"{info.filename} ({amount(info.file_size)})", "bytes")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return  # the loader names the problem


def _npy(path: Path, fh, info, tally: Tally) -> None:
    """Count one ``.npy`` array from its header (shape × dtype; an object array by its bytes)."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = read(fh)  # version 3.0 is 2.0 with a UTF-8 header
    except (ValueError, OSError, EOFError, InputError):
        return  # the loader names the problem
    name = info.filename if info is not None else path.name
    values = int(np.prod(shape, dtype=object)) if shape else 1
    declared = values * dtype.itemsize
    if dtype.hasobject:  # pickles: never loaded, refused by the loader
        declared = info.file_size if info is not None else path.stat().st_size
    decoded = max(declared, values * BYTES_PER_PIXEL) if dtype.kind in "biuf" else declared
    part = f"{name.removesuffix('.npy')} {'×'.join(map(str, shape)) or 'scalar'} {dtype}"
    tally.add(path, decoded, values, part, "values")
