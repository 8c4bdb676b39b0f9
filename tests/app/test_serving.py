"""Safe to serve to a group (#29), at the view level: no connection to an address a page typed,
memory an upload may take bounded before anything is decoded and given back with the session,
and no traceback for a path a user typed (a link loop, a name too long)."""

from __future__ import annotations

import gc
import socket
import time
import weakref
from pathlib import Path

import pytest

from radioviz.app import resources, schedulers
from radioviz.errors import InputError

from .. import bombs
from .. import fuzz_corpus as fz

BUDGET = resources.DEFAULT_MAX_UPLOAD_PIXELS  # 4096 × 4096 × 4


@pytest.fixture(autouse=True)
def _policy(monkeypatch):
    for env in (
        "RADIOVIZ_DATA_ROOT",
        "RADIOVIZ_DASK_SCHEDULER",
        "RADIOVIZ_ALLOW_SCHEDULERS",
        "RADIOVIZ_MAX_UPLOAD_PIXELS",
        "RADIOVIZ_MAX_SESSION_PIXELS",
    ):
        monkeypatch.delenv(env, raising=False)
    yield
    schedulers.set_schedulers(None)
    resources.set_data_root(None)


@pytest.fixture
def listener():
    """A local listening socket: (its tcp:// address, a function telling whether anything connected
    within ``wait`` seconds)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)

    def connected(wait: float) -> bool:
        s.settimeout(wait)
        try:
            conn, _ = s.accept()
        except TimeoutError:
            return False
        conn.close()
        return True

    yield f"tcp://127.0.0.1:{s.getsockname()[1]}", connected
    s.close()


# -- 1. no outbound connection from a page's input --------------------------------------------------


def test_typed_scheduler_is_refused_and_never_connected_without_an_operator_scheduler(listener):
    from radioviz.app.survey_view import SurveyView

    address, connected = listener
    v = SurveyView(scheduler=address)  # however it got there, a run refuses it before connecting
    v.start()
    assert not connected(3.0), "the server connected to an address a page typed"
    v._job.join(60)
    assert v.status.startswith("Error:") and "embedded Dask cluster only" in v.status, v.status
    v = SurveyView()
    assert v.scheduler == ""
    v.scheduler = address  # what typing in the box does
    assert v.scheduler == "" and "Refused" in v.status and "embedded Dask cluster only" in v.status
    assert not connected(0.5)


def test_operator_scheduler_is_shown_and_only_allowed_ones_are_taken(listener, monkeypatch):
    from radioviz.app.survey_view import SurveyView

    address, connected = listener
    operator = "tcp://10.0.0.7:8786"
    monkeypatch.setenv("RADIOVIZ_DASK_SCHEDULER", operator)
    schedulers.set_schedulers(None, ["dask.example.org:8786"])
    v = SurveyView()
    assert v.scheduler == operator  # the box shows the operator's scheduler
    v.scheduler = address
    assert v.scheduler == operator and "not a Dask scheduler this server allows" in v.status
    assert f"Kept {operator}" in v.status
    v.scheduler = " TCP://dask.example.org:8786 "  # an allowed one, however spelled
    assert v.scheduler.strip().lower() == "tcp://dask.example.org:8786" and v.status == ""
    assert schedulers.check_scheduler(" TCP://dask.example.org:8786 ") == "dask.example.org:8786"
    assert schedulers.check_scheduler("") is None  # empty: the embedded cluster
    for bad in (
        address,
        "tcp://dask.example.org:8787",
        "tcp://dask.example.org.evil:8786",
        "inproc://x",
        "tcp://user@dask.example.org:8786/x",
    ):
        with pytest.raises(schedulers.SchedulerPolicyError):
            schedulers.check_scheduler(bad)
    assert not connected(0.5)


def test_launch_arguments_set_the_schedulers_and_refuse_a_bad_one():
    from radioviz.app.main import configure

    configure(
        ["--dask-scheduler", "tcp://127.0.0.1:8786", "--allow-scheduler", "h:1", "--allow-scheduler", "g:2"]
    )
    assert schedulers.dask_scheduler() == "tcp://127.0.0.1:8786"
    assert schedulers.allowed_schedulers() == ["tcp://127.0.0.1:8786", "h:1", "g:2"]
    configure([])
    assert schedulers.allowed_schedulers() == []
    with pytest.raises(SystemExit):
        configure(["--allow-scheduler", "not an address"])


# -- 2. memory bounded by design ------------------------------------------------------------------------


def _fields(tmp_path):
    from radioviz.app.fields import FieldsView

    return FieldsView(labels_path=str(tmp_path / "labels.ecsv"))


def test_gzip_fits_of_30_hdus_is_refused_at_its_second_header(tmp_path):
    """9.7 MB of gzip declaring 30 images of 16384×4096 (8 GB): refused once the headers seen
    pass the budget — after one HDU's data, not 30 (the old check decompressed all of it, 77 s)."""
    fv = _fields(tmp_path)
    p = bombs.fits_gz(tmp_path / "bomb_Gleam72-103_clipped.fits.gz", (16384, 4096), hdus=30)
    t0 = time.perf_counter()
    assert not fv.upload([p.name], [p.read_bytes()])
    assert time.perf_counter() - t0 < 15
    msg = fv.message
    assert "bomb_Gleam72-103_clipped.fits.gz: headers declare 4096×16384 + 4096×16384" in msg, msg
    assert "134,217,728 pixels" in msg and "67,108,864 pixels" in msg and "RADIOVIZ_MAX_UPLOAD_PIXELS" in msg
    assert "/tmp" not in msg and "radioviz-upload" not in msg


def test_npz_of_8192_zero_images_is_refused_before_loading(tmp_path):
    from radioviz.app.compare_view import CompareView

    cv = CompareView()
    p = bombs.npz(tmp_path / "samples.npz", 8192)  # 4 MB of zip, 2 × 2 GiB of float32
    assert p.stat().st_size < 5_000_000
    t0 = time.perf_counter()
    assert not cv.upload(p.name, p.read_bytes())
    assert time.perf_counter() - t0 < 5
    msg = cv.alert.object
    assert "samples.npz: array declares images 8192×4×128×128 float32 = 536,870,912 values" in msg, msg
    assert "2.15 GB decoded" in msg and "RADIOVIZ_MAX_UPLOAD_PIXELS" in msg
    (tmp_path / "good").mkdir()
    good = fz.Corpus(tmp_path / "good").samples()
    assert cv.upload("samples.npz", good.read_bytes())  # a real samples file still loads


def test_total_over_all_files_of_an_upload(tmp_path):
    """Four band files each well under the budget, 70.6 million pixels together: the old check
    (per HDU) took them all; the total refuses the fourth by name, before reading it."""
    fv = _fields(tmp_path)
    files = [bombs.fits_gz(tmp_path / f"big_Gleam{b}_clipped.fits.gz", (4200, 4200)) for b in fz.BANDS]
    assert not fv.upload([f.name for f in files], [f.read_bytes() for f in files])
    msg = fv.message
    assert "big_Gleam170-231_clipped.fits.gz: header declares 4200×4200" in msg, msg
    assert "with the upload's other files" in msg and "70,560,000 pixels" in msg
    assert "RADIOVIZ_MAX_UPLOAD_PIXELS" in msg


def test_refusal_numbers_differ_and_name_the_upload_variable(tmp_path):
    """One row over the budget: the two numbers differ where they are printed, and the variable
    named is the one that sets the upload budget (the old message printed 6.71e+07 twice and
    named RADIOVIZ_MAX_PIXELS)."""
    fv = _fields(tmp_path)
    p = bombs.fits_gz(tmp_path / "over.fits.gz", (4, 4097, 4096))
    assert not fv.upload([p.name], [p.read_bytes()])
    msg = fv.message
    assert "67,125,248 pixels" in msg and "67,108,864 pixels" in msg, msg
    assert "RADIOVIZ_MAX_UPLOAD_PIXELS" in msg and "RADIOVIZ_MAX_PIXELS" not in msg
    assert "over.fits.gz: header declares 4096×4097×4" in msg


def test_session_budget_counts_the_other_boxes(tmp_path, monkeypatch):
    """What a session holds from its other upload boxes counts against a new upload; the same
    box's last upload does not (it is being replaced)."""
    from radioviz.app import session_memory
    from radioviz.app.compare_view import CompareView

    monkeypatch.setattr(session_memory, "_LOCAL", session_memory.SessionMemory())  # this test's own

    fv, cv = _fields(tmp_path), CompareView()
    field = [tmp_path / f"f_Gleam{b}_clipped.fits" for b in fz.BANDS]
    for k, f in enumerate(field):
        f.write_bytes(fz.good_bytes(600, k))  # 4 × 600² float32: 5.76 MB decoded
    samples = bombs.npz(tmp_path / "s.npz", 40, 64)  # 2 × 2.6 MB decoded, and meta
    monkeypatch.setenv("RADIOVIZ_MAX_SESSION_PIXELS", str(2_000_000))  # 8 MB decoded
    assert fv.upload([f.name for f in field], [f.read_bytes() for f in field])
    assert fv.upload([f.name for f in field], [f.read_bytes() for f in field])  # replaces: fine
    assert not cv.upload(s := samples.name, samples.read_bytes())
    msg = cv.alert.object
    assert f"{s}: 5.24 MB decoded" in msg and "already holds 5.76 MB" in msg, msg
    assert "RADIOVIZ_MAX_SESSION_PIXELS" in msg and "2,000,000 pixels" in msg
    fv._session_ended()  # the field goes: the samples fit
    assert cv.upload(samples.name, samples.read_bytes()), cv.alert.object


def test_uploaded_field_is_freed_with_its_session_not_kept_by_process_caches(tmp_path):
    """The clipped field, display planes, sky grid and limits of an upload are cached with the
    upload: none stays referenced once the session ends (they were process-wide lru_caches keyed
    by the deleted folder)."""
    from radioviz.app import fields_display as fields_mod

    fv = _fields(tmp_path)
    files = [tmp_path / f"up_Gleam{b}_clipped.fits" for b in fz.BANDS]
    for k, f in enumerate(files):
        f.write_bytes(fz.good_bytes(96, k))
    assert fv.upload([f.name for f in files], [f.read_bytes() for f in files])
    root, name = fv._root(), fv.field
    held = [
        resources.clipped_field(root, name),
        resources.display_planes(root, name),
        resources.central_cutout(root, name),
        *fields_mod._sky_grid(root, name, 3),
    ]
    fields_mod._big_limits(root, name, 3, 99.5)
    refs = [weakref.ref(x) for x in held]
    del held
    fv._session_ended()
    del fv  # the session's own objects go with it; nothing process-wide may keep the field
    gc.collect()
    assert not Path(root).exists()
    alive = [r for r in refs if r() is not None]
    assert not alive, f"{len(alive)} arrays of the uploaded field outlived its session"


# -- 3. typed paths never raise -----------------------------------------------------------------------


@pytest.fixture
def served_root(tmp_path):
    root = tmp_path / "root"
    fz.write_source(root / "fields", "abell_0001", 10.0, 0)
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")
    out = tmp_path / "outside"
    out.mkdir()
    (out / "loopA").symlink_to(out / "loopB")
    (out / "loopB").symlink_to(out / "loopA")
    resources.set_data_root(root)
    return root, out


def test_link_loops_and_long_names_get_the_one_line_refusal(served_root):
    root, out = served_root
    outside = "outside the data folder this server shares"
    cases = {
        "loop1": outside,
        "loop1/x": outside,
        str(out / "loopA"): outside,  # as for any other outside path, existing or not
        str(out / "missing"): outside,
        "a" * 300: "no such file or directory",
        "fields/" + "b" * 300: "no such file or directory",
        "c" * 300 + "/d": "no such file or directory",
        "/" + "e" * 300: outside,
    }
    for typed, problem in cases.items():
        with pytest.raises(resources.PathPolicyError) as err:
            resources.resolve_user_path(typed)
        assert str(err.value) == f"{typed}: {problem}", (typed[:40], str(err.value))


def test_path_boxes_answer_loops_and_long_names_on_the_page(served_root, tmp_path):
    from radioviz.app.compare_view import CompareView
    from radioviz.app.survey_view import SurveyView

    fv = _fields(tmp_path)
    for typed in ("loop1", "a" * 300, "c" * 300 + "/d"):
        fv.data_dir = typed  # raised a RuntimeError / OSError (a traceback in the log) before
        assert fv.message and ("outside the data folder" in fv.message or "no such file" in fv.message)
        assert "\n" not in fv.message and "Traceback" not in fv.message
    cv = CompareView()
    for typed in ("loop1", "a" * 300):
        cv.real_root = typed
        cv.compare(*_samples())
        assert cv.alert.visible and (
            "outside the data folder" in cv.alert.object or "no such file" in cv.alert.object
        )
    sv = SurveyView()
    for typed in ("loop1", "a" * 300):
        sv.target = typed
        sv.run()
        assert sv.status.startswith("Error:") and "RuntimeError" not in sv.status, sv.status
        assert "outside the data folder" in sv.status or "no such file" in sv.status


def test_without_a_data_root_a_loop_is_named_in_one_line(tmp_path):
    (tmp_path / "l1").symlink_to(tmp_path / "l2")
    (tmp_path / "l2").symlink_to(tmp_path / "l1")
    fv = _fields(tmp_path)
    fv.data_dir = str(tmp_path / "l1")
    assert "symbolic link loop" in fv.message
    fv.data_dir = str(tmp_path / ("z" * 300))
    assert "file name too long" in fv.message
    with pytest.raises(InputError):
        resources.resolve_user_path(str(tmp_path / ("z" * 300)))


def _samples():
    import numpy as np

    phys = np.abs(np.random.default_rng(0).normal(0, 0.05, (4, 4, 64, 64))).astype(np.float32)
    return phys, {"checkpoint": "edm_gleam.safetensors", "label": "non-halo"}
