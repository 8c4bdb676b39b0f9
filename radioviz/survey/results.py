"""Reading a survey's output directory back: its catalogues and, for vetting, each field or
mosaic with its score map (what the Fields view needs to put the candidates over the image)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from ..errors import InputError
from ..scan.scoremap import ScoreMap
from .store import ResultStore


@dataclass
class SurveyResult:
    out: Path
    config: dict
    results: Table  # one row per field / position / mosaic
    candidates: Table  # one row per candidate
    openable: dict[str, dict]  # name -> {"folder", "field", "scoremap"} for fields and mosaics

    def scoremap(self, name: str) -> ScoreMap:
        """The score map of a field or mosaic of this survey, as ``radioviz.scan`` makes it."""
        entry = self.openable.get(name)
        if entry is None:
            raise InputError(self.out, f"no score map of a field or mosaic named {name!r} in this survey")
        return read_scoremap(entry["scoremap"])


def read_scoremap(path: str | Path) -> ScoreMap:
    path = Path(path)
    try:
        with fits.open(path) as hdul:
            data, header = hdul[0].data.astype("float32"), hdul[0].header
    except (OSError, IndexError, AttributeError) as exc:
        raise InputError(path, f"cannot read the score map ({exc})") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = WCS(header).celestial
    stride = int(header.get("STRIDE", 1))
    return ScoreMap(data, wcs, stride, (data.shape[0] * stride, data.shape[1] * stride))


def load_survey(out: str | Path) -> SurveyResult:
    """A survey output directory (written by :func:`~radioviz.survey.run_survey`), read back."""
    if not Path(out).is_dir():
        raise InputError(out, "survey output directory does not exist")
    store = ResultStore(out)
    config = store.config()
    results = Table.read(store.out / "results.ecsv", format="ascii.ecsv")
    cands = Table.read(store.out / "candidates.ecsv", format="ascii.ecsv")
    openable = {}
    for m in store.markers():
        row = m["row"]
        if row.get("status") == "ok" and row.get("kind") in ("field", "mosaic") and row.get("folder"):
            openable[row["name"]] = {
                "folder": row["folder"],
                "field": row["name"],
                "scoremap": row["scoremap"],
            }
    return SurveyResult(store.out, config, results, cands, openable)
