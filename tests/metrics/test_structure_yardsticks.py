"""Issue #30's yardsticks: source-finder statistics, the classifier two-sample test, their place
in ``compare``, the card entry (``quality.structure``) and the Models/Compare tabs.  Tiny
synthetic images only; nothing here needs the real data or a trained generator."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from radioviz.metrics.sources import beam_area_px, catalogue, detection_threshold, find_sources, source_report
from radioviz.metrics.two_sample import two_sample_test, wilson_interval
from radioviz.metrics.yardsticks import band_geometry, json_safe, summary_lines, write_structure

REPO = Path(__file__).resolve().parents[2]
FWHM = 4.0
SIGMA = FWHM / (2 * math.sqrt(2 * math.log(2)))


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def gaussian(size, y, x, peak, sigma=SIGMA):
    yy, xx = np.mgrid[:size, :size]
    return peak * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * sigma**2))


def sky(n, rng, size=32, bands=2, alpha=-0.8, freqs=(100.0, 200.0, 150.0, 200.0), clip=0.05):
    """Point sources convolved with a Gaussian beam (peak = flux in Jy/beam), S ∝ ν^α, clipped
    at ``clip`` like the published cut-outs."""
    out = np.zeros((n, bands, size, size), np.float32)
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            y, x = rng.uniform(6, size - 6, 2)
            s = rng.uniform(0.5, 2.0)
            for b in range(bands):
                out[i, b] += gaussian(size, y, x, s * (freqs[b] / freqs[0]) ** alpha)
    out[np.abs(out) < clip] = 0
    return out


# -- source finding ------------------------------------------------------------------------------


def test_find_sources_counts_sizes_and_fluxes_beam_smooth_sources():
    img = gaussian(48, 14, 14, 2.0) + gaussian(48, 34, 30, 1.0)
    img[img < 0.05] = 0  # clipped: the clip level is the image's own threshold
    assert detection_threshold(img) == pytest.approx(img[img > 0].min())
    seg = find_sources(img)
    assert seg.max() == 2
    cat = catalogue(img[None, None], [FWHM])
    assert cat.counts.tolist() == [[2]]
    area = beam_area_px(FWHM)
    # a point source of peak S Jy/beam: Σ pixels = S × beam area, minus what the clip removed
    assert sorted(cat.flux_jy[0]) == pytest.approx([1.0, 2.0], rel=0.05)
    # a Gaussian of peak S above a threshold t covers 2πσ² ln(S/t) pixels = ln(S/t) beams
    t = img[img > 0].min()
    assert sorted(cat.size_beams[0]) == pytest.approx([math.log(1 / t), math.log(2 / t)], rel=0.1)
    assert area == pytest.approx(math.pi * FWHM**2 / (4 * math.log(2)))


def test_find_sources_leaves_out_islands_below_min_pixels_and_empty_images():
    img = np.zeros((32, 32))
    img[5, 5] = img[5, 6] = 1.0  # 2 pixels: not a source
    img[20:23, 20:23] = 1.0  # 9 pixels
    img[img == 0] = 0
    assert find_sources(img).max() == 1
    assert find_sources(np.zeros((32, 32))).max() == 0
    cat = catalogue(np.zeros((2, 2, 16, 16)), [FWHM, FWHM], [100.0, 200.0])
    assert cat.counts.sum() == 0 and np.isnan(cat.alpha).all()


def test_spectral_index_from_matched_apertures_recovers_the_injected_one():
    rng = np.random.default_rng(0)
    imgs = sky(6, rng, alpha=-0.8)
    cat = catalogue(imgs, [FWHM, FWHM], [100.0, 200.0])
    # the clip removes a little more of the fainter high band: α a touch steeper than injected
    assert np.nanmedian(cat.alpha) == pytest.approx(-0.8, abs=0.1)
    # one band: no spectral index
    assert source_report(imgs[:, :1], imgs[:, :1], [FWHM])["spectral_index"] is None


def test_matched_aperture_is_the_smallest_field_in_each_band_pixels():
    from radioviz.metrics.sources import aperture_radii

    r = aperture_radii((2, 64, 64), [0.015556, 0.007778])
    assert r[1] == pytest.approx(32) and r[0] == pytest.approx(16, rel=1e-3)
    # a source outside the low band's matched circle is not in its aperture flux
    img = np.zeros((1, 2, 64, 64), np.float32)
    img[0, 0] = gaussian(64, 4, 4, 1.0)  # a corner of the low band: sky the high band never sees
    img[0, 0] += gaussian(64, 32, 32, 1.0)
    img[0, 1] = gaussian(64, 32, 32, 0.5)
    img[img < 0.02] = 0
    cat = catalogue(img, [FWHM, FWHM], [100.0, 200.0], [0.015556, 0.007778])
    assert cat.alpha[0] == pytest.approx(-1.0, abs=0.05)  # only the centre source: 0.5 = 1 × 2^α


def test_source_report_same_sky_scores_like_the_ideal_generator_and_speckle_does_not():
    rng = np.random.default_rng(1)
    real, same = sky(16, rng), sky(24, rng)
    speckled = sky(24, rng)
    speckled = speckled * (rng.random(speckled.shape) < 0.4)  # speckle that breaks sources up
    speckled[np.abs(speckled) < 0.05] = 0
    r_same = source_report(real, same, [FWHM, FWHM], [100.0, 200.0], draws=20)
    r_bad = source_report(real, speckled, [FWHM, FWHM], [100.0, 200.0], draws=20)
    json.dumps(json_safe(r_same), allow_nan=False)
    for key in ("median_real", "median_gen", "ks", "ks_ideal", "ks_ideal_p10", "ks_ideal_p90"):
        assert len(r_same["size_beams"][key]) == 2
    # speckle breaks sources into many small ones: counts up, sizes down, far beyond the ideal
    assert r_bad["sources_per_image"]["median_gen"][0] > r_same["sources_per_image"]["median_gen"][0]
    assert r_bad["size_beams"]["ks"][0] > r_bad["size_beams"]["ks_ideal_p90"][0]
    assert r_same["size_beams"]["ks"][0] <= r_same["size_beams"]["ks_ideal_p90"][0] + 0.1
    assert r_same["spectral_index"]["median_real"] == pytest.approx(-0.8, abs=0.15)


# -- two-sample test ------------------------------------------------------------------------------


def test_wilson_interval_matches_the_textbook_values():
    lo, hi = wilson_interval(18, 36)
    assert lo == pytest.approx(0.3445, abs=1e-3) and hi == pytest.approx(0.6555, abs=1e-3)
    lo, hi = wilson_interval(36, 36)
    assert hi == 1.0 and lo == pytest.approx(0.9036, abs=1e-3)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def blobs(n, rng, size=24, bands=2):
    x = np.zeros((n, bands, size, size), np.float32)
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            y, c = rng.integers(4, size - 4, 2)
            x[i, :, y, c] = rng.uniform(1, 3)
        x[i] = gaussian_filter(x[i], (0, 1.7, 1.7)) * 15
    return x


def test_two_sample_test_same_distribution_is_near_chance_and_different_is_told_apart():
    rng = np.random.default_rng(0)
    same = two_sample_test(blobs(20, rng), blobs(30, rng), epochs=15, seed=0)
    assert same["n_per_class"] == 20 and same["n_test"] == 40 and len(same["folds"]) == 4
    assert same["ci95"][0] <= 0.5 <= same["ci95"][1]
    noise = rng.random((30, 2, 24, 24)).astype(np.float32)
    diff = two_sample_test(blobs(20, rng), noise, epochs=15, seed=0)
    assert diff["accuracy"] > 0.9 and diff["ci95"][0] > 0.5
    assert "parameters" in diff["setup"] and diff["ideal"] == 0.5


def test_two_sample_test_is_deterministic_and_needs_two_images_a_side():
    rng = np.random.default_rng(3)
    a, b = blobs(8, rng, size=16), blobs(8, rng, size=16)
    state = torch.get_rng_state()
    r1 = two_sample_test(a, b, epochs=3, seed=5)
    assert torch.equal(torch.get_rng_state(), state)  # the global random state is left alone
    assert two_sample_test(a, b, epochs=3, seed=5) == r1
    assert two_sample_test(a[:1], b, epochs=3) is None


# -- compare, the card entry, the tabs -----------------------------------------------------------


def test_band_geometry_for_gleam_native_coregistered_and_single_frequency():
    from radioviz.data.preprocess import Preprocessing

    g = band_geometry(Preprocessing(), 4)
    assert g["freq_mhz"] == [87.5, 118.5, 154.5, 200.5] and g["beam_fwhm_px"][0] == pytest.approx(4.898)
    co = band_geometry(Preprocessing(band_convention="coregistered"), 4)
    assert len(set(co["pixel_deg"])) == 1 and co["beam_fwhm_px"][0] > 9  # low band's beam in fine pixels
    sf = band_geometry(Preprocessing(band_convention="single-frequency", bands=["single-frequency"]), 1)
    assert sf["freq_mhz"] is None and "assumed" in sf["beam"]


def test_compare_images_reports_structure_sources_and_two_sample_in_strict_json():
    from radioviz.data.preprocess import generator_normalization
    from radioviz.metrics.compare import add_two_sample, compare_images

    rng = np.random.default_rng(2)
    real, gen = sky(10, rng, size=32, bands=4), sky(12, rng, size=32, bands=4)
    norm = generator_normalization(real, [0.05] * 4)
    cmp = compare_images(real, gen, norm)
    r = cmp.report
    assert r["two_sample"] is None and r["structure"]["bands"][0] == "72-103MHz"
    assert len(r["structure"]["power_ratio"]) == 4 and len(r["structure"]["beam_cutoff_cycles_per_px"]) == 4
    assert r["sources"]["spectral_index"]["bands"] == "87.5 vs 200.5 MHz"
    json.dumps({k: r[k] for k in ("structure", "sources")}, allow_nan=False)
    ts = add_two_sample(cmp)
    assert ts is cmp.report["two_sample"] and 0 <= ts["accuracy"] <= 1
    lines = summary_lines(r["structure"], r["sources"], ts)
    assert any(line.startswith("two-sample accuracy") for line in lines)
    assert any("ideal" in line for line in lines if line.startswith("power ratio"))


def test_power_ratio_plot_and_two_sample_line():
    import holoviews as hv

    from radioviz.app.compare_view import power_ratio_plot, two_sample_text
    from radioviz.metrics.structure import FREQ_EDGES

    k = len(FREQ_EDGES) - 1
    s = {
        "freq_edges": FREQ_EDGES.tolist(),
        "power_ratio": [[1.0] * (k - 1) + [None]] + [list(np.geomspace(0.9, 8, k))] * 3,
        "power_ratio_ideal_p10": [[0.8] * k] * 4,
        "power_ratio_ideal_p90": [[1.25] * k] * 4,
        "beam_cutoff_cycles_per_px": [0.22, 0.23, 0.23, 0.25],
        "bands": ["a", "b", "c", "d"],
    }
    plot = power_ratio_plot(s)
    curves = [e for e in plot.traverse(lambda e: e, [hv.Curve]) if type(e) is hv.Curve]
    assert [c.label for c in curves] == ["a", "b", "c", "d"]
    assert len(plot.traverse(lambda e: e, [hv.Area])) == 4  # the ideal generator's p10–p90
    assert len(plot.traverse(lambda e: e, [hv.VLine])) == 4 and plot.opts.get().kwargs["logy"]
    fig = hv.renderer("bokeh").get_plot(plot).state
    assert fig.legend and all(leg in fig.below for leg in fig.legend)
    assert "cannot tell them apart" in two_sample_text(
        {"accuracy": 0.8, "ci95": [0.6, 0.9], "n_per_class": 18, "folds": [0.8] * 4}
    )
    assert "not run" in two_sample_text(None)


def _card_copy(tmp_path, name="edm_gleam"):
    """A shipped card without any ``quality.structure``, in the cards' own layout."""
    src = REPO / "checkpoints" / f"{name}.json"
    if not src.exists():
        pytest.skip(f"{src} is not here")
    card = json.loads(src.read_text())
    (card.get("quality") or {}).pop("structure", None)
    text = json.dumps(card, indent=2, sort_keys=True)
    (tmp_path / f"{name}.json").write_text(text)
    (tmp_path / f"{name}.safetensors").write_bytes(b"")  # read_card needs the weights to exist
    return tmp_path / f"{name}.safetensors", text


def test_write_structure_keeps_every_other_field_and_the_models_tab_shows_it(tmp_path):
    from radioviz.app.models_view import structure_line
    from radioviz.models.checkpoint import read_card
    from radioviz.models.quality import quality

    ckpt, src = _card_copy(tmp_path)
    before = json.loads(src)
    assert "not measured" in structure_line(read_card(ckpt))
    entry = {
        "n": 64,
        "label": "H",
        "guidance": 2.0,
        "sampler": "heun-25",
        "power_ratio_high": [3.1, 2.0, float("nan"), 1.5],
        "power_ratio_high_ideal_p10": [0.8, 0.8, 0.8, 0.7],
        "power_ratio_high_ideal_p90": [1.2, 1.3, 1.2, 1.4],
        "peak_ratio": [1.2, 1.1, 1.0, 0.9],
        "two_sample": {"accuracy": 0.83, "ci95": [0.67, 0.92], "folds": [0.8, 0.9, 0.8, 0.8]},
    }
    write_structure(ckpt, entry)
    after = json.loads((tmp_path / "edm_gleam.json").read_text())
    assert after["quality"]["structure"]["power_ratio_high"][2] is None  # strict JSON
    after["quality"].pop("structure")
    assert after == before  # nothing else changed
    if "quality" in before:
        text = (tmp_path / "edm_gleam.json").read_text()
        assert text.startswith(src[:200])  # same layout (indent, key order)
    line = structure_line(read_card(ckpt))
    assert "3.10, 2.00, —, 1.50" in line and "0.83" in line and "0.67–0.92" in line and "ω = 2" in line
    assert quality(read_card(ckpt)) == quality(before)


def test_a_structure_entry_alone_is_not_a_quality_measurement():
    from radioviz.models.quality import quality

    card = {"kind": "edm", "quality": {"structure": {"peak_ratio": [1.0]}}}
    assert not quality(card).measured


def test_measure_structure_cli_on_a_tiny_generator_writes_only_quality_structure(tmp_path, capsys):
    from radioviz.cli import main
    from radioviz.data.dataset import DatasetConfig, build_dataset
    from radioviz.simulate import SimConfig, simulate_field, write_field
    from radioviz.training.diffusion import DiffusionConfig, train_diffusion

    root = tmp_path / "data"
    for seed, halo in ((1, "halo"), (2, None), (3, "halo")):
        cfg = SimConfig(seed=seed, halo=halo, size=64, point_density_per_deg2=30, n_extended=0)
        write_field(simulate_field(cfg), root, "TRAIN")
    ds, _, _ = build_dataset(
        DatasetConfig(str(root), "TRAIN", cutout_size=16, val_fraction=0.34), root / "cache", progress=False
    )
    cfg = DiffusionConfig(steps=2, batch_size=4, base=8, mults=(1, 2), attn_resolutions=(8,), save_every=1)
    train_diffusion(ds, cfg, tmp_path / "g", progress=False)
    ckpt = tmp_path / "g.safetensors"
    before = json.loads((tmp_path / "g.json").read_text())
    args = ["measure", "structure", "--checkpoint", str(ckpt), "--n", "6", "--real", str(root)]
    args += ["--sampler", "ddim", "--steps", "2", "--no-two-sample", "--write"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "power ratio gen/real" in out and "written to" in out
    after = json.loads((tmp_path / "g.json").read_text())
    entry = after["quality"].pop("structure")
    assert after == {**before, "quality": {}} or after == before
    assert entry["n"] == 6 and entry["label"] == "H" and entry["two_sample"] is None
    assert entry["guidance"] == 2.0 and entry["sampler"] == "ddim-2"
    assert len(entry["power_ratio_high"]) == 4 and len(entry["peak_ratio"]) == 4
    assert "--no-two-sample" in entry["command"]
    json.dumps(entry, allow_nan=False)


def test_compare_tab_runs_the_two_sample_test_on_its_button(monkeypatch):
    import holoviews as hv
    import panel as pn

    from radioviz.app import compare_view as cv
    from radioviz.app import resources

    rng = np.random.default_rng(5)
    real, gen = sky(6, rng, size=64, bands=4), sky(6, rng, size=64, bands=4)  # the A classifier's size
    monkeypatch.setattr("radioviz.app.compare_state.real_cutouts", lambda *a, **k: real)
    v = cv.CompareView(real_root=str(resources.SAMPLE_DATA))
    v.run_two_sample = True  # before any comparison: says what to do
    assert "Press **Compare** first" in v.two_sample_line.object
    assert v.compare(gen, {"label": "H"}) is not None
    assert "not run" in v.two_sample_line.object
    assert any(
        isinstance(p.object, hv.Overlay) and "power ratio" in str(p.object.opts.get().kwargs)
        for p in v.plots().select(pn.pane.HoloViews)
    )
    v.run_two_sample = True
    ts = v.comparison.report["two_sample"]
    assert ts is not None and f"**{ts['accuracy']:.2f}**" in v.two_sample_line.object
    assert "0.5 means a classifier cannot tell them apart" in v.two_sample_line.object
