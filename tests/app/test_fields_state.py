"""The Fields tab's state apart from its widgets (``FieldsState``): rows, header, cache window and
labels of a candidate list, tested without Panel, Bokeh or a browser (issue #25 item 3)."""

from __future__ import annotations

import math
import subprocess
import sys
from types import SimpleNamespace

from radioviz.app.fields_state import AHEAD, BEHIND, NO_MATCH, FieldsState


def _cands():
    near = {"nearest_cluster": "Abell 2744", "separation_arcmin": 2.5}
    far = {"nearest_cluster": "", "separation_arcmin": math.nan}
    return [
        {"x": 10, "y": 20, "ra": 3.5861, "dec": -30.39, "peak_score": 0.97, **near},
        {"x": 40, "y": 8, "ra": 3.61, "dec": -30.41, "peak_score": 0.71, **far},
    ]


def test_the_state_loads_without_panel_or_bokeh():
    code = (
        "import sys, radioviz.app.fields_state\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & {'panel', 'bokeh', 'holoviews'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_rows_header_and_progress_of_a_candidate_list():
    s = FieldsState()
    s.param.field.objects = ["abell_2744"]
    s.field = "abell_2744"
    s.candidates = _cands()
    assert s.candidate_id(s.candidates[0]) == "abell_2744@10,20"
    frame = s.candidate_frame()
    assert list(frame["nearest cluster"]) == ["Abell 2744 (2.5′)", NO_MATCH]
    assert list(frame["label"]) == ["", ""]
    s.selected = 1
    assert s.header_text().startswith("**Candidate 2/2** · 0 of 2 vetted — score 0.710")
    assert "label: none" in s.header_text()
    s._latest["abell_2744@40,8"] = SimpleNamespace(label="halo", labeller="ada", comment="bright")
    assert s.progress_text() == "1 of 2 vetted" and "label: **halo** by ada" in s.header_text()
    assert s.candidate_frame().loc[1, "comment"] == "bright"
    assert s._mark_html(s.candidates[1]) == "<b>halo</b> by ada" and s._mark_html(s.candidates[0]) == ""


def test_the_browsers_cache_window_wraps_around_the_selected_candidate():
    s = FieldsState()
    assert s._window(0) == set()
    s.candidates = [{"x": i, "y": 0} for i in range(40)]
    w = s._window(0)
    assert w == set(range(AHEAD + 1)) | {40 - d for d in range(1, BEHIND + 1)}
    s.candidates = s.candidates[:3]
    assert s._window(2) == {0, 1, 2}  # fewer than the window: each once


def test_a_labels_author_is_the_labeller_else_the_guest():
    s = FieldsState()
    s._guest = "guest-abc"
    assert s._labeller() == "guest-abc"
    s.labeller = " ada "
    assert s._labeller() == "ada"


def test_a_label_follows_its_source_to_another_scans_candidate():
    """#25: a label given at stride 16 vanished at stride 4 (the peak moved a few pixels)."""
    s = FieldsState()
    s.param.field.objects = ["f"]
    s.field = "f"
    s._scan_meta = {"stride": 4}
    s.candidates = [{"x": 38, "y": 10}, {"x": 44, "y": 12}, {"x": 60, "y": 60}, {"x": 90, "y": 90}]
    s._latest = {
        "f@40,8": SimpleNamespace(label="halo", labeller="ada", stride=16),  # moved by (2, 2)
        "f@90,90": SimpleNamespace(label="unsure", labeller="bo", stride=4),  # its own candidate
        "f@200,200": SimpleNamespace(label="not halo", labeller="cy", stride=16),  # nowhere near
    }
    labels = [getattr(s.label_for(c), "label", None) for c in s.candidates]
    assert labels == ["halo", None, None, "unsure"]  # to the nearest candidate only
    assert s.vetted_count() == 2 and s.progress_text() == "2 of 4 vetted"


def test_only_the_controls_that_act_on_what_is_shown_are_offered():
    """Walk 15: the RGB channel pickers were shown (and did nothing) in one band, the colour map in
    RGB did nothing either."""
    s = FieldsState()
    hidden = [n for n in ("red", "green", "blue", "cmap") if (s.param[n].precedence or 0) < 0]
    assert hidden == ["red", "green", "blue"]
    s.band = "RGB"
    assert [n for n in ("red", "green", "blue", "cmap") if (s.param[n].precedence or 0) < 0] == ["cmap"]
    s.band = "72-103MHz"
    assert (s.param.red.precedence or 0) < 0 and (s.param.cmap.precedence or 0) >= 0
    assert FieldsState().param.red.precedence == -1  # per view: another session is not changed
