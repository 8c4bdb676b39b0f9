"""The Vet tab without a browser: the default survey (the bundled sample fields surveyed with the
default detector when no run exists), the cache the browser draws from, labels from two
labellers and the agreement, filters, and "Open in Fields tab" at the candidate."""

import pytest

from radioviz.app.vet_state import SAMPLE_CHOICE, survey_runs


@pytest.fixture(scope="module")
def surveys(tmp_path_factory):
    """A surveys folder holding the sample fields surveyed once with the default detector."""
    pytest.importorskip("distributed")
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("surveys")
    mp.setenv("RADIOVIZ_SURVEYS", str(root))
    yield root
    mp.undo()


@pytest.fixture
def store(tmp_path):
    return tmp_path / "labels.sqlite"


def test_no_run_yet_surveys_the_sample_fields_with_the_default_detector(surveys, store):
    from radioviz.app.vet_view import AHEAD, BEHIND, VetView

    assert survey_runs() == {}
    v = VetView(labels_path=store)
    assert v.state.survey == SAMPLE_CHOICE
    v._opening.join(timeout=300)  # the tab surveys the sample in a thread (the page stays live)
    q = v.state.queue
    assert q is not None and q.name.startswith("sample-segmenter") and q.candidates
    assert list(survey_runs())[0] == q.name  # the next page opens it at once, as the newest run
    assert len(v.state.rows) == len(q.candidates)
    data = v._cache.data
    assert sum(data["ready"]) == min(len(q.candidates), AHEAD + BEHIND + 1)  # drawn ahead of the cursor
    assert data["level0"][0].shape == (64, 64) and data["level4"][0].shape == (96, 96)
    assert "Jy" in data["info"][0] and "α" in data["info"][0]


def test_two_labellers_agreement_and_votes_seen_by_the_other_page(surveys, store):
    from radioviz.app.vet_view import VetView

    a, b = VetView(labels_path=store), VetView(labels_path=store)
    assert a.state.queue is not None and a.state.guest != b.state.guest  # two sessions, two labellers
    a.state.labeller, b.state.labeller = "ann", "bob"
    n = min(len(a.state.rows), 4)
    for k in range(n):
        a._label_from_client(k, "halo", a.state.version)
    assert "needs labels from two labellers" in b.state.agreement
    b._stamp = None
    b.flush()  # what the page's periodic callback does
    assert "ann halo" in b._cache.data["info"][0] and b._table.value["votes"][0] == "ann: halo"
    for k in range(n):
        b._label_from_client(k, "halo" if k % 2 else "not halo", b.state.version)
    assert b.state.agreement.startswith("Cohen's κ") and f"over {n} candidate" in b.state.agreement
    assert b._cache.data["mark"][0] == "<b>not halo</b>"
    a._label_from_client(0, "halo", a.state.version + 1)  # a queue that changed meanwhile
    assert "NOT saved" in a._alert.object
    cons = b.state.export_bytes("consensus", ".csv").read().decode()
    assert cons.splitlines()[0].startswith("survey,field,candidate_id") and "halo | not halo" in cons


def test_filters_rebuild_the_queue_and_the_cache(surveys, store):
    from radioviz.app.vet_view import VetView

    v = VetView(labels_path=store)
    n, version = len(v.state.rows), v.state.version
    first = v.state.rows[0].field
    v.state.fields = [first]
    assert all(c.field == first for c in v.state.rows) and v.state.version == version + 1
    assert len(v._cache.data["info"]) == len(v.state.rows) == len(v._table.value)
    v.state.fields = []
    v.state.order = "uncertainty"
    us = [c.uncertainty for c in v.state.rows]
    assert us == sorted(us) and len(us) == n


def test_open_in_fields_at_the_candidate(surveys, store):
    from radioviz.app.fields import FieldsView
    from radioviz.app.vet_view import VetView

    f = FieldsView(labels_path=store)
    v = VetView(f.app)
    assert v.state.labels is f.labels  # one store, one identity per page
    k = len(v.state.rows) - 1
    v.move(k)
    c = v.state.rows[k]
    assert v.open_in_fields() and f.app.show_tab == "Fields"
    assert f"at candidate {f.selected + 1}." in v.state.status
    assert f.field == c.field and f.scoremap is not None
    sel = f.candidates[f.selected]
    assert (sel["x"], sel["y"]) == (c.x, c.y)


def test_under_a_data_root_only_runs_and_folders_inside_it(surveys, store, tmp_path):
    from radioviz.app import resources
    from radioviz.app.vet_view import VetView

    old = resources.data_root()
    resources.set_data_root(tmp_path)
    try:
        v = VetView(labels_path=store)
        assert v.state.queue is not None  # the app's own runs (the sample's images are allowed)
        v.state.folder = "/etc"
        assert v._alert.visible and "outside the data folder" in v._alert.object
        assert str(surveys) not in v.state.status + v._alert.object  # no server path on the page
    finally:
        resources.set_data_root(old)
