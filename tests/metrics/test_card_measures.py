"""``radioviz measure quality | seed-spread | clip-levels`` on a tiny generator trained here (two
steps on three simulated fields): what each writes into the card, and nothing else."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from radioviz.cli import main


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory):
    from radioviz.data.dataset import DatasetConfig, build_dataset
    from radioviz.simulate import SimConfig, simulate_field, write_field
    from radioviz.training.diffusion import DiffusionConfig, train_diffusion

    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("gen")
    root = tmp / "data"
    for seed, halo in ((1, "halo"), (2, None), (3, "halo")):
        cfg = SimConfig(seed=seed, halo=halo, size=64, point_density_per_deg2=30, n_extended=0)
        write_field(simulate_field(cfg), root, "TRAIN")
    config = DatasetConfig(str(root), "TRAIN", cutout_size=16, val_fraction=0.34)
    ds, _, _ = build_dataset(config, root / "cache", progress=False)
    cfg = DiffusionConfig(steps=2, batch_size=4, base=8, mults=(1, 2), attn_resolutions=(8,), save_every=1)
    train_diffusion(ds, cfg, tmp / "g", progress=False)
    return tmp / "g.safetensors", root, ds


def _card(ckpt):
    return json.loads(ckpt.with_suffix(".json").read_text())


def test_measure_quality_then_seed_spread(tiny_generator, tmp_path, capsys):
    src, root, _ = tiny_generator
    ckpt = tmp_path / "g.safetensors"
    ckpt.write_bytes(src.read_bytes())
    card = _card(src)
    card["quality"] = {"structure": {"peak_ratio": [1.0]}}  # measured apart: must survive
    ckpt.with_suffix(".json").write_text(json.dumps(card))
    rows = tmp_path / "rows.jsonl"
    base = ["measure", "quality", str(ckpt), "--n", "4", "--real", str(root), "--sampler", "ddim"]
    base += ["--steps", "2", "--classifier", "none", "--append", str(rows)]
    for seed in ("0", "1"):
        assert main([*base, "--seed", seed]) == 0
    out = capsys.readouterr().out
    assert len([line for line in out.splitlines() if line.startswith(f"{ckpt} {{")]) == 2
    q = _card(ckpt)["quality"]
    assert q["structure"] == {"peak_ratio": [1.0]}
    assert q["n"] == 4 and q["label"] == "H" and q["seed"] == 1 and q["sampler"] == "ddim-2"
    assert (
        isinstance(q["hist_err"], float) and q["fid_domain"] is None and q["pass_0.5"] is None
    )  # a 2-step model
    assert q["command"].startswith(f"radioviz measure quality {ckpt} --n 4 --label H --seed 1")
    assert [json.loads(line)["seed"] for line in rows.read_text().splitlines()] == [0, 1]

    assert main(["measure", "seed-spread", str(ckpt), str(rows)]) == 0
    spread = _card(ckpt)["quality"]["over_seeds"]
    assert spread["seeds"] == [0, 1] and len(spread["hist_err"]) == 2
    measured = [json.loads(line) for line in rows.read_text().splitlines()]
    gaps = [round(abs(r["zero_fraction_gen"] - r["zero_fraction_real"]), 4) for r in measured]
    assert spread["zero_fraction_gap"] == gaps and gaps[0] > 0
    assert spread["hist_err_mean"] == pytest.approx(np.mean(spread["hist_err"]), abs=1e-3, nan_ok=True)
    assert json.loads(capsys.readouterr().out) == spread


def test_seed_spread_needs_two_seeds_of_the_cards_setting(tiny_generator, tmp_path):
    from radioviz.errors import InputError
    from radioviz.metrics.card_measures import seed_spread

    q = {"sampler": "ddim-2", "guidance": 0.0, "churn": None, "label": "H", "n": 4, "flux_requested": None}
    row = {**q, "hist_err": 0.1, "zero_fraction_gen": 0.5, "zero_fraction_real": 0.4}
    row |= {"fid_domain": None, "nn_ssim_max": 0.3}
    with pytest.raises(InputError, match="fewer than two seeds"):
        seed_spread(q, [{**row, "seed": 0}, {**row, "seed": 1, "n": 8}])
    assert seed_spread(q, [{**row, "seed": 0}, {**row, "seed": 1}])["zero_fraction_gap"] == [0.1, 0.1]


def test_measure_clip_levels_recomputes_them_from_the_training_data(tiny_generator, tmp_path, capsys):
    from radioviz.data.dataset import clip_levels, source_is_halo

    src, _, ds = tiny_generator
    ckpt = tmp_path / "g.safetensors"
    ckpt.write_bytes(src.read_bytes())
    card = _card(src)
    want = clip_levels(ds, ds.is_centre)
    card["dead_band_jy"] = [9.0] * len(want)
    card.pop("dead_band_source_halo", None)
    ckpt.with_suffix(".json").write_text(json.dumps(card))
    assert main(["measure", "clip-levels", str(ckpt)]) == 0
    after = _card(ckpt)
    assert after["dead_band_jy"] == pytest.approx(want)
    assert "radioviz measure clip-levels" in after["dead_band_jy_note"]
    assert "g.safetensors: [9.0" in capsys.readouterr().out
    assert main(["measure", "clip-levels", str(ckpt), "--classes"]) == 0
    assert _card(ckpt)["dead_band_source_halo"] == source_is_halo(ds)
    assert "sources are halo" in capsys.readouterr().out


@pytest.fixture(scope="module")
def tiny_conditioned(tmp_path_factory):
    """A two-step EDM conditioned on class, flux, mask and background, and a 16-px A classifier."""
    from radioviz.data.dataset import DatasetConfig, build_dataset
    from radioviz.data.preprocess import Preprocessing, classifier_normalization
    from radioviz.models.checkpoint import save_checkpoint
    from radioviz.models.classifiers import build_classifier
    from radioviz.simulate import SimConfig, simulate_field, write_field
    from radioviz.training.diffusion import DiffusionConfig, train_diffusion

    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("cond")
    root = tmp / "data"
    for seed, halo in ((1, "halo"), (2, None), (3, "minihalo"), (4, None)):
        cfg = SimConfig(seed=seed, halo=halo, size=64, point_density_per_deg2=30, n_extended=0)
        write_field(simulate_field(cfg), root, "TRAIN")
    ds, _, _ = build_dataset(
        DatasetConfig(str(root), "TRAIN", cutout_size=16, val_fraction=0.34), root / "cache", progress=False
    )
    cfg = DiffusionConfig(kind="edm", steps=2, batch_size=4, base=8, mults=(1, 2), attn_resolutions=(8,))
    cfg = DiffusionConfig(**{**cfg.__dict__, "save_every": 1, "flux": True, "mask": True, "background": True})
    train_diffusion(ds, cfg, tmp / "edm", progress=False)
    torch.manual_seed(0)
    pre = Preprocessing(cutout_size=16, normalization=classifier_normalization(ds.images[:8], per_image=True))
    card = {"kind": "classifier", "arch": "A", "kwargs": {"size": 16}, "preprocessing": pre.to_dict()}
    clf = save_checkpoint(build_classifier("A", size=16), tmp / "clf", card)
    return tmp / "edm.safetensors", clf, root


def test_measure_conditioning_writes_the_report_figures_and_the_mask_models_card(tiny_conditioned, tmp_path):
    src, clf, root = tiny_conditioned
    edm = tmp_path / "edm.safetensors"
    edm.write_bytes(src.read_bytes())
    edm.with_suffix(".json").write_text(src.with_suffix(".json").read_text())
    out = tmp_path / "out"
    args = ["measure", "conditioning", "--real", str(root), "--edm", str(edm), "--mask-model", str(edm)]
    args += ["--classifier", str(clf), "--n", "2", "--omegas", "0", "2", "--out", str(out), "--write-card"]
    assert main(args) == 0
    report = json.loads((out / "conditioning.json").read_text())
    assert set(report) == {"flux", "guidance", "masks"}
    assert [r["omega"] for r in report["guidance"]["rows"]] == [0.0, 2.0]
    masks = report["masks"]
    assert 0 <= masks["iou_mean"] <= 1 and masks["ceiling_simulated"]["n_fields"] == 12
    assert masks["ratio_to_ceiling"] == pytest.approx(
        masks["iou_mean"] / masks["ceiling_simulated"]["iou_mean"]
    )
    for png in ("flux_relation.png", "guidance_sweep.png", "mask_examples.png"):
        assert (out / png).stat().st_size > 0
    q = _card(edm)["quality"]
    assert q["mask_iou"] == round(masks["iou_mean"], 3) and q["command"].startswith(
        "radioviz measure conditioning"
    )
    main([*args[:-1], "--skip", "flux", "guidance"])  # a partial run keeps the other sections
    assert set(json.loads((out / "conditioning.json").read_text())) == {"flux", "guidance", "masks"}
