import numpy as np
import pytest

from radioviz.data.preprocess import Preprocessing, classifier_normalization
from radioviz.io.layout import SourceStack
from radioviz.scan.injection import InjectionGrid, injection_recovery
from radioviz.simulate import SimConfig, simulate_field
from radioviz.simulate.sky import halo_angular_size_arcsec, render_halo


def test_rendered_halo_flux_and_size():
    f = simulate_field(SimConfig(seed=2, halo=None, size=200))
    im = f.images[-1]
    halo = render_halo(im, im.centre(), 1.0, 1.0, 0.15, alpha=0.0)
    beam_px = (2.0 * 60 / (im.pixel_scale_deg * 3600) / 2.3548) ** 2 * 2 * np.pi
    assert halo.sum() / beam_px == pytest.approx(1.0, rel=0.05)  # Jy/beam summed over beams = Jy
    assert 2.0 * 60 < halo_angular_size_arcsec(1.0, 0.15) < 8 * 60


def test_injection_recovery_with_a_flux_sensitive_scorer():
    fields = [
        SourceStack(f.name, f.images, 0)
        for f in (
            simulate_field(SimConfig(seed=s, halo=None, size=200, point_density_per_deg2=2, n_extended=0))
            for s in (1, 2)
        )
    ]
    pre = Preprocessing(
        normalization=classifier_normalization(np.zeros((1, 1, 2, 2)) + [[[[0, 1]]]], per_image=True)
    )

    def score(x):  # "halo" when the central flux is large: a stand-in that must see the injection
        c = x[:, -1, 24:40, 24:40].sum((1, 2))
        return 1 / (1 + np.exp(-(c - 20.0)))

    grid = InjectionGrid(
        fluxes_jy=(0.01, 5.0), sizes_mpc=(1.0,), position_angles_deg=(45.0, 225.0), offset_deg=0.5
    )
    per, summ = injection_recovery(fields, score, pre, grid, progress=False)
    assert len(per) == 2 * 2 * 2
    faint, bright = summ[summ["flux_jy_200mhz"] == 0.01][0], summ[summ["flux_jy_200mhz"] == 5.0][0]
    assert bright["completeness_0.5"] == 1.0 and faint["completeness_0.5"] == 0.0
    assert summ.meta["false_positive_rate_0.5"] == 0.0 and summ.meta["n_blank"] == 4
