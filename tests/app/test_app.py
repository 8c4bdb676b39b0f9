"""Unit tests of the app components (no browser)."""

import re

import numpy as np
import panel as pn
import pytest

from radioviz.app import resources
from radioviz.app.fields import FieldsView
from radioviz.app.models_view import ModelsView, card_summary
from radioviz.display import stretch_image
from radioviz.models.card import ModelCard
from radioviz.models.quality import default_generator, picker_label

from ..conftest import celestial_header, noisy_image, write_fits


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
    data = view.image_data()
    assert {"level", "flux", "ra", "dec"} <= set(data)  # hover in physical units
    assert np.nanmax(data["flux"][0]) > 0.01  # Jy/beam, not a stretched level
    assert view.sky.image.data["level"][0].shape == (300, 300)  # the figure's source holds the field
    fig = view.sky.fig
    assert fig.match_aspect and fig.frame_width == fig.frame_height  # square pixels
    view.band = "RGB"
    assert view.rgb_data()["image"][0].dtype == np.uint32 and view.sky.rgb_renderer.visible
    view.red, view.green, view.blue = "170-231MHz", "103-134MHz", "72-103MHz"
    assert view.rgb_data() is not None
    view.band, view.contour_sigma = "170-231MHz", 3
    assert len(view.sky.contours.data["xs"]) > 0 and not view.sky.rgb_renderer.visible
    drawn = [r.glyph.line_color for r in fig.renderers if r.data_source is view.sky.contours]
    assert drawn == ["black", "white"]  # walk: plain white contours vanished on the bright end of "gray"
    view._on_pointer(150.0, 150.0)
    assert view.readout.startswith("RA ") and "mJy/beam" in view.readout
    assert isinstance(view.__panel__(), pn.Row)
    assert len(view.sky.beam.data["xs"][0]) > 20 and view.sky.bar_text.data["text"][0].endswith(("′", "°"))
    assert view.catalog_data() is not None


def test_a_new_field_is_shown_whole_and_forgets_the_last_pointer(view):
    """Walk 18: zoomed on one field, the next field opened in the same small window (its ranges
    no longer followed the data) and the readout still named the last field's pixel."""
    fig = view.sky.fig
    fig.x_range.update(start=100.0, end=101.5)  # what a wheel zoom leaves behind
    fig.y_range.update(start=40.0, end=41.5)
    view._on_pointer(100.5, 40.5)
    assert view.readout
    opened = view.sky.field_count
    view.field = "sim_0101"
    # the browser resets the view (as the Reset tool does) when the figure's tags change
    resets = [cb for cb in fig.js_property_callbacks.get("change:tags", []) if "reset.emit" in cb.code]
    assert resets and fig.tags == [opened + 1]
    assert view.readout == ""


def test_a_new_field_gets_a_new_colorbar_with_its_own_labels(view):
    """Walk 18: after another field was opened the map's colorbar showed only "0" — the browser
    kept the first formatter (its tick positions) while the server sent the new field's ticks."""
    fig = view.sky.fig
    first = view.sky.colorbar
    view.field = "sim_0101"
    bar = view.sky.colorbar
    assert bar is not first and first not in fig.right and fig.right.count(bar) == 1
    assert list(bar.formatter.args["pos"]) == list(bar.ticker.ticks) and len(bar.ticker.ticks) >= 3
    assert bar.title in ("Jy/beam", "mJy/beam") and bar.visible


def test_the_sky_plot_schedules_nothing_by_itself(view):
    """The field plot is plain Bokeh: no HoloViews plot or stream that could re-queue itself
    after the page has gone (what kept closed sessions alive)."""
    from bokeh.document import Document

    doc = Document()
    doc.add_root(view.field_plot().get_root(doc))
    view.stretch, view.band, view.contour_sigma = "linear", "103-134MHz", 2
    assert not doc.callbacks.session_callbacks  # nothing queued on the document
    assert not any(type(m).__module__.startswith("holoviews") for m in doc.models)


def test_fields_layout_has_no_bokeh_validation_warning(view):
    """The cut-out grid was 'fixed' with no size: W-1005 in every session's server log."""
    from bokeh.core.validation import check_integrity
    from bokeh.document import Document

    doc = Document()
    doc.add_root(pn.panel(view).get_root(doc))
    assert [w.code for w in check_integrity(list(doc.models)).warning] == []


def test_vetting_cache_labels_and_moves_from_the_browser(view):
    """The browser's cache holds every candidate's header and the cut-outs around the selected
    one; a move the browser reports tops it up; a label from a stale list is refused."""
    if not view.param.classifier.objects:
        pytest.skip("no classifier checkpoint committed")
    from radioviz.app.fields_state import AHEAD, BEHIND

    view.stride, view.threshold = 16, 0.0
    view.compute_scores()
    n = len(view.candidates)
    data = view._cache.data
    assert len(data["info"]) == n and sum(data["ready"]) == len(view._window(0))
    assert data["level0"][0].shape == (64, 64)
    if n > AHEAD + BEHIND + 2:
        assert data["ready"][AHEAD + 1] == 0
        view.vetter.index = 1  # the browser moved on
        assert view.selected == 1 and view._cache.data["ready"][AHEAD + 1] == 1
    view._label_from_client(0, "halo", view.vetter.version)
    assert "halo" in view._cache.data["mark"][0] and view.labels.current()[0].label == "halo"
    view._label_from_client(0, "unsure", view.vetter.version - 1)
    assert "NOT saved" in view.message and [lab.label for lab in view.labels.current()] == ["halo"]


def test_a_comment_sent_with_its_label_key_is_saved_even_when_the_box_update_comes_late(view):
    """#14 walk: a comment committed with Enter and the label key pressed next travel on two
    channels; under load the label reached the server first and was saved without its comment."""
    if not view.param.classifier.objects:
        pytest.skip("no classifier checkpoint committed")
    view.stride, view.threshold = 16, 0.3
    view.compute_scores()
    assert len(view.candidates) >= 2
    assert view.comment == ""  # the box's update has not arrived yet
    view._label_from_client(0, "halo", view.vetter.version, "h shaped")
    first = {lab.candidate_id: lab for lab in view.labels.current()}[view.candidate_id(view.candidates[0])]
    assert first.comment == "h shaped" and view.comment == ""
    view.comment = "h shaped"  # ...now it does: it must not stick to the next label
    assert view.comment == ""
    view._label_from_client(1, "not halo", view.vetter.version, "")
    second = {lab.candidate_id: lab for lab in view.labels.current()}[view.candidate_id(view.candidates[1])]
    assert second.comment == ""
    view.comment = "typed again"  # an ordinary comment still works
    view._label_from_client(1, "unsure", view.vetter.version, "typed again")
    assert [lab.comment for lab in view.labels.current() if lab.label == "unsure"] == ["typed again"]


def test_quick_threshold_changes_on_several_threads_leave_the_latest_list(view):
    """#14 walk: PageDown three times on the Threshold slider raised IndexError in _cache_rows
    (served events run on a thread pool: one change replaced the list another was caching)."""
    import threading

    from radioviz.scan.scoremap import find_candidates

    view.stride, view.threshold = 16, 0.6
    view.compute_scores()
    errors = []

    def set_threshold(t):
        try:
            view.threshold = t
        except Exception as exc:  # noqa: BLE001 — any failure is the bug
            errors.append(exc)

    for _ in range(3):
        threads = [
            threading.Thread(target=set_threshold, args=(t,)) for t in (0.5, 0.4, 0.3, 0.2, 0.55, 0.25)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    assert len(view.candidates) == len(find_candidates(view.scoremap, view.threshold))
    assert len(view._cache.data["info"]) == len(view.candidates)


def test_a_scan_finished_for_a_model_no_longer_picked_says_so(view):
    """Compute pressed a moment before a new model was taken scores with the old one: its result
    is dropped, and the status says which model and what to do (it said only "cancelled")."""
    from radioviz.app.jobs import Outcome

    view.classifier, view.stride = "classifier_L.safetensors", 16
    args = view._scan_args()
    view._cancel.clear()
    result = view._scan(*args)
    assert result is not None
    view.classifier = "segmenter.safetensors"
    view._finish_scan(args, Outcome(result=result, seconds=0.1))
    assert view.scoremap is None
    assert "classifier_L.safetensors dropped: the model is now segmenter.safetensors" in view._status.object


def test_model_picker_shows_cv_figures_and_defaults_to_a_validated_fast_model(view):
    from radioviz.app.fields_models import default_model, model_summary

    labels = list(view.param.classifier.names)
    assert any("CV AUC" in lab for lab in labels)
    assert view.classifier != "classifier_A.safetensors"  # unvalidated and 103-176 s a field
    names = dict(view.param.classifier.objects)  # label -> file
    if "segmenter.safetensors" in names.values():  # #12: the detector map opens by default
        assert view.classifier == "segmenter.safetensors"
        assert view.threshold == 0.5  # its card's calibrated threshold, not the paper's 0.95
        view.classifier = "classifier_L.safetensors"
        assert view.threshold == 0.95
        view.classifier = "segmenter.safetensors"
        assert view.threshold == 0.5
    for label, name in names.items():  # each model's figures come from its own card
        card = resources.classifier_cards().get(name) or resources.checkpoint_cards()[name]
        assert label == f"{name} — {model_summary(card)}"
        cv = (card.metrics or {}).get("cv") or {}  # a card retrained on labels records cv: null
        auc = (cv.get("detector") or cv.get("per_source") or cv).get("roc_auc")
        assert (f"{auc['mean']:.2f}" in label) if auc else ("not cross-validated" in label)
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
        "class",
        "nearest cluster",
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
    assert "Candidate 1/" in view.header_text()
    assert isinstance(view.cutouts_view()[0], type(view.vetter))
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


def _four_band_upload(tmp_path, stem: str) -> tuple[list[str], list[bytes]]:
    """Four small band files of field ``stem`` as the browser uploads them: names and bytes."""
    names, blobs = [], []
    for k, band in enumerate(("72-103", "103-134", "139-170", "170-231")):
        p = write_fits(
            tmp_path / f"{stem}_Gleam{band}_clipped.fits", noisy_image(64, seed=k), celestial_header(64)
        )
        names.append(p.name)
        blobs.append(p.read_bytes())
    return names, blobs


def test_good_upload_becomes_the_current_field(view, tmp_path):
    assert view.upload(*_four_band_upload(tmp_path, "mine"))
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
    m = ModelsView()
    before = list(m.cards.objects)
    m.refresh = True  # walk: Reload cards made new panes, which lost the page's styling
    assert m.cards.objects == before and all(a is b for a, b in zip(m.cards.objects, before, strict=True))
    single = card_summary("s.safetensors", ModelCard.read(resources.CHECKPOINTS / "ddpm_single.json"))
    assert "× 1 band (" in single  # not "1 bands"
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
    from astropy.wcs import WCS

    from radioviz.app.generate_view import samples_npz

    g = generated_view
    assert g.result.images.shape == (2, 4, 64, 64) and g.scores is not None and len(g.scores) == 2
    z = np.load(io.BytesIO(samples_npz(g.result)), allow_pickle=False)
    assert z["physical"].shape == (2, 4, 64, 64) and "ddim" in str(z["meta"])
    assert not g.npz_download.disabled and "Conditioning" in g.gallery_view.head.object
    assert "Conditioning" not in g.status.object  # said once, in the gallery heading
    with fits.open(io.BytesIO(g.fits_bytes())) as h:
        assert len(h) == 1 + 2 * 4 and h[0].header["RVCLASS"] == "H" and "halo" in str(h[0].header["COMMENT"])
        p = h["SAMPLE1_B3"]
        assert (
            p.data.shape == (1, 64, 64) and p.header["BUNIT"] == "Jy/beam" and p.header["RVSAMPLR"] == "ddim"
        )
        w = WCS(p.header)
        assert w.naxis == 3 and w.wcs.ctype[2] == "FREQ" and p.header["WCSSRC"] == "synthetic"
        assert abs(w.wcs.crval[2] - 200.5e6) < 1 and abs(abs(w.wcs.cdelt[1]) - 0.007778) < 1e-6
        assert abs(w.celestial.pixel_to_world(31.5, 31.5).ra.deg % 360) < 1e-6  # centred on RA 0, Dec 0
        np.testing.assert_allclose(p.data[0], g.result.physical[1, 3])


def test_generate_fits_takes_the_reference_fields_wcs_and_refuses_empty_downloads():
    from astropy.io import fits
    from astropy.wcs import WCS

    from radioviz.app.generate_view import GenerateView

    g = GenerateView()
    g.model = "edm_mask_gleam.safetensors"
    assert (
        g.npz_download.disabled and g._download(lambda: b"x") is None and "Generate" in g.download_hint.object
    )
    g.background = g.param.background.names["sim_0100"]  # (folder, name): read from where it lies
    g.sampler, g.steps, g.n = "euler", 2, 1
    assert g.generate() is not None and g.result.meta["background_field"] == "sim_0100"
    import io

    field = resources.clipped_field(g.data_dir, "sim_0100").stack.images[0]
    with fits.open(io.BytesIO(g.fits_bytes())) as h:
        p = h["SAMPLE0_B0"]
        assert p.header["WCSSRC"] == "reference field" and h[0].header["RVBKG"] == "sim_0100"
        assert "RVFLUX" in h[0].header and h[0].header["RVFLUX"] is None  # not conditioned: blank
        centre = WCS(p.header).celestial.pixel_to_world(31.5, 31.5)
        assert centre.separation(field.centre()).deg < 0.05


def test_captions_and_headers_say_only_what_the_model_takes():
    """Walk: a WGAN run read "peak flux not conditioned · ω = 0 (no guidance)"; RVFLUX was the
    string '2'; one network evaluation was "1 network evaluations"."""
    import io

    from astropy.io import fits

    from radioviz.app.describe import conditioning_text
    from radioviz.app.generate_view import GenerateView

    gan = {"kind": "wgan", "label": "H", "flux": None, "guidance": 0.0, "takes_flux": False}
    text = conditioning_text({**gan, "sampler": "oneshot", "seed": 0})
    assert "flux" not in text and "ω" not in text and "one-shot" in text
    edm = {"kind": "edm", "label": "H", "flux": None, "guidance": 0.0, "takes_flux": True}
    assert "peak flux not conditioned" in conditioning_text({**edm, "sampler": "heun", "steps": 2, "seed": 0})
    run = {**edm, "sampler": "heun", "steps": 2, "seed": 0, "mask": True}
    # walk: an empty canvas was described as a "drawn/loaded mask"
    assert "empty mask (no sources drawn)" in conditioning_text({**run, "mask_pixels": 0})
    assert "mask of 40 source pixels" in conditioning_text({**run, "mask_pixels": 40})
    g = GenerateView()
    g.model = "wgan_gleam.safetensors"
    g.n = 1
    assert g.generate() is not None
    assert "1 network evaluation." in g.status.object
    g.model = "edm_gleam.safetensors"
    g.use_flux, g.flux, g.steps, g.n = True, 2.0, 2, 1
    assert g.generate() is not None
    with fits.open(io.BytesIO(g.fits_bytes())) as h:
        assert h[0].header["RVFLUX"] == 2.0 and isinstance(h[0].header["RVFLUX"], float)


def test_generate_flux_typed_is_used_and_class_names_in_words():
    from radioviz.app.generate_view import GenerateView

    g = GenerateView()
    g.model = "edm_gleam.safetensors"
    assert not g.use_flux and "flux" not in g.conditions()
    g.flux = 3.5
    assert g.use_flux and g.conditions()["flux"] == 3.5
    names = g.param.label.names
    assert any("mini-halo" in k for k in names) and any("candidate halo" in k for k in names)
    # the picker shows each model's measured quality (models.quality.picker_label) and its kind
    cards = resources.generator_cards()
    for label, name in g.param.model.objects.items():
        assert label.startswith(picker_label(name.removesuffix(".safetensors"), cards[name]))
        assert f"— {cards[name].kind.upper()}" in label
    assert GenerateView().model == default_generator(cards)


def test_trajectory_defaults_to_the_best_measured_generator_not_ddpm_gleam():
    from radioviz.app.trajectory_view import TrajectoryView

    cards = resources.generator_cards()
    t = TrajectoryView()
    want = default_generator(
        {n: c for n, c in cards.items() if c.kind in ("ddpm", "edm")}, kinds=("edm", "ddpm")
    )
    assert t.model == want and t.model != "ddpm_gleam.safetensors"
    name = t.model.removesuffix(".safetensors")
    assert any(k.startswith(picker_label(name, cards[t.model])) for k in t.param.model.names)


def test_generate_refuses_a_second_run_while_one_runs(generated_view):
    g = generated_view
    g._running.acquire()
    try:
        assert g.generate() is None and "Already generating" in g.status.object
    finally:
        g._running.release()


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
    t.model = "ddpm_gleam.safetensors"  # the view opens on the best measured model (an EDM)
    assert t.use_generated() and len(t.trajectory) == 3
    calls = t.model_calls
    cache = t.cache.data  # every frame sent once; the browser indexes it per step
    assert len(cache["xt"]) == 3 and cache["xt"][0].shape == (64, 64) and len(cache["hist"][0]) == 60
    assert not np.allclose(cache["xt"][0], cache["xt"][-1])
    for k in range(3):
        t.step = k
        assert t.player.value == k + 1 and cache["text"][k].startswith(f"step {k + 1}/3")  # they agree
        assert cache["title_xt"][k].startswith(f"step {k + 1}/3") and "What to notice" in cache["notice"][k]
    assert t.model_calls == calls and t.cache.data is cache  # stepping sends nothing new
    t.forward_t = 500
    assert "ᾱ_t" in t.fwd_text.object


def test_use_last_generate_result_shows_the_model_that_made_it(generated_view):
    """ "Use last Generate result" with another model in the Trajectory picker (the view opens on
    the EDM; the run is a DDPM's): the picker, sampler, steps, seed and teaching texts follow the
    run, so an EDM's σ/Heun explanations never label a DDPM's frames (found on the served app)."""
    from radioviz.app.trajectory_view import TrajectoryView

    t = TrajectoryView(generated_view)
    t.model, t.sampler, t.seed = "edm_gleam.safetensors", "heun", 7
    assert t.use_generated()
    assert t.model == "ddpm_gleam.safetensors" and t.sampler == "ddim"
    assert (t.steps, t.seed) == (3, 0)
    assert "ε_θ" in t.explain["x0"].object and "D(x; σ)" not in t.explain["x0"].object
    assert "ddpm_gleam" in t.status.object and len(t.trajectory) == 3
    assert t.cache.data["text"][0].startswith("step 1/3")


def test_trajectory_scale_colorbar_and_model_specific_teaching(generated_view):
    from radioviz.app.trajectory_view import TrajectoryView

    t = TrajectoryView(generated_view)
    t.model = "ddpm_gleam.safetensors"
    t.use_generated()
    t.scale = "fixed"
    assert t.cache.data["diff_lo"][2] == -2.0 and t.cache.data["diff_hi"][2] == 2.0
    t.scale = "frame"
    d = t.cache.data["diff"][2]
    assert t.cache.data["diff_hi"][2] == pytest.approx(np.abs(d).max())
    assert "max |Δ|" in t.cache.data["title_diff"][2]
    assert "ε_θ" in t.explain["x0"].object and "ᾱ" in t.explain_schedule.object
    assert "DDPM-1000" in t.sampler_button.label
    t.model = "edm_gleam.safetensors"  # the DDPM run stays, with its own captions, marked old (#28)
    assert "ε_θ" in t.explain["x0"].object and t.outdated.startswith("From the previous settings")
    fresh = TrajectoryView()  # before any run the captions are the picked model's
    assert "D(x; σ)" in fresh.explain["x0"].object and "Heun" in fresh.explain_schedule.object
    assert t.sampler_button.label == "Run Euler-25 / Heun-25" and "no discrete" in t.sampler_note_pane.object
    t.forward_t = t.param.forward_t.bounds[1]
    assert "σ = 80" in t.fwd_text.object  # the EDM's own σ range, not the DDPM ᾱ
    assert "guidance: ω = 0 vs ω = 4" in t.param.contrast.objects


def test_trajectory_forward_follows_the_fields_tab(tmp_path):
    from radioviz.app.fields import FieldsView
    from radioviz.app.trajectory_view import FOLLOW, TrajectoryView

    f = FieldsView(labels_path=tmp_path / "l.ecsv")
    t = TrajectoryView(fields_view=f)
    assert t.forward_field == FOLLOW and f.field in t.fwd_text.object
    f.field = f.param.field.objects[-1]
    assert f.param.field.objects[-1] in t.fwd_text.object and "Fields tab" in t.fwd_text.object


def test_trajectory_two_conditionings_in_step():
    from radioviz.app.trajectory_view import TrajectoryView

    t = TrajectoryView()
    t.model = "ddpm_gleam.safetensors"
    t.steps = 3
    t.contrast = "class: H (radio halo) vs non-halo"
    assert t.run_pair() and len(t.pair) == 2 and [p[0] for p in t.pair] == ["H", "non-halo"]
    a, b = t.cache.data["p1"][1], t.cache.data["p3"][1]  # x̂0 of A and of B at step 2
    assert not np.allclose(a, b) and "same seed" in t.pair_text.object
    assert t.cache.data["p1_title"][1] == "H: x̂0" and t.cache.data["p3_title"][1] == "non-halo: x̂0"
    t.scale = "fixed"  # the values themselves (the default shows x̂0 as asinh display levels)
    np.testing.assert_array_equal(t.pair[0][1].denoised[1][0, 0], t.cache.data["p1"][1])


def test_compare_view_on_bundled_fields(generated_view):
    from radioviz.app import resources
    from radioviz.app.compare_view import CompareView

    c = CompareView(generated_view, real_root=str(resources.SAMPLE_DATA))
    assert c.split == "SIM"
    cmp = c.compare_latest()
    assert cmp is not None and cmp.report["n_generated"] == 2
    # walk: the line did not say which images were compared, nor what the error's floor is
    assert "2 generated (latest Generate run, " in c.status.object
    assert re.search(
        r"a perfect generator of these \d+ real images would score ≈ \d\.\d\d with 2", c.status.object
    )
    import holoviews as hv

    labels, colours = set(), set()
    for pane in c.plots().select(pn.pane.HoloViews):
        for el in pane.object.traverse(lambda e: e, [hv.Histogram, hv.Curve]):
            labels |= {d.pprint_label for d in el.dimensions()}
            colours.add(hv.Store.lookup_options("bokeh", el, "style").kwargs.get("color"))
    assert "x" not in labels and "Frequency" not in labels and "image mean (Jy/beam)" in labels
    assert {"#222222", "#e07b00"} <= colours  # real and generated in their fixed colours
    titles = [
        hv.Store.lookup_options("bokeh", pane.object, "plot").kwargs.get("title") or ""
        for pane in c.plots().select(pn.pane.HoloViews)
    ]
    # the error is read against what an ideal generator of the same real images would score
    assert any(re.search(r"mean \|rel\. err\| \d\.\d{3} · ideal generator ≈ \d\.\d\d$", t) for t in titles), (
        titles
    )
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
    monkeypatch.setattr("radioviz.app.fields_display.MAX_SHOWN", 100)
    assert resources.is_big(view._root(), view.field)
    view.band = "72-103MHz"
    data = view.image_data()
    native = resources.clipped_field(view._root(), view.field).stack.images[0]
    assert data["level"][0].shape == (100, 100) and data["dw"][0] == native.data.shape[1]  # decimated
    part = view.image_data((50, 100, 60, 110))  # a zoomed viewport: native pixels
    assert part["level"][0].shape == (50, 50) and (part["x"][0], part["y"][0]) == (50, 60)
    view._on_pointer(150.0, 150.0)
    assert "72-103MHz" in view.readout and "RA" in view.readout
    view.band = "RGB"
    view.rgb_data()
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
    from radioviz.app.generate_view import NONE, GenerateView

    g = GenerateView()
    g.model = "edm_mask_gleam.safetensors"
    truths = [label for label in g.param.mask_field.names if label.endswith("(simulator truth)")]
    assert len(truths) == 6
    g.mask_field = g.param.mask_field.names["sim_0100 (simulator truth)"]
    truth = g.canvas.mask.copy()
    assert truth.shape == (64, 64) and truth.max() <= 3 and (truth > 0).any()
    g.mask_field = g.param.mask_field.names["sim_0100 (photutils)"]
    assert g.canvas.mask.shape == (64, 64) and (g.canvas.mask > 0).any()
    g.canvas.param.trigger("clear")  # the Clear button: no mask, and no field named as its source
    assert not (g.canvas.mask > 0).any() and g.mask_field == NONE
    g.sampler, g.n, g.steps = "euler", 1, 2  # nothing drawn: the run says it asked for empty sky
    assert g.generate() is not None and "The mask is empty" in g.message
    g.mask_field = g.param.mask_field.names["sim_0100 (simulator truth)"]
    assert g.generate() is not None and "The mask is empty" not in g.message


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
    assert t.use_generated() and t.cache.data["xt"][0].shape == (64, 64)
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


def _scanned(view):
    """The view after a quick scan with classifier L, every window a candidate."""
    if "classifier_L.safetensors" not in view._cards:
        pytest.skip("classifier_L checkpoint not committed")
    view.classifier = "classifier_L.safetensors"
    view.stride = 16
    view.compute_scores()
    view.threshold = 0.0
    assert view.candidates and len(view._table.value) == len(view.candidates)
    return view


def _assert_no_scan(view):
    assert view.scoremap is None and view.candidates == [] and view.selected == -1
    assert len(view._table.value) == 0 and view._table.selection == []
    assert view.sky.candidates.data["x"] == [] and view._cache.data["info"] == []
    assert "candidate(s)" not in view._status.object and "not scanned yet" in view._status.object.lower()


def test_a_new_field_or_upload_resets_the_candidates_table_and_counts(view, tmp_path):
    """#14 walk: old rows stayed in the table after another field was opened (keys then did nothing)."""
    view.__panel__()
    _scanned(view)
    view.field = view.param.field.objects[1]
    _assert_no_scan(view)
    _scanned(view)
    assert view.upload(*_four_band_upload(tmp_path, "up")) and view.field == "up"
    _assert_no_scan(view)


def test_before_a_scan_with_the_picked_model_the_status_says_not_scanned(view):
    """#14 walk: "0 candidate(s) ≥ 0.95" after picking a model, before any scan with it."""
    view.__panel__()
    assert "not scanned yet" in view._status.object.lower()  # a fresh page
    _scanned(view)
    other = next(n for n in view._cards if n != "classifier_L.safetensors")
    view.classifier = other
    _assert_no_scan(view)


def test_catalogue_errors_are_one_clear_sentence_and_go_with_their_cause(view, monkeypatch):
    import sys

    view.catalogue = "uploaded file"  # nothing uploaded
    msg = view.message
    assert view._alert.visible and "no catalogue file" in msg.lower(), msg
    assert "argument" not in msg and "the upload" not in msg, msg  # was "…argumentthe upload…"
    view.catalogue = "built-in clusters"
    assert not view._alert.visible and view.message == ""
    import radioviz.app.fields_catalogues as catalogues

    monkeypatch.setattr(catalogues, "_vizier_failure", {})  # no failure remembered from another test
    monkeypatch.setitem(sys.modules, "astroquery.vizier", None)  # not installed (offline alike)
    view.catalogue = "PSZ2 (VizieR, online)"
    msg = view.message
    assert view._alert.visible and "--catalog" not in msg, msg  # a CLI flag means nothing here
    assert "built-in" in msg and "PSZ2 (shared catalogs)" in msg and "upload" in msg, msg
    view.catalogue = "none"
    assert not view._alert.visible


def test_vizier_failure_is_remembered_so_field_changes_do_not_wait_again(monkeypatch):
    """#14 walk: offline, every field change waited up to 30 s for VizieR again."""
    import radioviz.app.fields_catalogues as f
    import radioviz.io.catalogs as cat
    from radioviz.errors import InputError

    calls = []

    def offline(timeout=30.0):
        calls.append(1)
        raise InputError(None, "cannot reach VizieR for PSZ2 (offline?): timed out")

    monkeypatch.setattr(cat, "fetch_psz2", offline)
    monkeypatch.setattr(f, "_vizier_failure", {})
    for _ in range(3):
        with pytest.raises(InputError, match="offline"):
            f._vizier_psz2()
    assert len(calls) == 1  # tried once; the same message at once afterwards
    f._vizier_failure["at"] -= f.VIZIER_RETRY_S + 1  # five minutes later it is tried again
    with pytest.raises(InputError):
        f._vizier_psz2()
    assert len(calls) == 2


def _luminance(colour) -> float:
    from bokeh.colors import named

    if isinstance(colour, str) and not colour.startswith("#"):
        colour = getattr(named, colour).to_hex()
    rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_gray_is_black_to_white_and_beam_and_scale_bar_show_on_every_colormap(view):
    """#14 walk: "gray" was white→black, and the white beam and scale bar vanished on it."""
    from radioviz.app.fields_display import _palette

    gray = _palette("gray")
    assert gray[0].lower() == "#000000" and gray[-1].lower() == "#ffffff"  # as ds9
    fig = view.sky.fig
    for src in (view.sky.beam, view.sky.bar, view.sky.bar_text):
        colours = set()
        for r in fig.renderers:
            if getattr(r, "data_source", None) is src:
                g = r.glyph
                for attr in ("line_color", "text_color", "background_fill_color", "border_line_color"):
                    c = getattr(g, attr, None)
                    if isinstance(c, str) and getattr(g, attr.replace("color", "alpha"), 1) not in (0, None):
                        colours.add(c)
        assert colours, src.name
        for cmap in view.param.cmap.objects:
            for c in _palette(cmap)[::8]:
                assert max(_contrast(c, o) for o in colours) >= 3.0, (cmap, c, colours)


def test_a_data_folder_with_fits_only_in_subfolders_says_where_they_are(tmp_path, gleam_like_source):
    """#14 walk: RADIOVIZ_DATA=/work/shared/data showed "no FITS" with no hint."""
    gleam_like_source("abell_0001", folder=tmp_path / "top" / "GLEAM-Data" / "TRAIN_DATA_1")
    gleam_like_source("abell_0002", folder=tmp_path / "top" / "other" / "deeper" / "x")
    view = FieldsView(labels_path=tmp_path / "labels.sqlite", data_dir=str(tmp_path / "top"))
    msg = view.message
    assert "no FITS" in msg and view.field is None
    assert "GLEAM-Data" in msg and "TRAIN_DATA_1" not in msg, msg  # the published-layout root
    assert "other/deeper/x" in msg and "4 " in msg, msg
    view.data_dir = str(tmp_path / "top" / "GLEAM-Data")
    assert view.field == "abell_0001" and not view._alert.visible


def test_score_map_status_says_one_pass_for_the_detector_and_windows_for_l(view):
    """The detector scores the field in one pass: "5625 windows" for it was wrong."""
    if "segmenter.safetensors" not in view._cards:
        pytest.skip("segmenter checkpoint not committed")
    view.__panel__()
    view.classifier = "segmenter.safetensors"
    view.compute_scores()
    ny, nx = view.scoremap.ref_shape
    assert f"Score map: one pass over {nx}×{ny} px in " in view._status.object
    assert "windows" not in view._status.object
    _scanned(view)  # classifier L at stride 16
    n = view.scoremap.scores.size
    view.compute_scores()
    assert f"Score map: {n} windows in " in view._status.object


def test_generate_steps_and_seed_refuse_out_of_range_entries_visibly():
    """#walk: 0 / −5 in Steps or −1 in Seed stayed in the box while the run used the old value."""
    from radioviz.app.generate_view import GenerateView

    g = GenerateView()
    g.model = "ddpm_gleam.safetensors"
    used = g.steps
    for bad in (0, -5):
        g.steps_input.value = bad
        assert g.steps == used and g.steps_input.value == used
        assert (
            f"Steps must be a whole number between 1 and 1,000: {bad} refused, kept {used}" in g.status.object
        )
    g.steps_input.value = 7
    assert g.steps == 7
    g.seed_input.value = -1
    assert (
        g.seed == 0 and g.seed_input.value == 0 and "Seed must be a whole number between 0" in g.status.object
    )
    g.seed_input.value = 42
    assert g.seed == 42
    g.sampler = g.param.sampler.objects[-1]  # a sampler's default step count shows in the box
    assert g.steps_input.value == g.steps
    g.steps_input.value = 5000
    assert "5000 refused" in g.status.object
    g.steps_input.value = 20  # a valid entry takes the refusal back
    assert g.status.object == ""
    g.seed_input.value = -1
    g.model = "edm_gleam.safetensors"  # ...and so does a model change that sets the boxes
    assert "refused" not in g.status.object
    g.use_flux = True
    for bad, said in ((-1, "-1"), (0, "0"), (1e6, "1000000"), (1e-5, "0.00001")):  # never 1e+06, 1e-05
        g.flux_input.value = bad  # walk: the flux box kept showing these while a run used 3.5
        assert g.flux == 2.0 and g.flux_input.value == 2.0
        assert f"Peak flux (Jy/beam) must be between 0.05 and 100: {said} refused, kept 2." in g.status.object
    g.flux_input.value = 3.5
    assert g.flux == 3.5 and g.status.object == ""


def test_trajectory_run_is_described_by_its_own_settings_when_the_pickers_change_meanwhile():
    """Walk: a DDPM run came in captioned "heun, 25 steps" after the sampler was switched while it
    ran, with the Heun teaching text beside DDPM frames."""
    from radioviz.app.trajectory_view import TrajectoryView

    t = TrajectoryView()
    t.sampler = t.param.sampler.objects[0]
    t.steps = 3
    ran, other = t.sampler, t.param.sampler.objects[-1]
    assert ran != other
    real = t._run

    def run_while_the_user_switches(sampler, steps, stride=1, **conditions):
        assert not t.cancel_button.disabled  # Cancel is lit while a run goes on, only then (walk)
        t.sampler = other  # the user picks another sampler during the run
        return real(sampler, steps, stride, **conditions)

    t._run = run_while_the_user_switches
    assert t.cancel_button.disabled
    assert t.sample() is not None
    assert t.cancel_button.disabled
    assert t.sampler == ran and t.steps == 3
    assert f"{ran}, 3 steps" in t.status.object


def test_trajectory_steps_and_seed_refuse_out_of_range_entries_visibly():
    from radioviz.app.trajectory_view import TrajectoryView

    t = TrajectoryView()
    used = t.steps
    t.steps_input.value = 0
    assert (
        t.steps == used
        and t.steps_input.value == used
        and "Steps must be a whole number between 1" in t.status.object
    )
    t.seed_input.value = -3
    assert t.seed == 0 and t.seed_input.value == 0 and "-3 refused, kept 0" in t.status.object
    t.steps_input.value = 12
    assert t.steps == 12
    t.steps = 9  # set from code (a sampler's default, "Use last Generate result"): the box follows
    assert t.steps_input.value == 9


def test_image_panel_leaves_room_for_its_colour_bar_labels():
    """Walk: the per-frame x̂0 − x_t colour bar's labels were cut to "-0.00" / "-0.01"."""
    from radioviz.app.image_panel import ImagePanel

    fig = ImagePanel("x̂0 − x_t").figure
    assert fig.min_border_right >= 40  # "−0.015" at 11 px needs about 36 px beside the bar


def test_labels_are_shown_whatever_the_stride(view):
    """#25: a label given on a stride-16 scan was gone from the same field scanned at stride 4."""
    view.classifier = "segmenter.safetensors"
    view.threshold, view.stride = 0.3, 16
    view.compute_scores()
    assert view.candidates
    view.selected = 0
    c16 = view.candidates[0]
    assert view.label_selected("halo")
    view.stride = 4
    view.compute_scores()
    shown = [(c, view.label_for(c)) for c in view.candidates if view.label_for(c) is not None]
    assert [lab.label for _, lab in shown] == ["halo"]
    c4 = shown[0][0]
    assert (c4["x"] - c16["x"]) ** 2 + (c4["y"] - c16["y"]) ** 2 <= 16**2
    assert view.vetted_count() == 1 and "halo" in list(view.candidate_frame()["label"])


def test_a_reload_scores_the_field_again_and_selects_the_candidate_it_had(view, tmp_path):
    """What the page's address keeps (main.URL_STATE): a score map shown and the candidate
    selected.  A new page given them scores the field again and selects that candidate (#25)."""
    if not view.param.classifier.objects:
        pytest.skip("no classifier checkpoint committed")
    view.stride = 8
    view.compute_scores()
    view.threshold = 0.5
    assert view.scanned and len(view.candidates) >= 2
    view.selected = k = len(view.candidates) - 1
    last = view.candidates[k]
    assert view.candidate == f"{last['x']},{last['y']}"
    view.param.trigger("threshold")  # the list is rebuilt: the same candidate stays selected
    assert view.selected == k

    page = FieldsView(labels_path=tmp_path / "labels2.sqlite")
    page.param.update(field=view.field, stride=8, threshold=0.5)  # as the address gives them
    page.param.update(candidate=view.candidate, scanned=True)
    page._scan_job.join()  # the scan runs on a worker thread; its result is handed back at its end
    assert page.scoremap is not None and page.scanned
    got = page.candidates[k]
    assert page.selected == k and (got["x"], got["y"], got["peak_score"]) == (
        last["x"],
        last["y"],
        last["peak_score"],
    )
    page.field = [f for f in page.param.field.objects if f != page.field][0]
    assert not page.scanned and page.candidate == ""  # another field: nothing to restore


def test_stopping_blink_shows_the_band_shown_before_it(view):
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    view.band = "RGB"
    with set_curdoc(Document()):
        view.blink = True
        view._blink_step()
        assert view.band != "RGB"
        view.blink = False
    assert view.band == "RGB"


def test_switching_the_map_to_any_diffuse_says_what_it_shows(view):
    """A class detector's two maps come from one pass; the switch re-lists the candidates and the
    status says in words what the map now is (walk: the status was terse)."""
    if not view.param.classifier.objects:
        pytest.skip("no classifier checkpoint committed")
    view.stride = 8
    view.compute_scores()
    if "diffuse" not in view.scoremap.layers:
        pytest.skip("the default detector has no classes")
    halo_max = float(np.nanmax(view.scoremap.scores))
    view.score_layer = "any diffuse"
    status = view._status.object
    assert "any extended emission" in status and "relic" in status and f"≥ {view.threshold:.2f}" in status
    assert float(np.nanmax(view.scoremap.scores)) >= halo_max  # any diffuse includes the halo class
    view.score_layer = "halo"
    assert "radio halo" in view._status.object
