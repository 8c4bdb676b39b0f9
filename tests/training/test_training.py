import json
import subprocess
import sys

import numpy as np
import pytest

from radioviz.data.dataset import DatasetConfig, build_dataset
from radioviz.metrics.classification import binary_metrics, roc_auc
from radioviz.metrics.evaluate import load_classifier
from radioviz.simulate import SimConfig, simulate_field, write_field
from radioviz.training.classifier import TrainConfig, train_classifier


def test_roc_auc_and_metrics_against_hand_counts():
    y = np.array([0, 0, 1, 1, 1])
    s = np.array([0.1, 0.6, 0.55, 0.8, 0.9])
    assert roc_auc(y, s) == pytest.approx(5 / 6)
    m = binary_metrics(y, s)
    assert m["confusion"] == {"tp": 3, "tn": 1, "fp": 1, "fn": 0}
    assert (
        m["precision"] == pytest.approx(0.75) and m["recall"] == 1.0 and m["accuracy"] == pytest.approx(0.8)
    )
    assert roc_auc(np.array([1, 0]), np.array([0.5, 0.5])) == 0.5


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    for seed in range(6):
        halo = "halo" if seed % 2 == 0 else None
        write_field(
            simulate_field(
                SimConfig(
                    seed=seed, halo=halo, halo_flux_jy=3.0, n_extended=0, point_density_per_deg2=3, size=96
                )
            ),
            root,
            "TRAIN",
        )
    return root


def test_train_resume_and_evaluate_contract(tiny_root, tmp_path):
    ds, _, _ = build_dataset(
        DatasetConfig(str(tiny_root), "TRAIN", cutout_size=64, val_fraction=0.34),
        tmp_path / "cache",
        progress=False,
    )
    out = tmp_path / "clf"
    _, card = train_classifier(ds, TrainConfig("L", epochs=1, batch_size=64), out, progress=False)
    assert card.training.steps == 1 and card.data["hash"] == ds.meta["data_hash"]
    assert card.training.step_unit == "epoch" and len(card.training.learning_curve) == 1
    assert {"wall_seconds", "cpu_hours", "command", "torch_threads"} <= set(card.training.record)
    assert card.preprocessing.normalization.log is False
    # resuming continues from the saved epoch instead of starting over
    _, card2 = train_classifier(
        ds, TrainConfig("L", epochs=2, batch_size=64, patience=5), out, resume=True, progress=False
    )
    assert [h["epoch"] for h in card2.training.record["history"]] == [0, 1]

    model, pre, _ = load_classifier(out.with_suffix(".safetensors"))
    assert pre.normalization is not None and pre.band_convention == "native"

    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "radioviz.cli",
            "evaluate-classifier",
            "--checkpoint",
            str(out.with_suffix(".safetensors")),
            "--data",
            str(tiny_root),
            "--split",
            "TRAIN",
            "--json",
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    for key in ("accuracy", "precision", "recall", "f1", "roc_auc", "n_images"):
        assert key in result["per_image"]
    assert result["per_image"]["n_images"] == 6 * 160
    assert result["per_source"]["n_sources"] == 6 and len(result["per_source"]["scores"]) == 6
    assert all(0 <= v <= 1 for v in result["per_source"]["scores"].values())


def test_evaluate_bad_inputs_give_one_line(tmp_path, tiny_root):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "radioviz.cli",
            "evaluate-classifier",
            "--checkpoint",
            str(tmp_path / "nope.safetensors"),
            "--data",
            str(tiny_root),
            "--split",
            "TRAIN",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "does not exist" in r.stderr and r.stderr.count("\n") == 1


def test_generated_halos_are_added_at_the_ratio(tiny_root, tmp_path):
    from radioviz.errors import InputError
    from radioviz.training.classifier import fit_classifier, load_generated

    ds, _, _ = build_dataset(
        DatasetConfig(str(tiny_root), "TRAIN", cutout_size=64, val_fraction=0.34, augment=False),
        tmp_path / "cache",
        progress=False,
    )
    gen_file = tmp_path / "samples.npz"
    np.savez(
        gen_file,
        images=np.zeros((5, 4, 64, 64), np.float32),
        physical=np.random.default_rng(0).random((5, 4, 64, 64)).astype(np.float32),
    )
    gen = load_generated(gen_file, ds.images)
    res = fit_classifier(
        ds,
        ~ds.is_val,
        ds.is_val,
        TrainConfig("D", epochs=1, generated_ratio=0.5),
        progress=False,
        generated=gen,
    )
    assert res.history and len(res.history) == 1
    bad = tmp_path / "bad.npz"
    np.savez(bad, physical=np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(InputError, match="shape"):
        load_generated(bad, ds.images)
    with pytest.raises(ValueError, match="needs generated"):
        fit_classifier(
            ds, ~ds.is_val, ds.is_val, TrainConfig("D", epochs=1, generated_ratio=0.5), progress=False
        )


def test_diffusion_assisted_cv_keeps_copies_of_held_out_halos_out(tiny_root, tmp_path):
    from radioviz.training.crossval import cross_validate, nearest_real_source

    ds, _, _ = build_dataset(
        DatasetConfig(str(tiny_root), "TRAIN", cutout_size=64, augment=False),
        tmp_path / "cache",
        progress=False,
    )
    halos = np.flatnonzero(ds.labels == 1)
    copies = np.rot90(ds.images[halos], 1, axes=(-2, -1)).copy()  # a generator that memorised each halo
    np.testing.assert_array_equal(nearest_real_source(ds, copies), ds.source[halos])
    res = cross_validate(
        ds, TrainConfig("D", epochs=1, generated_ratio=0.5), k=3, seeds=[0], progress=False, generated=copies
    )
    # every fold holds out at least one halo source, so its copy never reaches that fold's training
    assert res["generated"]["pool_per_fold_mean"] < len(copies)
    assert np.isfinite(res["per_source"]["accuracy"]["mean"])
    # the report `radioviz cv` writes: the JSON and its three plots
    from radioviz.training.crossval import write_cv_report

    res["wall_seconds"], res["command"] = 1.0, "radioviz cv"
    path = write_cv_report(res, tmp_path / "cv", "D_generated")
    assert json.loads(path.read_text())["seeds"] == [0]
    assert {p.name for p in (tmp_path / "cv").iterdir()} == {
        "cv_D_generated.json",
        "roc_D_generated_per_source.png",
        "roc_D_generated_per_image.png",
        "confusion_D_generated_per_source.png",
    }
