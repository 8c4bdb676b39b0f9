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
    mp.chdir(root)  # runs a served app left in the working folder's surveys/ are not this test's
    yield root
    mp.undo()


@pytest.fixture
def store(tmp_path):
    return tmp_path / "labels.sqlite"


def test_no_run_yet_surveys_the_sample_fields_with_the_default_detector(surveys, store):
    from radioviz.app.vet_cache import AHEAD, BEHIND
    from radioviz.app.vet_view import VetView

    assert survey_runs() == {}
    v = VetView(labels_path=store)
    assert v.state.survey == SAMPLE_CHOICE
    v._opening.join(timeout=300)  # the tab surveys the sample in a thread (the page stays live)
    q = v.state.queue
    assert q is not None and q.name.startswith("sample-segmenter") and q.candidates
    assert survey_runs() == {}  # offered once, as the sample choice, not again as a run (walk 17)
    again = VetView(labels_path=store)  # the next page finds the sample surveyed
    again._opening.join(timeout=300)
    assert again.state.queue.path == q.path and len(again.state.rows) == len(q.candidates)
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
    assert "ann halo" in b._cache.data["info"][0] and b._table.value["votes"][0] == "halo: ann"
    for k in range(n):
        b._label_from_client(k, "halo" if k % 2 else "not halo", b.state.version)
    assert b.state.agreement.startswith("Cohen's κ") and f"over {n} candidate" in b.state.agreement
    assert b._cache.data["mark"][0] == "<b>not halo</b>"
    a._label_from_client(0, "halo", a.state.version + 1)  # a queue that changed meanwhile
    assert "NOT saved" in a._alert.object
    cons = b.state.export_bytes("consensus", ".csv").read().decode()
    assert cons.splitlines()[0].startswith("survey,field,candidate_id") and "halo | not halo" in cons
    # another person takes b's keyboard: b's marks and "yours" go, the cursor stays (walk 15)
    b.selected = 2
    at = b.state.rows[2].id
    b.state.labeller = "cy"
    assert b._cache.data["mark"][:n] == [""] * n and list(b._table.value["yours"][:n]) == [""] * n
    assert b.state.rows[b.selected].id == at
    b.state.labeller = "bob"
    assert b._cache.data["mark"][0] == "<b>not halo</b>"


def test_filters_rebuild_the_queue_and_the_cache(surveys, store):
    from radioviz.app.vet_view import VetView

    v = VetView(labels_path=store)
    n, version = len(v.state.rows), v.state.version
    first = v.state.rows[0].field
    v.state.fields = [first]
    assert all(c.field == first for c in v.state.rows) and v.state.version == version + 1
    assert len(v._cache.data["info"]) == len(v.state.rows) == len(v._table.value)
    v.state.fields = []
    v.state.near_arcmin = 30.0  # the sample's positions are in no cluster catalogue: said so
    assert v.state.rows == [] and "set it to 0" in v.state.status
    v.state.near_arcmin = 0.0
    assert len(v.state.rows) == n and v.state.status.startswith(v.state.queue.name)
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
    v.state.disagreements_only = True  # no labels in this store: nothing to show, and the button says so
    assert not v.state.rows and not v.open_in_fields()
    assert "queue is empty with these filters" in v.state.status


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


def test_more_like_this_lists_the_look_alikes_with_their_similarity_then_back_to_the_queue(surveys, store):
    import threading

    from radioviz.app.vet_state import LIKE_K
    from radioviz.app.vet_view import VetView

    v = VetView(labels_path=store)
    rows, summary = list(v.state.rows), v.state.status
    assert len(rows) > 2 and set(v._table.value["similar"]) == {""}  # blank in the ranked queue
    embed, go = v.state.embeddings, threading.Event()

    def slow(progress=None):  # held until the second press is tried
        go.wait(60)
        return embed(progress=progress)

    v.state.embeddings = slow
    v._command_from_client("m", 1)  # the key m at the browser's cursor
    assert v._similar.running and "Finding the candidates most like" in v.state.status
    assert not v.more_like_this()  # a second press while it runs does nothing
    go.set()
    v._similar.join(timeout=300)
    cid = rows[1].id
    assert not v._alert.visible and v.state.like == cid
    assert [c.id for c in v.state.rows][0] == cid and len(v.state.rows) == min(LIKE_K, len(rows) - 1) + 1
    assert v.state.status.startswith(f"Most like {cid}: {len(v.state.rows) - 1} candidate(s)")
    assert "Back to the queue" in v.state.status
    sims = v._table.value["similar"].tolist()
    assert sims[0] == "asked" and [float(x) for x in sims[1:]] == sorted(map(float, sims[1:]), reverse=True)
    assert len(v._cache.data["info"]) == len(v.state.rows) and v.selected == 0
    v._label_from_client(1, "halo", v.state.version)  # a look-alike labelled as any other row
    assert v.state.my_label(v.state.rows[1]) == "halo" and v._cache.data["mark"][1] == "<b>halo</b>"
    v._command_from_client("b", 1)
    assert v.state.like == "" and [c.id for c in v.state.rows] == [c.id for c in rows]
    assert set(v._table.value["similar"]) == {""} and v.state.status == summary
    assert v.selected == 1 and v.vetter.index == 1  # back at the candidate asked about (walk)
    assert not v.back_to_queue()  # already the queue


def test_more_like_this_on_a_survey_without_a_detector_is_one_clear_message(surveys, store, tmp_path):
    import json
    import shutil

    from radioviz.app import resources
    from radioviz.app.vet_view import VetView

    v = VetView(labels_path=store)
    run = tmp_path / "classified"
    shutil.copytree(v.state.queue.path, run, ignore=shutil.ignore_patterns("similar-*"))
    meta = json.loads((run / "survey.json").read_text())
    meta["config"]["checkpoint"] = str(resources.CHECKPOINTS / "classifier_A.safetensors")
    (run / "survey.json").write_text(json.dumps(meta))
    v.state.folder = str(run)
    assert v.state.queue.path == run and not v._alert.visible
    assert v.more_like_this()
    v._similar.join(timeout=120)
    assert v._alert.visible and v._alert.object.startswith("More like this: ")
    assert "cannot give similar candidates" in v._alert.object and str(tmp_path) not in v._alert.object
    assert v.state.like == "" and v.state.status == v.state.queue_summary()


def test_one_labeller_name_per_page_across_fields_and_vet(surveys, store):
    """Walk 17: a name typed in the Vet tab did not label in the Fields tab (a guest did)."""
    from radioviz.app.fields import FieldsView
    from radioviz.app.state import AppSession
    from radioviz.app.vet_view import VetView

    app = AppSession()
    fields = FieldsView(app=app, labels_path=store)
    vet = VetView(app)
    vet.state.labeller = "zed"
    assert fields.labeller == app.labeller == "zed"
    fields.labeller = "amy"
    assert vet.state.labeller == "amy" and vet.state.who() == "amy"


def test_a_run_the_survey_tab_wrote_anywhere_is_offered_in_vet(surveys, store, tmp_path):
    """Walk 18: a survey written to a folder of the user's choosing (/tmp/...) was never offered
    by the Vet tab, not even after "Find new survey runs"."""
    import shutil

    from radioviz.app.state import AppSession
    from radioviz.app.vet_view import VetView
    from radioviz.survey import load_survey

    app = AppSession()
    vet = VetView(app)
    vet._opening.join(timeout=300)
    elsewhere = tmp_path / "my_run"
    shutil.copytree(vet.state.queue.path, elsewhere)  # a finished survey outside the known folders
    assert elsewhere not in survey_runs().values()
    app.survey_run = load_survey(elsewhere)  # what the Survey tab publishes when it finishes
    name = "my_run · this page's Survey tab"
    assert vet.state.runs[name] == elsewhere and vet.state.param.survey.objects[0] == name
    vet.state.find_runs()  # "Find new survey runs" keeps it
    assert name in vet.state.runs
    later = VetView(app)  # a Vet tab built after the run finds it too
    assert name in later.state.runs
