"""Unit tests of the app components (no browser)."""

import numpy as np
import panel as pn
import pytest

from radioviz.app import resources
from radioviz.app.fields import FieldsView
from radioviz.app.models_view import ModelsView, card_summary
from radioviz.display import stretch_image
from radioviz.models.card import ModelCard

from .conftest import celestial_header, noisy_image, write_fits


def test_stretches_map_to_unit_interval():
    img = np.random.default_rng(0).lognormal(size=(32, 32))
    for s in ("linear", "sqrt", "log", "asinh"):
        out = stretch_image(img, s, 99)
        assert out.min() >= 0 and out.max() <= 1 and out.shape == img.shape


@pytest.fixture
def view(tmp_path):
    return FieldsView(labels_path=tmp_path / "labels.sqlite")


def test_fields_view_lists_bundled_fields_and_renders(view):
    assert len(view.param.field.objects) == 6 and view.field == "sim_0100"
    el = view.image_element()
    assert [d.name for d in el.vdims] == ["level", "flux", "ra", "dec"]  # hover in physical units
    assert np.nanmax(el.dimension_values("flux")) > 0.01  # Jy/beam, not a stretched level
    view.band = "RGB"
    assert type(view.rgb_element()).__name__ == "RGB" and type(view.image_element()).__name__ == "Image"
    view.red, view.green, view.blue = "170-231MHz", "103-134MHz", "72-103MHz"
    assert view.rgb_element().data is not None
    view.band, view.contour_sigma = "170-231MHz", 3
    assert len(view.contour_element().data) > 0
    view._on_pointer(150.0, 150.0)
    assert view.readout.startswith("RA ") and "mJy/beam" in view.readout
    assert isinstance(view.__panel__(), pn.Row)
    assert view.catalog_element() is not None


def test_model_picker_shows_cv_figures_and_defaults_to_a_validated_fast_model(view):
    from radioviz.app.fields import default_model, model_summary

    labels = list(view.param.classifier.names)
    assert any("CV AUC" in lab for lab in labels)
    assert view.classifier != "classifier_A.safetensors"  # unvalidated and 103-176 s a field
    from radioviz.models.card import ModelCard

    bare = ModelCard(kind="classifier", arch="L")
    cv = ModelCard(kind="classifier", arch="L", metrics={"cv": {"roc_auc": {"mean": 0.7}}})
    cards = {"a.safetensors": bare, "b.safetensors": cv}
    assert default_model(cards) == "b.safetensors" and model_summary(bare) == "not cross-validated"
    assert default_model({**cards, "segmenter.safetensors": bare}) == "segmenter.safetensors"


def test_score_map_candidates_vetting_and_export(view, tmp_path):
    if not view.param.classifier.objects:
        pytest.skip("no classifier checkpoint committed")
    view.stride = 16
    smap = view.compute_scores()
    assert smap is not None and np.isfinite(smap.scores).all()
    view.threshold = 0.0  # every window passes: one connected candidate region at least
    assert len(view.candidates) >= 1 and view.selected == 0
    frame = view.candidate_frame()
    assert list(frame.columns) == [
        "RA",
        "Dec",
        "score",
        "nearest cluster",
        "sep (′)",
        "label",
        "by",
        "comment",
    ]
    assert "nan" not in frame.to_string()  # no match reads "—"
    view.comment = "looks diffuse"
    view.on_key("h")  # label halo, then move on
    saved = view.labels.table()
    assert list(saved["label"]) == ["halo"] and list(saved["comment"]) == ["looks diffuse"]
    assert saved["classifier"][0] == view.classifier and saved["stride"][0] == 16
    assert view.candidate_frame()["comment"][0] == "looks diffuse"
    assert view.progress_text() == f"1 of {len(view.candidates)} vetted"
    assert b"circle(" in view.export_bytes(".reg").getvalue()
    assert b"halo" in view.export_bytes(".csv").getvalue()
    view.selected = 0
    assert "Candidate 1/" in view.cutouts_view()[0].object
    view.threshold = 1.0  # the list follows the slider
    assert view.candidates == [] or all(c["peak_score"] >= 1.0 for c in view.candidates)


def test_a_failed_save_is_shown_and_not_pretended(view, tmp_path, monkeypatch):
    if not view.param.classifier.objects:
        pytest.skip("no classifier checkpoint committed")
    view.stride, view.threshold = 16, 0.0
    view.compute_scores()
    path = view.labels.path
    for suffix in ("", "-wal", "-shm"):
        p = type(path)(str(path) + suffix)
        if p.exists():
            p.unlink()
    path.mkdir()  # the store is now unwritable
    assert view.label_selected("halo") is False
    assert "NOT saved" in view.message and view.candidate_frame()["label"][0] == ""


def test_cancel_leaves_no_partial_map(view):
    if not view.param.classifier.objects:
        pytest.skip("no classifier checkpoint committed")
    view.stride = 8
    view._cancel.set()
    original = view._cancel.clear
    view._cancel.clear = lambda: None  # keep the cancel flag set through the run
    try:
        assert view.compute_scores() is None and view.scoremap is None
    finally:
        view._cancel.clear = original


def test_bad_folder_and_bad_upload_show_message_and_keep_state(view, tmp_path):
    before = view.field
    view.data_dir = str(tmp_path / "does-not-exist")
    assert "no such file or directory" in view.message and view.field == before
    assert view.upload(["junk_Gleam72-103_clipped.fits"], [b"not a fits file"]) is False
    assert "Upload rejected" in view.message and "not a FITS file" in view.message
    assert "radioviz-upload-" not in view.message and "junk_Gleam72-103_clipped.fits" in view.message
    assert view.field == before
    (tmp_path / "empty").mkdir()
    view.data_dir = str(tmp_path / "empty")
    assert "no FITS" in view.message and view.field is None and view._status.object == ""


def test_good_upload_becomes_the_current_field(view, tmp_path):
    names, blobs = [], []
    for k, band in enumerate(("72-103", "103-134", "139-170", "170-231")):
        p = write_fits(
            tmp_path / f"mine_Gleam{band}_clipped.fits", noisy_image(64, seed=k), celestial_header(64)
        )
        names.append(p.name)
        blobs.append(p.read_bytes())
    assert view.upload(names, blobs)
    assert view.field == "mine" and view.message == ""


def test_models_view_summarises_cards():
    card = {
        "kind": "classifier",
        "arch": "L",
        "kwargs": {},
        "parameters": 59114,
        "preprocessing": {
            "cutout_size": 64,
            "bands": ["a", "b", "c", "d"],
            "band_convention": "native",
            "normalization": {"per_image": True, "log": False, "lo": 0.0, "hi": 1.0},
        },
        "metrics": {
            "cv": {
                "k": 4,
                "seeds": [0, 1],
                "per_source": {m: {"mean": 0.7, "std": 0.1} for m in ("accuracy", "f1", "roc_auc")},
            }
        },
    }
    text = card_summary("x.safetensors", ModelCard.from_dict(card))
    assert "59,114 parameters" in text and "4-fold × 2 seeds" in text and "accuracy 0.700 ± 0.100" in text
    assert isinstance(ModelsView().__panel__(), pn.Column)
    shipped = resources.checkpoint_cards()
    assert shipped["classifier_L.safetensors"].kind == "classifier"
    assert not any(".train-state" in name for name in shipped)


# -- Generate / Trajectory / Compare ---------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_view():
    from radioviz.app.generate_view import GenerateView

    g = GenerateView()
    g.model = "ddpm_gleam.safetensors"
    g.sampler, g.n = "ddim", 2
    g.steps = 3
    assert g.generate() is not None
    return g


def test_generate_shows_only_what_the_model_accepts():
    from radioviz.app.generate_view import GenerateView

    g = GenerateView()
    g.model = "wgan_gleam.safetensors"
    assert g.param.sampler.objects == ["oneshot"] and not g.accepts()["guidance"]
    g.model = "edm_gleam.safetensors"
    assert g.accepts()["flux"] and g.sampler == "heun" and g.steps == 25
    g.model = "edm_mask_gleam.safetensors"
    assert g.accepts()["mask_classes"] and g.accepts()["background"]
    assert "mask" in g.conditions() and g.conditions()["mask"].shape == (64, 64)


def test_generate_gallery_scores_and_downloads(generated_view):
    import io

    from astropy.io import fits

    from radioviz.app.generate_view import samples_fits, samples_npz

    g = generated_view
    assert g.result.images.shape == (2, 4, 64, 64) and g.scores is not None and len(g.scores) == 2
    z = np.load(io.BytesIO(samples_npz(g.result)), allow_pickle=False)
    assert z["physical"].shape == (2, 4, 64, 64) and "ddim" in str(z["meta"])
    with fits.open(io.BytesIO(samples_fits(g.result, ["a", "b", "c", "d"]))) as h:
        assert len(h) == 3 and h[1].data.shape == (4, 64, 64) and h[1].header["BUNIT"] == "Jy/beam"


def test_bad_mask_upload_is_reported_and_mask_kept():
    from radioviz.app.generate_view import GenerateView

    g = GenerateView()
    g.model = "edm_mask_gleam.safetensors"
    g.canvas.add_shape("polygon", [10, 20, 20, 10], [10, 10, 20, 20], "compact")
    before = g.canvas.mask.copy()
    assert not g.load_mask_file("scribble.npy", b"not numpy")
    assert g.alert.visible and "scribble.npy" in g.alert.object
    np.testing.assert_array_equal(g.canvas.mask, before)


def test_trajectory_scrubbing_makes_no_model_calls(generated_view):
    from radioviz.app.trajectory_view import TrajectoryView

    t = TrajectoryView(generated_view)
    assert t.use_generated() and len(t.trajectory) == 3
    calls = t.model_calls
    shown = []
    for k in range(3):
        t.step = k
        shown.append(t.frames())
    assert t.model_calls == calls
    t.forward_t = 500
    assert t.forward_view() is not None


def test_compare_view_on_bundled_fields(generated_view):
    from radioviz.app import resources
    from radioviz.app.compare_view import CompareView

    c = CompareView(generated_view, real_root=str(resources.SAMPLE_DATA))
    assert c.split == "SIM"
    cmp = c.compare_latest()
    assert cmp is not None and cmp.report["n_generated"] == 2 and "generated vs" in c.status.object
    assert c.plots() is not None
    assert not c.upload("x.npz", b"junk") and c.alert.visible


def test_skyview_fetch_offline_gives_one_clear_message(view, monkeypatch):
    import sys
    import types

    from radioviz.io.skyview import resolve_target

    name, pos = resolve_target("Abell 2744")
    assert name == "Abell_2744" and abs(pos.ra.deg - 3.58) < 0.1  # built-in clusters resolve offline
    assert resolve_target("10.5, -30")[0] == "ra10.500_dec-30.000"

    class OfflineSkyView:
        @staticmethod
        def get_images(**kw):
            raise ConnectionError("Failed to establish a new connection: network is unreachable")

    fake = types.ModuleType("astroquery.skyview")
    fake.SkyView = OfflineSkyView
    monkeypatch.setitem(sys.modules, "astroquery", types.ModuleType("astroquery"))
    monkeypatch.setitem(sys.modules, "astroquery.skyview", fake)
    field_before = view.field
    assert not view.fetch("Abell 2744")
    assert view._alert.visible and "offline" in view._alert.object and "\\n" not in view._alert.object
    assert view.field == field_before  # nothing lost
    monkeypatch.setitem(sys.modules, "astroquery.skyview", None)  # not installed
    assert not view.fetch("Abell 2744") and "astroquery" in view._alert.object


def test_big_fields_are_shown_band_by_band_on_native_grids(view, monkeypatch):
    monkeypatch.setattr(resources, "BIG_FIELD_PIXELS", 100 * 100)  # the bundled 300×300 fields count as big
    assert resources.is_big(view._root(), view.field)
    view.band = "72-103MHz"
    el = view.image_element()
    native = resources.clipped_field(view._root(), view.field).stack.images[0]
    assert el.data.shape == native.data.shape
    view._on_pointer(150.0, 150.0)
    assert "72-103MHz" in view.readout and "RA" in view.readout
    view.band = "RGB"
    view.rgb_element()
    assert view._alert.visible and "co-registered" in view._alert.object


def test_stretch_limits_come_from_a_subsample_of_big_images():
    big = np.random.default_rng(1).lognormal(size=(1500, 1500)).astype(np.float32)
    out = stretch_image(big, "linear", 99)
    assert (
        out.dtype == np.float32 and 0.97 < np.mean(out < 1) < 1.0
    )  # ≈ 1 % saturated, as a full percentile would give


def test_the_same_app_renders_inline_in_a_notebook():
    """What Jupyter displays for ``create_app()`` as a cell's last expression: the Bokeh/Panel
    mime bundle (needs IPython, as any notebook has)."""
    pytest.importorskip("IPython")
    from radioviz.app import create_app

    bundle = create_app()._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.holoviews_exec.v0+json" in data and "<div" in data["text/html"]


def test_mask_from_a_field_photutils_or_simulator_truth():
    from radioviz.app.generate_view import GenerateView

    g = GenerateView()
    g.model = "edm_mask_gleam.safetensors"
    truths = [label for label in g.param.mask_field.names if label.endswith("(simulator truth)")]
    assert len(truths) == 6
    g.mask_field = ("sim_0100", "truth")
    truth = g.canvas.mask.copy()
    assert truth.shape == (64, 64) and truth.max() <= 3 and (truth > 0).any()
    g.mask_field = g.param.mask_field.names["sim_0100 (photutils)"]
    assert g.canvas.mask.shape == (64, 64) and (g.canvas.mask > 0).any()


def test_single_frequency_model_in_generate_trajectory_and_compare(tmp_path, monkeypatch):
    """A 1-channel generator: no 4-band classifier score, one band to step through, and Compare
    against single-frequency real images (RADIOVIZ_REAL_SINGLE), with a message when absent."""
    from radioviz.app.compare_view import CompareView
    from radioviz.app.generate_view import GenerateView
    from radioviz.app.trajectory_view import TrajectoryView

    g = GenerateView()
    g.model = "ddpm_single.safetensors"
    g.sampler, g.n, g.steps = "ddim", 2, 3
    assert g.generate() is not None and g.result.images.shape == (2, 1, 64, 64) and g.scores is None
    assert g.gallery() is not None
    t = TrajectoryView(g)
    t.model = "ddpm_single.safetensors"
    assert t.param.band.objects == ["single-frequency"] and t.band == "single-frequency"
    assert t.use_generated() and t.frames() is not None and t.forward_view() is not None
    for k in range(3):
        write_fits(
            tmp_path / f"abell000{k}mwa2154mhzbriggs0_Halo.fits",
            noisy_image(80, seed=k),
            celestial_header(80, ra=10.0 * (k + 1)),
        )
    monkeypatch.setenv("RADIOVIZ_REAL_SINGLE", str(tmp_path))
    c = CompareView(g, real_root=str(resources.SAMPLE_DATA))
    cmp = c.compare_latest()
    assert (
        cmp is not None
        and cmp.report["n_real"] == 3
        and cmp.real.shape[1] == 1
        and tmp_path.name in c.status.object
    )
    monkeypatch.setenv("RADIOVIZ_REAL_SINGLE", str(tmp_path / "missing"))
    assert c.compare_latest() is None and c.alert.visible and "missing" in c.alert.object
