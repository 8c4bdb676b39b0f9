"""``radioviz cv --arch segmenter`` (the detector's evaluation table, once scripts/cv_detector.py)
on eight tiny simulated fields: two folds, one seed, a two-step detector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from radioviz.cli import build_parser, main

REPO_CARD = Path(__file__).resolve().parents[2] / "checkpoints" / "segmenter.json"


@pytest.fixture(scope="module")
def fields(tmp_path_factory):
    from radioviz.simulate import SimConfig, simulate_field, write_field

    root = tmp_path_factory.mktemp("cvdet") / "data"
    for i in range(8):
        cfg = SimConfig(
            seed=20 + i,
            size=64,
            ra_deg=10.0 + 5 * i,  # eight sky groups
            dec_deg=-30.0,
            halo="halo" if i % 2 else None,
            point_density_per_deg2=5,
            n_extended=1,
        )
        write_field(simulate_field(cfg), root, "TRAIN")
    return root


def test_cv_arch_segmenter_writes_the_detector_table(fields, tmp_path, capsys):
    torch.manual_seed(0)
    docs, work = tmp_path / "docs", tmp_path / "work"
    args = ["cv", "--arch", "segmenter", "--data", str(fields), "--k", "2", "--seeds", "1"]
    args += ["--steps", "2", "--crop", "16", "--base", "4", "--depth", "2", "--detector-batch", "2"]
    args += ["--inject-seeds", "0", "--stages", "detector", "--work", str(work), "--out", str(docs)]
    args += ["--checkpoint-out", str(tmp_path / "det")]  # never the shipped detector's card
    shipped = REPO_CARD.read_bytes()
    assert main(args) == 0
    assert REPO_CARD.read_bytes() == shipped
    assert len(list(work.glob("det-full-s0-f*.npz"))) == 2  # one file per fit: a rerun resumes
    report = json.loads((docs / "cv_detector.json").read_text())
    det = report["methods"]["detector"]
    assert report["k"] == 2 and det["seeds"] == [0]
    for k in ("accuracy", "f1", "roc_auc", "peak_within_10arcmin", "false_candidates_per_deg2"):
        assert k in det
    assert report["data_hash"] and report["detector_config"]["steps"] == 2
    assert len(report["raw_centre_scores"][0]) == 8  # every field's held-out score, for the calibration
    assert "| detector |" in (docs / "cv_detector_table.md").read_text()
    assert "| detector |" in capsys.readouterr().out


def test_cv_offers_the_registry_detectors_and_keeps_classifier_defaults():
    args = build_parser().parse_args(["cv", "--data", "d", "--out", "o"])
    assert args.arch == "L" and not hasattr(args, "batch_size")  # the classifiers' batch is TrainConfig's
    args = build_parser().parse_args(["cv", "--arch", "segmenter", "--data", "d", "--out", "o"])
    assert args.arch == "segmenter" and args.stages == ["detector", "final", "window", "ablation"]


def test_the_peak_flux_baseline_is_the_old_scripts(fields):
    """scripts/cv_flux_baseline.py's numbers, now :func:`flux_baseline_cv`: the same as the old
    script's own loop (its peaks were not divided by the identity augmentation's scale, a shift of
    every log peak and of the cut alike)."""
    import numpy as np

    from radioviz.data.dataset import DatasetConfig, build_dataset
    from radioviz.data.splits import group_folds
    from radioviz.metrics.classification import binary_metrics
    from radioviz.training.cv_flux import fit_threshold, flux_baseline_cv

    ds, _, _ = build_dataset(DatasetConfig(str(fields), "TRAIN", offcentre_per_halo=2), progress=False)
    new = flux_baseline_cv(ds, k=2, seeds=3)
    rows = np.flatnonzero(ds.is_centre & (ds.aug == 0))
    peak = np.zeros((len(ds.source_names), ds.images.shape[1]))
    peak[ds.source[rows]] = np.log10(np.maximum(ds.images[rows].max(axis=(2, 3)), 1e-4))
    y = ds.source_labels
    for b, band in enumerate(ds.meta["bands"]):
        runs = []
        for seed in range(3):
            folds, score = group_folds(ds.source_group, y, 2, seed), np.zeros(len(y))
            for f in range(2):
                cut = fit_threshold(peak[folds != f, b], y[folds != f])
                score[folds == f] = 1.0 / (1.0 + np.exp(4 * (peak[folds == f, b] - cut)))
            runs.append(binary_metrics(y, score))
        for m in ("accuracy", "f1", "roc_auc"):
            assert new["per_band"][band][m]["mean"] == pytest.approx(np.mean([r[m] for r in runs]), abs=1e-12)
    assert new["k"] == 2 and new["seeds"] == 3


def test_screened_variants_side_by_side_on_their_common_seeds(fields, tmp_path, capsys, monkeypatch):
    """``--stages screen`` then ``--stages table``: the spectral-index ablation's table (a class
    detector with and without the index channel) on the seeds both have."""
    from radioviz.training import detector_cv_run

    for tag in ("clsw", "cw-alpha"):  # two steps each, not 3 000
        change, member = detector_cv_run.VARIANTS[tag]
        monkeypatch.setitem(detector_cv_run.VARIANTS, tag, ({**change, "steps": 2}, member))
    torch.manual_seed(0)
    docs, work = tmp_path / "docs", tmp_path / "work"
    args = ["cv", "--arch", "segmenter", "--data", str(fields), "--k", "2", "--seeds", "1"]
    args += ["--steps", "2", "--crop", "16", "--base", "4", "--depth", "2", "--detector-batch", "2"]
    args += ["--inject-seeds", "0", "--work", str(work), "--out", str(docs), "--screen-seeds", "1"]
    args += ["--checkpoint-out", str(tmp_path / "det"), "--variants", "clsw", "cw-alpha"]
    assert main([*args, "--stages", "screen"]) == 0
    assert len(list(work.glob("det-cw-alpha-s0-f*.npz"))) == 2
    assert main([*args, "--stages", "table"]) == 0
    table = (docs / "cv_variants_clsw_cw-alpha.md").read_text()
    assert "| class detector + spectral index input |" in table and "(seeds 0; 2 folds)" in table
    saved = json.loads((docs / "cv_variants_clsw_cw-alpha.json").read_text())
    assert saved["seeds"] == [0] and "roc_auc" in saved["cw-alpha"]["metrics"]


def test_a_run_name_that_starts_another_keeps_its_own_fold_files(tmp_path):
    """'det-cw-res' and 'det-cw-res-s6000' side by side: each seed has its own k files (a glob had
    given seed 0 of det-cw-res both runs' files, and the seed was then dropped)."""
    from radioviz.training.detector_cv import _seed_files

    for name in ("det-cw-res", "det-cw-res-s6000"):
        for seed in (0, 1):
            for f in range(2):
                (tmp_path / f"{name}-s{seed}-f{f}.npz").touch()
    (tmp_path / "det-cw-res-s2-f0.npz").touch()  # an unfinished seed
    own = _seed_files(tmp_path, "det-cw-res", 2)
    assert sorted(own) == [0, 1] and all("s6000" not in p.name for fl in own.values() for p in fl)
    assert sorted(_seed_files(tmp_path, "det-cw-res-s6000", 2)) == [0, 1]


def test_the_shipped_reliability_is_redrawn_from_the_recorded_raw_scores(fields, tmp_path):
    """``--stages reliability`` calibrates each fold's raw centre scores on the other folds, as the
    CV did: the accuracy it finds per seed is the CV table's, and the diagram is drawn."""
    torch.manual_seed(0)
    docs, work = tmp_path / "docs", tmp_path / "work"
    args = ["cv", "--arch", "segmenter", "--data", str(fields), "--k", "2", "--seeds", "1"]
    args += ["--steps", "2", "--crop", "16", "--base", "4", "--depth", "2", "--detector-batch", "2"]
    args += ["--inject-seeds", "0", "--work", str(work), "--out", str(docs)]
    args += ["--checkpoint-out", str(tmp_path / "det")]
    assert main([*args, "--stages", "detector"]) == 0
    report = json.loads((docs / "cv_detector.json").read_text())
    final = {
        "raw_centre_scores": report["raw_centre_scores"],
        "raw_centre_labels": report["raw_centre_labels"],
    }
    (docs / "cv_class_detector_final.json").write_text(json.dumps(final))
    assert main([*args, "--stages", "reliability"]) == 0
    rel = json.loads((docs / "cv_class_detector_final.json").read_text())["reliability"]
    assert rel["accuracy_per_seed"] == pytest.approx([report["methods"]["detector"]["runs"][0]["accuracy"]])
    assert sum(b["n"] for b in rel["bins"]) == 8
    assert (docs / "reliability_class_detector.png").stat().st_size > 1000
