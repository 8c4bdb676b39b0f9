"""Generators II and the WGAN: EDM preconditioning, flux/mask/background conditions, guidance,
refusals naming what a model accepts, the WGAN, dead-band clipping of samples, masks."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from radioviz.data.conditions import MASK_CLASSES, derive_mask, read_mask
from radioviz.data.dataset import DatasetConfig, build_dataset
from radioviz.data.flux import FluxTransform, peak_flux
from radioviz.data.preprocess import apply_dead_band, dead_band_floor
from radioviz.models.precond import EDMPrecond
from radioviz.sampling.generate import generate
from radioviz.simulate import SimConfig, simulate_field, write_field
from radioviz.training.diffusion import DiffusionConfig, train_diffusion
from radioviz.training.wgan import WGANConfig, train_wgan


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen2")
    for seed, halo in ((1, "halo"), (2, None), (3, "minihalo")):
        write_field(
            simulate_field(SimConfig(seed=seed, halo=halo, size=64, point_density_per_deg2=30, n_extended=0)),
            root,
            "TRAIN",
        )
    return root


@pytest.fixture(scope="module")
def tiny_edm(root):
    ds, _, _ = build_dataset(
        DatasetConfig(str(root), "TRAIN", cutout_size=16, val_fraction=0.34), root / "cache", progress=False
    )
    cfg = DiffusionConfig(
        kind="edm",
        steps=2,
        batch_size=4,
        base=8,
        mults=(1, 2),
        attn_resolutions=(8,),
        save_every=1,
        flux=True,
        mask=True,
        background=True,
    )
    card = train_diffusion(ds, cfg, root / "edm", progress=False)
    return ds, root / "edm.safetensors", card


def test_edm_card_records_conditions_and_flux_transform(tiny_edm):
    ds, path, card = tiny_edm
    assert card.kind == "edm" and card.conditions == ["label", "flux", "mask", "background"]
    # σ_data is the training data's own spread in the asinh scale (Karras et al.), not 0.5
    assert 0 < card.precond["sigma_data"] < 0.5 and card.mask_classes == list(MASK_CLASSES)
    tf = FluxTransform.from_dict(card.flux)
    peaks = peak_flux(ds.images[ds.is_centre])
    np.testing.assert_allclose(tf.from_model(tf.to_model(peaks)), np.maximum(peaks, 1e-3), rtol=1e-4)
    assert abs(tf.to_model(peaks).mean()) < 1e-3  # standardised on the training peaks
    assert len(card.dead_band_jy) == 4 and all(v > 0 for v in card.dead_band_jy)


def test_edm_preconditioning_limits():
    net = lambda x, t, **kw: torch.ones_like(x)  # noqa: E731
    d = EDMPrecond(net, sigma_data=0.5)
    x = torch.randn(2, 4, 8, 8)
    assert torch.allclose(d(x, torch.full((2,), 1e-4)), x, atol=1e-3)  # σ → 0: D(x) ≈ x
    big = d(x, torch.full((2,), 1e4))
    assert torch.allclose(big, torch.full_like(x, 0.5), atol=1e-3)  # σ → ∞: D ≈ σ_data·F
    assert torch.allclose(d.loss_weight(torch.tensor([0.5])), torch.tensor([8.0]))


def test_edm_sampling_with_every_condition_is_deterministic(tiny_edm, root):
    ds, path, _ = tiny_edm
    m = np.zeros((16, 16), int)
    m[4:10, 4:10] = 3
    kw = dict(
        label="H", sampler="heun", steps=3, seed=3, flux=2.0, guidance=1.5, mask=m, background=ds.images[0]
    )
    a, b = generate(path, 2, **kw), generate(path, 2, **kw)
    np.testing.assert_array_equal(a.physical, b.physical)
    # Heun-3 is 5 denoiser calls; guided, each runs the network twice
    assert a.meta["nfe"] == 10 and a.meta["kind"] == "edm" and a.meta["mask"] and a.meta["background"]
    c = generate(path, 2, **{**kw, "flux": 20.0})
    assert not np.array_equal(a.physical, c.physical)  # the flux condition reaches the network


def test_refusals_name_what_the_model_accepts(tiny_edm, root, tmp_path):
    _, path, _ = tiny_edm
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "radioviz.cli",
            "sample",
            "--checkpoint",
            str(path),
            "--sampler",
            "ddpm",
            "--out",
            str(tmp_path / "x.npz"),
        ],
        capture_output=True,
        text=True,
    )
    assert (
        r.returncode == 2
        and r.stderr.count("\n") == 1
        and "samplers heun, euler" in r.stderr
        and "flux yes" in r.stderr
    )
    bad = tmp_path / "bad.npy"
    np.save(bad, np.full((16, 16), 7))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "radioviz.cli",
            "sample",
            "--checkpoint",
            str(path),
            "--mask",
            str(bad),
            "--out",
            str(tmp_path / "x.npz"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "bad.npy" in r.stderr and r.stderr.count("\n") == 1


def test_wgan_trains_resumes_and_samples_one_shot(root, tmp_path):
    ds, _, _ = build_dataset(
        DatasetConfig(str(root), "TRAIN", cutout_size=64, val_fraction=0.34, augment=False),
        root / "cache",
        progress=False,
    )
    cfg = WGANConfig(iterations=1, batch_size=4, n_critic=2, width=32, save_every=1)
    out = tmp_path / "w"
    card = train_wgan(ds, cfg, out, progress=False)
    assert card.kind == "wgan" and card.training.steps == 1
    assert card.kwargs["head"] == 16 and card.extra["output_std_over_samples"] > 1e-4  # not collapsed
    from dataclasses import replace

    card = train_wgan(ds, replace(cfg, iterations=2), out, resume=True, progress=False)
    assert card.training.steps == 2
    g = generate(out.with_suffix(".safetensors"), 3, label="H", seed=1)
    assert (
        g.images.shape == (3, 4, 64, 64)
        and g.meta["nfe"] == 1
        and g.meta["sampler"] == "oneshot"
        and len(g.trajectory) == 1
    )
    np.testing.assert_array_equal(
        g.physical, generate(out.with_suffix(".safetensors"), 3, label="H", seed=1).physical
    )
    with pytest.raises(Exception, match="guidance not supported"):
        generate(out.with_suffix(".safetensors"), 1, label="H", guidance=1.0)


def test_dead_band_clipping_gives_exact_zeros():
    imgs = np.zeros((3, 2, 8, 8), np.float32)
    imgs[:, 0, 2, 2], imgs[:, 0, 3, 3] = 0.3, 0.9
    imgs[:, 1, 4, 4] = 0.1
    floor = dead_band_floor(imgs)
    assert floor == pytest.approx([0.3, 0.1])
    gen = np.full((1, 2, 8, 8), 0.2, np.float32)
    out = apply_dead_band(gen, floor)
    assert np.all(out[:, 0] == 0) and np.all(out[:, 1] == 0.2)


def test_derived_mask_tells_compact_from_diffuse_and_mask_files_are_checked(tmp_path):
    yy, xx = np.mgrid[:64, :64]
    img = np.zeros((4, 64, 64))
    img[:] += 30 * np.exp(
        -((xx - 12) ** 2 + (yy - 12) ** 2) / (2 * 1.9**2)
    )  # a point source (beam σ ≈ 1.9 px)
    img[:] += 1.5 * np.exp(-((xx - 42) ** 2 + (yy - 40) ** 2) / (2 * 9.0**2))  # a faint smooth blob
    img[img < 0.3] = 0  # the dead band: the smallest non-zero value sets the 3σ level
    m = derive_mask(img)
    assert m[12, 12] == 1 and m[40, 42] == 3
    np.save(tmp_path / "ok.npy", m)
    assert read_mask(tmp_path / "ok.npy").shape == (64, 64)
    np.save(tmp_path / "small.npy", m[:32])
    with pytest.raises(Exception, match="64×64"):
        read_mask(tmp_path / "small.npy")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(Exception, match="obj.npy"):
        read_mask(tmp_path / "obj.npy")
    (tmp_path / "junk.fits").write_bytes(b"not a fits file")
    with pytest.raises(Exception, match="junk.fits"):
        read_mask(tmp_path / "junk.fits")


def test_mask_canvas_strokes_polygons_undo_clear():
    from radioviz.app.mask_canvas import MaskCanvas, rasterize_shape

    ring = rasterize_shape([10, 20, 20, 10, 10.5], [10, 10, 20, 20, 10.5], "freehand")
    assert ring[15, 15]  # a closed stroke is filled
    c = MaskCanvas()
    c.draw_class = "compact"
    c.add_shape("freehand", [5, 8], [5, 8])
    c.draw_class = "diffuse"
    c.add_shape("polygon", [30, 50, 50, 30], [30, 30, 50, 50])
    assert c.mask[6, 6] == 1 and c.mask[40, 40] == 3
    c.param.trigger("undo")
    assert c.mask[40, 40] == 0 and c.mask[6, 6] == 1
    c.param.trigger("clear")
    assert not c.mask.any()


def test_compose_places_sources_without_overlap_and_writes_fits_and_truth(tiny_edm, root, tmp_path):
    from astropy.io import fits
    from astropy.table import Table

    from radioviz.data.preprocess import clip_stack
    from radioviz.io.layout import read_stack, source_of
    from radioviz.sampling.compose import compose, place_without_overlap, write_composition

    corners = place_without_overlap(5, (64, 64), 16, np.random.default_rng(1))
    assert all(
        abs(a[0] - b[0]) >= 16 or abs(a[1] - b[1]) >= 16
        for i, a in enumerate(corners)
        for b in corners[i + 1 :]
    )
    with pytest.raises(ValueError, match="fit"):
        place_without_overlap(20, (64, 64), 16)
    _, path, _ = tiny_edm
    band_file = next((root / "TRAIN_DATA_1").glob("*72-103MHz*"))
    field = clip_stack(read_stack(source_of(band_file)))
    m = np.zeros((16, 16), int)
    m[4:12, 4:12] = 3
    comp = compose(field, [m, m, m], path, seed=2, label="H")
    assert len(comp.catalog) == 3 and (comp.mask == 3).sum() == 3 * 64
    changed = comp.bands[0] != field.stack.images[0].data
    assert changed.any() and not changed.all()
    out, cat = write_composition(comp, field, tmp_path / "comp.fits", {"seed": 2})
    with fits.open(out) as h:
        assert [x.name for x in h][-1] == "MASK" and len(h) == 6 and "CTYPE1" in h[1].header
    assert len(Table.read(cat)) == 3


def test_heun_churn_reaches_generate_is_recorded_and_refused_elsewhere(tiny_edm):
    """Churn (Karras et al. Algorithm 2) goes through generate(): the samples change, the seed
    still fixes them, the metadata says so; a sampler without churn refuses it in one line."""
    from radioviz.errors import InputError
    from radioviz.sampling.samplers import Churn

    _, path, _ = tiny_edm
    kw = dict(label="H", sampler="heun", steps=3, seed=1)
    plain = generate(path, 2, **kw)
    a, b = generate(path, 2, churn=Churn(40.0), **kw), generate(path, 2, churn=Churn(40.0), **kw)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, plain.images)
    assert a.meta["churn"]["s_churn"] == 40.0 and "churn" not in plain.meta and a.meta["nfe"] == 5
    with pytest.raises(InputError, match="churn is a Heun option"):
        generate(path, 2, label="H", sampler="euler", steps=3, churn=Churn(40.0))
