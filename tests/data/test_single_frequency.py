"""Single-frequency image sets (Mishra et al.'s WGAN-vs-DDPM comparison data): every FITS file is
one 1-channel image; generators train and sample on them; compare handles one channel."""

import subprocess
import sys

import numpy as np
import pytest

from radioviz.data.dataset import DatasetConfig, build_dataset
from radioviz.data.preprocess import generator_normalization
from radioviz.errors import InputError
from radioviz.metrics.compare import compare_images
from radioviz.sampling.generate import generate
from radioviz.training.diffusion import DiffusionConfig, train_diffusion
from radioviz.training.wgan import WGANConfig, train_wgan

from ..conftest import GEN_EVAL, REPO, celestial_header, needs, noisy_image, write_fits

SHIPPED_A = REPO / "checkpoints" / "classifier_A.safetensors"


@pytest.fixture(scope="module")
def single_root(tmp_path_factory):
    """MWA-style names: one cluster at two frequencies (different images, not bands of one
    source), a SIN grid with CRPIX outside the image, and a non-square image."""
    root = tmp_path_factory.mktemp("single")
    write_fits(
        root / "abell0001field1118mhzr0.0_Halo.fits",
        noisy_image(80, seed=1),
        celestial_header(80, cdelt=0.005),
    )
    write_fits(
        root / "abell0001field1154mhzr0.0_Halo.fits",
        noisy_image(80, seed=2),
        celestial_header(80, cdelt=0.004),
    )
    write_fits(
        root / "abell0002mwa288mhzbriggs0_Halo.fits",
        noisy_image(80, seed=3),
        celestial_header(80, proj="SIN", crpix=(-500, 900), ra=40.0),
    )
    write_fits(
        root / "abell0003mwa2216mhzbriggs0_Halo.fits",
        noisy_image(80, seed=4)[:, :70],
        celestial_header(80, ra=80.0),
    )
    return root


def _build(root, **kw):
    return build_dataset(
        DatasetConfig(str(root), band_convention="single-frequency", **kw), root / "cache", progress=False
    )


def test_every_file_is_one_clipped_one_channel_image(single_root):
    ds, path, cached = _build(single_root, augment=False)
    assert (
        ds.images.shape == (4, 1, 64, 64)
        and ds.meta["bands"] == ["single-frequency"]
        and ds.meta["n_sources"] == 4
    )
    assert set(ds.labels) == {1} and (ds.images == 0).mean() > 0.5  # clipped at mean + 3σ
    assert ds.images[:, 0, 26:38, 26:42].max(axis=(1, 2)).min() > 0.5  # the bright centre survives
    assert len(set(ds.source_group)) == 3  # the two abell0001 images share a sky group
    assert _build(single_root, augment=False)[2] is True
    aug, _, _ = _build(single_root)
    assert aug.images.shape == (4 * 160, 1, 64, 64)


def test_bad_single_frequency_inputs_name_the_file(tmp_path):
    with pytest.raises(InputError, match="no FITS"):
        _build(tmp_path)
    cube = np.stack([noisy_image(64, seed=s) for s in range(3)])
    h = celestial_header(64)
    h.update(WCSAXES=3, CTYPE3="FREQ", CRVAL3=1.2e8, CDELT3=3e7, CRPIX3=1.0, CUNIT3="Hz")
    write_fits(tmp_path / "cube.fits", cube, h)
    with pytest.raises(InputError, match="cube.fits.*3 image planes"):
        _build(tmp_path)


def test_one_channel_generators_train_sample_and_compare(single_root, tmp_path):
    ds, _, _ = _build(single_root, augment=False)
    card = train_diffusion(
        ds,
        DiffusionConfig(
            kind="ddpm", steps=1, batch_size=2, base=8, mults=(1, 2), attn_resolutions=(8,), save_every=1
        ),
        tmp_path / "d",
        progress=False,
    )
    assert card.bands == ["single-frequency"] and card.kwargs["in_channels"] == 1
    g = generate(tmp_path / "d.safetensors", 2, label="H", sampler="ddim", steps=3, seed=0)
    assert g.images.shape == (2, 1, 64, 64) and np.isfinite(g.physical).all()
    wcard = train_wgan(
        ds,
        WGANConfig(iterations=1, batch_size=2, n_critic=1, width=32, save_every=1),
        tmp_path / "w",
        progress=False,
    )
    w = generate(tmp_path / "w.safetensors", 3, label="H", seed=0)
    assert w.images.shape == (3, 1, 64, 64) and wcard.preprocessing.band_convention == "single-frequency"
    if not SHIPPED_A.exists():
        pytest.skip("shipped A classifier not present")
    r = compare_images(ds.images, w.physical, generator_normalization(ds.images), SHIPPED_A).report
    # the 4-band classifier gives domain features (band copied) but no pass rate; no spectral index
    assert np.isfinite(r["fid_domain"]) and np.isfinite(r["kid_domain"]) and "copied" in r["fid_note"]
    assert r["classifier_pass_rate_0.5"] is None and r["spectral_index"]["median_gen"] is None


def test_cli_trains_on_a_single_frequency_folder(single_root, tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "radioviz.cli",
            "train",
            "wgan",
            "--data",
            str(single_root),
            "--convention",
            "single-frequency",
            "--iterations",
            "1",
            "--batch-size",
            "2",
            "--width",
            "32",
            "--out",
            str(tmp_path / "w"),
            "--cache-dir",
            str(tmp_path / "c"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "w.safetensors").exists()


@needs(GEN_EVAL)
def test_real_single_frequency_set_and_shipped_generators():
    ds, _, _ = build_dataset(
        DatasetConfig(str(GEN_EVAL), band_convention="single-frequency", augment=False), None, progress=False
    )
    assert ds.images.shape == (129, 1, 64, 64) and len(set(ds.source_group)) == 21
    assert 0.4 < (ds.images == 0).mean() < 0.8
    for name in ("ddpm_single", "wgan_single"):
        ckpt = REPO / "checkpoints" / f"{name}.safetensors"
        ddpm = name.startswith("ddpm")
        g = generate(ckpt, 2, label="H", sampler="ddim" if ddpm else None, steps=5 if ddpm else None, seed=0)
        assert g.images.shape == (2, 1, 64, 64)
