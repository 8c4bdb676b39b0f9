"""The class detector (issue #26): simulated impostors, per-class truth, set-valued labels of real
fields, the partial-label loss, the card and the Detector's halo / any-diffuse maps."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from radioviz.data.fieldgrid import GriddedField, GridSpec
from radioviz.models.checkpoint import save_checkpoint
from radioviz.models.segmenter import CLASSES, Calibration, Detector, SegmenterUNet, predict_logits
from radioviz.simulate.diffuse import ALL_KINDS, DiffuseSource, draw_source, inject_classes, render_source
from radioviz.training.segmenter import (
    ALLOWED,
    LABEL_SETS,
    FieldSet,
    SegTrainConfig,
    class_loss_fn,
    fit_segmenter,
    segmenter_card,
    static_class_labels,
)

PIX = GridSpec().pixel_deg * 3600
BANDS = (88.0, 118.5, 154.5, 200.5)
BAND_NAMES = ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"]


def _alpha(a, b, fa=BANDS[0], fb=BANDS[-1]):
    return np.log(a / b) / np.log(fa / fb)


def test_a_radio_galaxy_has_its_host_in_its_mask_and_a_flatter_spectrum_than_a_halo():
    rng = np.random.default_rng(0)
    rg = DiffuseSource("radio_galaxy", 48, 48, 1.0, 0.6, 0.1, -0.8, 0.25, 30.0, core_flux_jy=0.1)
    diffuse, core = render_source(rg, (96, 96), PIX, BANDS)
    assert not core.any()  # the host is part of the radio galaxy's emission (and mask)
    assert diffuse[-1, 48, 48] > 0
    halo = draw_source(rng, 48, 48, kind="halo", flux_jy=1.0, size_mpc=0.6, z=0.1, alpha=-1.3)
    h, _ = render_source(halo, (96, 96), PIX, BANDS)
    beam = (np.asarray(BANDS) / BANDS[-1]) ** 2  # Jy/beam sums scale with the beam area ∝ ν⁻²
    s_rg = diffuse.sum((1, 2)) * beam
    s_h = h.sum((1, 2)) * beam
    assert _alpha(s_rg[0], s_rg[-1]) > _alpha(s_h[0], s_h[-1]) + 0.3


def test_a_relic_steepens_across_its_width():
    src = DiffuseSource("relic", 48, 48, 1.0, 1.5, 0.1, -1.2, 0.25, 0.0, curvature=0.0, gradient=0.8)
    d, _ = render_source(src, (96, 96), PIX, BANDS, beam_arcmin=(0.5,) * 4)  # resolved across
    front, back = d[:, :47, :].sum((1, 2)), d[:, 50:, :].sum((1, 2))  # the two sides of the arc
    assert _alpha(front[0], front[-1]) > _alpha(back[0], back[-1]) + 0.3


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_each_kind_is_injected_with_its_own_class(kind):
    rng = np.random.default_rng(1)
    data = np.zeros((4, 64, 64), np.float32)
    src = draw_source(rng, 32, 32, kind=kind, flux_jy=2.0, size_mpc=0.6 if kind != "minihalo" else 0.3, z=0.1)
    out, classes, ignore = inject_classes(data, [src], [0.01] * 4, [0.03] * 4, PIX, rng)
    assert set(np.unique(classes)) == {0, CLASSES.index(kind)}
    assert not ignore.any() and out.shape == data.shape
    peak = render_source(src, (64, 64), PIX, BANDS)[0].max()
    sigma = [peak / 1.5] * 4  # seen above 1 σ, never above 2 σ: too faint to call
    _, classes, ignore = inject_classes(data, [src], sigma, [0.03] * 4, PIX, rng, band_mhz=BANDS)
    assert not classes.any() and ignore.any()  # too faint to see: left out, not background


def test_the_brightest_source_names_a_pixel_where_two_overlap():
    rng = np.random.default_rng(2)
    data = np.zeros((4, 64, 64), np.float32)
    bright = DiffuseSource("radio_galaxy", 32, 32, 5.0, 0.4, 0.1, -0.8, 0.3, 0.0, core_flux_jy=0.5)
    faint = DiffuseSource("halo", 32, 32, 0.3, 1.0, 0.1, -1.3, 0.9)
    _, classes, _ = inject_classes(data, [faint, bright], [0.01] * 4, [0.03] * 4, PIX, rng)
    assert classes[32, 32] == CLASSES.index("radio_galaxy")
    assert (classes == CLASSES.index("halo")).any()  # the halo still owns its outskirts


def _field(label: int, n: int = 80) -> GriddedField:
    from astropy.coordinates import SkyCoord

    from radioviz.data.preprocess import common_grid

    w = common_grid(SkyCoord(150.0, -30.0, unit="deg"), n, GridSpec().pixel_deg)
    d = np.zeros((4, n, n), np.float32)
    d[:, 5, 5] = 0.5  # a compact source
    d[:, 60:70, 5:25] = 0.2  # an extended source far from the centre
    d[:, 38:42, 38:42] = 0.3  # emission at the cluster
    return GriddedField("f", d, w, np.full(4, 0.01), np.full(4, 0.03), BAND_NAMES, label)


def test_real_fields_carry_what_is_known_of_them_as_sets():
    cfg = SegTrainConfig(classes=True)
    halo_field, plain = static_class_labels(_field(1), cfg), static_class_labels(_field(0), cfg)
    assert plain[5, 5] == 0 and plain[65, 10] == 5  # compact: background; extended: bg/relic/RG
    assert plain[40, 40] == 6  # the halo-free cluster's emission: anything but a halo
    assert halo_field[40, 40] == 1 and halo_field[40, 30] == -1  # weak halo label; the ring left out
    assert LABEL_SETS[6] == ("background", "minihalo", "relic", "radio_galaxy")
    assert not ALLOWED[6, CLASSES.index("halo")] and ALLOWED[6].sum() == 4


def test_the_partial_label_loss_is_zero_only_inside_the_allowed_set():
    big = 20.0

    def logits_for(cls):
        z = torch.full((1, len(CLASSES), 1, 1), -big)
        z[0, CLASSES.index(cls)] = big
        return z

    code5 = torch.full((1, 1, 1, 1), 5.0)  # background, relic or radio galaxy
    assert class_loss_fn(logits_for("radio_galaxy"), code5, 3.0) < 1e-6
    assert class_loss_fn(logits_for("relic"), code5, 3.0) < 1e-6
    assert class_loss_fn(logits_for("halo"), code5, 3.0) > big
    assert class_loss_fn(logits_for("halo"), torch.full((1, 1, 1, 1), -1.0), 3.0) == 0  # ignored


def _fieldset():
    from astropy.coordinates import SkyCoord

    from radioviz.data.preprocess import common_grid

    rng = np.random.default_rng(0)
    fields = []
    for i in range(3):
        w = common_grid(SkyCoord(10.0 + 5 * i, -30.0, unit="deg"), 40, GridSpec().pixel_deg)
        d = np.where(rng.uniform(size=(4, 40, 40)) < 0.03, 0.2, 0.0).astype(np.float32)
        fields.append(GriddedField(f"f{i}", d, w, np.full(4, 0.02), np.full(4, 0.06), BAND_NAMES, i % 2))
    return FieldSet(fields, [(19.5, 19.5)] * 3, np.arange(3), "hash", GridSpec())


def test_a_class_fit_learns_and_its_card_loads_as_a_detector_with_both_maps(tmp_path):
    cfg = SegTrainConfig(
        steps=30, batch_size=4, crop=16, base=4, depth=2, save_every=10, mine_at=(0.5,), classes=True
    )
    cfg.device = "cpu"
    fit = fit_segmenter(_fieldset(), [0, 1, 2], cfg)
    assert fit.model.out_channels == len(CLASSES)
    assert fit.history[-1]["loss"] < fit.history[0]["loss"]  # it learns
    kw = {"in_channels": 4, "base": 4, "depth": 2, "norm": "batch", "out_channels": len(CLASSES)}
    card = segmenter_card(kw, GridSpec(), BAND_NAMES, Calibration(2.0, 0.0), classes=list(CLASSES))
    path = save_checkpoint(fit.model, tmp_path / "cls", card)
    from radioviz.metrics.evaluate import load_classifier

    det, _, _ = load_classifier(path)
    assert isinstance(det, Detector) and det.has_classes and det.classes == CLASSES
    g = _fieldset().fields[0]
    p = det.raw_class_probabilities(g.scaled())
    np.testing.assert_allclose(p.sum(0), 1, atol=1e-5)
    halo, _ = det.probability(g, "halo")
    diffuse, _ = det.probability(g, "diffuse")
    np.testing.assert_allclose(halo, det.calibration(p[1]), atol=1e-6)
    np.testing.assert_allclose(diffuse, 1 - p[0], atol=1e-6)
    assert predict_logits(det.net, g.scaled()).shape == (len(CLASSES), 40, 40)


def test_a_card_whose_classes_do_not_match_the_network_is_refused(tmp_path):
    from radioviz.metrics.evaluate import load_classifier
    from radioviz.models.card import ModelCardError

    kw = {"in_channels": 4, "base": 4, "depth": 2, "norm": "batch", "out_channels": len(CLASSES)}
    card = segmenter_card(kw, GridSpec(), BAND_NAMES, Calibration(), classes=list(CLASSES))
    path = save_checkpoint(SegmenterUNet(4, 4, 2, "batch", len(CLASSES)), tmp_path / "c", card)
    for bad in (["background", "halo"], ["halo", *CLASSES[1:], "background"], "halo"):
        d = json.loads(path.with_suffix(".json").read_text())
        d["classes"] = bad
        path.with_suffix(".json").write_text(json.dumps(d))
        with pytest.raises(ModelCardError, match="classes"):
            load_classifier(path)


def test_an_old_one_class_card_still_loads_and_gives_one_map_for_either_mode(tmp_path):
    from radioviz.metrics.evaluate import load_classifier

    torch.manual_seed(0)
    kw = {"in_channels": 4, "base": 4, "depth": 2, "norm": "batch"}
    path = save_checkpoint(
        SegmenterUNet(4, 4, 2, "batch"),
        tmp_path / "old",
        segmenter_card(kw, GridSpec(), BAND_NAMES, Calibration()),
    )
    det, _, _ = load_classifier(path)
    g = _fieldset().fields[1]
    assert not det.has_classes and det.raw_class_probabilities(g.scaled()) is None
    np.testing.assert_array_equal(det.probability(g, "halo")[0], det.probability(g, "diffuse")[0])


@pytest.fixture(scope="module")
def class_checkpoint(tmp_path_factory):
    torch.manual_seed(3)
    net = SegmenterUNet(4, 4, 2, "batch", len(CLASSES)).eval()
    kw = {"in_channels": 4, "base": 4, "depth": 2, "norm": "batch", "out_channels": len(CLASSES)}
    card = segmenter_card(kw, GridSpec(), BAND_NAMES, Calibration(), classes=list(CLASSES))
    return save_checkpoint(net, tmp_path_factory.mktemp("cls") / "cls", card)


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    from radioviz.simulate import SimConfig, simulate_field, write_field

    root = tmp_path_factory.mktemp("layout")
    write_field(
        simulate_field(SimConfig(seed=11, size=64, halo="halo", point_density_per_deg2=5)), root, "TEST"
    )
    return root


def test_scan_writes_the_any_diffuse_map_and_each_candidates_class(class_checkpoint, layout, tmp_path):
    from astropy.table import Table

    from radioviz.cli import main

    args = [
        "scan",
        str(layout),
        "--checkpoint",
        str(class_checkpoint),
        "--threshold",
        "0.01",
        "--out",
        str(tmp_path),
    ]
    assert main(args) == 0
    assert len(list(tmp_path.glob("*_diffusemap.fits"))) == 1
    t = Table.read(next(tmp_path.glob("*_candidates.ecsv")))
    assert len(t) >= 1 and set(t["class"]) <= set(CLASSES[1:])
    probs = np.stack([t[f"p_{c}"] for c in CLASSES], 1)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-4)


def test_the_fields_map_switches_between_halo_and_any_diffuse_without_a_new_scan(class_checkpoint, layout):
    from radioviz.app.candidate_classes import class_colour, class_text
    from radioviz.io.layout import discover, read_stack
    from radioviz.metrics.evaluate import load_classifier
    from radioviz.scan import score_map
    from radioviz.scan.scoremap import find_candidates

    model, pre, _ = load_classifier(class_checkpoint)
    smap = score_map(read_stack(discover(layout)[0]), model, 4, pre)
    assert smap.shown == "halo" and smap.classes == list(CLASSES)
    diffuse = smap.showing("diffuse")
    np.testing.assert_array_equal(diffuse.scores, smap.layers["diffuse"])
    np.testing.assert_array_equal(diffuse.showing("halo").scores, smap.scores)
    assert (diffuse.scores >= smap.layers["p_halo"] - 1e-6).all()  # any diffuse includes the halo class
    cands = find_candidates(diffuse, 0.0)
    c = cands[0]
    assert c["class"] in CLASSES[1:] and abs(sum(c["class_probs"].values()) - 1) < 1e-4
    assert class_text(c).split()[-1] == f"{c['class_probs'][c['class']]:.2f}"
    assert class_colour(c) != "" and class_text({}) == ""
