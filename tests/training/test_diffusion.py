import json
import subprocess
import sys

import numpy as np
import pytest

from radioviz.cli import main
from radioviz.data.dataset import DatasetConfig, build_dataset
from radioviz.sampling.generate import generate
from radioviz.simulate import SimConfig, simulate_field, write_field
from radioviz.training.diffusion import LABEL_NAMES, DiffusionConfig, source_subtypes, train_diffusion


@pytest.fixture(scope="module")
def tiny_ddpm(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    for seed, halo in ((1, "halo"), (2, None), (3, "minihalo")):
        write_field(
            simulate_field(SimConfig(seed=seed, halo=halo, size=64, point_density_per_deg2=30, n_extended=0)),
            root,
            "TRAIN",
        )
    ds, _, _ = build_dataset(
        DatasetConfig(str(root), "TRAIN", cutout_size=16, val_fraction=0.34), root / "cache", progress=False
    )
    cfg = DiffusionConfig(steps=2, batch_size=4, base=8, mults=(1, 2), attn_resolutions=(8,), save_every=1)
    out = root / "ddpm"
    card = train_diffusion(ds, cfg, out, progress=False)
    return ds, cfg, out, card


def test_subtypes_and_card(tiny_ddpm):
    ds, cfg, out, card = tiny_ddpm
    sub = source_subtypes(ds)
    assert all(LABEL_NAMES[s] == "non-halo" for s, lab in zip(sub, ds.source_labels, strict=True) if lab == 0)
    assert card.labels == list(LABEL_NAMES) and card.training.steps == 2
    assert {"wall_seconds", "cpu_hours", "command", "torch_threads"} <= set(card.training.record)
    norm = card.preprocessing.normalization  # new generators: per-band asinh in clip-level units
    assert norm.log is False and norm.asinh_soft is not None and len(norm.asinh_soft) == 4


def test_resume_continues_the_step_count(tiny_ddpm):
    ds, cfg, out, _ = tiny_ddpm
    from dataclasses import replace

    card = train_diffusion(ds, replace(cfg, steps=3), out, resume=True, progress=False)
    assert card.training.steps == 3


@pytest.mark.parametrize("sampler, steps, nfe", [("ddim", 3, 3), ("heun", 3, 5), ("euler", 3, 3)])
def test_generate_is_deterministic_and_records_a_trajectory(tiny_ddpm, sampler, steps, nfe):
    _, _, out, _ = tiny_ddpm
    ckpt = out.with_suffix(".safetensors")
    a = generate(ckpt, 2, label="H", sampler=sampler, steps=steps, seed=5, guidance=1.0)
    b = generate(ckpt, 2, label="H", sampler=sampler, steps=steps, seed=5, guidance=1.0)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.images.shape == (2, 4, 16, 16) and a.images.min() >= 0 and a.images.max() <= 1
    assert a.meta["nfe"] == 2 * nfe and len(a.trajectory) == steps  # guided: two network calls a step
    assert a.trajectory.nfe == nfe  # denoiser evaluations, as the sampler counts them


def test_ddpm_ancestral_runs_what_it_records_and_refuses_other_step_counts(tiny_ddpm):
    """Bug: sampler="ddpm", steps=50 ran all 1000 steps and recorded 50.  Ancestral DDPM is
    defined on the schedule's T steps: it runs and records T (the default), and refuses any other
    count before running anything."""
    from radioviz.errors import InputError
    from radioviz.sampling.registry import nfe, resolve_steps

    ckpt = tiny_ddpm[2].with_suffix(".safetensors")
    with pytest.raises(InputError, match="runs exactly 1000 steps, not 50; use ddim"):
        generate(ckpt, 1, label="H", sampler="ddpm", steps=50, callback=lambda info: pytest.fail("ran"))
    assert resolve_steps("ddpm", None, 1000) == resolve_steps("ddpm", 1000, 1000) == nfe("ddpm", 1000) == 1000


def test_sample_cli_contract_and_bad_label(tiny_ddpm, tmp_path):
    _, _, out, _ = tiny_ddpm
    ckpt = out.with_suffix(".safetensors")
    f = tmp_path / "s.npz"
    assert (
        main(
            [
                "sample",
                "--checkpoint",
                str(ckpt),
                "--n",
                "3",
                "--label",
                "cH",
                "--sampler",
                "ddim",
                "--steps",
                "2",
                "--seed",
                "1",
                "--out",
                str(f),
            ]
        )
        == 0
    )
    z = np.load(f)
    assert z["images"].shape == z["physical"].shape == (3, 4, 16, 16) and z["images"].dtype == np.float32
    meta = json.loads(str(z["meta"]))
    assert meta["sampler"] == "ddim" and meta["nfe"] == 2 and meta["seed"] == 1 and meta["label"] == "cH"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "radioviz.cli",
            "sample",
            "--checkpoint",
            str(ckpt),
            "--label",
            "relic",
            "--out",
            str(tmp_path / "x.npz"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "labels non-halo, H, cH, mH" in r.stderr and r.stderr.count("\n") == 1


def test_compare_contract(tiny_ddpm, tmp_path):
    from radioviz.models.checkpoint import save_checkpoint
    from radioviz.models.classifiers import build_classifier

    ds, _, out, _ = tiny_ddpm
    root = out.parent
    f = tmp_path / "s.npz"
    assert (
        main(
            [
                "sample",
                "--checkpoint",
                str(out.with_suffix(".safetensors")),
                "--n",
                "4",
                "--label",
                "H",
                "--steps",
                "2",
                "--out",
                str(f),
            ]
        )
        == 0
    )
    clf = save_checkpoint(
        build_classifier("A", size=16),
        tmp_path / "a",
        {
            "kind": "classifier",
            "arch": "A",
            "kwargs": {"size": 16},
            "preprocessing": {
                "cutout_size": 16,
                "normalization": {"log": False, "lo": 0.0, "hi": 1.0, "per_image": True},
            },
        },
    )
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "radioviz.cli",
            "compare",
            "--real",
            str(root),
            "--split",
            "TRAIN",
            "--generated",
            str(f),
            "--classifier",
            str(clf),
            "--json",
            "--cache-dir",
            str(root / "cache"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    for key in (
        "hist_mean_abs_rel_err",
        "zero_fraction_real",
        "zero_fraction_gen",
        "fid_domain",
        "kid_domain",
        "nn_ssim_max",
        "classifier_pass_rate_0.5",
        "classifier_pass_rate_0.95",
        "structure",  # issue #30: power spectra, source statistics, two-sample test
        "sources",
        "two_sample",
    ):
        assert key in res
    assert (
        0 <= res["classifier_pass_rate_0.5"] <= 1
        and res["fid_domain"] is not None
        and "InceptionV3" in res["fid_note"]
    )


def test_lognormal_timesteps_follow_the_noise_level_distribution():
    """t drawn so that ln σ_t ~ N(mean, std²): the median σ_t is the mean's, and far more of the
    draws fall at low noise than Ho et al.'s uniform t gives (the point of the option)."""
    import math

    import torch

    from radioviz.sampling.schedules import DiscreteSchedule
    from radioviz.training.diffusion import lognormal_timesteps

    acp = DiscreteSchedule().alphas_cumprod.float()
    t = lognormal_timesteps(20000, acp, mean=-0.5, std=1.0, generator=torch.Generator().manual_seed(0))
    sigma = ((1 - acp[t]) / acp[t]).sqrt()
    assert abs(math.log(float(sigma.median())) + 0.5) < 0.05
    low = float((sigma < 0.35).float().mean())
    uniform_low = float((((1 - acp) / acp).sqrt() < 0.35).float().mean())
    assert low > 2 * uniform_low


def test_t_sampling_is_recorded_and_checked(tiny_ddpm, tmp_path):
    from dataclasses import replace

    ds, cfg, _, _ = tiny_ddpm
    card = train_diffusion(ds, replace(cfg, t_sampling="lognormal"), tmp_path / "ln", progress=False)
    assert card.training.record["t_sampling"] == "lognormal"
    with pytest.raises(ValueError, match="t_sampling"):
        train_diffusion(ds, replace(cfg, t_sampling="cosine"), tmp_path / "bad", progress=False)


def test_a_v_prediction_ddpm_trains_samples_and_says_so(tiny_ddpm, tmp_path):
    """v = √ᾱ·ε − √(1−ᾱ)·x0 as the network's output (#28): the conversion back to ε is exact, the
    card records it, the samplers see ε, and an unknown prediction is refused naming the card."""
    from dataclasses import replace

    import torch

    from radioviz.models.card import CheckpointError
    from radioviz.models.prediction import eps_from_output, training_target

    g = torch.Generator().manual_seed(0)
    x0, noise, a = (
        torch.randn(3, 4, 8, 8, generator=g),
        torch.randn(3, 4, 8, 8, generator=g),
        torch.rand(3, 1, 1, 1),
    )
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    v = training_target("v", x0, noise, a)
    torch.testing.assert_close(eps_from_output("v", v, x_t, a), noise)
    torch.testing.assert_close(a.sqrt() * x_t - (1 - a).sqrt() * v, x0)  # x̂0 without amplification

    ds, cfg, _, _ = tiny_ddpm
    out = tmp_path / "v"
    card = train_diffusion(ds, replace(cfg, prediction="v"), out, progress=False)
    assert card.extra["prediction"] == "v" and card.training.record["prediction"] == "v"
    ckpt = out.with_suffix(".safetensors")
    a1 = generate(ckpt, 2, label="H", sampler="ddim", steps=3, seed=5)
    assert a1.images.shape == (2, 4, 16, 16) and np.isfinite(a1.images).all()
    with pytest.raises(ValueError, match="prediction"):
        train_diffusion(ds, replace(cfg, prediction="x0"), tmp_path / "bad", progress=False)
    card_path = out.with_suffix(".json")
    d = json.loads(card_path.read_text())
    d["prediction"] = "x0"
    card_path.write_text(json.dumps(d))
    with pytest.raises(CheckpointError, match="prediction 'x0'"):
        generate(ckpt, 1, label="H", sampler="ddim", steps=2, seed=0)


def test_the_card_records_the_command_however_radioviz_was_started(monkeypatch):
    """``radioviz train …`` and ``python -m radioviz.cli train …`` both name the command in the card
    (a run started the second way wrote ``command: null``); anything else records none."""
    from radioviz.training.generator_data import training_command

    for prog in ("/venv/bin/radioviz", "/src/radioviz/cli/__main__.py"):
        monkeypatch.setattr(sys, "argv", [prog, "train", "ddpm", "--steps", "5"])
        assert training_command() == "radioviz train ddpm --steps 5"
    monkeypatch.setattr(sys, "argv", ["/usr/bin/pytest", "-q"])
    assert training_command() is None
