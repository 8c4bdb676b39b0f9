import numpy as np
import pytest
from astropy import units as u

from radioviz.data.noise import clip_dead_band, clip_image, estimate_noise
from radioviz.data.preprocess import Normalization, Preprocessing, clip_stack, cutout, stack_cutout
from radioviz.simulate import SimConfig, simulate_field


def test_gaussian_fit_recovers_noise_of_raw_image():
    rng = np.random.default_rng(1)
    img = rng.normal(0, 0.05, (200, 200))
    img[50:70, 50:70] += 3.0  # a bright source must not inflate σ
    est = estimate_noise(img)
    assert est.method == "lower-gaussian-fit" and not est.clipped
    assert est.sigma == pytest.approx(0.05, rel=0.05)
    assert est.sigma_check == pytest.approx(0.05, rel=0.1)  # astropy sigma_clipped_stats agrees


def test_dead_band_counts_recover_noise_of_clipped_image():
    rng = np.random.default_rng(2)
    clipped = clip_dead_band(rng.normal(0, 0.02, (300, 300)), 0.06)
    est = estimate_noise(clipped)
    assert est.clipped and est.dead_band == pytest.approx(0.06, rel=0.01)
    assert est.sigma == pytest.approx(0.02, rel=0.1)


def test_clipping_is_idempotent():
    rng = np.random.default_rng(3)
    img = rng.normal(0, 0.05, (100, 100))
    img[40:45, 40:45] += 2
    once, _, t1 = clip_image(img)
    twice, est2, t2 = clip_image(once)
    assert np.array_equal(once, twice) and t2 >= t1
    assert np.all((once == 0) | (np.abs(once) >= t1))


def test_nans_become_zero_after_clipping():
    img = np.random.default_rng(0).normal(0, 1, (20, 20))
    img[3, 3] = np.nan
    out, _, _ = clip_image(img)
    assert out[3, 3] == 0 and np.isfinite(out).all()


@pytest.fixture(scope="module")
def sim_stack():
    fld = simulate_field(SimConfig(seed=5, halo="halo", halo_offset_arcmin=0.0))
    from radioviz.io.layout import SourceStack

    return SourceStack(fld.name, fld.images, 1)


def test_cutouts_centre_and_sky_position(sim_stack):
    im = sim_stack.images[-1]
    c = cutout(im, 64)
    assert c.shape == (64, 64)
    np.testing.assert_array_equal(c.data, im.data[118:182, 118:182])
    pos = im.centre().directional_offset_by(0 * u.deg, 0.3 * u.deg)
    off = cutout(im, 64, pos)
    x, y = off.wcs.world_to_pixel(pos)
    assert abs(x - 31.5) < 0.6 and abs(y - 31.5) < 0.6


def test_band_conventions(sim_stack):
    clipped = clip_stack(sim_stack)
    native = stack_cutout(clipped, 64, None, "native")
    coreg = stack_cutout(clipped, 64, None, "coregistered")
    assert native.shape == coreg.shape == (4, 64, 64)
    np.testing.assert_allclose(coreg[-1], native[-1], atol=1e-5)  # finest band is the reference grid
    assert not np.allclose(coreg[0], native[0])  # coarse band resampled onto the fine grid
    with pytest.raises(ValueError, match="band convention"):
        stack_cutout(clipped, 64, None, "bogus")


def test_normalizations_round_trip_and_serialise():
    x = np.array([[0.0, 0.5, 3.0, -0.2]], np.float32)
    g = Normalization.fit(x, log=True)
    z = g.to_model(x)
    assert z.min() == pytest.approx(-1) and z.max() == pytest.approx(1)
    np.testing.assert_allclose(g.from_model(z), x, atol=1e-5)
    c = Normalization.fit(x, log=False)
    assert c.forward(x).min() == 0 and c.forward(x).max() == pytest.approx(1)
    pp = Preprocessing(band_convention="coregistered", normalization=g)
    again = Preprocessing.from_dict(__import__("json").loads(pp.to_json()))
    assert again == pp


def test_snr_scale_uses_each_bands_dead_band():
    from radioviz.data.preprocess import snr_scale

    img = np.zeros((2, 8, 8))
    img[0, 0, 0], img[0, 1, 1] = 0.3, 30.0  # band 0: t = 0.3 -> σ = 0.1
    img[1, 2, 2], img[1, 3, 3] = 0.03, -0.06  # band 1: t = 0.03 -> σ = 0.01
    out = snr_scale(img)
    assert out[0, 0, 0] == pytest.approx(np.arcsinh(3) / np.arcsinh(1000))
    assert out[0, 1, 1] == pytest.approx(np.arcsinh(300) / np.arcsinh(1000))
    assert out[1, 3, 3] == pytest.approx(-np.arcsinh(6) / np.arcsinh(1000))
    assert out[0, 5, 5] == 0
    np.testing.assert_allclose(snr_scale(img * 1.3), out, rtol=1e-6)  # pixel scaling cannot change it
