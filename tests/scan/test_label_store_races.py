"""The label store served to a group (issue #29): several processes and threads opening one
damaged store at once, a store locked by another program, a read-only store, hostile strings in
exports, and nothing about the server (its paths, its OS account) on the page.

Nothing at the top of this module imports ``radioviz.scan``: the spawned workers import this
module, and ``radioviz.scan``'s ``__init__`` imports torch (seconds per worker); they load the
store module alone (``_vetting``)."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import queue
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

import pytest

N_ROWS = 200  # labels in each damaged store
TRIALS = 5
OPENERS = 4  # processes (or threads) opening one damaged store at the same instant
PAGE = 4096


def _vetting():
    """``radioviz.scan.vetting`` without running ``radioviz.scan.__init__`` (workers only)."""
    if "radioviz.scan" not in sys.modules:
        import radioviz

        pkg = types.ModuleType("radioviz.scan")
        pkg.__path__ = [str(Path(radioviz.__file__).parent / "scan")]
        sys.modules["radioviz.scan"] = pkg
    import radioviz.scan.vetting as vetting

    return vetting


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _damaged_store(path: Path, where: str = "page") -> str:
    """A store of N_ROWS labels with one table page (or the file header) overwritten; returns
    the damaged file's sha256."""
    from radioviz.scan.vetting import LabelStore

    path.parent.mkdir(parents=True, exist_ok=True)
    LabelStore(path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO labels (candidate_id, field, ra, dec, score, label, comment, labeller, session) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f"c{i:04d}",
                "abell_0001",
                10 + i / 1000,
                -20.0,
                0.9,
                "halo",
                f"row-{i:04d} " + "x" * 200,
                "ana",
                "s1",
            )
            for i in range(N_ROWS)
        ],
    )
    con.execute("COMMIT")
    con.close()  # the last connection: everything is in the file, no -wal left
    assert not Path(f"{path}-wal").exists()
    data = bytearray(path.read_bytes())
    if where == "page":
        k = data.index(b"row-0100") // PAGE  # a table leaf in the middle
        assert k > 1
        data[k * PAGE : (k + 1) * PAGE] = b"\xff" * PAGE
    else:  # the 100-byte file header
        data[:100] = b"\x00damaged" * 12 + b"\x00" * 4
    path.write_bytes(bytes(data))
    return hashlib.sha256(bytes(data)).hexdigest()


def _opened(vetting, path: Path, t: int) -> dict:
    try:
        s = vetting.LabelStore(path)
        aside = s.set_aside.name if s.set_aside else None
        return {
            "t": t,
            "aside": aside,
            "recovered": getattr(s, "recovered", 0),
            "n": len(s.history()),
            "exc": "",
        }
    except BaseException as exc:  # reported, not lost in the worker
        return {"t": t, "aside": None, "recovered": 0, "n": -1, "exc": repr(exc)}


def _process_opener(base: str, trials: int, barrier, results) -> None:
    vetting = _vetting()
    for t in range(trials):
        try:
            barrier.wait(timeout=60)
        except threading.BrokenBarrierError:
            return
        results.put(_opened(vetting, Path(base) / f"t{t}" / "labels.sqlite", t))


def _thread_openers(base: str, trials: int, results) -> None:
    """One process whose threads open the store together, as the sessions of one Panel server."""
    vetting = _vetting()
    for t in range(trials):
        barrier = threading.Barrier(OPENERS)

        def one(t=t, barrier=barrier):
            barrier.wait(timeout=60)
            results.put(_opened(vetting, Path(base) / f"t{t}" / "labels.sqlite", t))

        threads = [threading.Thread(target=one) for _ in range(OPENERS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()


def _collect(procs, results, expected: int, timeout: float = 60.0) -> list[dict]:
    out, deadline = [], time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        try:
            out.append(results.get(timeout=0.2))
        except queue.Empty:
            if all(p.exitcode is not None for p in procs) and results.empty():
                break
    for p in procs:
        p.join(30)
    return out


def _trial_problems(base: Path, digests: list[str], results: list[dict]) -> dict[str, int]:
    """Per kind of failure, in how many trials it happened."""
    from radioviz.scan.vetting import LabelStore

    counts = {"original lost": 0, "set aside twice": 0, "rows not recovered": 0, "opener failed": 0}
    for t, digest in enumerate(digests):
        folder = base / f"t{t}"
        rs = [r for r in results if r["t"] == t]
        asides = [
            p for p in folder.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))
        ]
        counts["original lost"] += not any(_sha(p) == digest for p in asides)
        counts["set aside twice"] += len(asides) != 1 or sum(bool(r["aside"]) for r in rs) != 1
        live = len(LabelStore(folder / "labels.sqlite").history())
        counts["rows not recovered"] += not (
            N_ROWS - 20 <= live < N_ROWS and all(r["n"] == live for r in rs if not r["exc"])
        )
        counts["opener failed"] += len(rs) != OPENERS or any(r["exc"] for r in rs)
    return counts


def _damaged_trials(base: Path) -> list[str]:
    return [_damaged_store(base / f"t{t}" / "labels.sqlite") for t in range(TRIALS)]


def test_processes_opening_one_damaged_store_at_once_set_it_aside_once_and_lose_nothing(tmp_path):
    """Before: the second opener's rename moved the first one's fresh store onto the set-aside
    name (one-second time stamp): the damaged store's labels were gone in most trials."""
    digests = _damaged_trials(tmp_path)
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(OPENERS), ctx.Queue()
    procs = [
        ctx.Process(target=_process_opener, args=(str(tmp_path), TRIALS, barrier, results))
        for _ in range(OPENERS)
    ]
    for p in procs:
        p.start()
    got = _collect(procs, results, TRIALS * OPENERS)
    assert [p.exitcode for p in procs] == [0] * OPENERS
    counts = _trial_problems(tmp_path, digests, got)
    assert counts == dict.fromkeys(counts, 0), f"in {TRIALS} trials of {OPENERS} processes: {counts}"


def test_threads_of_one_server_opening_one_damaged_store_at_once_neither_crash_nor_lose(tmp_path):
    """Before: SQLite's -shm renamed under another thread's connection killed the process with
    SIGBUS (exit code -7), or LabelStore() raised FileNotFoundError."""
    digests = _damaged_trials(tmp_path)
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    proc = ctx.Process(target=_thread_openers, args=(str(tmp_path), TRIALS, results))
    proc.start()
    got = _collect([proc], results, TRIALS * OPENERS)
    assert proc.exitcode == 0, f"the server process died (exit code {proc.exitcode})"
    counts = _trial_problems(tmp_path, digests, got)
    assert counts == dict.fromkeys(counts, 0), f"in {TRIALS} trials of {OPENERS} threads: {counts}"


@pytest.mark.parametrize("where", ["page", "header"])
def test_rows_still_readable_in_a_damaged_store_are_recovered(tmp_path, where):
    from radioviz.scan.vetting import LabelStore

    path = tmp_path / "labels.sqlite"
    digest = _damaged_store(path, where)
    store = LabelStore(path, labeller="bo")
    rows = store.history()
    if where == "page":  # the rows on the overwritten page are gone, every other one is back
        assert N_ROWS - 20 <= len(rows) < N_ROWS
    else:  # a damaged header alone loses nothing
        assert len(rows) == N_ROWS
    assert all(
        lab.comment.startswith(f"row-{lab.candidate_id[1:]} ") and lab.labeller == "ana" for lab in rows
    )
    assert store.recovered == len(rows) and f"{len(rows)} label events" in store.notice
    assert "set aside" in store.notice and store.error == ""
    assert store.set_aside is not None and _sha(store.set_aside) == digest  # kept as it was
    store.set("new", "abell_0001", 1, 2, 0.5, "unsure")
    again = LabelStore(path)
    assert again.set_aside is None and again.notice == "" and len(again.history()) == len(rows) + 1


_LOCKER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA locking_mode=EXCLUSIVE")  # readers too are shut out until it closes
con.execute("BEGIN EXCLUSIVE")
con.execute("INSERT INTO labels (candidate_id, field, label) VALUES ('held', 'f', 'unsure')")
print("locked", flush=True)
sys.stdin.read()
con.execute("ROLLBACK")
con.close()
"""


def _filled(path: Path, n: int = 10, field: str = "f"):
    from radioviz.scan.vetting import LabelStore

    store = LabelStore(path, labeller="ana", session="s1")
    for i in range(n):
        store.set(f"{field}@{i},{i}", field, 10.0 + i, -20.0, 0.9, "halo")
    return store


def test_a_locked_store_opens_at_once_says_busy_and_recovers_when_the_lock_goes(tmp_path):
    """Before: opening waited BUSY_TIMEOUT_S (30 s) and then said 'cannot be stored here' for
    good, even after the lock was released."""
    from radioviz.scan.vetting import LabelSaveError, LabelStore

    path = tmp_path / "labels.sqlite"
    _filled(path)
    locker = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert locker.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        store = LabelStore(path, labeller="bo")
        opened_in = time.monotonic() - t0
        ready = threading.Event()
        store.on_ready = ready.set
        assert opened_in < 2.0, f"opening a locked store took {opened_in:.1f} s"
        assert "busy" in store.notice and "retrying" in store.notice and store.error == ""
        assert store.current() == []
        t0 = time.monotonic()
        with pytest.raises(LabelSaveError, match="busy"):
            store.set("x", "f", 1, 2, 0.5, "halo")
        assert time.monotonic() - t0 < 2.0
    finally:
        locker.stdin.close()  # the locker rolls back and closes: the lock goes
        locker.wait(10)
    assert ready.wait(10), "the store was not retried once the lock went"
    assert store.notice == "" and len(store) == 10  # its labels appear ...
    store.set("x", "f", 1, 2, 0.5, "halo")  # ... and saving works
    assert len(LabelStore(path)) == 11


_READER = """
import json, os, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from tests.scan.test_label_store_races import _vetting
vetting = _vetting()
if os.geteuid() == 0:  # root writes anywhere: drop to nobody once everything is imported
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
store = vetting.LabelStore(sys.argv[1], labeller="bo")
try:
    store.set("x", "f", 1, 2, 0.5, "halo")
    saved = "saved"
except vetting.LabelSaveError as exc:
    saved = str(exc)
print(json.dumps({"n": len(store.history()), "current": len(store), "notice": store.notice, "saved": saved}))
"""


@pytest.mark.parametrize("readonly", ["folder", "file"])
def test_a_read_only_store_shows_its_labels_and_says_it_cannot_save(readonly):
    """Before: a store this process could not write showed 0 of its 10 labels."""
    from radioviz.scan.vetting import LabelStore

    root = Path(tempfile.mkdtemp(prefix="radioviz-ro-"))  # not under pytest's root-only folder
    folder, path = root / "store", root / "store" / "labels.sqlite"
    try:
        folder.mkdir()
        _filled(path)
        LabelStore(path)  # its last connection closes: no -wal, no -shm left
        names = sorted(p.name for p in folder.iterdir())
        path.chmod(0o444)
        folder.chmod(0o555 if readonly == "folder" else 0o777)
        root.chmod(0o755)
        repo = str(Path(__file__).resolve().parents[2])
        out = subprocess.run(
            [sys.executable, "-c", _READER, str(path), repo],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
        )
        assert out.returncode == 0, out.stderr
        seen = json.loads(out.stdout.strip().splitlines()[-1])
        assert seen["n"] == 10 and seen["current"] == 10, seen
        assert "read-only: labels cannot be saved here" in seen["notice"], seen
        assert "NOT saved" in seen["saved"] and "read-only" in seen["saved"], seen
        assert str(root) not in seen["notice"] + seen["saved"]
        if readonly == "folder":
            assert sorted(p.name for p in folder.iterdir()) == names
    finally:
        for p in (root, folder, path):
            if p.exists():
                p.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


def test_exports_escape_every_user_string(tmp_path):
    """Before: a labeller name with '}' and a newline added a region of its own to the .reg file,
    and a comment with a newline and '#' broke the ECSV."""
    from astropy.table import Table
    from regions import Regions

    from radioviz.scan.vetting import LabelStore

    evil = "mallory} # color=red\ncircle(0,0,1) # text={pwn"
    comment = 'two\nlines, "quoted"\n# - {name: pwn, datatype: string}\n\nand a blank one'
    store = LabelStore(tmp_path / "labels.sqlite", labeller=evil, session="s1")
    store.set("a", "abell{1}#x", 10.0, -20.0, 0.9, "halo", comment)
    store.set("b", "f", 11.0, -21.0, 0.5, "not halo", '=HYPERLINK("http://x")', labeller="@bob")

    reg = store.export(tmp_path / "l.reg").read_text()
    regs = Regions.read(tmp_path / "l.reg", format="ds9")
    lines = reg.splitlines()
    assert len(regs) == 2 and len(lines) == 4 and sum(line.startswith("circle(") for line in lines) == 2
    assert [r.visual.get("edgecolor") for r in regs] == ["green", "red"]  # halo stays green
    assert regs[0].meta["text"] == "abell(1)_x halo 0.900 mallory) _ color=red circle(0,0,1) _ text=(pwn"

    csv = Table.read(store.export(tmp_path / "l.csv"), format="ascii.csv")
    assert len(csv) == 2 and csv["comment"][0] == comment and csv["labeller"][0] == evil  # exact
    assert csv["comment"][1] == "'" + '=HYPERLINK("http://x")' and csv["labeller"][1] == "'@bob"

    ecsv_path = store.export(tmp_path / "l.ecsv")
    ecsv = Table.read(ecsv_path, format="ascii.ecsv")
    assert len(ecsv) == 2 and "\n" not in ecsv["comment"][0] and "\\n# - {name: pwn" in ecsv["comment"][0]
    assert ecsv.colnames == list(csv.colnames) and "escapes" in ecsv.meta
    assert ecsv["labeller"][0] == evil.replace("\n", "\\n")


def test_messages_and_exports_name_the_store_by_file_name_only(tmp_path):
    """Before: notices, errors and the ECSV meta carried the store's absolute server path."""
    from radioviz.scan.vetting import LabelSaveError, LabelStore

    where = str(tmp_path)
    damaged = tmp_path / "a" / "labels.sqlite"
    damaged.parent.mkdir()
    damaged.write_bytes(b"not a database" * 100)
    assert "set aside" in LabelStore(damaged).notice and where not in LabelStore(damaged).notice
    blocked = tmp_path / "a_file"
    blocked.write_text("x")
    store = LabelStore(blocked / "labels.sqlite")
    assert "cannot be stored" in store.notice and where not in store.notice
    with pytest.raises(LabelSaveError) as err:
        store.set("a", "f", 1, 2, 0.5, "halo")
    assert where not in str(err.value)
    ok = LabelStore(tmp_path / "labels.sqlite")
    ok.set("a", "f", 1, 2, 0.5, "halo")
    assert ok.table().meta["store"] == "labels.sqlite"
    assert where not in ok.export(tmp_path / "l.ecsv").read_text()


@pytest.fixture
def server_account(monkeypatch):
    """The server's OS account, as getpass and the environment give it."""
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "svc-radioviz")
    for var in ("USER", "LOGNAME", "USERNAME"):
        monkeypatch.setenv(var, "svc-radioviz")
    return "svc-radioviz"


def test_fields_page_shows_neither_server_path_nor_os_account(tmp_path, server_account):
    """Before: the page showed the store's absolute path, and the Labeller box the server's OS
    account (e.g. 'root')."""
    import panel as pn

    from radioviz.app.fields import FieldsView

    view = FieldsView(labels_path=tmp_path / "labels.sqlite")
    assert server_account not in view.labeller
    layout = view.__panel__()
    shown = [str(m.object) for m in layout.select(pn.pane.Markdown)]
    boxes = [w for w in layout.select(pn.widgets.TextInput) if w.name == "Labeller"]
    shown += [f"{w.value} {w.placeholder}" for w in boxes]
    assert not [s for s in shown if str(tmp_path) in s or server_account in s]
    assert any("labels.sqlite" in s for s in shown)
    assert len(boxes) == 1 and boxes[0].value == "" and "guest-" in boxes[0].placeholder
    # a label saved with the box empty is attributed to this session's guest name
    view.candidates = [{"x": 5, "y": 6, "ra": 10.0, "dec": -20.0, "peak_score": 0.9}]
    assert view.label_candidate(0, "halo")
    (lab,) = view.labels.current()
    assert lab.labeller.startswith("guest-") and lab.labeller in boxes[0].placeholder


def test_fields_page_with_a_locked_store_loads_and_shows_labels_once_free(tmp_path):
    from radioviz.app.fields import FieldsView

    path = tmp_path / "labels.sqlite"
    _filled(path, 3, field="sim_0100")
    locker = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert locker.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        view = FieldsView(labels_path=path)
        assert "busy" in view.message and time.monotonic() - t0 < 20
        assert view.field == "sim_0100" and view._latest == {}
    finally:
        locker.stdin.close()
        locker.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "busy" in view.message:
        time.sleep(0.1)
    assert view.message == "" and len(view._latest) == 3
