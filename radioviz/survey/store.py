"""Survey results that survive faults: one done marker per task, one catalogue per run.

Only the process driving the run writes here, and only for tasks that finished: a task's score
map (if any) first, then its marker ``tasks/<key>.json`` by atomic rename, so a marker always
means "finished and saved".  The catalogues (``results.ecsv``: one row per field / position /
mosaic; ``candidates.ecsv``: one row per candidate) are rebuilt from the markers, so a killed
or interrupted run never loses a finished row and a resumed one never duplicates it.
A task whose input is bad (``status = failed``, with its one-line reason) is final; a task lost to
something else (``status = error``: a worker that died too often, a bug) is retried on resume.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..errors import InputError


class SettingsMismatch(InputError):
    """The output folder holds a survey run with other settings (so it cannot be resumed)."""


RESULT_COLUMNS = {
    "task": str,
    "kind": str,
    "name": str,
    "status": str,
    "reason": str,
    "ra": float,
    "dec": float,
    "n_candidates": int,
    "max_score": float,
    "cluster_score": float,
    "centre_score": float,
    "source": str,
    "scoremap": str,
    "seconds": float,
}
CANDIDATE_COLUMNS = {
    "task": str,
    "name": str,
    "ra": float,
    "dec": float,
    "peak_score": float,
    "x": int,
    "y": int,
    "n_map_pixels": int,
    "nearest_cluster": str,
    "separation_arcmin": float,
}
FINAL = ("ok", "failed")


def safe_name(key: str) -> str:
    """A file name for a task key: readable, and unique (a short hash of the key)."""
    stem = re.sub(r"[^A-Za-z0-9+._-]+", "_", key)[:80]
    return f"{stem}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def _atomic_write(path: Path, text: str) -> None:
    """Written in full (flushed to disk) under a temporary name, then renamed: a kill at any moment
    leaves the old file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class ResultStore:
    """The output directory of one survey run."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.tasks_dir = self.out / "tasks"
        self.maps_dir = self.out / "maps"
        self.tiles_dir = self.out / "tiles"
        for d in (self.tasks_dir, self.maps_dir, self.tiles_dir):
            d.mkdir(parents=True, exist_ok=True)

    # -- run settings ---------------------------------------------------------------------------
    def check_config(self, config: dict) -> None:
        """Write the run's settings, or check that a resumed run uses the same ones."""
        path = self.out / "survey.json"
        if path.exists():
            old = json.loads(path.read_text())
            diff = [k for k in config if k in old.get("config", {}) and old["config"][k] != config[k]]
            if diff:
                raise SettingsMismatch(
                    self.out,
                    f"holds a survey with other settings ({', '.join(diff)} differ); "
                    "resume with the same ones or use a new --out",
                )
            return
        _atomic_write(path, json.dumps({"config": config}, indent=2, default=str))

    def config(self) -> dict:
        path = self.out / "survey.json"
        if not path.exists():
            raise InputError(self.out, "is not a survey output directory (no survey.json)")
        return json.loads(path.read_text())["config"]

    # -- markers --------------------------------------------------------------------------------
    def marker(self, key: str) -> Path:
        return self.tasks_dir / f"{safe_name(key)}.json"

    def status(self, key: str) -> str | None:
        path = self.marker(key)
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())["row"]["status"]
        except (json.JSONDecodeError, KeyError):
            return None  # a marker is written by rename, so this is only a foreign file

    def done(self, key: str) -> bool:
        return self.status(key) in FINAL

    def record(self, key: str, row: dict, candidates: list[dict] | None = None) -> None:
        row = {**row, "task": key}
        cands = [{**c, "task": key} for c in candidates or []]
        _atomic_write(self.marker(key), json.dumps({"row": row, "candidates": cands}, default=float))

    def markers(self) -> list[dict]:
        out = []
        for path in sorted(self.tasks_dir.glob("*.json")):
            try:
                out.append(json.loads(path.read_text()))
            except json.JSONDecodeError:
                continue
        return out

    # -- tiles of a mosaic ----------------------------------------------------------------------
    def tile_path(self, key: str) -> Path:
        return self.tiles_dir / f"{safe_name(key)}.npy"

    def save_tile(self, key: str, scores: np.ndarray) -> None:
        """Commit one finished mosaic tile: its scores (on disk, by rename), then its marker.  A
        resumed run skips every tile with a marker, so a kill loses only the tiles in flight."""
        path = self.tile_path(key)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npy")
        with open(tmp, "wb") as fh:
            np.save(fh, scores)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        self.record(key, {"kind": "tile", "name": key, "status": "ok", "reason": ""})

    def load_tile(self, key: str) -> np.ndarray:
        return np.load(self.tile_path(key))

    # -- catalogues -----------------------------------------------------------------------------
    def write_catalogues(self) -> tuple[Path, Path]:
        """``results.ecsv`` and ``candidates.ecsv`` from the markers (tiles are not rows)."""
        rows, cands = [], []
        for m in self.markers():
            if m["row"].get("kind") == "tile":
                continue
            rows.append(m["row"])
            cands.extend(m["candidates"])
        results = _table(rows, RESULT_COLUMNS)
        candidates = _table(cands, CANDIDATE_COLUMNS)
        for t in (results, candidates):
            t.meta["survey"] = str(self.out)
        paths = self.out / "results.ecsv", self.out / "candidates.ecsv"
        for t, p in zip((results, candidates), paths, strict=False):
            tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp.ecsv")
            t.write(tmp, format="ascii.ecsv", overwrite=True)
            os.replace(tmp, p)
        return paths


def _table(rows: list[dict], columns: dict) -> Table:
    cols = {}
    for name, typ in columns.items():
        default = {str: "", float: np.nan, int: -1}[typ]
        values = [r.get(name, default) for r in rows]
        values = [default if v is None else v for v in values]
        cols[name] = np.array(values, dtype=typ if typ is not str else str) if values else np.array([], typ)
    t = Table(cols)
    for c in ("ra", "dec"):
        t[c].unit = u.deg
    return t
