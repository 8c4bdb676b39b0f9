"""``radioviz cv --arch segmenter`` (the detector's evaluation table, once scripts/cv_detector.py)
on eight tiny simulated fields: two folds, one seed, a two-step detector."""

from __future__ import annotations

import json

import pytest
import torch

from radioviz.cli import build_parser, main


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
    assert main(args) == 0
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
