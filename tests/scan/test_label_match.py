"""One rule puts a stored label on a candidate, in the Fields tab, the Vet queue and its exports
(radioviz.scan.label_match)."""

from radioviz.scan.agreement import vote_rows, votes_from
from radioviz.scan.label_match import LABEL_MATCH_PX, match_labels, parse_id
from radioviz.scan.queue import load_queue
from radioviz.scan.vetting import Label

from .test_vet_queue import survey  # noqa: F401  (the fixture)


def test_parse_id():
    assert parse_id("abell_2163@12,40") == ("abell_2163", 12, 40)
    assert parse_id("a@b@3,4") == ("a@b", 3, 4)
    assert parse_id("c1") is None and parse_id("f@x,1") is None


def test_own_label_stays_moved_label_goes_to_the_nearest_free_candidate_within_reach():
    listed = [("f@10,10", 10, 10, 4), ("f@20,10", 20, 10, 4), ("g@10,10", 10, 10, 4)]
    labelled = {
        "f@20,10": 4,  # its own candidate is listed
        "f@11,12": 16,  # another scan's peak of f, near f@10,10
        "f@13,10": 4,  # also near f@10,10, but farther: not taken
        "f@40,40": 4,  # too far from any
        "h@10,10": 4,  # a field not listed
    }
    assert match_labels(listed, labelled) == {"f@20,10": "f@20,10", "f@11,12": "f@10,10"}
    # reach: max(LABEL_MATCH_PX, the scan's stride, the label's stride)
    far = f"f@{10 + LABEL_MATCH_PX + 2},10"
    assert match_labels([("f@10,10", 10, 10, 0)], {far: 0}) == {}
    assert match_labels([("f@10,10", 10, 10, 8)], {far: 0}) == {far: "f@10,10"}
    assert match_labels([("f@10,10", 10, 10, 0)], {far: 8}) == {far: "f@10,10"}


def test_the_vet_queue_shows_a_label_given_to_another_scans_candidate(survey):  # noqa: F811
    """Labelled in the Fields tab at another stride (peak 2 px away): the queue's votes and its
    every-vote export carry it on the queue's candidate, as the Fields tab does."""
    q = load_queue(survey)
    labs = [
        Label("f1@9,10", "f1", 0, 0, 0.9, "halo", labeller="ann", stride=16),
        Label("elsewhere@1,1", "other", 0, 0, 0.9, "halo", labeller="ann"),
    ]
    votes = votes_from(labs, q)
    assert votes["f1@8,8"] == {"ann": "halo"} and "f1@9,10" not in votes
    assert votes_from(labs) == {"f1@9,10": {"ann": "halo"}, "elsewhere@1,1": {"ann": "halo"}}
    rows = vote_rows(q, labs)
    assert [(r["candidate_id"], r["label"]) for r in rows] == [("f1@8,8", "halo")]


def test_one_labellers_label_does_not_hide_the_others_votes_from_another_scan(survey):  # noqa: F811
    """Walk 16: ann and bob had labelled another scan's candidate near f1@8,8; a guest's key on
    f1@8,8 itself made their votes vanish (the candidate was no longer 'unlabelled')."""
    q = load_queue(survey)
    labs = [
        Label("f1@9,10", "f1", 0, 0, 0.9, "halo", labeller="ann", stride=4),
        Label("f1@9,10", "f1", 0, 0, 0.9, "not halo", labeller="bob", stride=4),
    ]
    assert votes_from(labs, q)["f1@8,8"] == {"ann": "halo", "bob": "not halo"}
    labs.append(Label("f1@8,8", "f1", 0, 0, 0.9, "halo", labeller="guest-1a2b3c", stride=16))
    assert votes_from(labs, q)["f1@8,8"] == {"ann": "halo", "bob": "not halo", "guest-1a2b3c": "halo"}
    rows = vote_rows(q, labs)
    assert sorted((r["candidate_id"], r["labeller"]) for r in rows) == [
        ("f1@8,8", "ann"),
        ("f1@8,8", "bob"),
        ("f1@8,8", "guest-1a2b3c"),
    ]
    # one labeller's own label on the candidate still wins over their label of another scan
    labs.append(Label("f1@9,10", "f1", 0, 0, 0.9, "unsure", labeller="guest-1a2b3c", stride=4))
    assert votes_from(labs, q)["f1@8,8"]["guest-1a2b3c"] == "halo"
