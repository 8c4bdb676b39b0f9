"""In-process tests of fixes from a new user's walk of the served app (no browser)."""

import io
import json

import numpy as np
import pytest
import torch

from radioviz.app import resources


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv("RADIOVIZ_DATA_ROOT", str(root))
    monkeypatch.setenv("RADIOVIZ_SURVEYS", str(tmp_path / "surveys"))
    return root


def test_survey_defaults_to_sample_fields_and_writes_outside_the_data_root(data_root, tmp_path):
    from radioviz.app.survey_view import SurveyView

    v = SurveyView()
    assert v.target == "sample" and str(resources.REPO) not in v.target
    assert v.resolve_target() == resources.SAMPLE_DATA
    out = v.output_folder()
    assert out.is_relative_to(tmp_path / "surveys") and not out.resolve().is_relative_to(data_root)
    assert v.output_folder() == out  # same session folder: a second run resumes
    assert SurveyView().output_folder() != out  # another session gets its own
    for bad in ("../x", "/etc", "a/b", ".."):
        v.out = bad
        with pytest.raises(resources.PathPolicyError, match="run name"):
            v.output_folder()
    v.out, v.target = "../x", "sample"
    v.checkpoint = "classifier_L.safetensors"
    v.run()
    assert v.status.startswith("Error:") and "run name" in v.status and str(tmp_path) not in v.status


def test_open_in_fields_shows_the_folder_relative_to_the_data_root_and_the_tab(data_root):
    """A surveyed field opens in Fields with the folder as the user may see it (relative to the
    data root, never the server path), and the page is asked to bring the Fields tab forward."""
    from radioviz.app.state import AppSession
    from radioviz.app.survey_view import SurveyView

    class Result:
        openable = {"f1": {"folder": str(data_root / "sub"), "field": "f1", "scoremap": "x"}}
        config = {"checkpoint": "/srv/checkpoints/segmenter.safetensors"}

        def scoremap(self, name):
            return "smap"

    app = AppSession()
    v = SurveyView(app, threshold=0.7)
    v.result = Result()
    assert v.threshold == 0.7
    assert v.open_in_fields("f1") and app.show_tab == "Fields"
    h = app.handoff
    assert (h.folder, h.field, h.scoremap, h.threshold) == (str(data_root / "sub"), "f1", "smap", 0.7)
    assert app.shown(h.folder) == "sub"  # what the Fields tab's folder box will say
    assert h.classifier == "segmenter.safetensors (survey)"  # labels name the checkpoint
    assert not v.open_in_fields("nope")


def test_survey_output_is_a_local_path_without_a_data_root(monkeypatch):
    from pathlib import Path

    from radioviz.app.survey_view import SurveyView

    monkeypatch.delenv("RADIOVIZ_DATA_ROOT", raising=False)
    v = SurveyView()
    assert v.output_folder() == Path("surveys/app")
    v.out = "/tmp/x/y"
    assert v.output_folder() == Path("/tmp/x/y")


def test_downloaded_npz_names_the_checkpoint_by_file_name_only():
    from radioviz.app.export import samples_npz
    from radioviz.sampling.generate import Generated

    g = Generated(
        images=np.zeros((1, 1, 4, 4), np.float32),
        physical=np.zeros((1, 1, 4, 4), np.float32),
        trajectory=None,
        meta={"checkpoint": "/srv/secret/checkpoints/ddpm_gleam.safetensors", "kind": "ddpm"},
    )
    z = np.load(io.BytesIO(samples_npz(g)), allow_pickle=False)
    meta = json.loads(str(z["meta"]))
    assert meta["checkpoint"] == "ddpm_gleam.safetensors" and "/srv" not in str(z["meta"])
    assert g.meta["checkpoint"].startswith("/srv")  # the run's own record is untouched


torch.set_num_threads(1)


def test_compare_defaults_to_the_first_folder_with_a_split_under_the_data_root(data_root):
    from radioviz.app.compare_view import CompareView

    (data_root / "aaa_empty").mkdir()
    (data_root / "GLEAM-Data" / "TRAIN_DATA_0").mkdir(parents=True)
    (data_root / "GLEAM-Data" / "TRAIN_DATA_1").mkdir()
    v = CompareView()
    assert v.real_root == "GLEAM-Data" and v.split == "TRAIN"


def test_compare_refused_npz_upload_names_the_file_and_drops_the_earlier_one(tmp_path):
    from radioviz.app.compare_view import CompareView

    v = CompareView()
    good = io.BytesIO()
    meta = json.dumps({"kind": "ddpm", "label": 1})
    np.savez(good, images=np.zeros((2, 4, 8, 8)), physical=np.zeros((2, 4, 8, 8)), meta=meta)
    assert v.upload("s.npz", good.getvalue()) and "Loaded s.npz" in v.status.object
    assert not v.upload("bad.npz", b"just some text renamed .npz")
    assert v.alert.visible and "bad.npz: not a NumPy .npz file" in v.alert.object
    assert v._uploaded is None and "Loaded" not in v.status.object and "bad.npz" in v.status.object
    pickled = io.BytesIO()
    np.savez(pickled, images=np.array([None], dtype=object), physical=np.zeros(1), meta=meta)
    assert not v.upload("p.npz", pickled.getvalue())
    assert "p.npz: holds Python objects" in v.alert.object and "allow_pickle" not in v.alert.object


def test_invalid_mask_upload_says_what_the_file_is_not():
    from radioviz.app.generate_view import GenerateView

    g = GenerateView()
    assert not g.load_mask_file("notamask.npy", b"this is not an array")
    assert g.alert.visible
    assert g.alert.object == "notamask.npy: not a NumPy .npy file (or FITS): cannot read it as a mask"
    assert "ValueError" not in g.alert.object and "magic" not in g.alert.object


def test_compare_default_never_follows_a_link_out_of_the_data_root(data_root, tmp_path):
    from radioviz.app.compare_view import split_folders

    (tmp_path / "secret" / "TRAIN_DATA_0").mkdir(parents=True)
    (data_root / "escape").symlink_to(tmp_path / "secret")
    assert split_folders(data_root) == []


def test_generate_disables_what_does_not_apply():
    from radioviz.app.generate_view import GenerateView

    g = GenerateView()
    assert g.cancel_button.disabled and not g.run_button.disabled  # nothing runs yet
    g.model = "edm_gleam.safetensors"
    built = g.controls()
    assert g.flux_input.visible and g.label_select.visible and not g.mask_column.visible
    g.use_flux = False
    assert g.flux_input.disabled
    g.use_flux = True
    assert not g.flux_input.disabled
    g.label, g.guidance = "H", 2.0
    assert not g.guidance_slider.disabled and g.conditions()["guidance"] == 2.0
    g.label = None
    assert g.guidance_slider.disabled and g.guidance == 0.0 and g.guidance_note.visible
    assert g.conditions()["guidance"] == 0.0
    assert g.steps_input.visible
    g.model = "wgan_gleam.safetensors"
    assert g.controls() is built  # one set of widgets: a model change hides, never re-creates
    assert g.sampler == "oneshot" and not g.steps_input.visible
    assert not g.flux_input.visible and not g.guidance_slider.visible and not g.guidance_note.visible
    assert "WGAN" in g.info.object
    g.model = "edm_mask_gleam.safetensors"
    assert g.mask_column.visible


def test_generate_one_shot_run_says_one_shot_once_and_cancel_is_idle_after():
    from radioviz.app.generate_view import GenerateView

    g = GenerateView()
    g.model, g.n = "wgan_gleam.safetensors", 2
    assert g.gallery_view.placeholder.visible
    assert g.generate() is not None
    assert g.cancel_button.disabled and not g.run_button.disabled
    assert not g.gallery_view.placeholder.visible  # the "Press Generate" help is gone
    head = g.gallery_view.head.object
    assert "one-shot" in head and "oneshot 1 steps" not in head and "Conditioning" in head
    assert "Conditioning" not in g.status.object  # the conditioning line is said once
    # walk: a requested peak flux could only be checked by downloading; each tile now says its peak
    peaks = g.result.physical.reshape(2, -1).max(axis=1)
    titles = g.gallery_view.source.data["title"]
    assert [t.split("\npeak ")[1].split(" (")[0] for t in titles] == [f"{p:.3g} Jy/beam" for p in peaks]
    bands = g.result.physical.reshape(2, 4, -1).max(axis=2).argmax(axis=1)  # and the band it is in
    names = ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"]
    assert [t.split("Jy/beam (")[1].rstrip(")") for t in titles] == [names[b] for b in bands]
    assert "tiles show 72-103MHz" in head


def test_compare_plots_legends_below_gaps_for_empty_bins_and_all_labels(monkeypatch):
    import holoviews as hv
    import panel as pn

    from radioviz.app import compare_view as cv
    from radioviz.app.compare_view import CompareView, label_words, visible_counts

    assert label_words(None) == "all labels" and label_words("H") == "label H — radio halo"
    c = visible_counts([3, 0, 5])
    assert c[0] == 3 and np.isnan(c[1])
    rng = np.random.default_rng(0)
    real = rng.lognormal(-4, 1, (6, 4, 64, 64)).astype(np.float32)
    gen = rng.lognormal(-4, 0.5, (6, 4, 64, 64)).astype(np.float32)
    monkeypatch.setattr("radioviz.app.compare_state.real_cutouts", lambda *a, **k: real)
    v = CompareView(real_root=str(resources.SAMPLE_DATA))
    assert v.compare(gen, {"label": None}) is not None
    assert "all labels" in v.status.object and "None" not in v.status.object
    hist = v.comparison.report["histogram"]
    empty = np.asarray(hist["counts_gen_scaled"]) == 0
    assert empty.any()  # the narrower generated set leaves bins empty
    renderer = hv.renderer("bokeh")
    legends = 0
    for pane in v.plots().select(pn.pane.HoloViews):
        fig = renderer.get_plot(pane.object).state
        for leg in fig.legend:
            legends += 1
            assert leg in fig.below and leg.click_policy == "hide"  # outside the plot area
            assert leg not in fig.center
    assert legends >= 5
    items = [
        it.label["value"]
        for pane in v.plots().select(pn.pane.HoloViews)
        for leg in renderer.get_plot(pane.object).state.legend
        for it in leg.items
    ]
    assert "typical halo α = -1.3" in items
    curve = next(
        el
        for pane in v.plots().select(pn.pane.HoloViews)
        for el in pane.object.traverse(lambda e: e, [hv.Curve])
        if el.label.startswith("generated")
    )
    ys = curve.dimension_values(1)
    assert np.isnan(ys[empty]).all() and not np.any(ys == 0.5)
    thumbs = [
        renderer.get_plot(pane.object).state
        for pane in v.plots().select(pn.pane.HoloViews)
        if isinstance(pane.object, hv.Image)
    ]
    assert len(thumbs) == 8  # four generated/nearest-real pairs, each frame square (#14 walk)
    assert all(f.frame_width == f.frame_height == cv.NN_PX for f in thumbs)


def test_trajectory_run_both_keeps_the_main_run_and_forward_shares_a_scale():
    from radioviz.app.trajectory_view import TrajectoryView

    t = TrajectoryView()
    t.model = "ddpm_gleam.safetensors"
    t.steps = 3
    main = t.sample()
    assert main is not None and t.trajectory is main
    t.contrast = "class: H (radio halo) vs non-halo"
    assert t.run_pair() and len(t.pair) == 2
    assert t.trajectory is main  # Run both does not swap the main panels
    assert t.cache.data["p1_title"][1] == "H: x̂0"  # the pair plays in step beside it
    t.scale = "fixed"  # the values themselves (the default shows x̂0 as asinh display levels)
    np.testing.assert_array_equal(t.cache.data["x0"][1], main.denoised[1][0, t._band_index(main)])
    t.scale, t.forward_t = "fixed", 300
    x0p, xtp = t.fwd_panels
    assert x0p.figure.title.text.startswith("x0 (field ") and "real" not in x0p.figure.title.text
    assert (x0p.mapper.low, x0p.mapper.high) == (xtp.mapper.low, xtp.mapper.high)
    t.scale = "frame"
    assert (x0p.mapper.low, x0p.mapper.high) != (xtp.mapper.low, xtp.mapper.high)


def test_client_player_has_a_speed_slider_at_a_followable_default():
    from bokeh.models import Slider

    from radioviz.app.client_player import DEFAULT_FPS, ClientPlayer

    p = ClientPlayer(lambda v: None)
    assert isinstance(p.speed, Slider) and p.speed in p.controls()  # nothing out of range to type (walk)
    assert p.speed.value == DEFAULT_FPS <= 5 and p.speed.start == 1
    js = p.button.js_event_callbacks["button_click"][0]
    assert js.args["speed"] is p.speed and "speed.value" in js.code  # read on every tick


def test_models_tab_names_the_segmenter_a_detector_and_shows_what_the_data_record_holds():
    from radioviz.app.models_view import card_summary, data_line
    from radioviz.models.card import ModelCard

    seg = ModelCard.read(resources.CHECKPOINTS / "segmenter.json")
    text = card_summary("segmenter.safetensors", seg)
    assert "**detector (segmenter)**" in text and "**classifier**" not in text
    assert "?" not in text.split("Data hash")[1].split("\n")[0]
    assert data_line({"data_hash": "c4029708eb73d198966", "n_fields": 36, "split": "TRAIN"}) == (
        "Data hash `c4029708eb73d198…`, 36 fields, split TRAIN"
    )
    assert data_line({}) == "Data hash —, images —"
    assert (
        data_line({"hash": "ab", "n_train_images": 10})
        == "Data hash `ab…`, 10 training / — validation images"
    )
    clf = card_summary(
        "classifier_A.safetensors", ModelCard.read(resources.CHECKPOINTS / "classifier_A.json")
    )
    assert "**classifier**" in clf


def test_survey_boxes_refuse_zero_and_buttons_say_what_can_be_done():
    """Walk: Stride 0 and Workers 0 were taken silently (and became 16 and 1 on Start); Cancel
    was lit with nothing running; Open in Fields with nothing listed did nothing."""
    import panel as pn

    from radioviz.app.survey_view import SurveyView

    v = SurveyView()
    layout = v.__panel__()
    boxes = {w.label: w for w in layout.select(pn.widgets.FloatInput)}
    boxes["Stride"].value = 0
    assert v.stride == 16 and boxes["Stride"].value == 16
    assert "Stride must be a whole number between 1 and 64: 0 refused, kept 16" in v.status
    boxes["Stride"].value = 2.5  # Bokeh's integer box turned this into 25
    assert v.stride == 16 and "2.5 refused, kept 16" in v.status
    boxes["Stride"].value = 8.0
    assert v.stride == 8 and isinstance(v.stride, int) and v.status == ""
    boxes["Workers"].value = 0
    assert v.workers == 2 and "Workers must be a whole number between 1 and 64: 0 refused" in v.status
    boxes["Workers"].value = 3
    assert v.workers == 3 and v.status == ""
    buttons = {b.label: b for b in layout.select(pn.widgets.Button)}
    assert not buttons["Start survey"].disabled and buttons["Cancel"].disabled
    v.running = True
    assert buttons["Start survey"].disabled and not buttons["Cancel"].disabled
    v.running = False
    assert buttons["Open in Fields tab"].disabled  # nothing surveyed yet
    assert not v._open_picked(None) and "Nothing to open yet" in v.status
