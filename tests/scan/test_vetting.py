import multiprocessing as mp
import os
import signal
import sqlite3
import time

import pytest
from astropy.table import Table

from radioviz.scan import vetting
from radioviz.scan.vetting import LabelSaveError, LabelStore, default_labels_path


def test_labels_are_saved_on_every_change_and_survive_a_restart(tmp_path):
    path = tmp_path / "labels.sqlite"
    store = LabelStore(path, labeller="ana", session="s1")
    store.set("f1#1", "abell_0122", 14.35, -26.28, 0.97, "halo", "clear diffuse emission")
    assert len(LabelStore(path)) == 1
    store.set("f1#2", "abell_0122", 14.5, -26.0, 0.96, "unsure")
    store.set("f1#1", "abell_0122", 14.35, -26.28, 0.97, "not halo", "a blend of two point sources")
    again = LabelStore(path)  # e.g. after the server restarted
    assert len(again) == 2 and again.get("f1#1").label == "not halo"
    assert again.get("f1#1").comment == "a blend of two point sources" and again.get("f1#2").comment == ""
    assert again.get("f1#1").labeller == "ana" and again.get("f1#1").session == "s1"
    assert len(again.history()) == 3  # the log keeps every event
    again.remove("f1#2")
    assert len(LabelStore(path)) == 1
    with pytest.raises(ValueError):
        again.set("x", "f", 0, 0, 0.5, "maybe")


def test_two_labellers_on_one_candidate_both_keep_their_say(tmp_path):
    a = LabelStore(tmp_path / "l.sqlite", labeller="ana")
    b = LabelStore(tmp_path / "l.sqlite", labeller="bo")
    a.set("c", "f", 1, 2, 0.9, "halo")
    b.set("c", "f", 1, 2, 0.9, "not halo")
    assert sorted((lab.labeller, lab.label) for lab in a.current("f")) == [
        ("ana", "halo"),
        ("bo", "not halo"),
    ]
    assert a.latest("f")["c"].label == "not halo" and a.current("other") == []


def test_exports_carry_field_classifier_stride_threshold_time_and_labeller(tmp_path):
    store = LabelStore(tmp_path / "l.sqlite", labeller="ana", session="s1")
    kw = {"classifier": "classifier_L.safetensors", "stride": 4, "threshold": 0.9}
    store.set("a", "fieldA", 10.0, -20.0, 0.9996, "halo", **kw)
    store.set("b", "fieldA", 10.5, -20.5, 0.95, "not halo", **kw)
    csv = Table.read(store.export(tmp_path / "out.csv"), format="ascii.csv")
    assert list(csv["label"]) == ["halo", "not halo"]
    for col in ("field", "classifier", "stride", "threshold", "time", "labeller", "session"):
        assert col in csv.colnames
    assert list(csv["classifier"]) == ["classifier_L.safetensors"] * 2 and list(csv["stride"]) == [4, 4]
    assert len(Table.read(store.export(tmp_path / "out.ecsv"))) == 2
    reg = store.export(tmp_path / "out.reg").read_text()
    assert reg.count("circle(") == 2 and "color=green" in reg and "color=red" in reg
    assert "halo 0.999" in reg and "not halo 0.950" in reg  # never rounded up to 1.00
    from regions import Regions

    assert len(Regions.read(tmp_path / "out.reg", format="ds9")) == 2
    with pytest.raises(ValueError):
        store.export(tmp_path / "out.txt")


def _writer(path, who, n):
    store = LabelStore(path, labeller=who, session=who)
    for i in range(n):
        store.set(f"{who}#{i}", "f", 10.0, -20.0, 0.5, "halo")


def test_many_processes_lose_no_label(tmp_path):
    path = tmp_path / "labels.sqlite"
    LabelStore(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, f"w{k}", 25)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = LabelStore(path)
    assert len(store.history()) == 100 and len(store) == 100
    assert len(Table.read(store.export(tmp_path / "all.ecsv"))) == 100


def _endless_writer(path):
    store = LabelStore(path, labeller="k")
    i = 0
    while True:
        store.set(f"c{i}", "f", 1.0, 2.0, 0.5, "unsure")
        i += 1


def test_a_killed_writer_leaves_no_temp_file_and_no_half_row(tmp_path):
    path = tmp_path / "labels.sqlite"
    LabelStore(path)
    p = mp.get_context("spawn").Process(target=_endless_writer, args=(path,))
    p.start()
    deadline = time.time() + 60
    while time.time() < deadline and len(LabelStore(path).history()) < 20:
        time.sleep(0.1)
    os.kill(p.pid, signal.SIGKILL)
    p.join()
    n = len(LabelStore(path).history())
    assert n >= 20
    names = {f.name for f in tmp_path.iterdir()}
    # the sidecar lock file stays by design (removing a lock file others may hold races them)
    assert names <= {"labels.sqlite", "labels.sqlite-wal", "labels.sqlite-shm", "labels.sqlite.lock"}, names
    assert all(lab.label == "unsure" for lab in LabelStore(path).history())


def test_a_corrupt_store_is_set_aside_and_reported(tmp_path):
    path = tmp_path / "labels.sqlite"
    path.write_bytes(b"this is not an SQLite database at all" * 100)
    store = LabelStore(path)
    assert store.set_aside is not None and store.set_aside.exists()
    assert "set aside" in store.notice and store.error == ""
    store.set("a", "f", 1, 2, 0.5, "halo")  # a fresh store works
    assert len(LabelStore(path)) == 1


def test_a_store_that_cannot_be_written_fails_loudly(tmp_path):
    blocked = tmp_path / "a_file"
    blocked.write_text("x")
    store = LabelStore(blocked / "labels.sqlite")  # its folder is a file
    assert store.error and "cannot be stored" in store.notice and store.current() == []
    with pytest.raises(LabelSaveError, match="NOT saved"):
        store.set("a", "f", 1, 2, 0.5, "halo")


def test_a_full_disk_is_reported(tmp_path, monkeypatch):
    store = LabelStore(tmp_path / "l.sqlite")

    class Full:
        def execute(self, *a):
            raise sqlite3.OperationalError("database or disk is full")

        def close(self):
            pass

    monkeypatch.setattr(store, "_connect", lambda: Full())
    with pytest.raises(LabelSaveError, match="disk is full"):
        store.set("a", "f", 1, 2, 0.5, "halo")


def test_default_path_is_per_user_never_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("RADIOVIZ_LABELS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_labels_path() == tmp_path / "xdg" / "radioviz" / "labels.sqlite"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert str(default_labels_path()).startswith(os.path.expanduser("~/.local/share/radioviz"))
    monkeypatch.setenv("RADIOVIZ_LABELS", str(tmp_path / "mine.sqlite"))
    assert vetting.default_labels_path() == tmp_path / "mine.sqlite"
