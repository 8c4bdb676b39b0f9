"""Labels an astronomer gives candidates, kept safe on disk after every change.

A :class:`LabelStore` is bound to one ECSV file: every ``set`` rewrites it atomically (write to a
temporary file, then rename), so a server that stops loses nothing.  Exports: ECSV, CSV and a
DS9 region file (circles coloured by label) through ``regions``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table

from ..errors import InputError

LABELS = ("halo", "not halo", "unsure")
_COLOURS = {"halo": "green", "not halo": "red", "unsure": "yellow"}
_COLUMNS = ("candidate_id", "field", "ra", "dec", "score", "label", "comment", "time")


@dataclass
class Label:
    candidate_id: str
    field: str
    ra: float
    dec: float
    score: float
    label: str
    comment: str = ""
    time: str = ""


class LabelStore:
    """Candidate labels backed by one ECSV file, rewritten on every change."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._labels: dict[str, Label] = {}
        if self.path.exists():
            try:
                t = Table.read(self.path, format="ascii.ecsv")
            except Exception as exc:
                raise InputError(
                    self.path, f"cannot read the labels file ({str(exc).splitlines()[0]})"
                ) from None
            for c in ("candidate_id", "field", "label", "comment", "time"):  # empty strings read back masked
                t[c] = [
                    ("" if getattr(t[c], "mask", None) is not None and t[c].mask[i] else str(v))
                    for i, v in enumerate(t[c])
                ]
            for row in t:
                lab = Label(**{c: (row[c].item() if hasattr(row[c], "item") else row[c]) for c in _COLUMNS})
                self._labels[str(lab.candidate_id)] = lab

    def __len__(self) -> int:
        return len(self._labels)

    def get(self, candidate_id: str) -> Label | None:
        return self._labels.get(candidate_id)

    def set(
        self,
        candidate_id: str,
        field: str,
        ra: float,
        dec: float,
        score: float,
        label: str,
        comment: str = "",
    ) -> Label:
        if label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, not {label!r}")
        lab = Label(
            candidate_id,
            field,
            float(ra),
            float(dec),
            float(score),
            label,
            comment,
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self._labels[candidate_id] = lab
        self._save()
        return lab

    def remove(self, candidate_id: str) -> None:
        if self._labels.pop(candidate_id, None) is not None:
            self._save()

    def table(self) -> Table:
        rows = list(self._labels.values())
        t = Table(
            {c: [getattr(r, c) for r in rows] for c in _COLUMNS},
            dtype=[str, str, float, float, float, str, str, str] if not rows else None,
        )
        t["ra"].unit = t["dec"].unit = u.deg
        return t

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".ecsv.tmp")
        os.close(fd)
        try:
            self.table().write(tmp, format="ascii.ecsv", overwrite=True)
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def export(self, path: str | Path) -> Path:
        """Write ECSV (``.ecsv``), CSV (``.csv``) or DS9 regions (``.reg``) by extension."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".ecsv":
            self.table().write(path, format="ascii.ecsv", overwrite=True)
        elif suffix == ".csv":
            self.table().write(path, format="ascii.csv", overwrite=True)
        elif suffix == ".reg":
            path.write_text(self.ds9_regions())
        else:
            raise ValueError(f"unknown export format {suffix!r}: use .ecsv, .csv or .reg")
        return path

    def ds9_regions(self, radius_arcmin: float = 3.0) -> str:
        from regions import CircleSkyRegion, Regions

        regs = []
        for lab in self._labels.values():
            r = CircleSkyRegion(SkyCoord(lab.ra * u.deg, lab.dec * u.deg), radius_arcmin * u.arcmin)
            r.visual["color"] = _COLOURS[lab.label]
            r.meta["text"] = f"{lab.field} {lab.label} {lab.score:.2f}"
            regs.append(r)
        return Regions(regs).serialize(format="ds9")
