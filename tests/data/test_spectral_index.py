"""The spectral index channel of the detector's input (#26 item 2)."""

import numpy as np
import torch

from radioviz.data.fieldgrid import field_scale, input_channel_names
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


def test_the_detector_input_carries_the_index_only_for_a_network_that_reads_it():
    sigmas = np.full(4, 0.01)
    data = _power_law(-1.3, 1.0, (16, 16))
    groups = ("bands", "spectral index")
    x = field_scale(data, sigmas, groups)
    assert x.shape == (5, 16, 16) and len(input_channel_names(groups, list("abcd"))) == 5
    np.testing.assert_array_equal(x[:4], field_scale(data, sigmas))  # the bands alone by default
    np.testing.assert_allclose(x[4], -1.3 / ALPHA_SCALE, atol=1e-5)
    flat = x.copy()
    flat[4] = 0.0
    torch.manual_seed(0)
    four = SegmenterUNet(4, base=4, depth=2, norm="none")
    five = SegmenterUNet(5, base=4, depth=2, norm="none")  # a card from before the groups were named
    assert four.inputs == ("bands",) and five.inputs == groups
    with torch.no_grad():
        out5 = [five(torch.from_numpy(a)[None]) for a in (x, flat)]
        assert not torch.equal(out5[0], out5[1])
        try:
            four(torch.from_numpy(x)[None])  # the wrong input is refused, never silently cut
        except ValueError as exc:
            assert "reads 4 input channels (bands), not 5" in str(exc)
        else:
            raise AssertionError("a 4-channel network took a 5-channel input")
