"""Labels astronomers give candidates, shared safely by any number of sessions and processes.

Why SQLite in WAL mode (Python's standard ``sqlite3``): every label is one small atomic
transaction, so writers from many browser sessions and processes never overwrite each other
(a second writer waits up to ``busy_timeout``, readers are never blocked), a killed writer
leaves no temporary file and no half-written row, and a failed write (read-only folder, full
disk) raises at once instead of being kept only in memory.  ``benchmarks/bench_labels.py``
measures it against concurrent writers (docs/benchmarks.md).

The store is an append-only log of label events; the *current* label of a candidate is each
labeller's latest event for it, so two people labelling the same candidate both keep their say
and nothing is ever lost.  Exports (ECSV, CSV, DS9 regions) carry the field, classifier
checkpoint, stride, threshold, time, labeller and session of every label.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table

from ..errors import InputError

LABELS = ("halo", "not halo", "unsure")
_COLOURS = {"halo": "green", "not halo": "red", "unsure": "yellow"}
BUSY_TIMEOUT_S = 30.0


class LabelSaveError(InputError):
    """A label could not be written to the store (nothing in memory pretends it was)."""


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
    labeller: str = ""
    session: str = ""
    classifier: str = ""
    stride: int = 0
    threshold: float = float("nan")


_COLUMNS = tuple(f.name for f in fields(Label))
_SQL_TYPES = {"ra": "REAL", "dec": "REAL", "score": "REAL", "stride": "INTEGER", "threshold": "REAL"}
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS labels (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    + ", ".join(f"{c} {_SQL_TYPES.get(c, 'TEXT')}" for c in _COLUMNS)
    + ")"
)
_CURRENT = (
    "SELECT {cols} FROM labels WHERE id IN (SELECT MAX(id) FROM labels {where} "
    "GROUP BY candidate_id, labeller) ORDER BY id"
)


def default_labels_path() -> Path:
    """``$RADIOVIZ_LABELS``, else ``$XDG_DATA_HOME/radioviz/labels.sqlite`` (default
    ``~/.local/share/radioviz``): a per-user data directory, never the working directory."""
    if os.environ.get("RADIOVIZ_LABELS"):
        return Path(os.environ["RADIOVIZ_LABELS"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base).expanduser() / "radioviz" / "labels.sqlite"


def _label(row: tuple) -> Label:
    lab = Label(*row)
    if lab.threshold is None:  # SQLite keeps NaN as NULL
        lab.threshold = float("nan")
    return lab


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


class LabelStore:
    """Candidate labels in one SQLite file (WAL mode), one connection per operation.

    Opening never raises: a store that cannot be read is renamed aside (``set_aside``) and a
    fresh one started; a store that cannot be created leaves ``error`` set, and every ``set``
    then raises :class:`LabelSaveError`.  ``notice`` holds the message for the user.
    """

    def __init__(self, path: str | Path, labeller: str = "", session: str = ""):
        self.path = Path(path).expanduser()
        self.labeller, self.session = labeller, session
        self.set_aside: Path | None = None
        self.error: str = ""
        try:
            self._init_db()
        except (sqlite3.OperationalError, OSError) as exc:  # cannot open or write here
            self.error = f"{self.path}: labels cannot be stored here ({_first_line(exc)})"
        except sqlite3.DatabaseError as exc:  # not a database, or a damaged one: keep it aside
            self._set_aside(exc)

    @property
    def notice(self) -> str:
        if self.error:
            return self.error
        if self.set_aside:
            return (
                f"The labels store {self.path} could not be read and was set aside as "
                f"{self.set_aside.name}; a new, empty store was started."
            )
        return ""

    # -- storage ---------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        return con

    def _init_db(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._connect()
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(_SCHEMA)
            con.execute("CREATE INDEX IF NOT EXISTS labels_field ON labels (field)")
            con.execute("SELECT COUNT(*) FROM labels").fetchone()
            if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("database disk image is malformed")
        finally:
            con.close()

    def _set_aside(self, exc: BaseException) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                os.replace(p, str(aside) + suffix)
        self.set_aside = aside
        try:
            self._init_db()
        except (sqlite3.DatabaseError, OSError) as exc2:
            self.error = f"{self.path}: labels cannot be stored here ({_first_line(exc2)})"

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        if self.error:
            return []
        try:
            con = self._connect()
            try:
                return con.execute(sql, args).fetchall()
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise LabelSaveError(self.path, f"cannot read the labels store ({_first_line(exc)})") from None

    # -- labels ----------------------------------------------------------------------------------

    def set(
        self,
        candidate_id: str,
        field: str,
        ra: float,
        dec: float,
        score: float,
        label: str,
        comment: str = "",
        *,
        classifier: str = "",
        stride: int = 0,
        threshold: float = float("nan"),
        labeller: str | None = None,
        session: str | None = None,
    ) -> Label:
        """Append one label event; returns it only once it is committed to disk."""
        if label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, not {label!r}")
        lab = Label(
            str(candidate_id),
            str(field),
            float(ra),
            float(dec),
            float(score),
            label,
            str(comment or ""),
            datetime.now(UTC).isoformat(timespec="milliseconds"),
            self.labeller if labeller is None else labeller,
            self.session if session is None else session,
            str(classifier or ""),
            int(stride),
            float(threshold),
        )
        if self.error:
            raise LabelSaveError(self.path, f"label NOT saved: {self.error}")
        row = asdict(lab)
        try:
            con = self._connect()
            try:
                con.execute(
                    f"INSERT INTO labels ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                    tuple(row[c] for c in _COLUMNS),
                )
            finally:
                con.close()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise LabelSaveError(self.path, f"label NOT saved ({_first_line(exc)})") from None
        return lab

    def remove(self, candidate_id: str, labeller: str | None = None) -> None:
        """Forget a candidate's labels (every labeller's, or one labeller's)."""
        sql, args = "DELETE FROM labels WHERE candidate_id = ?", (candidate_id,)
        if labeller is not None:
            sql, args = sql + " AND labeller = ?", (candidate_id, labeller)
        try:
            con = self._connect()
            try:
                con.execute(sql, args)
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise LabelSaveError(self.path, f"label NOT removed ({_first_line(exc)})") from None

    def current(self, field: str | None = None) -> list[Label]:
        """Each labeller's latest label of each candidate (of one field, or all), oldest first."""
        where, args = ("WHERE field = ?", (field,)) if field is not None else ("", ())
        rows = self._query(_CURRENT.format(cols=", ".join(_COLUMNS), where=where), args)
        return [_label(r) for r in rows]

    def latest(self, field: str | None = None) -> dict[str, Label]:
        """``{candidate_id: the most recent label by anyone}`` — what a table shows."""
        return {lab.candidate_id: lab for lab in self.current(field)}

    def history(self) -> list[Label]:
        """Every label event ever made, oldest first."""
        return [_label(r) for r in self._query(f"SELECT {', '.join(_COLUMNS)} FROM labels ORDER BY id")]

    def get(self, candidate_id: str) -> Label | None:
        rows = self._query(
            f"SELECT {', '.join(_COLUMNS)} FROM labels WHERE candidate_id = ? ORDER BY id DESC LIMIT 1",
            (candidate_id,),
        )
        return _label(rows[0]) if rows else None

    def __len__(self) -> int:
        return len(self.current())

    def table(self, field: str | None = None) -> Table:
        rows = self.current(field)
        dtypes = [type(getattr(Label("", "", 0.0, 0.0, 0.0, "halo"), c)) for c in _COLUMNS]
        t = Table({c: [getattr(r, c) for r in rows] for c in _COLUMNS}, dtype=dtypes if not rows else None)
        t["ra"].unit = t["dec"].unit = u.deg
        t.meta["store"] = str(self.path)
        t.meta["exported"] = datetime.now(UTC).isoformat(timespec="seconds")
        return t

    def export(self, path: str | Path, field: str | None = None) -> Path:
        """Write ECSV (``.ecsv``), CSV (``.csv``) or DS9 regions (``.reg``) by extension."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".ecsv":
            self.table(field).write(path, format="ascii.ecsv", overwrite=True)
        elif suffix == ".csv":
            self.table(field).write(path, format="ascii.csv", overwrite=True)
        elif suffix == ".reg":
            path.write_text(self.ds9_regions(field))
        else:
            raise ValueError(f"unknown export format {suffix!r}: use .ecsv, .csv or .reg")
        return path

    def ds9_regions(self, field: str | None = None, radius_arcmin: float = 3.0) -> str:
        from regions import CircleSkyRegion, Regions

        regs = []
        for lab in self.current(field):
            r = CircleSkyRegion(SkyCoord(lab.ra * u.deg, lab.dec * u.deg), radius_arcmin * u.arcmin)
            r.visual["color"] = _COLOURS[lab.label]
            r.meta["text"] = f"{lab.field} {lab.label} {score_text(lab.score)} {lab.labeller}".strip()
            regs.append(r)
        return Regions(regs).serialize(format="ds9")


def score_text(score: float) -> str:
    """A score in three decimals that never reads 1.000 unless it is 1: calibrated scores of
    0.9996 and 1 mean different things, and a rounded label hid it."""
    if score < 1.0:
        return f"{min(score, 0.999):.3f}"
    return "1"
