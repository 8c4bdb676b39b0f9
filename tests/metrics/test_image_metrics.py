import numpy as np
import pytest

from radioviz.metrics.images import (
    frechet_distance,
    histogram_comparison,
    histogram_error_floor,
    kernel_inception_distance,
    nearest_neighbour_ssim,
    spectral_indices,
    ssim,
    statistics_comparison,
    zero_fraction,
)


def _images(seed, n=20, scale=1.0):
    rng = np.random.default_rng(seed)
    x = rng.lognormal(-2, 1, (n, 4, 16, 16)) * scale
    x[rng.random(x.shape) < 0.9] = 0
    return x


def test_histograms_agree_for_same_distribution_and_not_for_shifted():
    same = histogram_comparison(_images(0, 200), _images(1, 200))
    off = histogram_comparison(_images(0, 200), _images(1, 200, scale=3.0))
    assert same["hist_mean_abs_rel_err"] < 0.2 < off["hist_mean_abs_rel_err"]
    assert len(same["counts_real"]) == len(same["edges"]) - 1 and same["n_bins_used"] > 5
    assert np.shape(same["ci_real"]) == (2, 40)
    assert zero_fraction(_images(0)) == pytest.approx(0.9, abs=0.02)


def test_the_histogram_floor_is_the_real_sets_own_sampling_noise():
    """An ideal generator's error against few, different real images is not zero (18 halo
    cut-outs put it near 0.3, issue #13's target), so a generator's error is read against it."""
    x = _images(0, 8) * np.random.default_rng(1).lognormal(0, 1, (8, 1, 1, 1))  # 8 unlike images
    f = histogram_error_floor(x, 64)
    assert 0.05 < f["p10"] <= f["median"] <= f["p90"]
    assert histogram_error_floor(x, 64) == f  # seeded
    same = np.repeat(x[:1], 8, axis=0)  # 8 copies of one image: any draw is the same set
    assert histogram_error_floor(same, 64)["p90"] == 0.0


def test_statistics_spectral_index_and_distances():
    s = statistics_comparison(_images(0), _images(0))
    assert s["peak"]["wasserstein"] == 0.0
    x = np.ones((2, 4, 4, 4))
    x[:, -1] = (200.5 / 87.5) ** -1.3  # α = −1.3 between the outer bands
    assert np.allclose(spectral_indices(x), -1.3)
    rng = np.random.default_rng(0)
    f1, f2, f3 = rng.normal(size=(300, 8)), rng.normal(size=(300, 8)), rng.normal(1.0, 1, size=(300, 8))
    assert frechet_distance(f1, f2) < 0.5 < frechet_distance(f1, f3)
    assert abs(kernel_inception_distance(f1, f2)) < 0.05 < kernel_inception_distance(f1, f3)


def test_ssim_and_memorisation():
    rng = np.random.default_rng(1)
    a = rng.random((4, 16, 16))
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, rng.random((4, 16, 16))) < 0.5
    nn = nearest_neighbour_ssim(np.stack([a, rng.random((4, 16, 16))]), np.stack([a]))
    assert nn[0] == pytest.approx(1.0) and nn[1] < 0.5


def test_the_histogram_floor_report_holds_the_ideal_and_the_held_out_real_floors():
    """scripts/histogram_floor.py's numbers, now radioviz.metrics.histogram_floor: the ideal
    generator's floor and, for m real images as the reference, the error of draws from the others."""
    from radioviz.metrics.histogram_floor import held_out_real, histogram_floor_report

    x = _images(0, 10) * np.random.default_rng(1).lognormal(0, 1, (10, 1, 1, 1))
    rep = histogram_floor_report(x, n_gen=16, draws=30)
    assert rep["ideal_generator"] == histogram_error_floor(x, 16, draws=30)
    assert list(rep["held_out_real"]) == [
        "6 real vs 16 drawn from the other 4",
        "9 real vs 16 drawn from the other 1",
    ]
    six = rep["held_out_real"]["6 real vs 16 drawn from the other 4"]
    assert six["n"] == 30 and 0 < six["p10"] <= six["median"] <= six["p90"]
    assert six == held_out_real(x, 6, 16, 30, np.random.default_rng(0))  # the report's own draws, seeded
    assert "clip_draws" not in rep  # no checkpoint, no generator


def test_the_learning_curve_plot_adds_the_structure_panels_when_measured(tmp_path):
    """scripts/plot_learning_curve.py's figure, now radioviz.metrics.plots.plot_learning_curve: four
    panels, six when the curve carries issue #30's power and peak ratios; a card without quick
    evaluations is refused."""
    from matplotlib.image import imread

    from radioviz.metrics.plots import plot_learning_curve

    point = {"hist_err": 0.5, "zero_fraction_gen": 0.6, "zero_fraction_real": 0.5, "fid_domain": 3.0}
    point |= {"nn_ssim_max": 0.7, "nn_ssim_median": 0.4}
    curve = [{**point, "cpu_hours": h, "step": 100 * k} for k, h in enumerate((0.1, 0.2, 0.4))]
    four = plot_learning_curve({"training": {"learning_curve": curve}}, tmp_path / "a.png", "a")
    ratios = {"power_ratio_high": [2.0, 1.5, 1.2, 1.1], "peak_ratio": [1.0, 0.9, 1.1, 1.0]}
    six = plot_learning_curve(
        {"training": {"learning_curve": [{**p, **ratios} for p in curve]}}, tmp_path / "b.png", "b"
    )
    assert imread(four).shape[1] == 12 * 90 and imread(six).shape[1] == 18 * 90
    with pytest.raises(ValueError, match="no quick evaluation"):
        plot_learning_curve({"training": {"learning_curve": [{"loss": 1.0}]}}, tmp_path / "c.png", "c")


def test_the_sample_grid_has_a_row_per_image_and_a_column_per_band(tmp_path):
    """scripts/sample_grid.py's figure, now radioviz.metrics.plots.plot_sample_grid."""
    from matplotlib.image import imread

    from radioviz.metrics.plots import plot_sample_grid

    rows = [("gen", im) for im in _images(0, 3)] + [("real", im) for im in _images(1, 2)]
    path = plot_sample_grid(rows, np.full(4, 0.05), ["a", "b"], "title", tmp_path / "g.png")
    h, w = imread(path).shape[:2]
    assert (h, w) == (round(1.6 * 5 * 80), round(1.6 * 4 * 80))
