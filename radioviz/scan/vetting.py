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
checkpoint, stride, threshold, time, labeller and session of every label; every user string is
escaped for its format (a DS9 text never ends its region, an ECSV comment never starts a line).

Opening is safe against other openers and never blocks a page:

* a damaged store is set aside under a sidecar lock (``<store>.lock``, ``flock``; every
  operation holds it shared, setting aside holds it exclusive, so no connection of any
  ``LabelStore`` is open while files are renamed), the damage is checked again once the lock is
  held (another opener may have repaired it already), the set-aside name is unique (time, pid,
  random), and the rows still readable are recovered into the new store;
* a store locked by another program is reported "busy — retrying" after ``OPEN_TIMEOUT_S`` and
  retried in a background thread until it opens (``on_ready`` is then called);
* a store that cannot be written (read-only file or folder) is opened read-only: its labels are
  shown, saving says why it cannot.

Messages name the store by its file name only, never by its server path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..errors import InputError

if TYPE_CHECKING:
    from astropy.table import Table

try:
    import fcntl
except ImportError:  # not POSIX: the in-process lock alone (one server process per store)
    fcntl = None

LABELS = ("halo", "not halo", "unsure")
_COLOURS = {"halo": "green", "not halo": "red", "unsure": "yellow"}
BUSY_TIMEOUT_S = 30.0  # a label waits this long for another writer to commit
OPEN_TIMEOUT_S = 0.5  # opening (a page load) waits at most this long for a locked store
READ_TIMEOUT_S = 2.0  # a read (WAL readers are never blocked by writers, only by exclusive locks)
RETRY_S = 1.0  # a busy store is tried again this often, in a background thread
RECOVER_BUDGET_S = 5.0  # reading rows back out of a damaged store stops after this long
_log = logging.getLogger(__name__)


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
_INSERT = f"INSERT INTO labels ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_INDEX = "CREATE INDEX IF NOT EXISTS labels_field ON labels (field)"
_CURRENT = (
    "SELECT {cols} FROM labels WHERE id IN (SELECT MAX(id) FROM labels {where} "
    "GROUP BY candidate_id, labeller) ORDER BY id"
)
# SQLite primary result codes (the low byte of ``sqlite_errorcode``)
_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED: another connection holds a lock
_READONLY_CODES = {3, 8, 10, 14, 23}  # PERM, READONLY, IOERR, CANTOPEN, AUTH: perhaps readable
_DAMAGED_CODES = {11, 26}  # CORRUPT, NOTADB
_MAGIC = b"SQLite format 3\x00"


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
    """The reason, without a server path (an OSError's text names the file; its strerror does not)."""
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _kind(exc: BaseException) -> str:
    """What an error when opening means: 'busy', 'readonly' (perhaps readable), 'damaged' or
    'error' (cannot be stored here)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return "error"
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    if primary in _BUSY_CODES:
        return "busy"
    if primary in _READONLY_CODES:
        return "readonly"
    if primary in _DAMAGED_CODES or not isinstance(exc, sqlite3.OperationalError):
        return "damaged"
    return "error"


class _RWLock:
    """Shared/exclusive lock between the threads of one process (``flock`` does the same between
    processes on a local disk; this also covers file systems that emulate it per process)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0  # writers waiting: new readers wait behind them

    def acquire(self, exclusive: bool) -> None:
        with self._cond:
            if exclusive:
                self._waiting += 1
                while self._writer or self._readers:
                    self._cond.wait()
                self._waiting -= 1
                self._writer = True
            else:
                while self._writer or self._waiting:
                    self._cond.wait()
                self._readers += 1

    def release(self, exclusive: bool) -> None:
        with self._cond:
            if exclusive:
                self._writer = False
            else:
                self._readers -= 1
            self._cond.notify_all()


_RW_LOCKS: dict[str, _RWLock] = {}
_RW_GUARD = threading.Lock()


def _rw_lock(path: Path) -> _RWLock:
    with _RW_GUARD:
        return _RW_LOCKS.setdefault(os.path.abspath(path), _RWLock())


class LabelStore:
    """Candidate labels in one SQLite file (WAL mode), one connection per operation.

    Opening never raises and never waits long.  Exactly one of these then holds:

    * the store is open (``notice`` is empty, or says a damaged store was set aside as
      ``set_aside`` and ``recovered`` of its label events were read back into a new one);
    * ``busy``: another program holds a lock on it; it is retried every ``RETRY_S`` in a
      background thread, ``on_ready()`` is called (from that thread) once it opens, and until
      then reads return nothing and ``set`` raises :class:`LabelSaveError`;
    * ``readonly``: its labels are read, ``set`` raises :class:`LabelSaveError`;
    * ``error``: it cannot be created or read here; reads return nothing, ``set`` raises.
    """

    def __init__(
        self,
        path: str | Path,
        labeller: str = "",
        session: str = "",
        on_ready: Callable[[], None] | None = None,
    ):
        self.path = Path(path).expanduser()
        self.name = self.path.name  # what users see: never the server path
        self.labeller, self.session = labeller, session
        self.on_ready = on_ready
        self.set_aside: Path | None = None
        self.recovered = 0
        self.error: str = ""
        self.busy = False
        self.readonly = False
        self._ro_uri: str | None = None
        self._state_lock = threading.Lock()
        self._retry_thread: threading.Thread | None = None
        with self._state_lock:
            self._open()

    @property
    def notice(self) -> str:
        if self.error:
            return self.error
        if self.busy:
            return (
                f"Label store busy — retrying: {self.name} is locked by another program. Its labels "
                "appear, and labels can be saved, as soon as it is free."
            )
        if self.readonly:
            return (
                f"The label store {self.name} is read-only: labels cannot be saved here "
                "(its labels are shown)."
            )
        if self.set_aside:
            got = (
                f"{self.recovered} label events still readable in it were recovered into a new store"
                if self.recovered
                else "nothing in it could be read back; a new, empty store was started"
            )
            aside = self.set_aside.name
            return f"The label store {self.name} could not be read and was set aside as {aside}; {got}."
        return ""

    # -- opening ---------------------------------------------------------------------------------

    def _open(self) -> None:
        """(Re)open the store and set its state (the caller holds ``_state_lock``)."""
        try:
            self._open_or_repair()
        except (sqlite3.DatabaseError, OSError) as exc:
            kind = _kind(exc)
            if kind == "busy":
                self.busy = True
                self._start_retry()
                return
            self.busy = False
            if kind == "readonly" and self._open_readonly():
                return
            self.error = f"{self.name}: labels cannot be stored here ({_first_line(exc)})"
            return
        self.busy, self.error = False, ""
        if not os.access(self.path, os.W_OK):  # SQLite reads a write-protected file without a word
            self.readonly = True
            self._open_readonly()

    def _open_or_repair(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._locked(exclusive=False):
                self._init_db()
            return
        except sqlite3.DatabaseError as exc:
            if _kind(exc) != "damaged":
                raise
        with self._locked(exclusive=True):  # no other LabelStore has a connection open now
            try:
                self._init_db()  # another opener may have set it aside while this one waited
                return
            except sqlite3.DatabaseError as exc:
                if _kind(exc) != "damaged":
                    raise
            self._set_aside_and_recover()

    def _init_db(self) -> None:
        """Create the table if needed and check the store is whole; raises what SQLite raises.
        Only what is missing is written, so a store another program is writing to opens at once."""
        con = self._connect(OPEN_TIMEOUT_S)
        try:
            if str(con.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                con.execute("PRAGMA journal_mode=WAL")
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            if "labels" not in names:
                con.execute(_SCHEMA)
            if "labels_field" not in names:
                con.execute(_INDEX)
            con.execute("SELECT COUNT(*) FROM labels").fetchone()
            if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("database disk image is malformed")
        finally:
            con.close()

    def _open_readonly(self) -> bool:
        """Open a store this process cannot write to for reading (``mode=ro``; in a read-only
        folder, where SQLite cannot make the WAL index, ``immutable``)."""
        if not self.path.is_file():
            return False
        base = "file:" + quote(str(self.path.resolve())) + "?mode=ro"
        for uri in (base, base + "&immutable=1"):
            try:
                con = sqlite3.connect(uri, uri=True, timeout=OPEN_TIMEOUT_S, isolation_level=None)
                try:
                    con.execute("SELECT COUNT(*) FROM labels").fetchone()
                finally:
                    con.close()
            except sqlite3.DatabaseError:
                continue
            self._ro_uri, self.readonly = uri, True
            return True
        return False

    def _set_aside_and_recover(self) -> None:
        """Move the damaged store (and its -wal/-shm) to a name no other opener can pick, with
        what is still readable of it in a new store at ``path`` (the caller holds the lock
        exclusively, so no LabelStore has any of these files open)."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        tag = f"{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        aside = self.path.with_name(f"{self.path.name}.corrupt-{tag}")
        fresh = self.path.with_name(f"{self.path.name}.new-{tag}")
        rows = _recover_rows(self.path)
        try:
            _create_store(fresh, rows)
            for suffix in ("", "-wal", "-shm"):
                src = Path(f"{self.path}{suffix}")
                if src.exists():
                    os.replace(src, f"{aside}{suffix}")
            os.replace(fresh, self.path)
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(OSError):
                    Path(f"{fresh}{suffix}").unlink()
        self.set_aside, self.recovered = aside, len(rows)
        _log.warning("label store %s set aside as %s; %d rows recovered", self.name, aside.name, len(rows))

    def _start_retry(self) -> None:
        if self._retry_thread is not None and self._retry_thread.is_alive():
            return
        ref = weakref.ref(self)  # a store nobody uses any more stops being retried

        def loop() -> None:
            while True:
                time.sleep(RETRY_S)
                store = ref()
                if store is None or store._retry():
                    return
                del store

        self._retry_thread = threading.Thread(target=loop, daemon=True, name=f"labels-retry-{self.name}")
        self._retry_thread.start()

    def _retry(self) -> bool:
        """Try a busy store once more; True once it is no longer busy (``on_ready`` is called by
        whichever try got it open)."""
        with self._state_lock:
            if not self.busy:
                return True
            self._open()
            if self.busy:
                return False
        if self.on_ready is not None:
            try:
                self.on_ready()
            except Exception:  # the page may be gone; the store is fine
                _log.warning("label store %s: on_ready failed", self.name, exc_info=True)
        return True

    # -- storage ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, exclusive: bool):
        """Hold the store's lock: shared for any use, exclusive to set a damaged store aside."""
        rw = _rw_lock(self.path)
        rw.acquire(exclusive)
        try:
            fd = self._lock_fd()
            try:
                if fd is not None and fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
                    except OSError:  # a file system without flock: the in-process lock only
                        pass
                yield
            finally:
                if fd is not None:
                    os.close(fd)  # releases the flock
        finally:
            rw.release(exclusive)

    def _lock_fd(self) -> int | None:
        """The sidecar lock file ``<store>.lock`` (never renamed or removed, so every opener locks
        the same file), or None where it cannot even be read (a read-only folder without one)."""
        lock = f"{self.path}.lock"
        for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
            try:
                return os.open(lock, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
            except OSError:
                continue
        return None

    def _connect(self, timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
        if self._ro_uri is not None:
            con = sqlite3.connect(self._ro_uri, uri=True, timeout=timeout, isolation_level=None)
        else:
            con = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        return con

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        if self.error or self.busy:  # a busy store is retried in the background, not here
            return []
        try:
            with self._locked(exclusive=False):
                con = self._connect(READ_TIMEOUT_S)
                try:
                    return con.execute(sql, args).fetchall()
                finally:
                    con.close()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise LabelSaveError(self.name, f"cannot read the labels store ({_first_line(exc)})") from None

    def _writable(self, what: str) -> None:
        """Raise :class:`LabelSaveError` unless a label can be written now."""
        if self.busy and not self._retry():
            raise LabelSaveError(
                self.name,
                f"{what}: label store busy (locked by another program) — retrying; try again in a moment",
            )
        if self.readonly:
            raise LabelSaveError(
                self.name, f"{what}: the label store is read-only: labels cannot be saved here"
            )
        if self.error:
            raise LabelSaveError(self.name, f"{what}: {self.error}")

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
        self._writable("label NOT saved")
        row = asdict(lab)
        try:
            with self._locked(exclusive=False):
                con = self._connect()
                try:
                    con.execute(
                        _INSERT,
                        tuple(row[c] for c in _COLUMNS),
                    )
                finally:
                    con.close()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise LabelSaveError(self.name, f"label NOT saved ({_first_line(exc)})") from None
        return lab

    def remove(self, candidate_id: str, labeller: str | None = None) -> None:
        """Forget a candidate's labels (every labeller's, or one labeller's)."""
        self._writable("label NOT removed")
        sql, args = "DELETE FROM labels WHERE candidate_id = ?", (candidate_id,)
        if labeller is not None:
            sql, args = sql + " AND labeller = ?", (candidate_id, labeller)
        try:
            with self._locked(exclusive=False):
                con = self._connect()
                try:
                    con.execute(sql, args)
                finally:
                    con.close()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise LabelSaveError(self.name, f"label NOT removed ({_first_line(exc)})") from None

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
        """The current labels as an astropy Table (strings as stored, unescaped)."""
        from astropy import units as u
        from astropy.table import Table

        rows = self.current(field)
        dtypes = [type(getattr(Label("", "", 0.0, 0.0, 0.0, "halo"), c)) for c in _COLUMNS]
        t = Table({c: [getattr(r, c) for r in rows] for c in _COLUMNS}, dtype=dtypes if not rows else None)
        t["ra"].unit = t["dec"].unit = u.deg
        t.meta["store"] = self.name
        t.meta["exported"] = datetime.now(UTC).isoformat(timespec="seconds")
        return t

    def export(self, path: str | Path, field: str | None = None) -> Path:
        """Write ECSV (``.ecsv``), CSV (``.csv``) or DS9 regions (``.reg``) by extension, every
        user string escaped for the format: CSV cells are quoted by the csv writer and a cell a
        spreadsheet would run as a formula (``= + - @``) starts with ``'``; ECSV text cells use
        backslash escapes for control characters and a leading ``#`` (said in the file's meta);
        DS9 texts are one line without braces or ``#`` (see :func:`ds9_text`)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".ecsv":
            t = _escaped(self.table(field), ecsv_text)
            t.meta["escapes"] = ECSV_ESCAPES
            t.write(path, format="ascii.ecsv", overwrite=True)
        elif suffix == ".csv":
            _escaped(self.table(field), csv_text).write(path, format="ascii.csv", overwrite=True)
        elif suffix == ".reg":
            path.write_text(self.ds9_regions(field))
        else:
            raise ValueError(f"unknown export format {suffix!r}: use .ecsv, .csv or .reg")
        return path

    def ds9_regions(self, field: str | None = None, radius_arcmin: float = 3.0) -> str:
        from astropy import units as u
        from astropy.coordinates import SkyCoord
        from regions import CircleSkyRegion, Regions

        regs = []
        for lab in self.current(field):
            r = CircleSkyRegion(SkyCoord(lab.ra * u.deg, lab.dec * u.deg), radius_arcmin * u.arcmin)
            r.visual["color"] = _COLOURS.get(lab.label, "white")
            r.meta["text"] = ds9_text(f"{lab.field} {lab.label} {score_text(lab.score)} {lab.labeller}")
            regs.append(r)
        return Regions(regs).serialize(format="ds9")


# -- damaged stores ------------------------------------------------------------------------------


def _create_store(path: Path, rows: list[tuple]) -> None:
    """A new store at ``path`` holding ``rows`` ((id, *columns), ids kept)."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(_SCHEMA)
        con.execute(_INDEX)
        con.execute("BEGIN")
        con.executemany(
            f"INSERT INTO labels (id, {', '.join(_COLUMNS)}) VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})",
            rows,
        )
        con.execute("COMMIT")
    finally:
        con.close()  # the last connection: the WAL is written into the file and removed


def _recover_rows(db: Path) -> list[tuple]:
    """The label rows (id, *columns) still readable in a damaged store, best effort and within
    ``RECOVER_BUDGET_S``: read from a private copy (with its -wal), in id order until a damaged
    page, backwards from the end, then id by id in between; if nothing could be read and the
    file header is what is damaged, again with a rebuilt header."""
    deadline = time.monotonic() + RECOVER_BUDGET_S
    with tempfile.TemporaryDirectory(prefix="radioviz-recover-") as tmp:
        copy = Path(tmp) / "damaged.sqlite"
        try:
            shutil.copyfile(db, copy)
            if Path(f"{db}-wal").is_file():
                shutil.copyfile(f"{db}-wal", f"{copy}-wal")
        except OSError:
            return []
        rows = _readable_rows(copy, deadline)
        if not rows:
            for page_size in _page_sizes(copy):
                fixed = Path(tmp) / f"header-{page_size}.sqlite"
                if _with_header(copy, fixed, page_size):
                    rows = _readable_rows(fixed, deadline)
                    if rows:
                        break
    return [rows[k] for k in sorted(rows)]


def _readable_rows(db: Path, deadline: float) -> dict[int, tuple]:
    out: dict[int, tuple] = {}
    try:
        con = sqlite3.connect(db, isolation_level=None, timeout=0)
    except sqlite3.Error:
        return out
    try:
        try:
            names = {d[0] for d in con.execute("SELECT * FROM labels LIMIT 0").description}
        except sqlite3.Error:
            return out
        if not {"id", "candidate_id", "label"} <= names:
            return out
        sql = f"SELECT id, {', '.join(c if c in names else 'NULL' for c in _COLUMNS)} FROM labels"

        def scan(tail: str, args: tuple = ()) -> bool:
            try:
                for r in con.execute(sql + tail, args):
                    if isinstance(r[0], int):
                        out.setdefault(r[0], r)
                    if time.monotonic() > deadline:
                        return False
            except sqlite3.Error:  # a damaged page: what came before it is kept
                return False
            return True

        if scan(" ORDER BY id"):
            return out
        scan(" ORDER BY id DESC")
        top = max(out, default=0)
        with contextlib.suppress(sqlite3.Error, TypeError, ValueError):
            seq = con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'labels'").fetchone()
            top = max(top, int(seq[0]))
        for i in range(1, top + 1):  # rows on an undamaged page come back one by one
            if time.monotonic() > deadline:
                break
            if i not in out:
                scan(" WHERE id = ?", (i,))
        return out
    finally:
        con.close()


def _page_sizes(db: Path) -> list[int]:
    """Page sizes to try with a rebuilt header: the file's own (if its header still says one),
    then the usual ones that divide the file size."""
    try:
        head = db.read_bytes()[:100]
        size = db.stat().st_size
    except OSError:
        return []
    sizes = [1 << k for k in range(9, 17)]
    sizes = [4096] + [s for s in sizes if s != 4096]
    if len(head) >= 18:
        own = int.from_bytes(head[16:18], "big")
        own = 65536 if own == 1 else own
        if own in sizes:
            sizes.remove(own)
            sizes.insert(0, own)
    return [s for s in sizes if size >= s and size % s == 0]


def _with_header(src: Path, dst: Path, page_size: int) -> bool:
    """Copy ``src`` to ``dst`` with a plain SQLite header for ``page_size`` (rollback journal,
    UTF-8, the database size taken from the file)."""
    try:
        data = bytearray(src.read_bytes())
    except OSError:
        return False
    if len(data) < max(page_size, 100):
        return False
    h = bytearray(100)
    h[:16] = _MAGIC
    h[16:18] = (page_size if page_size < 65536 else 1).to_bytes(2, "big")
    h[18] = h[19] = 1
    h[21], h[22], h[23] = 64, 32, 32
    h[24:28] = (1).to_bytes(4, "big")  # change counter ≠ version-valid-for: size from the file
    h[44:48] = (4).to_bytes(4, "big")  # schema format
    h[56:60] = (1).to_bytes(4, "big")  # UTF-8
    data[:100] = h
    try:
        dst.write_bytes(bytes(data))
    except OSError:
        return False
    return True


# -- export escaping ----------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # also what str.splitlines splits on
_DS9_SAFE = str.maketrans({"{": "(", "}": ")", "[": "(", "]": ")", "#": "_", "\\": "/"})
_ECSV_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ECSV_ESCAPES = (
    "text cells: backslash escapes \\n newline, \\r, \\t, \\uXXXX other control characters, "
    "\\\\ backslash, and \\# for a leading #"
)


def ds9_text(s: str) -> str:
    """``s`` as one line DS9 keeps inside ``text={...}``: control characters and line breaks
    become spaces, braces and brackets parentheses, ``#`` and backslash ``_`` and ``/``."""
    return " ".join(_CONTROL.sub(" ", str(s)).translate(_DS9_SAFE).split())


def csv_text(s: str) -> str:
    """A CSV text cell that a spreadsheet shows as text, not runs as a formula."""
    s = str(s)
    return "'" + s if s.startswith(_FORMULA_START) else s


def _ecsv_escape(m: re.Match) -> str:
    return _ECSV_NAMED.get(m.group(), f"\\u{ord(m.group()):04x}")


def ecsv_text(s: str) -> str:
    """An ECSV text cell on one line that never starts a comment line (see ``ECSV_ESCAPES``)."""
    s = _CONTROL.sub(_ecsv_escape, str(s).replace("\\", "\\\\"))
    return "\\" + s if s.startswith("#") else s


def _escaped(t: Table, cell: Callable[[str], str]) -> Table:
    for name in t.colnames:
        if len(t) and t[name].dtype.kind in "US":
            t[name] = [cell(str(v)) for v in t[name]]
    return t


def score_text(score: float) -> str:
    """A score in three decimals that never reads 1.000 unless it is 1: calibrated scores of
    0.9996 and 1 mean different things, and a rounded label hid it."""
    if score < 1.0:
        return f"{min(score, 0.999):.3f}"
    return "1"
