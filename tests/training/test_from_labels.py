"""Learning from vetting labels (issue #26 item 4): labels → labelled discs on the training grid,
the fine-tune from a detector's own weights, its card, and the simulated-labeller CV fold."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from radioviz.data.fieldgrid import GriddedField, GridSpec
from radioviz.errors import InputError
from radioviz.models.checkpoint import save_checkpoint
from radioviz.models.segmenter import CLASSES, Calibration, SegmenterUNet
from radioviz.scan.vetting import LabelStore
from radioviz.training.from_labels import finetune_on_labels, labelled_maps, spots_from_labels
from radioviz.training.segmenter import FieldSet, SegTrainConfig, segmenter_card

BANDS = ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"]


def _fieldset(n_fields=4, n=40):
    from astropy.coordinates import SkyCoord

    from radioviz.data.preprocess import common_grid

    rng = np.random.default_rng(0)
    fields = []
    for i in range(n_fields):
        w = common_grid(SkyCoord(10.0 + 5 * i, -30.0, unit="deg"), n, GridSpec().pixel_deg)
        d = np.where(rng.uniform(size=(4, n, n)) < 0.03, 0.2, 0.0).astype(np.float32)
        d[:, 18:22, 18:22] = 0.3  # emission at the centre
        fields.append(GriddedField(f"f{i}", d, w, np.full(4, 0.02), np.full(4, 0.06), BANDS, i % 2))
    return FieldSet(fields, [(19.5, 19.5)] * n_fields, np.arange(n_fields), "hash", GridSpec())


def _at(fs, i, x, y, label):
    sky = fs.fields[i].wcs.pixel_to_world(x, y)
    return {"field": fs.names[i], "ra": float(sky.ra.deg), "dec": float(sky.dec.deg), "label": label}


def test_labels_become_discs_on_the_fields_they_were_given_on():
    fs = _fieldset()
    rows = [
        _at(fs, 1, 20, 20, "halo"),
        _at(fs, 0, 20, 20, "not halo"),
        _at(fs, 2, 20, 20, "unsure"),
        {"field": "elsewhere", "ra": 0.0, "dec": 0.0, "label": "halo"},
        _at(fs, 3, 500, 500, "halo"),
    ]
    spots, skipped = spots_from_labels(fs, rows)
    assert [(s.field, round(s.x), round(s.y), s.label) for s in spots] == [
        (1, 20, 20, "halo"),
        (0, 20, 20, "not halo"),
    ]
    assert (
        len(skipped) == 3
        and any("unsure" in s for s in skipped)
        and any("off the field" in s for s in skipped)
    )
    cfg = SegTrainConfig(classes=True)
    maps = labelled_maps(fs, cfg, spots, radius_arcmin=5.0)
    assert maps[1][20, 20] == CLASSES.index("halo") and maps[0][20, 20] == 6  # 6: anything but a halo
    empty = (fs.fields[1].data == 0).all(0)
    assert not (maps[1][empty] == CLASSES.index("halo")).any()  # the label is about emission only
    one = labelled_maps(fs, SegTrainConfig(), spots, radius_arcmin=5.0)
    assert one[1][20, 20] == 1 and one[0][20, 20] == 0


@pytest.fixture
def detector(tmp_path):
    torch.manual_seed(0)
    net = SegmenterUNet(4, 4, 2, "batch", len(CLASSES))
    kw = {"in_channels": 4, "base": 4, "depth": 2, "norm": "batch", "out_channels": len(CLASSES)}
    card = segmenter_card(
        kw,
        GridSpec(),
        BANDS,
        Calibration(1.2, 0.1),
        classes=list(CLASSES),
        training={"crop": 16, "batch_size": 4, "base": 4, "depth": 2, "classes": True, "mine_at": [0.5]},
    )
    return save_checkpoint(net, tmp_path / "det", card)


def test_a_fine_tune_learns_from_a_store_and_its_card_says_which_labels(detector, tmp_path):
    fs = _fieldset()
    store = LabelStore(tmp_path / "labels.sqlite")
    for i, word in ((1, "halo"), (0, "not halo"), (2, "unsure")):
        r = _at(fs, i, 20, 20, word)
        store.set(f"{r['field']}@20,20", r["field"], r["ra"], r["dec"], 0.7, word, labeller="ann")
    out, card, skipped = finetune_on_labels(
        "unused", detector, store.path, tmp_path / "ft", steps=6, device="cpu", log=None, fs=fs
    )
    rec = card["vetting_labels"]
    assert (
        rec["n_used"] == 2 and rec["halo"] == 1 and rec["not_halo"] == 1 and rec["store"] == "labels.sqlite"
    )
    assert rec["init"] == "det.safetensors" and len(skipped) == 1 and len(rec["digest"]) == 16
    assert card["calibration"]["a"] == 1.2 and card["classes"] == list(CLASSES)
    saved = json.loads(out.with_suffix(".json").read_text())
    assert "/" not in saved["vetting_labels"]["store"]
    from radioviz.metrics.evaluate import load_classifier

    new, _, _ = load_classifier(out)
    old, _, _ = load_classifier(detector)
    assert any(
        not torch.equal(a, b)
        for a, b in zip(new.net.state_dict().values(), old.net.state_dict().values(), strict=True)
    )


def test_a_store_with_nothing_to_learn_is_refused_naming_it(detector, tmp_path):
    fs = _fieldset()
    store = LabelStore(tmp_path / "empty.sqlite")
    r = _at(fs, 2, 20, 20, "unsure")
    store.set("x", r["field"], r["ra"], r["dec"], 0.5, "unsure", labeller="ann")
    with pytest.raises(InputError, match="empty.sqlite"):
        finetune_on_labels(
            "unused", detector, store.path, tmp_path / "ft", steps=2, device="cpu", log=None, fs=fs
        )


def test_the_simulated_labeller_fold_reports_before_and_after(tmp_path):
    from radioviz.training import detector_cv as dc

    fs = _fieldset(n_fields=8)
    cfg = SegTrainConfig(steps=4, batch_size=2, crop=16, base=4, depth=2, classes=True, mine_at=(0.5,))
    path = dc.labeller_fold(fs, 0, 0, 2, cfg, tmp_path, "t", log=lambda *_: None, ft_steps=2)
    res = json.loads(path.read_text())
    assert set(res["before"]) == {"halo_in_top1", "halo_in_top3", "false_candidates_per_deg2"}
    for k in dc.LABELLER_KS:
        assert res[f"k{k}"]["n"] <= k and set(res[f"k{k}"]["after"]) == set(res["before"])
    summary = dc.labeller_summary([path])
    assert summary["seeds"] == [0] and "halo_in_top3" in summary["before"]
