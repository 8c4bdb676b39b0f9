""" "More like this" (radioviz.scan.similar, ``radioviz similar``): the bottleneck embedding of a
candidate's region, its cache beside the survey, and the nearest candidates — a field's twin
(the same images under another name) must come first."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from radioviz.scan.similar import most_similar, region_embedding, standardise, survey_embeddings
from radioviz.survey.store import ResultStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "SIM_DATA_1"
DETECTOR = ROOT / "checkpoints" / "segmenter.safetensors"
PIXELS = [(150, 150), (60, 220), (230, 80)]


def _copy_field(src_name: str, dest: Path, new_name: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for f in SAMPLE.glob(f"{src_name}_GLEAM_*"):
        shutil.copy(f, dest / f.name.replace(src_name, new_name))


def _cands(folder: Path, name: str):
    from radioviz.io.fits import read_image

    ref = sorted(folder.glob(f"{name}_GLEAM_170-231MHz*"))[0]
    wcs = read_image(ref).wcs.celestial
    out = []
    for x, y in PIXELS:
        ra, dec = wcs.pixel_to_world_values(x, y)
        out.append({"ra": float(ra), "dec": float(dec), "peak_score": 0.6, "x": x, "y": y, "n_pixels": 4})
    return out


@pytest.fixture
def survey(tmp_path):
    """sim_0100 and its twin sim_0900 (the same files in another folder), and sim_0102."""
    a, b = tmp_path / "A", tmp_path / "B"
    _copy_field("sim_0100", a, "sim_0100")
    _copy_field("sim_0102", a, "sim_0102")
    _copy_field("sim_0100", b, "sim_0900")
    out = tmp_path / "run"
    store = ResultStore(out)
    store.check_config({"target": str(a), "checkpoint": str(DETECTOR), "stride": 4, "threshold": 0.5})
    for name, folder in (("sim_0100", a), ("sim_0102", a), ("sim_0900", b)):
        row = {"kind": "field", "name": name, "status": "ok", "folder": str(folder)}
        store.record(f"field:{name}", row, [{**c, "name": name} for c in _cands(folder, name)])
    return out


def test_region_embedding_is_the_mean_and_max_over_the_disc():
    f = np.zeros((2, 4, 4), np.float32)
    f[0, 1, 1], f[1, 1, 2] = 8.0, 4.0
    e = region_embedding(f, x=5.5, y=5.5, radius_px=1.0, cell=4)  # grid pixel 5.5 is cell 1's centre
    assert e.tolist() == [8.0, 0.0, 8.0, 0.0]  # r < one cell: the cell under the peak alone
    e = region_embedding(f, x=5.5, y=5.5, radius_px=4.5, cell=4)  # its 4 neighbours too
    assert e[2:].tolist() == [8.0, 4.0] and e[0] == pytest.approx(8 / 5) and e[1] == pytest.approx(4 / 5)
    v = standardise(np.array([[1.0, 2.0], [3.0, 1.0], [0.0, 5.0]]))
    assert np.allclose(np.linalg.norm(v, axis=1), 1) and np.allclose(v.mean(axis=0), 0, atol=0.5)


def test_a_fields_twin_is_the_most_similar_and_the_answer_is_cached(survey, monkeypatch):
    import radioviz.scan.similar as sim
    from radioviz.scan.queue import load_queue

    q = load_queue(survey)
    emb = survey_embeddings(q)
    assert len(emb.ids) == 9 and not emb.skipped and emb.checkpoint == "segmenter.safetensors"
    for x, y in PIXELS:
        best, s = most_similar(emb, f"sim_0100@{x},{y}", k=8)[0]
        assert best == f"sim_0900@{x},{y}" and s == pytest.approx(1.0, abs=1e-4)
    ranked = most_similar(emb, "sim_0102@150,150", k=8)
    assert len(ranked) == 8 and "sim_0102@150,150" not in [i for i, _ in ranked]
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert list(survey.glob("similar-segmenter-*.npz"))  # kept beside the survey

    def no_network(*a, **k):
        raise AssertionError("embeddings recomputed")

    monkeypatch.setattr(sim, "field_embeddings", no_network)
    again = survey_embeddings(load_queue(survey))
    assert again.ids == emb.ids and np.array_equal(again.vectors, emb.vectors)


def test_a_field_that_cannot_be_read_is_named_not_fatal(survey, tmp_path):
    from radioviz.errors import InputError
    from radioviz.scan.queue import load_queue

    shutil.rmtree(tmp_path / "B")
    emb = survey_embeddings(load_queue(survey))
    assert len(emb.ids) == 6 and set(emb.skipped) == {f"sim_0900@{x},{y}" for x, y in PIXELS}
    with pytest.raises(InputError, match="sim_0900@150,150 has no embedding"):
        most_similar(emb, "sim_0900@150,150")


def test_cli_lists_and_writes_the_most_similar(survey, tmp_path, capsys):
    from astropy.table import Table

    from radioviz.cli import main

    out = tmp_path / "like.ecsv"
    args = ["similar", str(survey), "sim_0100@60,220", "-k", "3", "--out", str(out), "--device", "cpu"]
    assert main(args) == 0
    t = Table.read(out)
    assert len(t) == 3 and t["id"][0] == "sim_0900@60,220" and t.meta["query"] == "sim_0100@60,220"
    assert "3 candidates most like sim_0100@60,220" in capsys.readouterr().out
    assert main(["similar", str(survey), "sim_0100@1,1"]) == 2
    assert "sim_0100@1,1 has no embedding: not in this survey" in capsys.readouterr().err


def test_vet_queue_shows_the_look_alikes_and_goes_back(survey, tmp_path):
    from radioviz.app.vet_state import VetState
    from radioviz.scan.vetting import LabelStore

    st = VetState(labels=LabelStore(tmp_path / "labels.sqlite"))
    st.open(survey)
    queue_ids = [c.id for c in st.rows]
    v = st.version
    st.show_like("sim_0100@150,150", st.embeddings())
    assert [c.id for c in st.rows[:2]] == ["sim_0100@150,150", "sim_0900@150,150"]
    assert len(st.rows) == 9 and st.version > v and st.like == "sim_0100@150,150"
    assert st.similarity["sim_0900@150,150"] == pytest.approx(1.0, abs=1e-4)
    assert "Most like sim_0100@150,150: 8 candidate(s)" in st.status
    st.unlabelled_only = True  # the filters still apply to the look-alikes
    assert st.rows[0].id == "sim_0100@150,150" and len(st.rows) == 9
    st.show_queue()
    assert [c.id for c in st.rows] == queue_ids and st.like == "" and not st.similarity
    assert st.take_start() == queue_ids.index("sim_0100@150,150")  # back at the one asked about
    assert st.take_start() == 0  # once
