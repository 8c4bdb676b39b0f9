"""What is in a file or directory: sources, classes, bands, noise, anomalies, unreadable files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..errors import InputError
from ..io.bands import Band
from ..io.fits import read_planes
from ..io.layout import CLASS_NAMES, SourceFiles, discover, odd_entries, walked_directories
from .noise import NoiseEstimate, anomalies, estimate_noise
from .preprocess import CUTOUT_SIZE


@dataclass
class BandReport:
    band: Band | None
    path: Path
    shape: tuple[int, int]
    noise: NoiseEstimate
    median: float
    peak: float
    nan_fraction: float
    flags: list[str]


@dataclass
class SourceReport:
    name: str
    label: int | None
    split: str | None
    bands: list[BandReport] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


@dataclass
class InspectReport:
    sources: list[SourceReport]
    errors: list[InputError]

    @property
    def ok(self) -> bool:
        return not self.errors


def inspect_band(path: Path) -> list[BandReport]:
    out = []
    for im in read_planes(path):
        d = im.data
        finite = d[np.isfinite(d)]
        noise = estimate_noise(d)
        med = float(np.median(finite))
        out.append(
            BandReport(
                im.band,
                path,
                im.shape,
                noise,
                med,
                float(finite.max()),
                float(1 - finite.size / d.size),
                anomalies(noise, med) + _size_flags(im.shape),
            )
        )
    return out


def _size_flags(shape: tuple[int, int]) -> list[str]:
    if min(shape) < CUTOUT_SIZE:
        return [f"smaller than the {CUTOUT_SIZE}×{CUTOUT_SIZE} cut-out: no model can use it"]
    return []


def inspect_source(src: SourceFiles) -> tuple[SourceReport, list[InputError]]:
    rep = SourceReport(src.name, src.label, src.split)
    errors = []
    for path in list(src.files.values()) + src.unbanded:
        try:
            rep.bands.extend(inspect_band(path))
        except InputError as exc:
            errors.append(exc)
    rep.bands.sort(key=lambda b: (b.band is None, b.band or Band(0, 0)))
    have = {b.band for b in rep.bands}
    missing = [b.name for b in src.missing_gleam_bands() if b not in have]
    if missing and len(have) > 0 and all(b is not None and b.low != b.high for b in have):
        rep.flags.append("incomplete band set: missing " + ", ".join(missing))
    for dup in src.duplicates:
        rep.flags.append(f"band given twice: {dup.name}")
    return rep, errors


def inspect_path(path: str | Path, progress: bool = False) -> InspectReport:
    """Every source under ``path``; unreadable files, FITS-named entries that are not files
    (directories, FIFOs, link loops) and a place with no FITS at all are errors."""
    sources = discover(path)
    reports, errors = [], []
    for d in walked_directories(path):
        errors.extend(odd_entries(d))
    if not sources and not errors:
        errors.append(InputError(path, "no FITS files here"))
    for src in tqdm(sources, desc="inspecting", disable=not progress):
        rep, errs = inspect_source(src)
        reports.append(rep)
        errors.extend(errs)
    return InspectReport(reports, errors)


def format_report(report: InspectReport, errors: bool = True) -> str:
    """A plain-text table: one line per source, one indented line per band (and, with ``errors``,
    one line per unreadable file; the CLI prints those as its ``radioviz: error:`` lines instead)."""
    lines = []
    n_by_class: dict[str, int] = {}
    for s in report.sources:
        cls = CLASS_NAMES.get(s.label, "?") if s.label is not None else "-"
        n_by_class[cls] = n_by_class.get(cls, 0) + 1
        bands = " ".join(b.band.name if b.band else "?" for b in s.bands)
        flag = ("  ! " + "; ".join(s.flags)) if s.flags else ""
        lines.append(f"{s.name:<28s} {cls:<9s} {(s.split or '-'):<6s} [{bands}]{flag}")
        for b in s.bands:
            n = b.noise
            dead = f"t={n.dead_band:.4f}" if n.clipped else "raw"
            bflag = ("  ! " + "; ".join(b.flags)) if b.flags else ""
            lines.append(
                f"    {(b.band.name if b.band else '?'):<11s} {b.shape[1]}x{b.shape[0]}  "
                f"sigma={n.sigma:.4f} ({n.method}, check {n.sigma_check:.4f})"
                f"  {dead}  zeros={100 * n.zero_fraction:.1f}%  peak={b.peak:.3g}{bflag}"
            )
    summary = ", ".join(f"{v} {k}" for k, v in sorted(n_by_class.items()))
    lines.append(f"{len(report.sources)} sources ({summary}); {len(report.errors)} unreadable file(s)")
    if errors:
        lines += [f"error: {e}" for e in report.errors]
    return "\n".join(lines)
