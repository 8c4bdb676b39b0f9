"""Safe to serve to a group (issue #29, parts 5 and 7): every value checked where it enters, in one
layer (:mod:`radioviz.validate`), the model's own threshold by default, and survey progress that
survives a kill.

The probe corpus (``tests/fuzz_corpus.py``: WCS, cards, position tables, options, names) runs
every case through ``radioviz.cli.main`` in this process; each must end in one
``radioviz: error: <file or option>: <problem>`` line or a correct result.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

from radioviz import validate as V
from radioviz.cli import build_parser, main
from radioviz.errors import InputError, WCSError
from radioviz.io.bands import GLEAM_BANDS
from radioviz.io.catalogs import read_catalog
from radioviz.io.fits import BandImage, read_image, write_image
from radioviz.io.layout import discover, read_stack
from radioviz.models.card import ModelCard, ModelCardError

from .. import fuzz_corpus as fz
from ..conftest import REPO

CHECKPOINTS = REPO / "checkpoints"


# -- the probe corpus, class by class ------------------------------------------------------------


@pytest.mark.parametrize("cls", ["option", "card", "wcs", "table", "name"])
def test_probe_corpus_one_line_or_a_correct_result(tmp_path, cls, capsys):
    """Each class of the probe through the CLI in-process: no traceback, hang, wrong success or
    wrong refusal; a refusal is one line naming the file (or option) and the problem."""
    import torch

    torch.set_num_threads(1)
    corpus = fz.Corpus(tmp_path, timeout=240)
    tally = corpus.run_probe(fz.probe_cases((cls,)))
    with capsys.disabled():
        print(f"\n{cls}: {tally.summary()}")
    bad = "\n".join(f"{r.outcome}: {r.case} / {r.command}: {r.line}" for r in tally.bad())
    assert not tally.bad(), bad
    lines = {(r.case, r.command): r.line for r in tally.runs}
    if cls == "option":
        assert lines[("option:option_workers_-1", "survey")].startswith(
            "radioviz: error: argument --workers:"
        )
        assert "100000 is outside 1..256" in lines[("option:option_n_100000", "sample")]
        assert "not finite" in lines[("option:option_guidance_nan", "sample")]
    if cls == "card":
        line = lines[("card:seg_pixel_deg_0", "scan")]
        assert "seg_pixel_deg_0.json" in line and "'grid.pixel_deg'" in line
        assert "'default_threshold': 5 is outside (0, 1)" in lines[("card:seg_default_threshold_5", "survey")]
    if cls == "wcs":
        assert "victim_Gleam72-103" in lines[("wcs:wcs_band_10deg_away", "scan")]
        assert "singular" in lines[("wcs:wcs_singular_cd", "data build")]
        assert "CRPIX1" in lines[("wcs:wcs_crpix_1e8", "scan")]


# -- one validation layer: numbers -----------------------------------------------------------------


def test_numbers_one_rule_for_options_and_cards():
    assert V.number_problem(0, 1, 256, integer=True) == "0 is outside 1..256"
    assert "not finite" in V.number_problem(float("nan"), 0, 1)
    assert "not a number" in V.number_problem("5", 0, 1)
    assert "not a number" in V.number_problem(True, 0, 1)
    assert V.number_problem(0.5, 0, 1, lo_open=True, hi_open=True) is None
    assert V.number_problem(1, 0, 1, hi_open=True) == "1 is outside [0, 1)"
    for parse, text in [
        (V.positive_int, "0"),
        (V.positive_int, "1.5"),
        (V.positive_int, "x"),
        (V.unit_interval, "nan"),
        (V.unit_interval, "1.01"),
        (V.finite_float, "inf"),
        (V.int_range(1, V.max_workers), "-1"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)
    assert V.positive_int("1e3") == 1000 and V.unit_interval("0.5") == 0.5
    with pytest.raises(InputError, match="--stride: 0 is outside 1..1024"):
        V.check_number(None, "--stride", 0, 1, V.MAX_STRIDE, integer=True)


def test_option_errors_are_one_line_without_usage(capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["sample", "--n", "0", "--out", "x.npz"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "usage" not in err
    assert err.startswith("radioviz: error: argument --n: 0 is outside 1..256")


def test_segmenter_card_values_are_checked_naming_file_and_field(tmp_path):
    import json

    card = json.loads((CHECKPOINTS / "segmenter.json").read_text())
    assert ModelCard.from_dict(card).default_threshold == 0.5
    for path, value, words in [
        (("grid", "pixel_deg"), 0, "'grid.pixel_deg': 0 is outside (0, 1]"),
        (("default_threshold",), 5, "'default_threshold': 5 is outside (0, 1)"),
        (("calibration", "a"), -1.0, "'calibration.a': -1 is not > 0"),
        (("tile",), 100, "'tile': 100 leaves no interior"),
        (("cluster_radius_arcmin",), float("nan"), "'cluster_radius_arcmin': nan is not finite"),
    ]:
        d = json.loads(json.dumps(card))
        node = d
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
        with pytest.raises(ModelCardError, match=r"seg\.json: model card field " + _re(words)):
            ModelCard.from_dict(d, tmp_path / "seg.json")


def _re(text: str) -> str:
    import re

    return re.escape(text)


# -- WCS ------------------------------------------------------------------------------------------


def _band(path, edit=None, n=72, ra=10.0, dec=-30.0, data=None):
    h = fz.header(n, ra)
    h["CRVAL2"] = dec
    if edit:
        edit(h)
    fits.PrimaryHDU(fz.image(n) if data is None else data, h).writeto(path, overwrite=True)
    return path


@pytest.mark.parametrize(
    "edit, words",
    [
        (fz._cd(-0.01, 0.01, -0.01, 0.01), "CD matrix is singular"),
        (fz._pc(1.0, 1.0, 1.0, 1.0), "PC × CDELT matrix is singular"),
        (fz._header_edit(CDELT1=0.0), "singular"),
        (fz._header_edit(CRPIX1=1e8), "CRPIX1 = 1e+08"),
        (fz._header_edit(CDELT1=-45.0, CDELT2=45.0), "spans 3240° of sky"),
        (fz._header_edit(CTYPE1="RA---TAN", CTYPE2="GLAT-TAN"), "invalid WCS"),
    ],
)
def test_a_wcs_that_would_move_positions_is_refused_naming_the_file(tmp_path, edit, words):
    p = _band(tmp_path / "x_Gleam72-103_clipped.fits", edit)
    with pytest.raises(WCSError) as e:
        read_image(p)
    assert str(e.value).startswith(str(p)) and words in str(e.value), str(e.value)


def test_a_galactic_band_is_resampled_onto_icrs_and_keeps_its_positions(tmp_path):
    """A point source at a known RA/Dec in a GLON/GLAT image: after reading, the image is on an
    ICRS grid and its brightest pixel is at that RA/Dec (within a pixel)."""
    n, pix = 72, 0.01
    src = SkyCoord(10.05, -29.97, unit="deg")
    g = SkyCoord(10.0, -30.0, unit="deg").galactic
    w = WCS(naxis=2)
    w.wcs.ctype = ["GLON-TAN", "GLAT-TAN"]
    w.wcs.crval = [g.l.deg, g.b.deg]
    w.wcs.crpix = [(n + 1) / 2] * 2
    w.wcs.cdelt = [-pix, pix]
    x, y = w.world_to_pixel(src.galactic)
    yy, xx = np.mgrid[0:n, 0:n]
    data = (np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5**2)) + 0.01).astype(">f4")
    p = tmp_path / "gal_Gleam72-103_clipped.fits"
    fits.PrimaryHDU(data, w.to_header()).writeto(p)
    im = read_image(p)
    assert V.frame_of(im.wcs) == "equatorial" and im.shape == (n, n)
    j, i = np.unravel_index(np.nanargmax(im.data), im.shape)
    peak = im.wcs.pixel_to_world(i, j)
    assert peak.separation(src).deg < 1.5 * pix
    assert any("galactic image resampled" in str(h) for h in im.header.get("HISTORY", []))


def test_a_band_pointing_elsewhere_is_refused_naming_that_band(tmp_path):
    fz.write_source_edited(tmp_path, "f", 10.0, 0, {2: fz._header_edit(CRVAL1=20.0)})
    fz.write_source_edited(tmp_path / "ok", "g", 10.0, 0, {2: fz._header_edit(CRVAL1=10.02)})
    with pytest.raises(WCSError, match=r"f_Gleam139-170_clipped\.fits: band 139-170MHz of 'f' points 8\.6"):
        read_stack(discover(tmp_path)[0])
    read_stack(discover(tmp_path / "ok")[0])  # 1′ apart: one pointing


def test_the_real_bands_agree_in_pointing():
    for s in discover(REPO / "sample_data")[:3]:
        read_stack(s)


# -- position tables ------------------------------------------------------------------------------


def test_a_position_table_bad_row_is_reported_and_skipped(tmp_path):
    p = tmp_path / "pos.csv"
    p.write_text("name,ra,dec\na,10,-30\nb,abc,-30\nc,20,95\nd,,-30\ne,400,0\nf,359.5,89\n")
    t = read_catalog(p)
    assert list(t["name"]) == ["a", "f"] and list(t["row"]) == [0, 5]
    skipped = {s["name"]: s["problem"] for s in t.meta["skipped"]}
    assert skipped == {
        "b": "row 2: RA 'abc' is not a number (degrees)",
        "c": "row 3: Dec 95 is outside [-90, 90] degrees",
        "d": "row 4: RA empty is not a number (degrees)",
        "e": "row 5: RA 400 is outside [0, 360) degrees",
    }


# -- names ----------------------------------------------------------------------------------------


def test_non_ascii_names_are_escaped_in_fits_headers_and_kept_beside_them(tmp_path):
    from radioviz.survey.runner import _write_map
    from radioviz.survey.store import ResultStore

    store = ResultStore(tmp_path / "out")
    wcs = WCS(fz.header(8))
    key = "field:/Ångström_東京 " + "x" * 80
    p = _write_map(store, key, np.zeros((4, 4), np.float32), wcs, 2)
    h = fits.getheader(p)
    assert h["RVTASK"] == V.fits_text(key) and "\\xc5ngstr\\xf6m_\\u6771" in h["RVTASK"]
    assert h["RVTASK"].endswith("x" * 80)  # long values: CONTINUE cards, not cut
    out = write_image(
        tmp_path / "n.fits", BandImage(np.ones((4, 4), np.float32), wcs, GLEAM_BANDS[0]), {"OBJECT": "café"}
    )
    assert fits.getheader(out)["OBJECT"] == "caf\\xe9"


# -- the model's own threshold by default ----------------------------------------------------------


def test_survey_threshold_defaults_to_the_models_own(tmp_path):
    """The CLI's --threshold defaults to none given; the survey then uses the card's calibrated
    default_threshold (the segmenter's 0.5), 0.95 for a card without one; a given one wins."""
    distributed = pytest.importorskip("distributed")
    from radioviz.survey import run_survey

    args = build_parser().parse_args(["survey", "x", "--checkpoint", "c.safetensors", "--out", "o"])
    assert args.threshold is None
    fields = REPO / "sample_data" / "SIM_DATA_1"
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as c,
        distributed.Client(c) as client,
    ):
        seg = run_survey(
            fields, CHECKPOINTS / "segmenter.safetensors", tmp_path / "s", limit=1, client=client
        )
        clf = run_survey(
            fields,
            CHECKPOINTS / "classifier_L.safetensors",
            tmp_path / "c",
            limit=1,
            stride=16,
            client=client,
        )
        given = run_survey(
            fields,
            CHECKPOINTS / "segmenter.safetensors",
            tmp_path / "g",
            limit=1,
            threshold=0.7,
            client=client,
        )
    assert (seg.threshold, clf.threshold, given.threshold) == (0.5, 0.95, 0.7)
    from radioviz.survey import load_survey

    assert load_survey(tmp_path / "s").config["threshold"] == 0.5
    maps = load_survey(tmp_path / "s")
    name = next(iter(maps.openable))
    assert len(maps.candidates) == len(
        __import__("radioviz.scan.scoremap", fromlist=["find_candidates"]).find_candidates(
            maps.scoremap(name), 0.5
        )
    )


# -- durable progress: a killed mosaic survey resumes from its committed tiles -------------------

_KILLER = textwrap.dedent(
    '''
    """Run the CLI with small mosaics allowed; SIGKILL this process right after its K-th tile commit."""
    import os
    import signal
    import sys

    import radioviz.survey.mosaic as mosaic
    import radioviz.survey.store as store

    mosaic.MOSAIC_MIN_SIDE = 100
    K = int(sys.argv[1])
    commit = store.ResultStore.save_tile
    done = []


    def save_tile(self, key, scores):
        commit(self, key, scores)
        done.append(key)
        if len(done) == K:
            os.kill(os.getpid(), signal.SIGKILL)


    store.ResultStore.save_tile = save_tile

    if __name__ == "__main__":
        from radioviz.cli import main

        sys.exit(main(sys.argv[2:]))
    '''
)


def test_a_killed_mosaic_survey_resumes_losing_only_tiles_in_flight(tmp_path, monkeypatch):
    """A CLI survey of a 256×256 mosaic in 16 tiles is SIGKILLed right after its 5th tile is
    committed; ``--resume`` then computes only the 11 others: the 5 committed tiles are reused
    untouched (same file, same modification time) and the mosaic's map and row are complete."""
    from radioviz.simulate.sky import band_wcs
    from radioviz.survey import load_survey
    from radioviz.survey import mosaic as mosaic_mod

    mdir = tmp_path / "mosaic"
    mdir.mkdir()
    rng = np.random.default_rng(3)
    wcs = band_wcs(SkyCoord(30.0, -20.0, unit="deg"), GLEAM_BANDS[-1], 256)
    for band in GLEAM_BANDS:
        img = rng.normal(0, 0.01, (256, 256)).astype(np.float32)
        img[rng.integers(0, 256, 80), rng.integers(0, 256, 80)] += 1.0
        write_image(mdir / f"big_GLEAM_{band.name}.fits", BandImage(img, wcs, band))
    out = tmp_path / "out"
    argv = [
        "survey",
        str(mdir),
        "--checkpoint",
        str(CHECKPOINTS / "classifier_L.safetensors"),
        "--out",
        str(out),
    ]
    argv += ["--stride", "16", "--chunk", "64", "--workers", "1"]
    script = tmp_path / "killer.py"
    script.write_text(_KILLER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, str(script), "5", *argv],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        log, _ = proc.communicate(timeout=240)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the killed driver's orphaned Dask workers
        except ProcessLookupError:
            pass
    assert proc.returncode == -signal.SIGKILL, log
    tiles = sorted((out / "tiles").glob("*.npy"))
    markers = sorted(p for p in (out / "tasks").glob("tile_*.json"))
    assert len(tiles) == len(markers) == 5, log
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tiles + markers}

    monkeypatch.setattr(mosaic_mod, "MOSAIC_MIN_SIDE", 100)
    assert main([*argv, "--resume"]) == 0
    tiles = sorted((out / "tiles").glob("*.npy"))
    markers = sorted((out / "tasks").glob("tile_*.json"))
    assert len(tiles) == len(markers) == 16
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tiles + markers}
    assert {k: after[k] for k in before} == before  # committed tiles were not computed again
    res = load_survey(out)
    (row,) = [r for r in res.results if r["kind"] == "mosaic"]
    assert row["status"] == "ok"
    assert res.scoremap("big").scores.shape == (16, 16)
