"""The compact-source residual input of the detector (#26 item 2): beam-sized sources go, emission
larger than the beam stays."""

import numpy as np

from radioviz.data.compact_residual import FWHM_TO_SIGMA, beam_fwhm_px, compact_residual, subtract_compact
from radioviz.data.fieldgrid import DEFAULT_GRID_PIXEL_DEG, field_scale, input_channel_names
from radioviz.models.segmenter import SegmenterUNet, detector_input


def _gauss(shape, y, x, fwhm, amp):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    s = fwhm * FWHM_TO_SIGMA
    return amp * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * s * s))


def _clip(img, t):
    return np.where(np.abs(img) >= t, img, 0.0).astype(np.float32)


def test_a_point_source_is_taken_out_and_a_halo_beside_it_stays():
    sigma, fwhm = 0.01, 3.0
    rng = np.random.default_rng(0)
    point = _gauss((64, 64), 20.3, 18.6, fwhm, 1.0)  # 100 σ, off the pixel centre
    halo = _gauss((64, 64), 40, 44, 8 * fwhm, 0.3)  # 30 σ, eight beams across
    img = _clip(point + halo + rng.normal(0, sigma, (64, 64)), 3 * sigma)
    out, n = subtract_compact(img, sigma, fwhm)
    assert n == 1
    assert np.abs(out[14:27, 12:25]).max() < 0.1  # the point: 100 σ before, < 10 σ after
    near_halo = slice(30, 50), slice(34, 54)
    np.testing.assert_array_equal(out[near_halo], img[near_halo])  # the halo untouched
    assert np.all(out[img == 0] == 0)  # the dead band stays as it was


def test_a_compact_source_on_extended_emission_leaves_the_emission():
    sigma, fwhm = 0.01, 3.0
    pedestal = _gauss((64, 64), 32, 32, 10 * fwhm, 0.5)
    img = _clip(pedestal + _gauss((64, 64), 32.2, 31.7, fwhm, 2.0), 3 * sigma)
    out, n = subtract_compact(img, sigma, fwhm)
    assert n == 1
    np.testing.assert_allclose(out[32, 32], pedestal[32, 32], rtol=0.1)


def test_the_residual_channels_follow_the_bands_and_a_network_reads_what_it_was_trained_on():
    shape = (4, 48, 48)
    fwhm = beam_fwhm_px(DEFAULT_GRID_PIXEL_DEG)
    assert fwhm[0] > fwhm[-1]  # the beam narrows with frequency
    data = np.stack([_gauss(shape[1:], 24, 24, f, 1.0) for f in fwhm]).astype(np.float32)
    data = np.where(data >= 0.03, data, 0).astype(np.float32)
    sigmas = np.full(4, 0.01)
    res = compact_residual(data, sigmas, DEFAULT_GRID_PIXEL_DEG)
    assert res.shape == shape and np.abs(res).max() < 0.1
    np.testing.assert_array_equal(compact_residual(data[None], sigmas, DEFAULT_GRID_PIXEL_DEG)[0], res)
    groups = ("bands", "residual")
    x = field_scale(data, sigmas, groups)
    assert x.shape == (8, 48, 48)
    assert input_channel_names(groups, ["a", "b", "c", "d"])[4] == "a compact-source residual"
    net = SegmenterUNet(8, base=4, depth=2, norm="none", inputs=list(groups))
    np.testing.assert_array_equal(detector_input(net, data, sigmas, DEFAULT_GRID_PIXEL_DEG), x)
