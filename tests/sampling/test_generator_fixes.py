"""Issue #13: what made the generators' samples noise, and what replaced it.

- the generators' pixel scale: the paper's log10(1+x) min-max put 99 % of pixels within ±0.02
  of one value in [−1, 1] (finer than a short-trained denoiser's error: noise, speckle, no flux
  control, and an "empty sky" value that a convolution's zero padding is not — edge artefacts);
- the dead band applied to samples was one-sided (every negative pixel zeroed);
- distinct training crops from whole fields, augmented on the fly; a learning curve in the card.
"""

import numpy as np
import pytest
import torch

from radioviz.data.dataset import DatasetConfig, build_dataset
from radioviz.data.preprocess import apply_dead_band, generator_normalization
from radioviz.models.checkpoint import read_card
from radioviz.simulate import SimConfig, simulate_field, write_field
from radioviz.training.diffusion import DiffusionConfig, train_diffusion
from radioviz.training.generator_data import generator_crops, generator_data


def tiny_config(kind: str, **kw) -> DiffusionConfig:
    """A U-Net small enough to train a few steps in a test, on 4 crops per field."""
    return DiffusionConfig(kind=kind, base=8, mults=(1, 2), attn_resolutions=(8,), per_field=4, **kw)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen13")
    for seed, halo in ((1, "halo"), (2, None), (3, None)):
        write_field(
            simulate_field(SimConfig(seed=seed, halo=halo, size=96, point_density_per_deg2=30, n_extended=0)),
            root,
            "TRAIN",
        )
    ds, _, _ = build_dataset(
        DatasetConfig(str(root), "TRAIN", cutout_size=32, val_fraction=0.34), root / "cache", progress=False
    )
    return root, ds


def test_dead_band_on_samples_is_symmetric_like_the_data():
    gen = np.array([-0.5, -0.1, 0.1, 0.5], np.float32).reshape(1, 1, 1, 4)
    out = apply_dead_band(gen, [0.3])
    # real clipped images keep negative pixels beyond −t (~0.9 % of pixels below −3σ)
    assert out.ravel().tolist() == [-0.5, 0.0, 0.0, 0.5]


def test_each_sample_gets_one_training_sources_clip_levels():
    from radioviz.sampling.generate import _dead_band

    card = {"dead_band_jy": [0.3], "dead_band_sources": [[0.25], [0.5]]}
    levels = _dead_band(card, 64, seed=0)
    assert set(levels.ravel().tolist()) == {0.25, 0.5}  # per sample, not one median for all
    np.testing.assert_array_equal(levels, _dead_band(card, 64, seed=0))  # seeded
    gen = np.full((64, 1, 2, 2), 0.3, np.float32)
    out = apply_dead_band(gen, levels)
    assert np.all(out[levels[:, 0] == 0.5] == 0) and np.all(out[levels[:, 0] == 0.25] == 0.3)
    assert _dead_band({"dead_band_jy": [0.3]}, 4, 0) == [0.3]


def test_clip_levels_are_drawn_evenly_from_the_sources():
    """iid draws left it to chance how often the one low-noise halo source came up: the same
    samples' histogram error moved by ±0.10 with the draw alone (issue #13)."""
    from radioviz.sampling.generate import _dead_band

    card = {"dead_band_sources": [[0.1], [0.2], [0.3]]}
    for seed in range(5):
        levels = _dead_band(card, 64, seed).ravel()
        counts = sorted(np.unique(levels, return_counts=True)[1].tolist())
        assert counts == [21, 21, 22]
    assert not np.array_equal(_dead_band(card, 6, 0), _dead_band(card, 6, 1))  # still seeded random order


def test_a_class_draws_clip_levels_from_its_own_sources():
    """Halo fields are clipped lower than the rest: an H sample clipped at a non-halo field's
    level loses the faint pixels real H cut-outs keep (zero fraction 0.93 vs 0.87, issue #13)."""
    from radioviz.sampling.generate import _dead_band

    card = {"dead_band_sources": [[0.125], [0.5], [0.25]], "dead_band_source_halo": [True, False, True]}
    assert set(_dead_band(card, 64, 0, "H").ravel().tolist()) == {0.125, 0.25}
    assert set(_dead_band(card, 64, 0, "cH").ravel().tolist()) == {0.125, 0.25}
    assert set(_dead_band(card, 64, 0, "non-halo").ravel().tolist()) == {0.5}
    assert set(_dead_band(card, 64, 0).ravel().tolist()) == {0.125, 0.25, 0.5}  # unconditional: all


def test_generator_scale_resolves_the_dead_band_and_empty_sky_is_zero(sim):
    _, ds = sim
    gd = generator_data(ds)
    norm, dead = gd.norm, np.asarray(gd.card["dead_band_jy"])
    c = len(dead)
    empty = norm.to_model(np.zeros((1, c, 2, 2)))
    clip = norm.to_model(np.broadcast_to(dead.reshape(1, c, 1, 1), (1, c, 2, 2)))
    # zero padding of a convolution is empty sky, so edges are no special case for the network
    np.testing.assert_allclose(empty, 0.0, atol=1e-6)
    # a clip-level pixel is ≥ 0.1 from empty sky (the log min-max scale: ~0.02), and negatives stay
    # negative, so a denoiser's small errors fall back inside the dead band instead of speckling
    assert np.all(clip > 0.1)
    assert np.all(norm.to_model(-np.broadcast_to(dead.reshape(1, c, 1, 1), (1, c, 2, 2))) < -0.1)
    x = ds.images[:4]
    np.testing.assert_allclose(norm.from_model(norm.to_model(x)), x, rtol=1e-4, atol=1e-5)
    assert np.abs(gd.x.numpy()).max() <= 1.0


def test_log_scale_is_kept_for_old_cards():
    x = np.array([0.0, 0.13, 5.0], np.float32).reshape(1, 1, 1, 3)
    old = generator_normalization(np.concatenate([x, -0.999 * np.ones_like(x)]))
    assert old.asinh_soft is None and old.log
    np.testing.assert_allclose(old.from_model(old.to_model(x)), x, rtol=1e-4, atol=1e-5)


def test_crops_give_more_distinct_images_and_augment_on_the_fly(sim):
    _, ds = sim
    n_sources = len(ds.source_names)
    gd = generator_crops(ds, per_field=6)
    crops = gd.card["data"]["crops"]
    assert len(gd.x) > 3 * n_sources and crops["n_nonhalo_crop"] == 6 * int((ds.source_labels == 0).sum())
    halo_rows = gd.labels.numpy() > 0
    assert halo_rows.sum() == crops["n_halo_centre"] + crops["n_halo_jitter"]  # halo classes: centres only
    rng = np.random.default_rng(0)
    idx = gd.draw(64, rng)
    assert 0.3 < np.mean(gd.labels.numpy()[idx] > 0) < 0.7  # half of each batch from the halo classes
    xb, peaks = gd.batch(idx[:8], rng)
    back = gd.norm.from_model(xb.numpy())
    np.testing.assert_allclose(back.reshape(8, -1).max(1), peaks, rtol=1e-3)  # flux = the augmented peak
    assert not torch.equal(xb, gd.x[torch.from_numpy(idx[:8])])  # turned / flipped / scaled


def test_learning_curve_is_recorded_and_survives_resume(sim, tmp_path):
    root, ds = sim
    cfg = tiny_config("edm", steps=2, batch_size=4, save_every=1, flux=True, eval_every=1, eval_n=2)
    cfg.keep_evals = True
    train_diffusion(ds, cfg, tmp_path / "edm", progress=False)
    cfg.steps = 3
    card = train_diffusion(ds, cfg, tmp_path / "edm", resume=True, progress=False).to_dict()
    curve = card["training"]["learning_curve"]
    assert [p["step"] for p in curve] == [1, 2, 3]
    # each evaluation's weights kept with their own card: any step on the curve can be shipped
    assert [p["weights"] for p in curve] == [f"edm.evals/step{k}.safetensors" for k in (1, 2, 3)]
    kept = read_card(tmp_path / curve[0]["weights"]).to_dict()["training"]
    assert kept["iterations"] == 1 and [p["step"] for p in kept["learning_curve"]] == [1]
    # both commands of the resumed run are on record, each with the step it started from
    assert [c["from_step"] for c in card["training"]["commands"]] == [0, 2]
    assert all("hist_err" in p and "nn_ssim_max" in p and p["cpu_hours"] >= 0 for p in curve)
    assert read_card(tmp_path / "edm.safetensors").to_dict()["training"]["cpu_hours"] > 0
    assert card["preprocessing"]["normalization"]["asinh_soft"] == card["dead_band_jy"]


def _card(kind="edm", bands=4, **q):
    card = {"kind": kind, "parameters": 1000, "preprocessing": {"bands": ["b"] * bands}}
    if q:
        card["quality"] = {"sampler": "heun-25", "n": 64, "date": "2026-11-23", **q}
    return card


def test_quality_flags_and_the_default_generator():
    from radioviz.app.models_view import card_summary
    from radioviz.models.quality import default_generator, picker_label, quality, quality_line

    good = _card(hist_err=0.3, zero_fraction_gen=0.86, zero_fraction_real=0.87, nn_ssim_max=0.8)
    noisy = _card("ddpm", hist_err=1.5, zero_fraction_gen=0.65, zero_fraction_real=0.87, nn_ssim_max=0.5)
    copies = _card("wgan", hist_err=0.2, zero_fraction_gen=0.86, zero_fraction_real=0.87, nn_ssim_max=0.99)
    single = _card(
        "ddpm", bands=1, hist_err=0.1, zero_fraction_gen=0.6, zero_fraction_real=0.6, nn_ssim_max=0.5
    )
    assert quality(good).status == "meets the bar"
    assert quality(noisy).status == "undertrained" and quality(copies).status == "memorises"
    assert quality(_card()).status == "not measured"
    curve = {"kind": "edm", "training": {"learning_curve": [{"step": 5, "hist_err": 0.9, "n": 16}]}}
    assert quality(curve).source == "learning curve" and quality(curve).undertrained
    cards = {"a_ddpm": noisy, "b_wgan": copies, "c_single": single, "z_edm": good, "old": _card()}
    assert default_generator(cards) == "z_edm"
    assert default_generator({"a": noisy, "b": _card()}) == "a"  # measured before unmeasured
    masked = {**_card(hist_err=0.1, zero_fraction_gen=0.87, zero_fraction_real=0.87), "conditions": ["mask"]}
    assert default_generator({"m": masked, "z_edm": good}) == "z_edm"  # needs a drawn mask: never default
    assert picker_label("a_ddpm", noisy) == "a_ddpm (undertrained)" and picker_label("z_edm", good) == "z_edm"
    assert "undertrained" in quality_line(noisy) and "histogram error 1.50" in quality_line(noisy)
    floored = {**good, "quality": {**good["quality"], "hist_err_floor": {"median": 0.29}}}
    assert "(an ideal generator ≈ 0.29)" in quality_line(floored)  # the error's own noise level
    spread = {"seeds": [0, 1, 2], "hist_err_mean": 0.451, "hist_err_sd": 0.029}
    seeded = {**floored, "quality": {**floored["quality"], "over_seeds": spread, "seed": 0}}
    assert "(seed 0; 3 seeds 0.45 ± 0.03; an ideal generator ≈ 0.29)" in quality_line(seeded)
    # the bar's memorisation part, where it was never measured, is not passed over in silence
    unchecked = _card(hist_err=0.3, zero_fraction_gen=0.86, zero_fraction_real=0.87)
    assert quality(unchecked).status == "meets the bar (memorisation not measured)"
    assert picker_label("m", unchecked) == "m"
    # the shipped default's card carries its measurement, and the Models tab shows it
    from pathlib import Path

    from radioviz.models.card import ModelCard

    shipped = Path(__file__).resolve().parents[2] / "checkpoints" / "edm_gleam.safetensors"
    summary = card_summary("edm_gleam.safetensors", ModelCard.read(shipped))
    assert "Quality (heun-25" in summary and "64 samples, quality" in summary


def test_the_default_guidance_is_the_measured_one(tmp_path, capsys):
    """Honest defaults: a class-conditioned run starts from the ω its card's quality was measured
    at — in the library's helper, the Generate view and `radioviz sample`."""
    import json
    from pathlib import Path

    from radioviz.app.generate_view import GenerateView
    from radioviz.cli.sample import _measured_guidance
    from radioviz.models.card import ModelCard
    from radioviz.models.quality import default_guidance, quality_line

    guided = _card(hist_err=0.3, zero_fraction_gen=0.86, zero_fraction_real=0.87, guidance=2.0)
    assert default_guidance(guided) == 2.0 and "heun-25, ω = 2, 64 samples" in quality_line(guided)
    assert default_guidance(_card(hist_err=0.3)) == 0.0  # measured without guidance
    curve = {"kind": "edm", "training": {"learning_curve": [{"step": 5, "hist_err": 0.9, "guidance": 3}]}}
    assert default_guidance(curve) == 0.0 and default_guidance(_card()) == 0.0  # no full measurement
    shipped = Path(__file__).resolve().parents[2] / "checkpoints"
    g = GenerateView()
    for name in ("edm_gleam.safetensors", "ddpm_gleam.safetensors"):
        want = default_guidance(ModelCard.read(shipped / name))
        g.model = name
        assert g.label == "H" and g.guidance == want
        g.label = None
        assert g.guidance == 0.0
        g.label = "H"  # a class again: back to the measured ω
        assert g.guidance == want
        assert _measured_guidance(shipped / name) == want
    # the CLI reads it from the card it is given
    for f in ("edm_gleam.safetensors", "edm_gleam.json"):
        (tmp_path / f).write_bytes((shipped / f).read_bytes())
    card = json.loads((tmp_path / "edm_gleam.json").read_text())
    card["quality"]["guidance"] = 1.5
    (tmp_path / "edm_gleam.json").write_text(json.dumps(card))
    assert _measured_guidance(tmp_path / "edm_gleam.safetensors") == 1.5


def test_ddpm_diffuses_unit_variance_data_and_samples_return_to_the_data_scale(sim, tmp_path, monkeypatch):
    """On the asinh scale the data's std is ≈ 0.07: a DDPM diffusing it directly drowns the signal
    in ε within the first steps and its samples were noise.  It now diffuses x0 / σ_data, and
    the sampler's output is divided back (x̂0 clipped at the scaled data range)."""
    import radioviz.training.diffusion as td
    from radioviz.sampling.generate import generate
    from radioviz.sampling.schedules import DiscreteSchedule

    root, ds = sim
    seen = []
    real_loss = td.ddpm_loss

    def spy(model, x0, cond, acp, t=None, prediction="epsilon"):
        seen.append(x0.detach().clone())
        return real_loss(model, x0, cond, acp, t, prediction)

    monkeypatch.setattr(td, "ddpm_loss", spy)
    cfg = tiny_config("ddpm", steps=6, batch_size=8, save_every=6)
    card = train_diffusion(ds, cfg, tmp_path / "ddpm", progress=False)
    sd = card.to_dict()["training"]["sigma_data_used"]
    scale = card.precond["data_scale"]
    assert sd < 0.3 and scale == pytest.approx(1 / sd, rel=1e-3)
    assert float(torch.cat(seen).std()) == pytest.approx(1.0, abs=0.6)  # was ≈ σ_data

    # a perfect ε-model for data that is the constant c everywhere: DDIM must return exactly c
    c = 0.4
    acp = DiscreteSchedule().alphas_cumprod.float()

    def perfect(x, t, **cond):
        a = acp[t].reshape(-1, 1, 1, 1)
        return (x - a.sqrt() * c * scale) / (1 - a).sqrt()

    g = generate(
        tmp_path / "ddpm.safetensors", 2, label="H", sampler="ddim", steps=20, model_and_card=(perfect, card)
    )
    assert np.allclose(g.trajectory.samples, c, atol=1e-4)  # clipping at ±1 (unscaled) gave 1/scale
    assert np.allclose(g.trajectory.denoised[-1], c, atol=1e-4)

    c = 0.01  # perfect() now returns data far below a clip level (≈ 0.13 here): the dead band zeroes it
    args = (tmp_path / "ddpm.safetensors", 2)
    kw = dict(label="H", sampler="ddim", steps=20, model_and_card=(perfect, card))
    assert np.all(generate(*args, **kw).physical == 0)
    assert np.all(generate(*args, **kw, dead_band=False).physical > 0)  # the network's own output


def test_guidance_sharpens_the_class_not_the_requested_flux():
    """ω = 2 with the flux dropped from the unconditional branch extrapolated brightness: requests
    of 12–76 Jy/beam came out at 106 Jy/beam, the top of the model's range (issue #13 walk)."""
    from pathlib import Path

    import torch

    from radioviz.models.card import ModelCard
    from radioviz.sampling.generate import _conditions

    card = ModelCard.read(Path(__file__).resolve().parents[2] / "checkpoints" / "edm_gleam.safetensors")
    cond, uncond = _conditions(card, 3, "H", 20.0, None, None, card.preprocessing)
    assert torch.equal(uncond["flux"], cond["flux"]) and not torch.isnan(cond["flux"]).any()
    assert (uncond["label"] != cond["label"]).all()  # the class is what guidance sharpens
    cond, uncond = _conditions(card, 3, "H", None, None, None, card.preprocessing)
    assert torch.isnan(uncond["flux"]).all()  # no flux asked: both branches without it, as before
