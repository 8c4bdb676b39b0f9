"""The survey-wide vetting queue (radioviz.scan.queue): reading a survey, ranking, filters,
agreement (κ against values computed by hand) and the consensus / every-vote exports."""

import math

import numpy as np
import pytest
from astropy.table import Table

from radioviz.scan.agreement import (
    CONSENSUS_COLUMNS,
    VOTE_COLUMNS,
    cohen_kappa,
    consensus,
    consensus_rows,
    export_meta,
    export_rows,
    fleiss_kappa,
    overall_agreement,
    vote_rows,
    votes_from,
)
from radioviz.scan.queue import QueueFilter, load_queue, rank, select
from radioviz.scan.vetting import Label, LabelStore
from radioviz.survey.store import ResultStore

H, N, U = "halo", "not halo", "unsure"


def _cand(x, y, score):
    return {
        "ra": 10.0 + x / 1000,
        "dec": -30.0 + y / 1000,
        "peak_score": score,
        "x": x,
        "y": y,
        "n_pixels": 2,
    }


@pytest.fixture
def survey(tmp_path):
    """A survey folder written by the survey's own store: a one-class field, a class detector's
    field, a failed field (no candidates listed) and a mosaic tile marker (never a row)."""
    out = tmp_path / "run-1"
    store = ResultStore(out)
    store.check_config(
        {"target": "x", "checkpoint": "/ckpts/segmenter.safetensors", "stride": 4, "threshold": 0.5}
    )
    a = [{**_cand(8, 8, 0.9), "name": "f1"}, {**_cand(40, 8, 0.55), "name": "f1"}]
    b = [
        {
            **_cand(16, 16, 0.7),
            "name": "f2",
            "class": "relic",
            "class_probs": {"background": 0.1, "halo": 0.2, "relic": 0.7},
        },
        {
            **_cand(32, 16, 0.52),
            "name": "f2",
            "class": "halo",
            "class_probs": {"background": 0.2, "halo": 0.6, "relic": 0.2},
        },
    ]
    store.record("field:/f1", {"kind": "field", "name": "f1", "status": "ok", "folder": "/data/A"}, a)
    store.record("field:/f2", {"kind": "field", "name": "f2", "status": "ok", "folder": "/data/B"}, b)
    store.record("field:/f3", {"kind": "field", "name": "f3", "status": "failed", "reason": "bad"}, [])
    store.save_tile("tile:m:0_0", np.zeros((2, 2)))
    return out


def test_queue_lists_every_candidate_of_every_field_with_survey_settings(survey):
    q = load_queue(survey)
    assert q.name == "run-1" and q.checkpoint == "segmenter.safetensors"
    assert (q.threshold, q.stride) == (0.5, 4)
    assert [c.id for c in q.candidates] == ["f1@8,8", "f2@16,16", "f1@40,8", "f2@32,16"]  # by score
    assert q.fields == ["f1", "f2"] and q.classes == ["halo", "relic"]
    c = q.by_id()["f2@16,16"]
    assert c.cls == "relic" and c.class_probs["relic"] == 0.7 and c.folder == "/data/B"
    assert c.checkpoint == "segmenter.safetensors" and c.threshold == 0.5 and c.survey == "run-1"
    assert q.by_id()["f1@8,8"].class_probs == {}  # one-class candidates carry no class


def test_not_a_survey_is_refused_in_one_line(tmp_path):
    from radioviz.errors import InputError

    with pytest.raises(InputError, match="not a survey output folder"):
        load_queue(tmp_path)


def test_rank_by_score_class_probability_and_uncertainty(survey):
    q = load_queue(survey)
    ids = lambda cs: [c.id for c in cs]  # noqa: E731
    assert ids(rank(q.candidates, "score")) == ["f1@8,8", "f2@16,16", "f1@40,8", "f2@32,16"]
    # own class's probability first (0.7, 0.6), one-class candidates after, by score
    assert ids(rank(q.candidates, "class probability")) == ["f2@16,16", "f2@32,16", "f1@8,8", "f1@40,8"]
    assert ids(rank(q.candidates, "class probability", "halo"))[:2] == ["f2@32,16", "f2@16,16"]
    # |score − 0.5|: 0.02, 0.05, 0.2, 0.4
    assert ids(rank(q.candidates, "uncertainty")) == ["f2@32,16", "f1@40,8", "f2@16,16", "f1@8,8"]
    with pytest.raises(ValueError):
        rank(q.candidates, "alphabet")


def test_filters(survey):
    q = load_queue(survey)
    votes = {"f1@8,8": {"ann": H, "bob": N}, "f2@16,16": {"ann": H}}
    ids = lambda f: [c.id for c in select(q.candidates, f, votes)]  # noqa: E731
    assert ids(QueueFilter(fields=("f2",))) == ["f2@16,16", "f2@32,16"]
    assert ids(QueueFilter(score_min=0.6, score_max=0.95)) == ["f1@8,8", "f2@16,16"]
    assert ids(QueueFilter(class_name="halo")) == ["f2@32,16"]
    assert ids(QueueFilter(unlabelled_only=True)) == ["f1@40,8", "f2@32,16"]
    assert ids(QueueFilter(unlabelled_only=True, labeller="bob")) == ["f2@16,16", "f1@40,8", "f2@32,16"]
    assert ids(QueueFilter(disagreements_only=True)) == ["f1@8,8"]
    assert ids(QueueFilter(near_arcmin=5.0)) == []  # no built-in cluster near these positions


def test_votes_keep_each_labellers_latest():
    labs = [Label("c1", "f", 0, 0, 0.9, H, labeller="ann"), Label("c1", "f", 0, 0, 0.9, N, labeller="ann")]
    labs.append(Label("c1", "f", 0, 0, 0.9, U, labeller="bob"))
    assert votes_from(labs) == {"c1": {"ann": N, "bob": U}}


def test_consensus_majority_and_ties():
    assert consensus({}) is None
    c = consensus({"a": H, "b": H, "c": N})
    assert (c.label, c.tie, c.n_votes) == (H, False, 3) and c.share == pytest.approx(2 / 3) and c.disagreement
    t = consensus({"a": N, "b": H})
    assert t.tie and t.label == "halo | not halo" and t.share == 0.5


def test_cohen_kappa_against_a_hand_computed_value():
    # A: h h h n n n n u h n ; B: h h n n n n u u h h
    a = [H, H, H, N, N, N, N, U, H, N]
    b = [H, H, N, N, N, N, U, U, H, H]
    votes = {f"c{i}": {"A": x, "B": y} for i, (x, y) in enumerate(zip(a, b, strict=True))}
    votes["only-A"] = {"A": H}  # not labelled by both: left out
    k = cohen_kappa(votes, "A", "B")
    # po = 7/10; A: h4 n5 u1, B: h4 n4 u2 -> pe = (16 + 20 + 2)/100 = 0.38; κ = 0.32/0.62
    assert k.n_items == 10 and k.observed == pytest.approx(0.7) and k.expected == pytest.approx(0.38)
    assert k.value == pytest.approx(0.32 / 0.62)
    assert overall_agreement(votes).kind == "Cohen" and overall_agreement(votes).value == pytest.approx(
        k.value
    )
    perfect = {"x": {"A": H, "B": H}, "y": {"A": N, "B": N}}
    assert cohen_kappa(perfect, "A", "B").value == pytest.approx(1.0)
    one_label = {"x": {"A": H, "B": H}}
    assert math.isnan(cohen_kappa(one_label, "A", "B").value)  # chance agreement is already certain


def test_fleiss_kappa_against_hand_computed_values():
    votes = {
        "1": {"r1": H, "r2": H, "r3": H},  # P = 1
        "2": {"r1": H, "r2": H, "r3": N},  # P = 1/3
        "3": {"r1": N, "r2": N, "r3": U},  # P = 1/3
        "4": {"r1": U, "r2": N, "r3": H},  # P = 0
    }
    k = fleiss_kappa(votes)
    # P̄ = 5/12; p = (6, 4, 2)/12 -> Pe = 1/4 + 1/9 + 1/36 = 7/18; κ = (5/12 − 7/18)/(11/18) = 1/22
    assert k.observed == pytest.approx(5 / 12) and k.expected == pytest.approx(7 / 18)
    assert k.value == pytest.approx(1 / 22) and k.n_items == 4
    assert overall_agreement(votes).kind == "Fleiss"
    # a fifth candidate with two raters (the usual extension): P̄ = 8/15, Pe = 84/196 -> κ = 11/60
    votes["5"] = {"r1": H, "r2": H}
    votes["6"] = {"r3": U}  # one rater: no pair, left out
    k = fleiss_kappa(votes)
    assert k.n_items == 5 and k.value == pytest.approx(11 / 60)


def test_agreement_needs_two_labellers():
    k = overall_agreement({"c": {"ann": H}})
    assert k.kind == "" and "two labellers" in k.text()
    k = overall_agreement({"c": {"ann": H}, "d": {"bob": N}})
    assert k.n_items == 0 and "no candidate labelled by two" in k.text()


def test_consensus_and_vote_exports_carry_the_survey_in_every_row(survey, tmp_path):
    q = load_queue(survey)
    store = LabelStore(tmp_path / "labels.sqlite", session="s")
    c1, c2 = q.by_id()["f1@8,8"], q.by_id()["f2@16,16"]
    for c, who, lab in ((c1, "ann", H), (c1, "bob", H), (c2, "ann", H), (c2, "bob", N)):
        store.set(c.id, c.field, c.ra, c.dec, c.score, lab, "=cmd()\nsecond line", labeller=who)
    store.set("elsewhere@1,1", "other", 0, 0, 0.9, H, labeller="ann")  # another survey's: left out
    votes = votes_from(store.current())
    cons = consensus_rows(q, votes)
    assert [(r["candidate_id"], r["label"], r["tie"], r["n_votes"]) for r in cons] == [
        ("f1@8,8", H, False, 2),
        ("f2@16,16", "halo | not halo", True, 2),
    ]
    assert cons[1]["votes"] == "ann: halo; bob: not halo"
    meta = export_meta(q, overall_agreement(votes))
    t = Table.read(export_rows(tmp_path / "c.ecsv", cons, CONSENSUS_COLUMNS, meta), format="ascii.ecsv")
    assert set(t["survey"]) == {"run-1"} and set(t["checkpoint"]) == {"segmenter.safetensors"}
    assert list(t["threshold"]) == [0.5, 0.5] and list(t["field"]) == ["f1", "f2"]
    assert list(t["tie"]) == [False, True] and "Cohen" in t.meta["agreement"]
    rows = vote_rows(q, store.current())
    assert len(rows) == 4 and all(r["survey"] == "run-1" and r["threshold"] == 0.5 for r in rows)
    csv = export_rows(tmp_path / "v.csv", rows, VOTE_COLUMNS).read_text()
    assert "'=cmd()" in csv  # a spreadsheet shows it as text, never runs it
    ecsv = export_rows(tmp_path / "v.ecsv", rows, VOTE_COLUMNS).read_text()
    assert "=cmd()\\nsecond line" in ecsv  # one line per row
    reg = export_rows(tmp_path / "c.reg", cons, CONSENSUS_COLUMNS).read_text()
    assert reg.count("circle(") == 2 and "color=white" in reg and "color=green" in reg
    with pytest.raises(ValueError):
        export_rows(tmp_path / "c.txt", cons, CONSENSUS_COLUMNS)


def test_region_numbers_integrate_each_band_over_its_beam():
    """A flat 2 Jy/beam sky: the flux in a region is 2 × its pixels over the beam's pixels in
    every band, so the spectral index is 0; the region is the connected part above threshold."""
    from astropy.wcs import WCS

    from radioviz.io.bands import GLEAM_BANDS
    from radioviz.io.fits import BandImage
    from radioviz.scan.queue import region_mask, region_numbers
    from radioviz.scan.scoremap import map_wcs
    from radioviz.simulate.diffuse import GLEAM_BEAM_ARCMIN

    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    w.wcs.crval, w.wcs.crpix, w.wcs.cdelt = [10.0, -30.0], [32.5, 32.5], [-0.02, 0.02]
    images = [BandImage(np.full((64, 64), 2.0, np.float32), w, b) for b in GLEAM_BANDS]
    scores = np.zeros((16, 16), np.float32)
    scores[4:6, 4:7] = 0.9  # 6 map pixels = 6 × 16 reference pixels at stride 4
    scores[12, 12] = 0.9  # another region, not this candidate's
    region = region_mask(scores, 4, 20, 18, 0.5)
    assert region.sum() == 6
    nums = region_numbers(images, scores, map_wcs(w, 4), region)
    for f, beam in zip(nums["flux_jy"], GLEAM_BEAM_ARCMIN, strict=True):
        beam_px = 2 * np.pi * (beam / 2.3548 / 1.2) ** 2
        assert f == pytest.approx(2.0 * 96 / beam_px, rel=1e-3)
    assert nums["area_arcmin2"] == pytest.approx(6 * (4 * 1.2) ** 2, rel=1e-3)
    assert region_mask(scores, 4, 40, 8, 0.5).sum() == 1  # below threshold: the peak's pixel alone
