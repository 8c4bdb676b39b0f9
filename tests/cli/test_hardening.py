"""Bad input, tampered models and remote users: the fuzz corpus and the rules behind it."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from radioviz.app import resources
from radioviz.data.inspect import inspect_path
from radioviz.errors import (
    CorruptFileError,
    EmptyImageError,
    InputError,
    TooLargeError,
    UnreadableError,
    error_line,
)
from radioviz.io.fits import check_fits, read_planes
from radioviz.models import registry
from radioviz.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from radioviz.models.classifiers import build_classifier

from .. import fuzz_corpus as fz
from ..conftest import REPO

CLASSIFIERS = registry.builders("classifier", registry.WINDOW)  # the window classifiers' constructors

torch.set_num_threads(1)


# -- the corpus ----------------------------------------------------------------------------------


def test_fuzz_corpus_every_command_one_line_or_a_correct_result(tmp_path, capsys):
    """Every malformed FITS, mask and tampered card through every command that reads it."""
    t0 = time.time()
    corpus = fz.Corpus(tmp_path, timeout=120)
    tally = corpus.run_all()
    counts = tally.counts()
    with capsys.disabled():
        print(f"\n{tally.summary()} ({time.time() - t0:.0f} s)")
    bad = "\n".join(f"{r.outcome}: {r.case} / {r.command}: {r.line}" for r in tally.bad())
    assert counts["traceback"] == counts["hang"] == counts["wrong_success"] == counts["wrong_refusal"] == 0, (
        bad
    )
    assert counts["correct"] >= 30 and counts["clean"] >= 300  # the corpus really ran
    # a refusal names the file and says what is wrong with it
    lines = {(r.case, r.command): r.line for r in tally.runs}
    assert (
        "gzip" in lines[("gz_corrupt_mid", "data build")]
        and "victim_Gleam72-103" in lines[("gz_corrupt_mid", "data build")]
    )
    assert "RADIOVIZ_MAX_PIXELS" in lines[("gz_header_1e12", "scan")]
    assert "smaller than the 64×64 cut-out" in lines[("band_10x10", "evaluate-classifier")]
    assert "all Inf" in lines[("all_inf", "data build")]
    assert "NaN or infinite" in lines[("card:weights_all_nan", "evaluate-classifier")]


@pytest.mark.parametrize("case", ["gz_corrupt_mid", "gz_header_1e12", "symlink_loop", "band_1x1"])
def test_a_sample_of_the_corpus_in_a_real_process(tmp_path, case):
    """The same refusals from ``python -m radioviz.cli`` (strict UTF-8 terminal, fresh process)."""
    (c,) = [c for c in fz.fits_cases() if c.name == case]
    root = tmp_path / "root"
    fz.write_root(root, c)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8:strict"}
    r = subprocess.run(
        [sys.executable, "-m", "radioviz.cli", "data", "build", "--data", str(root), "--no-augment"]
        + ["--cache-dir", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode != 0 and "Traceback" not in r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("radioviz: error: ")]
    assert len(errors) == 1 and "victim_Gleam72-103" in errors[0]


def test_non_utf8_file_names_print_escaped_in_a_real_process(tmp_path):
    d = os.fsencode(str(tmp_path))
    for k, b in enumerate(fz.BANDS):
        with open(d + b"/caf\xe9_Gleam" + b.encode() + b"_clipped.fits", "wb") as fh:
            fh.write(fz.good_bytes(fz.SIZE, k))
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8:strict"}
    r = subprocess.run(
        [sys.executable, "-m", "radioviz.cli", "data", "inspect", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert "caf\\udce9" in r.stdout and "1 sources" in r.stdout


# -- reading -------------------------------------------------------------------------------------


def test_pixel_budget_is_checked_from_the_header_and_configurable(tmp_path, monkeypatch):
    p = tmp_path / "x.fits"
    p.write_bytes(fz.good_bytes(72))
    assert check_fits(p) == 72 * 72
    monkeypatch.setenv("RADIOVIZ_MAX_PIXELS", "1000")
    with pytest.raises(TooLargeError, match=r"72×72 = 5.18e\+03 pixels, over the budget of 1e\+03"):
        read_planes(p)
    big = tmp_path / "big.fits.gz"
    big.write_bytes(gzip.compress(fz._huge_header(1_000_000, 1_000_000)))
    monkeypatch.delenv("RADIOVIZ_MAX_PIXELS")
    t0 = time.time()
    with pytest.raises(TooLargeError, match="1e\\+12 pixels"):
        read_planes(big)
    assert time.time() - t0 < 5


def test_corrupt_gzip_is_refused_where_astropy_reads_it(tmp_path):
    from astropy.io import fits

    p = tmp_path / "x.fits.gz"
    fz._gz(fz.good_bytes, corrupt=True)(p)
    with fits.open(p) as h:  # astropy alone reads the garbage (its CRC is never checked)
        assert h[0].data.shape == (fz.SIZE, fz.SIZE)
    with pytest.raises(CorruptFileError, match="corrupt gzip stream"):
        read_planes(p)


def test_inf_pixels_are_blanks_and_all_inf_is_named(tmp_path):
    d = fz.image().astype(np.float32)
    d[0, :3] = [np.inf, -np.inf, np.nan]
    p = tmp_path / "x.fits"
    p.write_bytes(fz._hdu_bytes(d, fz.header()))
    (im,) = read_planes(p)
    assert np.isnan(im.data[0, :3]).all() and np.isfinite(im.data[1:]).all()
    p.write_bytes(fz._hdu_bytes(np.full((8, 8), np.inf, np.float32), fz.header(8)))
    with pytest.raises(EmptyImageError, match="all Inf"):
        read_planes(p)


def test_paths_that_are_not_files_are_named_and_never_opened(tmp_path):
    for name, make in (("loop.fits", fz._loop), ("pipe.fits", fz._fifo), ("dir.fits", fz._dir)):
        make(tmp_path / name)
    (tmp_path / "gone.fits").symlink_to(tmp_path / "nowhere.fits")
    with pytest.raises(UnreadableError, match="symbolic link loop"):
        read_planes(tmp_path / "loop.fits")
    with pytest.raises(UnreadableError, match="not a regular file"):
        read_planes(tmp_path / "pipe.fits")  # opening a FIFO would wait for a writer forever
    with pytest.raises(UnreadableError, match="is a directory"):
        read_planes(tmp_path / "dir.fits")
    with pytest.raises(InputError, match="broken symbolic link"):
        read_planes(tmp_path / "gone.fits")
    report = inspect_path(tmp_path)
    assert not report.ok and len(report.errors) == 4


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_one_line(tmp_path):
    p = tmp_path / "x.fits"
    fz._unreadable(p)
    with pytest.raises(UnreadableError, match="permission denied"):
        read_planes(p)


def test_error_line_translates_os_encoding_and_memory_errors():
    assert error_line(PermissionError(13, "Permission denied", "/d/x.fits")) == (
        "radioviz: error: /d/x.fits: permission denied"
    )
    assert (
        error_line(IsADirectoryError(21, "Is a directory", "/d"))
        == "radioviz: error: /d: is a directory, not a file"
    )
    line = error_line(OSError(40, "Too many levels of symbolic links", "/d/caf\udce9.fits"))
    assert line == "radioviz: error: /d/caf\\udce9.fits: symbolic link loop"
    line.encode("utf-8")  # printable on any UTF-8 terminal
    assert "out of memory" in error_line(MemoryError())
    assert "radioviz: error: " in error_line(UnicodeEncodeError("utf-8", "caf\udce9", 3, 4, "surrogates"))
    assert error_line(ZeroDivisionError()) is None  # a bug keeps its traceback


def test_hash_files_permission_error_is_one_line(tmp_path, monkeypatch, capsys):
    from radioviz.cli import main

    root = tmp_path / "root"
    fz.write_root(root, None)

    def deny(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    assert main(["data", "build", "--data", str(root), "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip().splitlines()[-1].endswith(
        "_clipped.fits: cannot be read (permission denied)"
    )


# -- models --------------------------------------------------------------------------------------


def _tiny(tmp_path, name="m"):
    torch.manual_seed(0)
    model = build_classifier("L")
    return model, save_checkpoint(model, tmp_path / name, {"kind": "classifier", "arch": "L", "kwargs": {}})


def test_nan_weights_are_refused_naming_file_and_tensor(tmp_path):
    from safetensors.torch import load_file, save_file

    _, path = _tiny(tmp_path)
    state = load_file(str(path))
    key = sorted(state)[0]
    state[key] = torch.full_like(state[key], float("nan"))
    save_file(state, str(path))
    with pytest.raises(CheckpointError, match=rf"m.safetensors: weight {key} has \d+ of \d+ values NaN"):
        load_checkpoint(path, CLASSIFIERS)


def test_a_card_claiming_a_huge_network_is_refused_before_anything_is_built(tmp_path):
    from radioviz.sampling.generate import load_generator

    huge = fz.write_card_case(fz.CardCase("huge", "edm_mask_gleam", fz._set("kwargs.base", 4096)), tmp_path)
    wide = fz.write_card_case(fz.CardCase("wide", "edm_mask_gleam", fz._set("kwargs.base", 256)), tmp_path)
    t0 = time.time()
    with pytest.raises(CheckpointError, match="huge.json: model card field 'kwargs.base'"):
        load_generator(huge)  # out of the card's bounds
    # within bounds but not what the weights hold: compared on the meta device, nothing allocated
    with pytest.raises(CheckpointError, match=r"wide.safetensors: weight .* has shape .* needs"):
        load_generator(wide)
    assert time.time() - t0 < 10


@pytest.mark.parametrize(
    "edit, text",
    [
        (lambda c: [c], "JSON list, not an object"),
        (fz._set("kwargs", [1]), "field 'kwargs': must be an object"),
        (fz._set("kind", 3), "field 'kind'"),
        (fz._drop("arch"), "field 'arch': missing"),
        (fz._set("kwargs", {"wings": 2}), "field 'kwargs': .*unexpected keyword argument 'wings'"),
    ],
)
def test_tampered_cards_name_the_card_and_the_field(tmp_path, edit, text):
    _, path = _tiny(tmp_path)
    card = path.with_suffix(".json")
    card.write_text(json.dumps(edit(json.loads(card.read_text()))))
    with pytest.raises(CheckpointError, match=text) as e:
        load_checkpoint(path, CLASSIFIERS)
    assert "m.json" in str(e.value) or "m.safetensors" in str(e.value)


def test_valid_checkpoint_loads_the_same_weights(tmp_path):
    model, path = _tiny(tmp_path)
    loaded, card = load_checkpoint(path, CLASSIFIERS, kind="classifier")
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    assert not next(loaded.parameters()).is_meta


# -- serving: data root, messages, uploads -------------------------------------------------------


@pytest.fixture
def root(tmp_path, monkeypatch):
    r = tmp_path / "shared"
    fz.write_source(r / "fields", "abell_0001", 10.0, 0)
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.fits").write_bytes(fz.good_bytes())
    (r / "escape").symlink_to(tmp_path / "secret")
    monkeypatch.setattr(resources, "_DATA_ROOT", None)
    monkeypatch.setenv("RADIOVIZ_DATA_ROOT", str(r))
    return r.resolve()


def test_data_root_refuses_everything_outside_it_alike(root, tmp_path):
    assert resources.resolve_user_path("fields") == root / "fields"
    assert resources.resolve_user_path(str(root / "fields")) == root / "fields"
    assert resources.resolve_user_path("") == root
    msgs = set()
    assert resources.resolve_user_path("~") == root / "~"  # not the server account's home
    for text in ("/etc", "/root/.bashrc", "/no/such/place", "../secret", "escape", "escape/key.fits"):
        with pytest.raises(resources.PathPolicyError) as e:
            resources.resolve_user_path(text)
        msgs.add(str(e.value).replace(text, "<typed>"))
    assert msgs == {"<typed>: outside the data folder this server shares"}  # reveals nothing


def test_messages_show_no_server_path(root):
    text = f"{root}/fields/x_Gleam72-103.fits: not a FITS file; see {REPO}/checkpoints/a.json"
    text += " and /srv/other/y.fits"
    shown = resources.public_message(text)
    assert str(root) not in shown and str(REPO) not in shown and "/srv" not in shown
    assert shown.startswith("fields/x_Gleam72-103.fits: not a FITS file") and "y.fits" in shown


def test_fields_view_stays_inside_the_data_root(root, tmp_path):
    from radioviz.app.fields import FieldsView

    view = FieldsView(labels_path=tmp_path / "labels.ecsv")
    # the first screen is the root's folder of fields, shown relative to the root: never an error
    assert view.data_dir == "fields" and view.field == "abell_0001" and view.message == ""
    view.data_dir = "."
    assert view.field is None and "no FITS images" in view.message and str(root) not in view.message
    view.data_dir = "fields"
    assert view.field == "abell_0001" and view.message == ""
    for typed in ("/etc", "escape", str(tmp_path / "secret")):
        view.data_dir = typed
        assert "outside the data folder" in view.message and view.field == "abell_0001"
        assert str(tmp_path) not in view.message
    view.data_dir = "fields/missing"
    assert view.message and str(root) not in view.message


def test_uploads_limited_in_bytes_and_pixels_and_leave_no_folder(root, tmp_path, monkeypatch):
    import tempfile

    from radioviz.app.fields import FieldsView

    before = set(Path(tempfile.gettempdir()).glob("radioviz-upload-*"))
    view = FieldsView(labels_path=tmp_path / "labels.ecsv")
    huge = gzip.compress(fz._huge_header(16000, 16000))
    assert not view.upload(["big_Gleam72-103_clipped.fits.gz"], [huge])
    assert "big_Gleam72-103_clipped.fits.gz: header declares 16000×16000" in view.message
    assert "/tmp" not in view.message and "radioviz-upload" not in view.message
    monkeypatch.setenv("RADIOVIZ_MAX_UPLOAD_BYTES", "1000")
    assert not view.upload(["x.fits"], [fz.good_bytes()])
    assert "over the 0 MB limit" in view.message or "limit" in view.message
    monkeypatch.delenv("RADIOVIZ_MAX_UPLOAD_BYTES")
    names = [f"mine_Gleam{b}_clipped.fits" for b in fz.BANDS]
    assert view.upload(["../../" + names[0], *names[1:]], [fz.good_bytes(72, k) for k in range(4)])
    assert view.field == "mine" and view.data_dir.startswith("upload: mine_Gleam72-103")
    assert len(set(Path(tempfile.gettempdir()).glob("radioviz-upload-*")) - before) == 1
    view._forget_uploads()  # what the end of the session does
    assert set(Path(tempfile.gettempdir()).glob("radioviz-upload-*")) == before


def test_compare_real_root_is_inside_the_data_root(root, tmp_path):
    from radioviz.app.compare_view import CompareView

    view = CompareView()
    assert view.real_root == "."
    view.real_root = str(tmp_path / "secret")
    assert view.compare(np.zeros((2, 4, 64, 64), np.float32), {"label": "H"}) is None
    assert "outside the data folder" in view.alert.object and str(tmp_path) not in view.alert.object
