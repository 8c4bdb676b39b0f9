"""The page's shared state (``AppSession``), without a browser or a server: the tabs meet here,
paths are resolved here once, and nothing of Panel or Bokeh is needed to use it (issue #25)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from radioviz.app import resources
from radioviz.app.state import AppSession

SPLIT = "GLEAM-Data/TRAIN_DATA_1"


@pytest.fixture
def data_root(tmp_path, monkeypatch, gleam_like_source):
    root = tmp_path / "root"
    for name, ra in (("abell_0001", 10.0), ("abell_0002", 20.0)):
        gleam_like_source(name, folder=root / SPLIT, n=80, ra=ra)
    monkeypatch.setattr(resources, "_DATA_ROOT", None)
    monkeypatch.setenv("RADIOVIZ_DATA_ROOT", str(root))
    return root


def test_the_session_state_loads_without_panel_or_bokeh():
    code = (
        "import sys, radioviz.app.state, radioviz.app.jobs, radioviz.app.survey_state\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'panel', 'bokeh', 'holoviews'})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_paths_are_resolved_and_shown_in_one_place(data_root, tmp_path):
    app = AppSession()
    assert app.resolve(SPLIT) == str(data_root / SPLIT)
    assert app.shown(data_root / SPLIT) == SPLIT
    with pytest.raises(resources.PathPolicyError, match="outside the data folder"):
        app.resolve("/etc")
    upload = tmp_path / "upload-xyz"
    upload.mkdir()
    app.uploads["upload: a.fits"] = str(upload)
    assert app.resolve("upload: a.fits") == str(upload)  # a label names its temporary folder
    assert app.public(f"cannot read {upload}/a.fits") == "cannot read a.fits"  # its uploaded name
    assert app.public(f"{upload} is empty") == "upload: a.fits is empty"


def test_uploads_are_removed_with_the_session(tmp_path):
    app = AppSession()
    tmp = resources.UploadFolder("fields")
    app.uploads["upload: x"] = tmp
    app.forget_uploads()
    assert app.uploads == {} and not (tmp_path / tmp.name).exists()


def test_a_label_is_by_the_labeller_else_the_sessions_guest():
    a, b = AppSession(), AppSession()
    assert a.who() == a.guest != b.guest and a.guest.startswith("guest-")
    a.labeller = "  ada "
    assert a.who() == "ada"


def test_open_scoremap_hands_the_field_over_and_asks_for_the_fields_tab():
    app = AppSession()
    shown = []
    app.param.watch(lambda e: shown.append(e.new), "show_tab")
    app.open_scoremap("/srv/f", "f1", "smap", "segmenter (survey)", 0.4, at=(3, 5))
    h = app.handoff
    assert (h.folder, h.field, h.scoremap, h.classifier, h.threshold, h.at) == (
        "/srv/f",
        "f1",
        "smap",
        "segmenter (survey)",
        0.4,
        (3, 5),
    )
    app.open_scoremap("/srv/f", "f2", "smap", "segmenter (survey)", 0.4)
    assert shown == ["Fields", "Fields"]  # asked again though the name is the same


def test_the_fields_tab_publishes_its_folder_and_field_together(data_root, tmp_path):
    from radioviz.app.fields import FieldsView

    app = AppSession()
    seen = []
    app.param.watch(lambda *events: seen.append((app.folder, app.field)), ["folder", "field"])
    f = FieldsView(labels_path=tmp_path / "labels.sqlite", app=app)
    assert app.data_dir == f.data_dir and app.folder == app.resolve(f.data_dir) and app.field == f.field
    assert str(data_root) not in app.data_dir  # shown relative to the data root
    assert app.labels is f.labels and app.detector == f.classifier
    seen.clear()
    f.data_dir = SPLIT
    assert seen == [(str(data_root / SPLIT), "abell_0001")]  # folder and field in one change
    f.field = "abell_0002"
    assert seen[-1] == (str(data_root / SPLIT), "abell_0002") and len(seen) == 2
    assert app.open_field() == (str(data_root / SPLIT), "abell_0002")


def test_a_handed_over_score_map_opens_in_fields_at_its_threshold_and_candidate(data_root, tmp_path):
    """What "Open in Fields" from Survey or Vet does, through the session alone."""
    from radioviz.app.fields import FieldsView
    from radioviz.scan.scoremap import find_candidates

    f = FieldsView(labels_path=tmp_path / "labels.sqlite")
    f.field = "abell_0002"
    f.stride = 16
    smap = f.compute_scores()
    cands = find_candidates(smap, 0.0)
    assert cands
    at = (cands[-1]["x"], cands[-1]["y"])
    f.field = "abell_0001"
    f.app.open_scoremap(str(data_root / SPLIT), "abell_0002", smap, "x (survey)", 0.0, at=at)
    assert f.field == "abell_0002" and f.data_dir == SPLIT and f.threshold == 0.0
    assert (f.candidates[f.selected]["x"], f.candidates[f.selected]["y"]) == at
    assert f.app.selected == f.selected and f.app.show_tab == "Fields"


def test_the_generate_tab_publishes_its_chosen_model():
    from radioviz.app.main import _generate

    app = AppSession()
    g = _generate(None, app)
    assert app.generator == g.model and app.generate_result is None
    other = next((m for m in g.param.model.objects.values() if m != g.model), None)
    if other is not None:
        g.model = other
        assert app.generator == other
