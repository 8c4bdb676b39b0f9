"""From files on disk to sources: grouping bands, reading the published split layout.

A *source* is one sky field observed in several bands (one file per band, or one cube).  The
published GLEAM-Data layout is ``<root>/<SPLIT>_DATA_<class>/`` with class 0 = non-halo and
1 = halo; any split name is accepted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, LayoutError, MissingBandError
from ..validate import check_pointing
from .bands import GLEAM_BANDS, Band, band_from_name
from .fits import BandImage, is_fits_name, read_planes

_SPLIT_DIR = re.compile(r"^(?P<split>.+)_DATA_(?P<cls>[01])$")
_SUFFIXES = re.compile(r"(?i)(_clipped)?(\.fits?|\.fts)(\.gz)?$")

CLASS_NAMES = {0: "non-halo", 1: "halo"}


@dataclass
class SourceFiles:
    """The files that make one source, keyed by band, plus its class when the layout gives one."""

    name: str
    files: dict[Band, Path] = field(default_factory=dict)
    label: int | None = None
    split: str | None = None
    duplicates: list[Path] = field(default_factory=list)
    unbanded: list[Path] = field(default_factory=list)

    @property
    def bands(self) -> list[Band]:
        return sorted(self.files)

    def missing_gleam_bands(self) -> list[Band]:
        return [b for b in GLEAM_BANDS if b not in self.files]

    @property
    def is_complete(self) -> bool:
        return not self.missing_gleam_bands() and not self.duplicates


@dataclass
class SourceStack:
    """A source's images in frequency order (each band on its own native grid)."""

    name: str
    images: list[BandImage]
    label: int | None = None
    split: str | None = None

    @property
    def bands(self) -> list[Band]:
        return [im.band for im in self.images]  # type: ignore[misc]

    def centre(self):
        """Sky position of the source: the centre of the highest-frequency image."""
        return self.images[-1].centre()


def source_key(filename: str) -> tuple[str, Band | None]:
    """Split a file name into (source name, band): the name is the file name less its band token.

    ``abell_0122_Gleam72-103_clipped.fits`` -> (``abell_0122``, 72–103 MHz);
    ``abell0122field1118mhzr0.0_Halo.fits`` -> (``abell0122field1 r0.0_Halo``, 118 MHz).
    """
    stem = _SUFFIXES.sub("", filename)
    m = band_from_name(stem)
    if m is None:
        return stem.strip(" _-"), None
    before, after = stem[: m.start].strip(" _-"), stem[m.end :].strip(" _-")
    name = f"{before} {after}".strip() if after else before
    return name, m.band


def group_files(paths: list[Path], label: int | None = None, split: str | None = None) -> list[SourceFiles]:
    """Group FITS files into sources by name (band token removed).  Cubes are read later."""
    groups: dict[str, SourceFiles] = {}
    for p in sorted(paths):
        name, band = source_key(p.name)
        src = groups.setdefault(name, SourceFiles(name, label=label, split=split))
        if band is None:
            src.unbanded.append(p)
        elif band in src.files:
            src.duplicates.append(p)
        else:
            src.files[band] = p
    return sorted(groups.values(), key=lambda s: s.name)


def fits_files(directory: Path) -> list[Path]:
    """Entries named like FITS files, directories excepted: a link loop, a broken link or a FIFO
    is kept, so that reading it says what it is instead of a band going missing."""
    return sorted(p for p in Path(directory).iterdir() if is_fits_name(p.name) and not p.is_dir())


def odd_entries(directory: Path) -> list[InputError]:
    """Directories named like FITS files (which :func:`fits_files` passes over), as errors."""
    from ..errors import UnreadableError
    from .fits import check_fits

    out: list[InputError] = []
    for p in sorted(Path(directory).iterdir()):
        if is_fits_name(p.name) and p.is_dir():
            try:
                check_fits(p)
            except InputError as exc:
                out.append(exc)
            else:  # pragma: no cover - check_fits refuses whatever is not a regular file
                out.append(UnreadableError(p, "is not a regular file"))
    return out


def walked_directories(path: str | Path) -> list[Path]:
    """The directories :func:`discover` lists files from."""
    path = Path(path)
    if not path.is_dir():
        return []
    splits = find_splits(path)
    if splits:
        return [d for classes in splits.values() for d in classes.values()]
    return [path]


def find_splits(root: str | Path) -> dict[str, dict[int, Path]]:
    """``{split: {class: directory}}`` for every ``<SPLIT>_DATA_<class>`` folder under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise LayoutError(root, "is not a directory")
    out: dict[str, dict[int, Path]] = {}
    for d in sorted(root.iterdir()):
        m = _SPLIT_DIR.match(d.name)
        if d.is_dir() and m:
            out.setdefault(m["split"], {})[int(m["cls"])] = d
    return out


def split_sources(root: str | Path, split: str) -> list[SourceFiles]:
    """Sources of one split of the published layout, with their class labels."""
    splits = find_splits(root)
    if split not in splits:
        have = ", ".join(sorted(splits)) or "none"
        raise LayoutError(root, f"no {split}_DATA_0/ or {split}_DATA_1/ folder (splits found: {have})")
    sources: list[SourceFiles] = []
    for cls, d in sorted(splits[split].items()):
        sources.extend(group_files(fits_files(d), label=cls, split=split))
    return sources


def discover(path: str | Path) -> list[SourceFiles]:
    """Sources under a file, a plain directory, or a published-layout root."""
    path = Path(path)
    if path.is_file():
        return group_files([path])
    if not path.is_dir():
        if os.path.lexists(path):
            from .fits import check_fits

            check_fits(path)  # names what it is instead: a link loop, a broken link, a FIFO
        raise InputError(path, "no such file or directory")
    splits = find_splits(path)
    if splits:
        return [s for split in splits for s in split_sources(path, split)]
    return group_files(fits_files(path))


def read_stack(source: SourceFiles, bands: tuple[Band, ...] = GLEAM_BANDS) -> SourceStack:
    """Read a source's bands in frequency order; a missing band is a :class:`MissingBandError`.

    A source given as one multi-band cube (a single unbanded file) is split into its planes.
    """
    images: dict[Band, BandImage] = {}
    for cube in source.unbanded:
        for plane in read_planes(cube):
            if plane.band is not None:
                images[plane.band] = plane
    for band, path in source.files.items():
        planes = read_planes(path)
        if len(planes) == 1:
            images[band] = planes[0]
        else:
            images.update({p.band: p for p in planes if p.band is not None})
    if source.duplicates:
        raise MissingBandError(source.duplicates[0], f"source '{source.name}' has this band twice")
    missing = [b for b in bands if b not in images]
    if missing:
        where = next(iter(source.files.values()), None) or (source.unbanded[0] if source.unbanded else None)
        names = ", ".join(b.name for b in missing)
        raise MissingBandError(
            where, f"source '{source.name}' is missing band(s) {names}; a {len(bands)}-band stack is needed"
        )
    ordered = [images[b] for b in bands]
    check_pointing(source.name, ordered)  # one band pointing elsewhere would move every position
    return SourceStack(source.name, ordered, source.label, source.split)


def stack_array(stack: SourceStack) -> np.ndarray:
    """(C, H, W) array of a stack whose bands share one shape."""
    shapes = {im.shape for im in stack.images}
    if len(shapes) != 1:
        raise InputError(stack.images[0].path, f"bands of '{stack.name}' differ in shape {sorted(shapes)}")
    return np.stack([im.data for im in stack.images])


def source_of(path: str | Path) -> SourceFiles:
    """The source a path names: a directory holding one source, a cube, or any one band file of
    a source (its sibling band files are found in the same directory)."""
    path = Path(path)
    if path.is_file():
        name, _ = source_key(path.name)
        matches = [s for s in discover(path.parent) if s.name == name]
        if matches:
            return matches[0]
    found = discover(path)
    if not found:
        raise InputError(path, "no FITS source found here")
    if len(found) > 1:
        raise InputError(path, f"holds {len(found)} sources; name one band file of the one you want")
    return found[0]


def data_folders_below(path: str | Path, max_depth: int = 3, max_dirs: int = 2000) -> list[tuple[Path, int]]:
    """``(folder, number of FITS files)`` for the top-most folders under ``path`` that
    :func:`discover` can open (FITS directly inside, or a ``<SPLIT>_DATA_<class>`` root): where to
    point a user who opened a folder with none directly in it.  The walk is bounded (``max_depth``
    levels, ``max_dirs`` folders) so a huge tree answers quickly; hidden folders are skipped."""
    out: list[tuple[Path, int]] = []
    level, seen = [Path(path)], 0
    for _ in range(max_depth):
        below: list[Path] = []
        for d in level:
            try:
                subdirs = sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))
            except OSError:
                continue
            for sub in subdirs:
                seen += 1
                if seen > max_dirs:
                    return out
                try:
                    splits = find_splits(sub)
                    n = (
                        sum(len(fits_files(c)) for s in splits.values() for c in s.values())
                        if splits
                        else len(fits_files(sub))
                    )
                except (OSError, InputError):
                    continue
                if n:
                    out.append((sub, n))
                else:
                    below.append(sub)
        level = below
    return out
