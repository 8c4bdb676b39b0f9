"""Surveys on Dask: seamless chunked mosaics, fault tolerance, resume, positions mode, CLI.

Everything is tiny: a classifier L on 16×16 windows, 40-pixel simulated fields and a
120×136 "mosaic", so each test takes seconds (most of it Dask start-up and torch import).
"""

from __future__ import annotations

import os
import signal

import dask.array as da
import numpy as np
import pytest
import torch
from astropy.coordinates import SkyCoord
from astropy.table import Table

from radioviz.data.preprocess import Preprocessing, classifier_normalization
from radioviz.io.bands import GLEAM_BANDS
from radioviz.io.fits import BandImage, write_image
from radioviz.io.layout import discover, read_stack
from radioviz.models.checkpoint import save_checkpoint
from radioviz.models.classifiers import build_classifier
from radioviz.scan.scorer import ClassifierScorer, DenseScorer, DetectorScorer
from radioviz.simulate import SimConfig, simulate_field, write_field
from radioviz.simulate.sky import band_wcs
from radioviz.survey import load_scorer, load_survey, run_survey
from radioviz.survey import mosaic as mosaic_mod
from radioviz.survey.mosaic import FitsPlane, mosaic_scores, one_piece_scores, open_mosaic

distributed = pytest.importorskip("distributed")
N_FIELDS = 5


def _tiny_pre(size=16, **norm):
    return Preprocessing(
        cutout_size=size,
        normalization=classifier_normalization(np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2), **norm),
    )


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    pre = _tiny_pre(per_image=True)
    model = build_classifier("L", size=16)
    card = {"kind": "classifier", "arch": "L", "kwargs": {"size": 16}, "preprocessing": pre.to_dict()}
    return save_checkpoint(model, tmp_path_factory.mktemp("ck") / "tiny", card)


@pytest.fixture(scope="module")
def fields(tmp_path_factory):
    root = tmp_path_factory.mktemp("fields")
    for k in range(N_FIELDS):
        cfg = SimConfig(seed=10 + k, size=40, point_density_per_deg2=20, n_extended=1)
        write_field(simulate_field(cfg), root)
    return root


@pytest.fixture(scope="module")
def mosaic_dir(tmp_path_factory):
    """A 4-band mosaic on one grid (120×136), written as band files."""
    d = tmp_path_factory.mktemp("mosaic")
    rng = np.random.default_rng(3)
    wcs = band_wcs(SkyCoord(30.0, -20.0, unit="deg"), GLEAM_BANDS[-1], 128)
    for band in GLEAM_BANDS:
        img = rng.normal(0, 0.01, (120, 136)).astype(np.float32)
        img[rng.integers(0, 120, 40), rng.integers(0, 136, 40)] += 1.0
        write_image(d / f"big_GLEAM_{band.name}.fits", BandImage(img, wcs, band))
    return d


@pytest.fixture
def local_client():
    """An in-process cluster (threads): fast, for tests that do not kill processes.  The Survey
    tab may use its scheduler (as ``--allow-scheduler`` at launch allows one, #29)."""
    from radioviz.app import schedulers

    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None, protocol="tcp"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        schedulers.set_schedulers(None, [client.scheduler.address])
        try:
            yield client
        finally:
            schedulers.set_schedulers(None)


def _rows(out):
    return Table.read(out / "results.ecsv", format="ascii.ecsv")


# -- mosaics: chunked == one piece -----------------------------------------------------------------


def test_chunked_classifier_scan_matches_one_piece():
    torch.manual_seed(1)
    scorer = ClassifierScorer(build_classifier("L", size=16), _tiny_pre(per_image=True))
    rng = np.random.default_rng(0)
    data = rng.normal(0, 1, (4, 110, 130)).astype(np.float32)
    th = [0.8, 0.8, 0.9, 1.0]
    whole = one_piece_scores(data, scorer, 4, th)
    chunked = mosaic_scores(da.from_array(data, chunks=(4, 40, 40)), scorer, 4, th, 40).compute(
        scheduler="sync"
    )
    assert chunked.shape == whole.shape == (28, 33)
    np.testing.assert_allclose(chunked, whole, atol=1e-5)


def test_chunked_dense_detector_matches_one_piece():
    torch.manual_seed(2)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(4, 3, 5, padding=2), torch.nn.ReLU(), torch.nn.Conv2d(3, 1, 5, padding=2)
    ).eval()
    pre = _tiny_pre(snr=True)
    scorer = DenseScorer(lambda x: torch.sigmoid(net(x))[:, 0], pre, halo=5)  # receptive field 9
    data = np.random.default_rng(1).normal(0, 1, (4, 97, 110)).astype(np.float32)
    th = [1.0] * 4
    whole = one_piece_scores(data, scorer, 1, th)
    chunked = mosaic_scores(da.from_array(data, chunks=(4, 30, 30)), scorer, 1, th, 30).compute(
        scheduler="sync"
    )
    assert chunked.shape == (97, 110)
    np.testing.assert_allclose(chunked, whole, atol=1e-5)


@pytest.fixture(scope="module")
def detector_checkpoint(tmp_path_factory):
    """A tiny randomly initialised tile-local segmenter (batch norm, depth 2: reach 23 px) with a
    96-px tile, so the larger mosaic blocks are also tiled inside the detector."""
    from radioviz.data.fieldgrid import GridSpec
    from radioviz.models.segmenter import Calibration, SegmenterUNet
    from radioviz.training.segmenter import segmenter_card

    torch.manual_seed(5)
    net = SegmenterUNet(4, base=4, depth=2, norm="batch")
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            m.weight.data *= 2  # far pixels matter measurably, so a seam would show
    kw = {"in_channels": 4, "base": 4, "depth": 2, "norm": "batch"}
    card = segmenter_card(kw, GridSpec(), [b.name for b in GLEAM_BANDS], Calibration(1.3, 0.1), tile=96)
    return save_checkpoint(net.eval(), tmp_path_factory.mktemp("det") / "seg", card)


def test_chunked_detector_scan_matches_one_piece(detector_checkpoint):
    from radioviz.models.segmenter import tile_overlap

    scorer = load_scorer(detector_checkpoint)
    assert scorer.halo == tile_overlap(2) == 24 and scorer.align == 4
    rng = np.random.default_rng(4)
    data = rng.normal(0, 3, (4, 118, 133)).astype(np.float32)
    th = [0.9, 0.9, 1.0, 1.0]
    whole = one_piece_scores(data, scorer, 1, th)
    assert whole.shape == (118, 133) and whole.std() > 0.01
    for chunk in (40, 100):  # blocks of 88 px (one pass) and 148 px (tiled again inside: 96-px tiles)
        chunked = mosaic_scores(da.from_array(data, chunks=(4, 50, 50)), scorer, 1, th, chunk)
        np.testing.assert_allclose(chunked.compute(scheduler="sync"), whole, atol=1e-5)
    short = DetectorScorer(scorer.detector, overlap=12)  # less than the reach: seams show
    seams = mosaic_scores(da.from_array(data, chunks=(4, 50, 50)), short, 1, th, 40).compute(scheduler="sync")
    assert np.abs(seams - one_piece_scores(data, short, 1, th)).max() > 1e-4
    with pytest.raises(ValueError, match="pooling grid"):
        mosaic_scores(da.from_array(data, chunks=(4, 50, 50)), scorer, 1, th, 30)
    # on a grid of half the training pixel, 2×2 blocks are scored as one pixel: halo and tile
    # alignment double, and the tiled map still equals one pass
    fine = scorer.at_pixel(scorer.detector.spec.pixel_deg / 2)
    assert (fine.factor, fine.halo, fine.align) == (2, 48, 8) and scorer.factor == 1
    px = scorer.detector.spec.pixel_deg / 2
    whole = one_piece_scores(data, scorer, 1, th, px)
    chunked = mosaic_scores(da.from_array(data, chunks=(4, 50, 50)), scorer, 1, th, 64, px)
    np.testing.assert_allclose(chunked.compute(scheduler="sync"), whole, atol=1e-5)
    with pytest.raises(ValueError, match="pooling grid"):
        mosaic_scores(da.from_array(data, chunks=(4, 50, 50)), scorer, 1, th, 36, px)
    with pytest.raises(ValueError, match="overlap"):
        mosaic_scores(da.from_array(data, chunks=(4, 50, 50)), scorer, 1, th, 40, px)


def test_detector_mosaic_survey_on_dask_stitches_without_seams(
    mosaic_dir, detector_checkpoint, tmp_path, local_client, monkeypatch
):
    monkeypatch.setattr(mosaic_mod, "MOSAIC_MIN_SIDE", 100)
    s = run_survey(mosaic_dir, detector_checkpoint, tmp_path, stride=2, chunk=48, client=local_client)
    assert s.ok == 1
    smap = load_survey(tmp_path).scoremap("big")
    m = open_mosaic(discover(mosaic_dir)[0], 3.0)
    full = np.stack([p[:, :] for p in m.planes])
    whole = one_piece_scores(full, load_scorer(detector_checkpoint), 2, m.thresholds, m.pixel_deg)
    assert smap.scores.shape == whole.shape == (60, 68)
    np.testing.assert_allclose(smap.scores, whole, atol=1e-5)


def _write_mosaic(d, data, pixel_deg):
    wcs = band_wcs(SkyCoord(30.0, -20.0, unit="deg"), GLEAM_BANDS[-1], data.shape[-1])
    wcs.wcs.cdelt = [-pixel_deg, pixel_deg]
    for band, img in zip(GLEAM_BANDS, data, strict=True):
        write_image(d / f"big_GLEAM_{band.name}.fits", BandImage(img, wcs, band))
    return d


def test_detector_mosaic_is_scored_at_its_training_pixel(
    detector_checkpoint, tmp_path, local_client, monkeypatch
):
    """The same sky on a 28″ grid and on the detector's 56″ grid gives the same map: the survey
    scores a mosaic at the pixel the detector was trained at (the card's grid), not at the mosaic's."""
    from scipy import ndimage

    monkeypatch.setattr(mosaic_mod, "MOSAIC_MIN_SIDE", 50)
    pix = load_scorer(detector_checkpoint).detector.spec.pixel_deg
    rng = np.random.default_rng(8)
    coarse = rng.normal(0, 0.01, (4, 64, 72)).astype(np.float32)
    coarse[:, rng.integers(0, 64, 12), rng.integers(0, 72, 12)] += 1.0
    coarse = ndimage.gaussian_filter(coarse, (0, 1.5, 1.5)).astype(np.float32)
    fine = np.repeat(np.repeat(coarse, 2, axis=1), 2, axis=2)  # each 56″ pixel as 2×2 pixels of 28″
    maps = {}
    for name, data, px, stride in (("coarse", coarse, pix, 1), ("fine", fine, pix / 2, 2)):
        (tmp_path / name / "in").mkdir(parents=True)
        src = _write_mosaic(tmp_path / name / "in", data, px)
        s = run_survey(src, detector_checkpoint, tmp_path / name / "out", stride=stride, chunk=48,
                       client=local_client)  # fmt: skip
        assert s.ok == 1
        maps[name] = load_survey(tmp_path / name / "out").scoremap("big").scores
    assert maps["coarse"].shape == maps["fine"].shape == (64, 72) and maps["coarse"].std() > 0.005
    np.testing.assert_allclose(maps["fine"], maps["coarse"], atol=1e-4)


def test_mosaic_is_read_lazily_from_fits(mosaic_dir, checkpoint):
    src = discover(mosaic_dir)[0]
    m = open_mosaic(src, 3.0)
    assert all(isinstance(p, FitsPlane) for p in m.planes) and m.shape == (120, 136)
    arr = m.array(32)
    import pickle

    assert len(pickle.dumps(arr.dask)) < 200_000  # the graph carries file names, not pixels
    scorer = load_scorer(checkpoint)
    full = np.stack([p[:, :] for p in m.planes])
    np.testing.assert_allclose(
        mosaic_scores(arr, checkpoint, 4, m.thresholds, 32).compute(scheduler="sync"),
        one_piece_scores(full, scorer, 4, m.thresholds),
        atol=1e-5,
    )


def test_mosaic_survey_stitches_tiles_and_resumes(
    mosaic_dir, checkpoint, tmp_path, local_client, monkeypatch
):
    monkeypatch.setattr(mosaic_mod, "MOSAIC_MIN_SIDE", 100)
    seen = []
    s = run_survey(
        mosaic_dir, checkpoint, tmp_path, stride=4, chunk=32, client=local_client,
        progress=lambda d, t, r: seen.append(r["kind"]),
    )  # fmt: skip
    assert s.ok == 1 and seen.count("tile") == 16 and seen[-1] == "mosaic"
    res = load_survey(tmp_path)
    smap = res.scoremap("big")
    m = open_mosaic(discover(mosaic_dir)[0], 3.0)
    full = np.stack([p[:, :] for p in m.planes])
    np.testing.assert_allclose(
        smap.scores, one_piece_scores(full, load_scorer(checkpoint), 4, m.thresholds), atol=1e-5
    )
    assert res.openable["big"]["folder"] == str(mosaic_dir)
    again = run_survey(mosaic_dir, checkpoint, tmp_path, stride=4, chunk=32, client=local_client)
    assert again.skipped == 1 and again.ok == 0 and len(_rows(tmp_path)) == 1


# -- faults -----------------------------------------------------------------------------------------


def _expected_max_scores(fields, checkpoint, stride):
    scorer = load_scorer(checkpoint)
    return {
        s.name: float(np.nanmax(scorer.field_map(read_stack(s), stride).scores)) for s in discover(fields)
    }


@pytest.mark.timeout(180)
def test_killed_worker_run_completes_with_exactly_the_expected_rows(fields, checkpoint, tmp_path):
    killed = []
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as client,
    ):

        def kill_one(done, total, row):
            if killed:
                return
            busy = [w for w, keys in client.processing().items() if keys] or list(client.processing())
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

        s = run_survey(fields, checkpoint, tmp_path, stride=2, client=client, progress=kill_one)
    assert killed
    rows = _rows(tmp_path)
    assert s.ok == N_FIELDS and s.errors == 0
    assert sorted(rows["name"]) == sorted(_expected_max_scores(fields, checkpoint, 2))
    assert len(set(rows["task"])) == len(rows) == N_FIELDS
    expected = _expected_max_scores(fields, checkpoint, 2)
    for r in rows:
        assert r["max_score"] == pytest.approx(expected[r["name"]], abs=1e-5)


def test_interrupt_then_resume_repeats_nothing(fields, checkpoint, tmp_path, local_client):
    def stop_after_two(done, total, row):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_survey(fields, checkpoint, tmp_path, stride=4, client=local_client, progress=stop_after_two)
    first = _rows(tmp_path)
    assert len(first) == 2  # the catalogue holds exactly the finished tasks
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "tasks").glob("*.json")}
    again = []
    s = run_survey(
        fields,
        checkpoint,
        tmp_path,
        stride=4,
        client=local_client,
        progress=lambda d, t, r: again.append(r["name"]),
    )
    assert s.skipped == 2 and s.ok == N_FIELDS - 2
    assert not set(again) & set(first["name"])  # nothing done twice
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())
    rows = _rows(tmp_path)
    assert len(rows) == N_FIELDS and len(set(rows["task"])) == N_FIELDS
    with pytest.raises(Exception, match="other settings"):
        run_survey(fields, checkpoint, tmp_path, stride=8, client=local_client)


def test_bad_field_is_recorded_and_the_run_goes_on(fields, checkpoint, tmp_path, local_client):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(fields / "SIM_DATA_1", data)
    victim = sorted(data.glob("*_170-231MHz_clipped.fits.gz"))[0]
    victim.write_bytes(b"this is not a FITS file")
    s = run_survey(data, checkpoint, tmp_path / "out", stride=8, client=local_client)
    rows = _rows(tmp_path / "out")
    bad = rows[rows["status"] == "failed"]
    assert len(bad) == 1 and victim.name in bad["reason"][0] and "\n" not in bad["reason"][0]
    assert s.failed == 1 and s.ok == len(rows) - 1 >= 1
    ok = rows[rows["status"] == "ok"]  # a field's score at its centre, where its cluster is
    assert np.all((ok["cluster_score"] >= ok["centre_score"]) & (ok["cluster_score"] <= ok["max_score"]))


# -- positions ------------------------------------------------------------------------------------


def test_positions_mode_cuts_out_scores_and_reports_each_uncovered_position(
    fields, mosaic_dir, checkpoint, tmp_path, local_client, monkeypatch
):
    monkeypatch.setattr(mosaic_mod, "MOSAIC_MIN_SIDE", 100)
    srcs = discover(fields)
    c = read_stack(srcs[0]).centre()
    mc = open_mosaic(discover(mosaic_dir)[0], 3.0).wcs.pixel_to_world(60, 50)
    table = Table(
        {
            "name": ["in_field", "in_mosaic", "nowhere", "nowhere2"],
            "ra": [c.ra.deg, mc.ra.deg, 200.0, 201.0],
            "dec": [c.dec.deg, mc.dec.deg, 60.0, 61.0],
        }
    )
    table.write(tmp_path / "pos.ecsv")
    s = run_survey(
        tmp_path / "pos.ecsv", checkpoint, tmp_path / "out", images=[fields, mosaic_dir],
        stride=4, cutout=40, client=local_client,
    )  # fmt: skip
    rows = {r["name"]: r for r in _rows(tmp_path / "out")}
    assert rows["in_field"]["status"] == rows["in_mosaic"]["status"] == "ok"
    assert rows["in_mosaic"]["source"] == "big" and rows["in_field"]["source"] == srcs[0].name
    assert 0 <= rows["in_field"]["cluster_score"] <= 1 and np.isfinite(rows["in_mosaic"]["centre_score"])
    for name in ("nowhere", "nowhere2"):
        assert rows[name]["status"] == "failed" and "no local field or mosaic covers" in rows[name]["reason"]
    assert s.ok == 2 and s.failed == 2


def test_positions_offline_skyview_gives_one_message_per_position(checkpoint, tmp_path, local_client):
    s = run_survey("builtin", checkpoint, tmp_path, skyview=True, limit=2, client=local_client)
    rows = _rows(tmp_path)
    assert s.failed == 2 and len(rows) == 2
    for r in rows:
        assert "SkyView" in r["reason"] and "\n" not in r["reason"]


# -- CLI and the app hook ----------------------------------------------------------------------------


def test_cli_survey_on_an_existing_scheduler(fields, checkpoint, tmp_path, local_client, capsys):
    from radioviz.cli import main

    addr = local_client.scheduler.address
    assert addr.startswith("tcp://")
    rc = main(
        ["survey", str(fields), "--checkpoint", str(checkpoint), "--out", str(tmp_path), "--stride", "8",
         "--scheduler", addr, "--catalog", "builtin"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0 and f"{N_FIELDS} task(s): {N_FIELDS} ok" in out
    assert len(_rows(tmp_path)) == N_FIELDS
    rc = main(
        ["survey", str(tmp_path / "missing"), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "x")]
    )
    assert rc == 2 and "missing" in capsys.readouterr().err


def test_fields_view_opens_a_survey_result(fields, checkpoint, tmp_path, local_client):
    from radioviz.app.fields import FieldsView

    run_survey(fields, checkpoint, tmp_path / "out", stride=4, threshold=0.5, client=local_client)
    res = load_survey(tmp_path / "out")
    name = sorted(res.openable)[0]
    v = FieldsView(labels_path=tmp_path / "labels.ecsv")
    v.threshold, v.stride = 0.5, 8
    v.show_scoremap(res.openable[name]["folder"], name, res.scoremap(name))
    assert v.field == name and v.scoremap is not None
    assert v.stride == 8 and v._scan_meta["stride"] == 4  # the user's box is left alone (#25)
    assert "at stride 4" in v._status.object and "your stride, 8" in v._status.object
    n_survey = int(np.sum(res.candidates["name"] == name))
    assert len(v.candidates) == n_survey


def test_survey_view_runs_shows_progress_and_opens_in_fields(fields, checkpoint, tmp_path, local_client):
    from radioviz.app.fields import FieldsView
    from radioviz.app.survey_view import SurveyView

    fv = FieldsView(labels_path=tmp_path / "labels.ecsv")
    v = SurveyView(fv.app, target=str(fields), out=str(tmp_path / "o"), stride=8, threshold=0.5)
    v.checkpoint, v.scheduler = str(checkpoint), local_client.scheduler.address
    seen = []
    v.param.watch(lambda e: seen.append(e.new), "done")
    v.run()
    assert v.status.startswith(f"Finished: {N_FIELDS} ok") and seen[-1] == N_FIELDS
    frame = v.results_frame()
    assert len(frame) == N_FIELDS
    assert (frame["max_score"].dropna() == frame["max_score"].dropna().round(3)).all()  # one precision
    name = v.openable()[0]
    assert v.open_in_fields(name) and fv.field == name and fv.scoremap is not None
    v.target = str(tmp_path / "nowhere")
    v.out = str(tmp_path / "o2")
    v.run()
    assert v.status.startswith("Error:") and "nowhere" in v.status and not v.running


def test_survey_view_new_settings_go_to_a_new_run_and_old_ones_resume(
    fields, checkpoint, tmp_path, local_client
):
    """In the app, a second survey with other settings in the same output (the box keeps its
    default) starts a fresh run beside it instead of failing with the CLI's "use a new --out";
    the first settings again resume the first run (found on the served app)."""
    from radioviz.app.survey_view import SurveyView

    out = tmp_path / "o"
    v = SurveyView(target=str(fields), out=str(out), stride=8)
    v.checkpoint, v.scheduler = str(checkpoint), local_client.scheduler.address
    v.threshold = 0.5  # after the checkpoint, which sets its own default
    v.run()
    assert v.status.startswith(f"Finished: {N_FIELDS} ok")
    v.threshold = 0.6
    v.run()
    assert v.status.startswith(f"Finished: {N_FIELDS} ok"), v.status
    assert "--out" not in v.status and "o-2" in v.status and (tmp_path / "o-2" / "survey.json").exists()
    v.threshold = 0.5
    v.run()
    assert v.status.startswith(f"Nothing new to run: all {N_FIELDS} task(s) were done by an earlier run"), (
        v.status
    )
    assert not (tmp_path / "o-3").exists()


def test_labels_on_a_surveyed_field_record_the_survey_checkpoint(checkpoint, tmp_path, local_client):
    """A label made on a field opened from the Survey tab records the checkpoint that made the
    score map (exports carry the classifier, #14), not a bare "survey score map"."""
    from radioviz.app.fields import FieldsView
    from radioviz.app.survey_view import SurveyView

    fields = tmp_path / "fields"
    write_field(simulate_field(SimConfig(seed=3, size=80, point_density_per_deg2=20, n_extended=1)), fields)
    fv = FieldsView(labels_path=tmp_path / "labels.sqlite")
    v = SurveyView(fv.app, target=str(fields), out=str(tmp_path / "o"), stride=8)
    v.checkpoint, v.scheduler = str(checkpoint), local_client.scheduler.address
    v.threshold = 0.0  # every field has a candidate
    v.run()
    name = v.openable()[0]
    assert v.open_in_fields(name) and fv.candidates
    fv.selected = 0
    assert fv.label_selected("halo")
    text = fv.export_bytes(".csv").getvalue().decode()
    assert f"{os.path.basename(checkpoint)} (survey)" in text and ",8," in text


def test_survey_view_keeps_to_the_data_root(tmp_path, monkeypatch):
    """Served with a data root, the Survey tab reads and writes nothing outside it (#16)."""
    from radioviz.app.survey_view import SurveyView

    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv("RADIOVIZ_DATA_ROOT", str(root))
    outside = tmp_path / "outside"
    v = SurveyView()
    v.checkpoint = "classifier_L.safetensors"
    v.target, v.out = "/etc", "out"
    v.run()
    assert "outside the data folder" in v.status and "/etc" in v.status and not v.running
    v.target, v.out = "sub", str(outside)
    v.run()
    assert "run name" in v.status and not outside.exists()
    assert str(tmp_path) not in v.status  # no server path in the message


def test_the_embedded_cluster_keeps_its_shutdown_chatter_out_of_the_server_log(caplog):
    """Walk 18: a served survey ended with distributed's INFO traceback for a stream closed at
    shutdown ("CommClosedError") in the server's log; warnings must still come through."""
    import logging

    import distributed  # noqa: F401  (its import sets the "distributed" logger to INFO)

    from radioviz.survey.runner import quiet_cluster_logs

    log = logging.getLogger("distributed")
    before = log.level
    try:
        log.setLevel(logging.INFO)
        quiet_cluster_logs()
        with caplog.at_level(logging.NOTSET):
            logging.getLogger("distributed.batched").info("Batched Comm Closed", exc_info=True)
            logging.getLogger("distributed.worker").warning("worker memory high")
        messages = [r.getMessage() for r in caplog.records]
        assert "Batched Comm Closed" not in messages
        assert "worker memory high" in messages
    finally:
        log.setLevel(before)
