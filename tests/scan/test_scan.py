import numpy as np
import pytest
import torch
from astropy.io import fits
from astropy.table import Table

from radioviz.data.preprocess import Preprocessing, classifier_normalization
from radioviz.errors import InputError
from radioviz.io.catalogs import (
    builtin_clusters,
    crossmatch,
    fetch_psz2,
    matched_names,
    read_catalog,
    read_psz2,
)
from radioviz.io.layout import SourceStack
from radioviz.models.checkpoint import save_checkpoint
from radioviz.models.classifiers import build_classifier
from radioviz.scan import find_candidates, score_map, score_map_naive
from radioviz.simulate import SimConfig, simulate_field, write_field

from ..conftest import SHARED_DATA, needs


@pytest.fixture(scope="module")
def field():
    f = simulate_field(SimConfig(seed=4, size=80, point_density_per_deg2=5, n_extended=1))
    return SourceStack(f.name, f.images, 1)


@pytest.fixture(scope="module")
def model_pre():
    torch.manual_seed(1)
    pre = Preprocessing(
        normalization=classifier_normalization(
            np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2), per_image=True
        )
    )
    return build_classifier("L").eval(), pre


@pytest.mark.parametrize("convention", ["native", "coregistered"])
def test_fast_score_map_matches_the_naive_loop(field, model_pre, convention):
    model, pre = model_pre
    pre = Preprocessing(band_convention=convention, normalization=pre.normalization)
    fast = score_map(field, model, 7, pre)
    slow = score_map_naive(field, model, 7, pre)
    assert fast.scores.shape == (12, 12)
    np.testing.assert_allclose(fast.scores, slow.scores, atol=1e-5)
    # the map's WCS puts map pixel (i, j) at reference pixel (7i, 7j)
    ref = field.images[-1].wcs
    a, b = fast.wcs.pixel_to_world(3, 5), ref.pixel_to_world(21, 35)
    assert a.separation(b).arcsec < 1e-6


def test_cancel_from_callback_returns_partial_map(field, model_pre):
    model, pre = model_pre
    smap = score_map(field, model, 4, pre, batch=50, callback=lambda done, total: done >= 50)
    assert np.isfinite(smap.scores).sum() == 50 and np.isnan(smap.scores).any()


def test_candidates_are_connected_regions_with_their_peak(field, model_pre):
    model, pre = model_pre
    smap = score_map(field, model, 8, pre)
    smap.scores[:] = 0.1
    smap.scores[1:3, 1:3] = 0.96
    smap.scores[2, 2] = 0.99
    smap.scores[7, 7] = 0.97
    c = find_candidates(smap, 0.95)
    assert [round(x["peak_score"], 2) for x in c] == [0.99, 0.97]
    assert (c[0]["x"], c[0]["y"]) == (16, 16) and c[0]["n_pixels"] == 4


def test_scan_cli_writes_scoremap_and_ecsv(tmp_path, model_pre):
    model, pre = model_pre
    ckpt = save_checkpoint(
        model,
        tmp_path / "m",
        {"kind": "classifier", "arch": "L", "kwargs": {}, "preprocessing": pre.to_dict()},
    )
    write_field(
        simulate_field(SimConfig(seed=8, size=72, point_density_per_deg2=5, n_extended=0)),
        tmp_path / "fields",
        "SIM",
    )
    from radioviz.cli import main

    assert (
        main(
            [
                "scan",
                str(tmp_path / "fields"),
                "--checkpoint",
                str(ckpt),
                "--stride",
                "9",
                "--threshold",
                "0.0",
                "--out",
                str(tmp_path / "out"),
                "--catalog",
                "builtin",
            ]
        )
        == 0
    )
    hdr = fits.getheader(tmp_path / "out" / "sim_0008_scoremap.fits")
    assert hdr["CTYPE1"] == "RA---TAN" and hdr["STRIDE"] == 9
    t = Table.read(tmp_path / "out" / "sim_0008_candidates.ecsv")
    assert {"ra", "dec", "peak_score", "x", "y", "nearest_cluster", "separation_arcmin"} <= set(t.colnames)
    assert len(t) == 1  # threshold 0: the whole map is one region
    names = (
        t["nearest_cluster"].filled("") if hasattr(t["nearest_cluster"], "filled") else t["nearest_cluster"]
    )
    for name, sep in zip(names, t["separation_arcmin"], strict=True):  # named only within --radius (10′)
        assert (str(name) != "") == (sep <= 10.0) and t.meta["match_radius_arcmin"] == 10.0


def test_catalogue_readers_and_crossmatch(tmp_path):
    b = builtin_clusters()
    assert len(b) == 48 and "Abell 2744" in list(b["name"])
    m = crossmatch(np.array([3.59, 120.0]), np.array([-30.39, 10.0]), b, 5.0)
    assert list(m["nearest"])[0] == "Abell 2744" and list(m["matched"]) == [True, False]
    assert list(matched_names(m)) == ["Abell 2744", ""]  # a cluster far away names nothing
    csv = tmp_path / "c.csv"
    csv.write_text("Name,RAJ2000,DEJ2000\nfoo,10.0,-20.0\n")
    t = read_catalog(csv)
    assert t["name"][0] == "foo" and float(t["ra"][0]) == 10.0
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no RA/Dec columns"):
        read_catalog(bad)


def test_fetch_psz2_offline_gives_one_clear_error(monkeypatch):
    import socket

    def no_network(*a, **k):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(InputError, match="astroquery|VizieR"):
        fetch_psz2(timeout=2)


@needs(SHARED_DATA / "catalogs" / "psz2.dat.txt")
def test_reads_real_psz2_from_cds_files():
    t = read_psz2(SHARED_DATA / "catalogs" / "psz2.dat.txt")
    assert len(t) == 1653 and t["name"][0].startswith("PSZ2 G")
