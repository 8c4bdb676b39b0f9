"""The instrument's beam inside the generator (issue #30) and the yardsticks that see structure."""

import json

import numpy as np
import pytest
import torch

from radioviz.data.dataset import DatasetConfig, build_dataset
from radioviz.metrics.structure import autocorrelation_fwhm, power_ratio, structure_report
from radioviz.models.beam import BeamLayer, cutoff_frequency, gleam_beam_fwhm_px
from radioviz.sampling.generate import generate
from radioviz.simulate import SimConfig, simulate_field, write_field
from radioviz.training.diffusion import DiffusionConfig, resolve_device, train_diffusion


def _blobs(n=8, size=32, fwhm=4.5, seed=0) -> np.ndarray:
    """(n, 4, size, size) Gaussian sources convolved with a beam of ``fwhm`` pixels."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    s = fwhm / 2.3548
    out = np.zeros((n, 4, size, size))
    for i in range(n):
        for _ in range(3):
            cy, cx = rng.uniform(8, size - 8, 2)
            out[i] += rng.uniform(0.5, 2) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s**2))
    return out


def test_gleam_beam_in_pixels_matches_what_the_data_shows():
    # ~2′ at 200 MHz scaling as 1/ν, on each band's native pixel: 4–5 pixels in every band
    # (the real cut-outs' autocorrelation implies 4.4–4.8 px, docs/generators.md)
    fwhm = gleam_beam_fwhm_px()
    assert len(fwhm) == 4 and all(4.0 < f < 5.2 for f in fwhm)
    assert 0.3 < cutoff_frequency(fwhm[0]) < cutoff_frequency(fwhm[-1]) < 0.4  # below Nyquist (0.5)
    assert 0.2 < cutoff_frequency(fwhm[0], 1e-2) < 0.3


def test_beam_layer_is_a_projection_that_removes_sub_beam_speckle():
    layer = BeamLayer([4.5] * 4, [0.05] * 4, 50.0)
    z = torch.rand(3, 4, 32, 32) * 2 - 1  # white noise: mostly finer than the beam
    once = layer(z)
    assert not torch.allclose(once, z, atol=1e-2)
    torch.testing.assert_close(layer(once), once, atol=1e-4, rtol=0)  # idempotent
    # a beam-limited image passes (nearly) unchanged: the skip path of EDM stays exact
    smooth = torch.from_numpy(_blobs(2)).float() * 0.2
    zs = torch.asinh(smooth / 0.05) / torch.asinh(torch.tensor(50.0 / 0.05))
    torch.testing.assert_close(layer(zs), zs, atol=2e-2, rtol=0)
    # and what it outputs carries no power beyond the cut-off
    x = (0.05 * torch.sinh(once * layer.span)).numpy()
    f = np.abs(np.fft.rfft2(x)) ** 2
    r = np.hypot(np.fft.fftfreq(32)[:, None], np.fft.rfftfreq(32)[None, :])
    assert f[..., r > layer.cutoff[0] + 0.02].sum() < 1e-6 * f.sum()


def test_beam_layer_refuses_nonsense():
    with pytest.raises(ValueError):
        BeamLayer([4.5, 0.0], [0.1, 0.1], 10.0)
    with pytest.raises(ValueError):
        BeamLayer([4.5], [0.1, 0.1], 10.0)


def test_structure_yardsticks_see_speckle_the_histogram_does_not():
    real = _blobs(12, seed=1)
    speckled = real * (1 + 0.8 * np.random.default_rng(2).standard_normal(real.shape))
    assert np.all(np.abs(np.log(power_ratio(real, real))) < 1e-9)
    hi = power_ratio(real, speckled)[:, -4:]
    assert np.all(hi > 5), hi  # sub-beam power appears where real images have none
    acf = autocorrelation_fwhm(real)
    assert np.all(acf > np.sqrt(2) * 4.5 * 0.9), acf  # beam-limited: ≥ √2 × FWHM
    assert np.all(autocorrelation_fwhm(speckled) < acf)
    rep = structure_report(real, speckled, [4.5] * 4)
    json.dumps(rep)  # goes into cards as it is
    assert rep["power_ratio_high_median"][0] > 5
    p10, p90 = np.array(rep["power_ratio_ideal_p10"]), np.array(rep["power_ratio_ideal_p90"])
    assert np.all(p10 <= 1.0 + 1e-9) and np.all(p90 >= 1.0 - 1e-9)  # an ideal generator straddles 1


def test_device_auto_is_the_cpu_here_and_cuda_is_refused_without_it():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_device("cuda")
    with pytest.raises(ValueError):
        resolve_device("tpu")


def _tiny_dataset(tmp_path):
    """Two simulated 64² fields (one with a halo) as 16² training cut-outs."""
    for seed, halo in ((1, "halo"), (2, None)):
        write_field(simulate_field(SimConfig(seed=seed, halo=halo, size=64, n_extended=0)), tmp_path, "TRAIN")
    ds, _, _ = build_dataset(
        DatasetConfig(str(tmp_path), "TRAIN", cutout_size=16, val_fraction=0.5), tmp_path / "c", progress=0
    )
    return ds


def test_an_edm_trained_with_the_beam_samples_beam_limited_images(tmp_path):
    ds = _tiny_dataset(tmp_path)
    cfg = DiffusionConfig(
        kind="edm", steps=2, batch_size=2, base=8, mults=(1, 2), attn_resolutions=(8,), save_every=1
    )
    cfg.beam = True
    card = train_diffusion(ds, cfg, tmp_path / "edm", progress=False)
    beam = card.precond["beam"]
    assert beam["fwhm_px"] == gleam_beam_fwhm_px() and len(beam["cutoff_cycles_per_px"]) == 4
    g = generate(tmp_path / "edm.safetensors", 2, label="H", steps=3, seed=0, dead_band=False)
    # the sampler's last step lands on the beam's range: projecting again changes nothing
    z = torch.from_numpy(np.asarray(g.trajectory.samples)).float()
    torch.testing.assert_close(BeamLayer.from_card(beam)(z), z, atol=1e-3, rtol=0)
    # a fine-tune starts from that checkpoint; a mismatched network is refused by name
    cfg2 = DiffusionConfig(**{**cfg.__dict__, "steps": 1, "init": str(tmp_path / "edm.safetensors")})
    train_diffusion(ds, cfg2, tmp_path / "edm2", progress=False)
    bad = DiffusionConfig(**{**cfg2.__dict__, "base": 4})
    with pytest.raises(Exception, match="--init"):
        train_diffusion(ds, bad, tmp_path / "edm3", progress=False)


@pytest.mark.parametrize("prediction", ["epsilon", "v"])
def test_a_beam_limited_ddpm_answers_with_the_beam_limited_x0(prediction):
    from radioviz.models.beam import BeamLimitedDDPM
    from radioviz.models.prediction import x0_from_output
    from radioviz.sampling.schedules import DiscreteSchedule

    acp = DiscreteSchedule().alphas_cumprod.float()
    layer = BeamLayer([4.5] * 4, [0.05] * 4, 50.0)
    net = lambda x, t: torch.sin(3 * x) + 0.1 * t.reshape(-1, 1, 1, 1)  # noqa: E731 - any network
    wrapped = BeamLimitedDDPM(net, layer, prediction, acp, data_scale=2.0)
    x, t = torch.randn(3, 4, 32, 32), torch.tensor([0, 500, 999])
    a = acp[t].reshape(-1, 1, 1, 1)
    raw = x0_from_output(prediction, net(x, t), x, a)
    limited = x0_from_output(prediction, wrapped(x, t), x, a)
    torch.testing.assert_close(limited, layer(raw / 2.0) * 2.0, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(layer(limited / 2.0) * 2.0, limited, atol=1e-3, rtol=0)  # on the beam's range


def test_a_ddpm_trained_with_the_beam_samples_beam_limited_images(tmp_path):
    ds = _tiny_dataset(tmp_path)
    cfg = DiffusionConfig(
        kind="ddpm", steps=2, batch_size=2, base=8, mults=(1, 2), attn_resolutions=(8,), save_every=1
    )
    cfg.prediction, cfg.beam = "v", True
    card = train_diffusion(ds, cfg, tmp_path / "ddpm", progress=False)
    pc = card.precond
    assert pc["type"] == "ddpm" and pc["beam"]["fwhm_px"] == gleam_beam_fwhm_px()
    opts = dict(label="H", sampler="ddim", steps=3, seed=0, dead_band=False)
    g = generate(tmp_path / "ddpm.safetensors", 2, **opts)
    z = torch.from_numpy(np.asarray(g.trajectory.samples)).float()
    torch.testing.assert_close(BeamLayer.from_card(pc["beam"])(z), z, atol=1e-3, rtol=0)
    # without the layer the same weights sample speckle the beam removes (the test can fail)
    plain = json.loads((tmp_path / "ddpm.json").read_text())
    del plain["precond"]["beam"]
    (tmp_path / "plain.json").write_text(json.dumps(plain))
    (tmp_path / "plain.safetensors").write_bytes((tmp_path / "ddpm.safetensors").read_bytes())
    g2 = generate(tmp_path / "plain.safetensors", 2, **opts)
    z2 = torch.from_numpy(np.asarray(g2.trajectory.samples)).float()
    assert (BeamLayer.from_card(pc["beam"])(z2) - z2).abs().max() > 1e-2


def test_the_trajectory_caption_says_when_x0_passes_through_the_beam():
    from radioviz.app.teaching import BEAM_NOTE, explanations

    assert BEAM_NOTE not in explanations("edm", "heun")["x0"]
    assert explanations("edm", "heun", beam=True)["x0"].endswith(BEAM_NOTE)


def test_the_default_generator_is_ranked_by_its_mean_over_seeds():
    from radioviz.models.quality import default_generator

    def card(err, seeds=None):
        q = {"hist_err": err, "zero_fraction_gen": 0.87, "zero_fraction_real": 0.866, "nn_ssim_max": 0.8}
        if seeds:
            q["over_seeds"] = {"seeds": [0, 1, 2], "hist_err_mean": seeds[0], "hist_err_sd": seeds[1]}
        return {"kind": "edm", "preprocessing": {"bands": ["a", "b", "c", "d"]}, "quality": q}

    # a lucky seed 0 (0.41) does not beat a steadier model (0.42, mean 0.45 vs 0.51)
    cards = {"lucky": card(0.41, (0.51, 0.08)), "steady": card(0.42, (0.45, 0.03))}
    assert default_generator(cards) == "steady"
    assert default_generator({"one": card(0.41), "other": card(0.42)}) == "one"
    # and the bar is judged on the mean too (walk 15: a 0.41 seed 0 showed "meets the bar")
    from radioviz.models.quality import quality

    assert quality(cards["lucky"]).undertrained and not quality(cards["steady"]).undertrained
    # a beam-limited model that meets the bar comes before a lower error without the beam (#30)
    beamed = card(0.44, (0.48, 0.05))
    beamed["precond"] = {"beam": {"fwhm_px": [4.9, 4.6, 4.6, 4.3]}}
    assert default_generator({"steady": cards["steady"], "beamed": beamed}) == "beamed"
    beamed["quality"]["over_seeds"]["hist_err_mean"] = 0.52  # but not one below the bar
    assert default_generator({"steady": cards["steady"], "beamed": beamed}) == "steady"
    gapped = card(0.42, (0.45, 0.03))
    gapped["quality"]["over_seeds"]["zero_fraction_gap"] = [0.004, 0.09, 0.08]  # seed 0 alone passes
    assert quality(gapped).undertrained
