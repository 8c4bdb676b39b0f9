"""The spectral index channel of the detector's input (#26 item 2)."""

import numpy as np
import torch

from radioviz.data.fieldgrid import DETECTOR_INPUTS, field_scale
from radioviz.data.spectral_index import (
    ALPHA_SCALE,
    GLEAM_CENTRES_MHZ,
    spectral_index,
    spectral_index_channel,
)
from radioviz.models.segmenter import SegmenterUNet


def _power_law(alpha: float, s200: float, shape=(8, 8)) -> np.ndarray:
    nu = np.asarray(GLEAM_CENTRES_MHZ).reshape(-1, 1, 1)
    return (s200 * (nu / 200.0) ** alpha * np.ones((1, *shape))).astype(np.float32)


def test_a_power_law_gives_its_index_where_every_band_is_above_the_dead_band():
    sigmas = np.full(4, 0.01)
    data = _power_law(-1.3, 1.0)
    data[:, :2] = _power_law(-0.7, 0.5)[:, :2]
    data[0, 5, 5] = 0.0  # one band in its dead band there: no index
    a = spectral_index(data, sigmas)
    np.testing.assert_allclose(a[6:], -1.3, atol=1e-5)
    np.testing.assert_allclose(a[:2], -0.7, atol=1e-5)
    assert a[5, 5] == 0.0
    ch = spectral_index_channel(data[None], sigmas)
    assert ch.shape == (1, 1, 8, 8) and np.isclose(ch[0, 0, 6, 6], -1.3 / ALPHA_SCALE)
    assert spectral_index_channel(data[:1], sigmas[:1]).max() == 0  # one band: nothing to fit


def test_the_detector_input_carries_the_index_and_a_four_band_network_ignores_it():
    sigmas = np.full(4, 0.01)
    data = _power_law(-1.3, 1.0, (16, 16))
    x = field_scale(data, sigmas)
    assert x.shape == (len(DETECTOR_INPUTS), 16, 16)
    flat = x.copy()
    flat[4] = 0.0
    torch.manual_seed(0)
    four, five = (
        SegmenterUNet(4, base=4, depth=2, norm="none"),
        SegmenterUNet(5, base=4, depth=2, norm="none"),
    )
    with torch.no_grad():
        out4 = [four(torch.from_numpy(a)[None]) for a in (x, flat)]
        out5 = [five(torch.from_numpy(a)[None]) for a in (x, flat)]
    assert torch.equal(out4[0], out4[1])  # the bands-only detector never reads the index
    assert not torch.equal(out5[0], out5[1])
