"""The diffuse-emission detector: network, grid and scaling, injections, calibration, candidates,
and the scan / evaluate-classifier / inject contracts with a tiny checkpoint built here."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from astropy.io import fits
from astropy.table import Table

from radioviz.data.fieldgrid import GriddedField, GridSpec, field_scale, grid_field
from radioviz.io.layout import SourceStack
from radioviz.models.checkpoint import save_checkpoint
from radioviz.models.segmenter import (
    Calibration,
    Detector,
    SegmenterUNet,
    disc_max,
    input_span,
    predict_logits,
    reach,
    receptive_field,
    tile_overlap,
)
from radioviz.scan.detector import candidates, find_regions
from radioviz.simulate import SimConfig, simulate_field, write_field
from radioviz.simulate.diffuse import DiffuseSource, inject
from radioviz.training.run import Run
from radioviz.training.segmenter import FieldSet, SegTrainConfig, fit_segmenter, segmenter_card


@pytest.fixture(scope="module")
def sim():
    return simulate_field(SimConfig(seed=3, size=64, point_density_per_deg2=5, n_extended=1))


@pytest.fixture(scope="module")
def tiny_net():
    torch.manual_seed(0)
    return SegmenterUNet(4, base=4, depth=2).eval()


def _local_net(norm="batch", depth=2, seed=0):
    """A tiny randomly initialised U-Net, batch norm with non-trivial running statistics, weights
    doubled so that far pixels still move the output measurably (at PyTorch's default scale a
    pixel 16 px away changes a logit by < 1e-7, and a seam test could not fail)."""
    torch.manual_seed(seed)
    net = SegmenterUNet(4, base=4, depth=depth, norm=norm)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            m.weight.data *= 2
    return net.eval()


def test_receptive_field_matches_the_architecture():
    # depth 1 by hand: decoder convs ±2, skip convs ±2 more; the bottleneck path pools (2q, 2q+1)
    assert input_span(1, 0) == (-8, 9) and input_span(1, 1) == (-8, 9)
    assert receptive_field(3) == 100 and reach(3) == 51 and tile_overlap(3) == 56
    for d in (1, 2, 3):
        assert reach(d) >= receptive_field(d) / 2 and tile_overlap(d) % 2**d == 0


@pytest.mark.parametrize("depth", [2, 3])
def test_no_output_pixel_sees_beyond_its_input_span(depth):
    net = _local_net(depth=depth, seed=depth)
    n = 128
    for p in range(2**depth):  # every pooling phase, along both axes
        y, cx = 48 + p, 51 - p  # input_span is in absolute pixels; the phase is p mod 2**depth
        x = torch.randn(1, 4, n, n, requires_grad=True)
        net(x)[0, 0, y, cx].backward()
        rows, cols = np.nonzero(x.grad.abs().sum((0, 1)).numpy() > 0)
        (lo, hi), (clo, chi) = input_span(depth, y), input_span(depth, cx)
        assert lo <= rows.min() and rows.max() <= hi and clo <= cols.min() and cols.max() <= chi
        assert rows.max() - rows.min() > receptive_field(depth) // 2  # a live network, not a trivial pass


@pytest.mark.parametrize("norm", ["batch", "none"])
def test_tiled_prediction_equals_one_pass_for_a_tile_local_net(norm):
    net = _local_net(norm)
    x = np.random.default_rng(0).normal(size=(4, 150, 171)).astype(np.float32)
    one = predict_logits(net, x, tile=512)
    assert one.shape == (150, 171)
    tiled = predict_logits(net, x, tile=64)  # overlap = tile_overlap(2) = 24: 16-px interiors
    np.testing.assert_allclose(tiled, one, atol=1e-5)
    # an overlap below the reach (23 px here) and the seams show: the test can fail
    assert np.abs(predict_logits(net, x, tile=64, overlap=16) - one).max() > 1e-4


def test_group_norm_is_not_tile_local_but_old_cards_keep_it():
    net = _local_net("group")
    assert not net.tile_local and SegmenterUNet(4, 4, 2).norm == "group"
    x = np.random.default_rng(1).normal(size=(4, 100, 100)).astype(np.float32)
    assert np.abs(predict_logits(net, x, tile=64) - predict_logits(net, x, tile=512)).max() > 1e-3


def test_scaling_is_per_field_not_per_window(sim):
    g = grid_field(SourceStack(sim.name, sim.images, 1))
    assert g.data.shape == (4, 32, 32)  # 64 px of 28" on the 56" grid
    assert np.all(g.sigmas > 0)
    whole = field_scale(g.data, g.sigmas)
    window = field_scale(g.data[:, 5:20, 7:30], g.sigmas)
    np.testing.assert_array_equal(whole[:, 5:20, 7:30], window)
    # the same field with a bright source added far away scales this window identically
    brighter = g.data.copy()
    brighter[:, 28, 28] += 50.0
    np.testing.assert_array_equal(field_scale(brighter, g.sigmas)[:, 5:20, 7:30], window)


def test_injection_truth_mask_follows_the_source_and_faint_ones_are_ignored():
    rng = np.random.default_rng(1)
    data = np.zeros((4, 64, 64), np.float32)
    sig, thr = [0.04, 0.02, 0.014, 0.009], [0.12, 0.06, 0.042, 0.027]
    bright = DiffuseSource("halo", 40.0, 20.0, 2.0, 1.0, 0.2, -1.3)
    out, truth, ignore = inject(data, [bright], sig, thr, 56.0, rng)
    ys, xs = np.nonzero(truth)
    assert truth.sum() > 20 and abs(xs.mean() - 40) < 2 and abs(ys.mean() - 20) < 2
    assert not ignore.any()
    assert out[:, 20, 40].min() > 0  # the source survives the dead band in every band
    assert out[0, 20, 40] > out[3, 20, 40]  # steep spectrum: brighter at low frequency
    faint = DiffuseSource("halo", 20.0, 40.0, 1e-4, 1.0, 0.2, -1.3)
    _, truth2, ignore2 = inject(data, [faint], sig, thr, 56.0, rng)
    assert not truth2.any()
    relic = DiffuseSource("relic", 32.0, 32.0, 1.0, 1.5, 0.1, -1.2, axis_ratio=0.15, curvature=0.8)
    _, truth3, _ = inject(data, [relic], sig, thr, 56.0, rng)
    ys, xs = np.nonzero(truth3)
    assert (
        np.ptp(xs) > 2 * np.ptp(ys) or np.ptp(ys) > 2 * np.ptp(xs) or truth3.sum() < np.ptp(xs) * np.ptp(ys)
    )


def test_calibration_is_monotone_and_learns_the_rate():
    rng = np.random.default_rng(2)
    raw = rng.uniform(0, 1, 2000)
    y = rng.uniform(size=raw.size) < raw**2  # the raw score overstates the halo rate
    cal = Calibration.fit(raw, y)
    grid = np.linspace(0.001, 0.999, 200)
    out = cal(grid)
    assert np.all(np.diff(out) >= 0)
    assert abs(float(np.mean(cal(raw))) - y.mean()) < 0.05
    assert Calibration.from_dict(cal.to_dict())(grid).tolist() == out.tolist()
    with pytest.raises(ValueError):
        Calibration(-1.0, 0.0)


def _gridded(n=60, seed=0) -> GriddedField:
    from astropy.coordinates import SkyCoord

    from radioviz.data.preprocess import common_grid

    w = common_grid(SkyCoord(150.0, 2.0, unit="deg"), n, 0.015556)
    data = np.zeros((4, n, n), np.float32)
    yy, xx = np.mgrid[0:n, 0:n]
    blob = np.exp(-0.5 * ((xx - 20) ** 2 + (yy - 30) ** 2) / 3.0**2)
    from radioviz.simulate.diffuse import GLEAM_BEAM_ARCMIN

    for b, s in enumerate((2.0, 1.5, 1.1, 0.9)):  # falling spectrum, Jy: Jy/beam = Jy per beam area
        beam_px = 2 * np.pi * (GLEAM_BEAM_ARCMIN[b] * 60 / 56.0 / 2.3548) ** 2
        data[b] = s * blob / blob.sum() * beam_px
    return GriddedField("planted", data, w, np.full(4, 0.01), np.full(4, 0.03), ["a", "b", "c", "d"], 1)


def test_candidates_from_a_planted_blob_with_nms_flux_and_index(tmp_path):
    g = _gridded()
    yy, xx = np.mgrid[0:60, 0:60]
    prob = 0.95 * np.exp(-0.5 * ((xx - 20) ** 2 + (yy - 30) ** 2) / 4.0**2)
    prob += 0.7 * np.exp(
        -0.5 * ((xx - 29) ** 2 + (yy - 30) ** 2) / 0.7**2
    )  # a side peak 9 px away: suppressed
    prob += 0.8 * np.exp(-0.5 * ((xx - 50) ** 2 + (yy - 8) ** 2) / 1.5**2)  # a second, separate source
    regions = find_regions(prob, 0.5, nms_px=10 / 60 / g.pixel_deg)
    assert len(regions) == 2
    cat = Table(
        {
            "name": ["planted cluster"],
            "ra": [g.wcs.pixel_to_world(20, 30).ra.deg],
            "dec": [g.wcs.pixel_to_world(20, 30).dec.deg],
        }
    )
    t = candidates(prob, g, 0.5, cat)
    assert list(t["rank"]) == [1, 2]
    assert (t["x_grid"][0], t["y_grid"][0]) == (20, 30)
    assert t["nearest_cluster"][0] == "planted cluster" and t["separation_arcmin"][0] < 0.1
    # the second source is 35′ from the only cluster: not named (the match radius is 10′)
    assert t["separation_arcmin"][1] > 30 and t.meta["match_radius_arcmin"] == 10.0
    t.write(tmp_path / "c_candidates.ecsv")
    back = Table.read(tmp_path / "c_candidates.ecsv")
    assert [str(n) if n else "" for n in back["nearest_cluster"].filled("")] == ["planted cluster", ""]
    assert candidates(prob, g, 0.5, cat, radius_arcmin=40)["nearest_cluster"][1] == "planted cluster"
    assert t["flux_a"][0] / t["flux_d"][0] == pytest.approx(2.0 / 0.9, rel=1e-3)
    assert 0.5 < t["flux_a"][0] <= 2.0
    assert t["spectral_index"][0] < 0
    assert t["area_arcmin2"][0] > 0
    assert disc_max(prob, 20, 30, 3) == pytest.approx(prob[30, 20], abs=1e-6)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory, tiny_net):
    path = tmp_path_factory.mktemp("ckpt") / "segmenter"
    card = segmenter_card(
        {"in_channels": 4, "base": 4, "depth": 2},
        GridSpec(),
        ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"],
        Calibration(1.5, -0.2),
        "test",
    )
    return save_checkpoint(tiny_net, path, card)


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("layout")
    for seed, halo in ((11, "halo"), (12, None)):
        write_field(
            simulate_field(SimConfig(seed=seed, size=64, halo=halo, point_density_per_deg2=5, n_extended=1)),
            root,
            "TEST",
        )
    return root


def test_card_round_trip_loads_a_detector(tiny_checkpoint):
    from radioviz.metrics.evaluate import load_classifier

    model, pre, card = load_classifier(tiny_checkpoint)
    assert isinstance(model, Detector) and model.is_detector
    assert card.arch == "segmenter" and card.kind == "classifier"
    assert card.extra["calibration"]["method"] == "platt" and card.kwargs == {
        "in_channels": 4,
        "base": 4,
        "depth": 2,
    }
    assert (model.calibration.a, model.calibration.b) == (1.5, -0.2)
    assert model.spec == GridSpec() and model.threshold == 0.5
    assert pre.cutout_size == 64
    for k, v in SegmenterUNet(4, 4, 2).state_dict().items():
        assert model.net.state_dict()[k].shape == v.shape


def test_card_selects_the_norm_and_refuses_an_unknown_one(tmp_path):
    from radioviz.metrics.evaluate import load_classifier
    from radioviz.models.card import ModelCardError

    bands = ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"]
    kw = {"in_channels": 4, "base": 4, "depth": 2, "norm": "batch"}
    path = save_checkpoint(
        _local_net(), tmp_path / "bn", segmenter_card(kw, GridSpec(), bands, Calibration())
    )
    model, _, card = load_classifier(path)
    assert model.net.norm == "batch" and model.net.tile_local and card.kwargs["norm"] == "batch"
    torch.testing.assert_close(model.net.state_dict(), _local_net().state_dict())
    bad = json.loads(path.with_suffix(".json").read_text())
    bad["kwargs"]["norm"] = "layer"
    path.with_suffix(".json").write_text(json.dumps(bad))
    with pytest.raises(ModelCardError, match="kwargs.norm"):
        load_classifier(path)


def test_scan_contract_with_a_detector(tiny_checkpoint, layout, tmp_path):
    from radioviz.cli import main
    from radioviz.io.layout import discover, read_stack
    from radioviz.metrics.evaluate import load_classifier
    from radioviz.scan import score_map

    assert (
        main(
            [
                "scan",
                str(layout),
                "--checkpoint",
                str(tiny_checkpoint),
                "--stride",
                "4",
                "--threshold",
                "0.3",
                "--catalog",
                "builtin",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    maps = sorted(tmp_path.glob("*_scoremap.fits"))
    assert len(maps) == 2 and len(list(tmp_path.glob("*_probmap.fits"))) == 2
    with fits.open(maps[0]) as h:
        assert h[0].data.shape == (16, 16) and h[0].header["ARCH"] == "segmenter"
        assert np.nanmax(h[0].data) <= 1 and np.nanmin(h[0].data) >= 0
    t = Table.read(sorted(tmp_path.glob("*_candidates.ecsv"))[0])
    for col in (
        "rank",
        "ra",
        "dec",
        "peak_score",
        "area_arcmin2",
        "spectral_index",
        "nearest_cluster",
        "flux_170-231MHz",
    ):
        assert col in t.colnames
    # the library function the Fields view calls dispatches on the checkpoint too
    model, pre, _ = load_classifier(tiny_checkpoint)
    stack = read_stack(discover(layout)[0])
    smap = score_map(stack, model, 2, pre)
    assert smap.scores.shape == (32, 32) and smap.stride == 2


def test_evaluate_classifier_contract_with_a_detector(tiny_checkpoint, layout):
    from radioviz.metrics.evaluate import evaluate_classifier

    r = evaluate_classifier(tiny_checkpoint, layout, "TEST")
    assert set(r) == {"checkpoint", "split", "arch", "threshold", "per_image", "per_source"}
    assert r["per_image"]["n_images"] == 2 * 160 and r["per_source"]["n_sources"] == 2
    assert set(r["per_source"]["labels"].values()) == {0, 1}
    assert all(0 <= s <= 1 for s in r["per_source"]["scores"].values())
    assert "roc_auc" in r["per_source"] and "accuracy" in r["per_image"]


def test_inject_contract_with_a_detector(tiny_checkpoint, layout, tmp_path):
    from radioviz.cli import main

    assert (
        main(
            [
                "inject",
                "--checkpoint",
                str(tiny_checkpoint),
                "--data",
                str(layout),
                "--split",
                "TEST",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    summ = Table.read(tmp_path / "injection_segmenter.ecsv")
    assert len(summ) == 18 and set(summ["n"]) == {4}
    assert (tmp_path / "injection_segmenter.png").exists()
    assert 0 <= summ.meta["false_positive_rate_0.5"] <= 1


def test_fit_saves_state_and_resumes_exactly(tmp_path):
    from astropy.coordinates import SkyCoord

    from radioviz.data.preprocess import common_grid

    rng = np.random.default_rng(0)
    fields = []
    for i in range(3):
        w = common_grid(SkyCoord(10.0 + 5 * i, -30.0, unit="deg"), 40, 0.015556)
        d = np.where(rng.uniform(size=(4, 40, 40)) < 0.03, 0.2, 0.0).astype(np.float32)
        fields.append(GriddedField(f"f{i}", d, w, np.full(4, 0.02), np.full(4, 0.06), list("abcd"), i % 2))
    fs = FieldSet(fields, [(19.5, 19.5)] * 3, np.arange(3), "hash", GridSpec())
    cfg = SegTrainConfig(steps=6, batch_size=2, crop=16, base=4, depth=2, save_every=3, mine_at=(0.5,))
    assert cfg.norm == "batch"
    full = fit_segmenter(fs, [0, 1, 2], cfg)

    class Stop(Exception):
        pass

    def stop_after_first_save(line):
        if json.loads(line)["step"] == 3:
            raise Stop

    out = tmp_path / "seg"
    with pytest.raises(Stop):  # killed between the step-3 save and step 4
        fit_segmenter(fs, [0, 1, 2], cfg, Run(out, cfg.seed), log=stop_after_first_save)
    state = Run(out, cfg.seed).state_path
    saved = json.loads(state.with_suffix(".json").read_text())
    assert saved["step"] == 3
    resumed = fit_segmenter(fs, [0, 1, 2], cfg, Run(out, cfg.seed, resume=True))
    assert [h["step"] for h in resumed.history] == [3, 6]
    # the clock carries over the resumption (never asserted non-zero: a fast machine rounds to 0)
    assert resumed.history[-1]["cpu_seconds"] >= round(saved["cpu_seconds"], 1) >= 0
    for k, v in full.model.state_dict().items():  # weights and batch-norm running statistics
        torch.testing.assert_close(resumed.model.state_dict()[k], v)
    assert any("running_mean" in k for k in full.model.state_dict())
    assert json.loads(state.with_suffix(".json").read_text())["step"] == 6


def test_stacker_learns_the_feature_that_separates_and_stays_in_range():
    """The CV's stacked cluster score (detector logit + log peak flux): fitted on labels that depend
    on the flux only, it weights the flux and not the uninformative score."""
    from radioviz.metrics.classification import roc_auc
    from radioviz.training.detector_cv import Stacker

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 100)
    logs = np.where(y == 1, -0.5, 0.5) + rng.normal(0, 0.5, y.size)  # halos fainter
    p = rng.uniform(0.01, 0.99, y.size)  # a score that knows nothing
    st = Stacker.fit(p, logs, y)
    assert st.w[2] < -1 and abs(st.w[1]) < 0.5
    q = st(p, logs)
    assert q.dtype == np.float32 and ((q >= 0) & (q <= 1)).all() and roc_auc(y, q) > 0.8
    maps = st(np.full((5, 6), 0.5), np.zeros((5, 6)))  # per pixel, as on a map
    assert maps.shape == (5, 6)


def test_a_detector_card_names_its_input_groups_and_a_wrong_one_is_refused(tmp_path):
    """A detector reading the bands and their compact-source residual (#26 item 2): its card lists
    the groups, the loaded network reads exactly them, and an unknown group is refused by name."""
    from radioviz.models.card import ModelCardError
    from radioviz.models.checkpoint import load_checkpoint
    from radioviz.models.registry import builders

    kw = {"in_channels": 8, "inputs": ["bands", "residual"], "base": 4, "depth": 2, "norm": "batch"}
    card = segmenter_card(kw, GridSpec(), ["a", "b", "c", "d"], Calibration(), "test")
    assert card["inputs"][4:] == [f"{b} compact-source residual" for b in "abcd"]
    path = save_checkpoint(SegmenterUNet(**kw), tmp_path / "res", card)
    net, _ = load_checkpoint(path, builders("classifier"))
    assert net.inputs == ("bands", "residual") and net.in_channels == 8
    d = json.loads(path.with_suffix(".json").read_text())
    d["kwargs"]["inputs"] = ["bands", "colour"]
    path.with_suffix(".json").write_text(json.dumps(d))
    with pytest.raises(ModelCardError, match=r"kwargs\.inputs\[1\]': 'colour' is not one of"):
        load_checkpoint(path, builders("classifier"))
