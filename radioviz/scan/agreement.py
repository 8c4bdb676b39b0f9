"""What several labellers made of a survey's queue: the votes per candidate, Cohen's κ for two
labellers and Fleiss' κ for more, a consensus (majority, ties flagged), and exports of the
consensus and of every vote (ECSV, CSV, DS9 regions) with the survey, field, checkpoint and
threshold in every row.  Pure functions over a :class:`~radioviz.scan.vetting.LabelStore`'s
current labels (each labeller's latest per candidate), so a notebook gets the same numbers."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .label_match import match_labels
from .queue import QueueCandidate, SurveyQueue, Votes
from .vetting import (
    _COLOURS,
    ECSV_ESCAPES,
    LABELS,
    Label,
    _escaped,
    csv_text,
    ds9_text,
    ecsv_text,
    score_text,
)

# -- votes and agreement -------------------------------------------------------------------------


def queue_ids(queue: SurveyQueue, labels: Iterable[Label]) -> dict[tuple[str, str], str]:
    """{(labeller, stored candidate id): the queue candidate it belongs to}, by the rule the Fields
    tab uses too (:mod:`.label_match`): a label given to another scan's candidate of the same field
    shows on the nearest candidate within a few pixels (or the stride) that has no label of its
    own — *by the same labeller*.  Matched for all labellers at once, one labeller's label on a
    candidate made the others' labels of another scan's candidate there vanish from its votes
    (walk 16: "votes: ann halo, bob not halo" became "votes: guest halo" after one key)."""
    labelled: dict[str, dict[str, int]] = {}
    for lab in labels:
        own = labelled.setdefault(lab.labeller, {})
        own[lab.candidate_id] = max(own.get(lab.candidate_id, 0), int(lab.stride or 0))
    listed = [(c.id, c.x, c.y, c.stride) for c in queue.candidates]
    return {
        (who, sid): target
        for who, own in labelled.items()
        for sid, target in match_labels(listed, own).items()
    }


def votes_from(labels: Iterable[Label], queue: SurveyQueue | None = None) -> Votes:
    """{candidate id: {labeller: label}}; a later label of one labeller replaces an earlier one,
    so a store's ``current()`` and its whole ``history()`` give the same votes.  With ``queue``,
    labels are keyed by the queue candidate they belong to (:func:`queue_ids`), others kept as
    they are."""
    labels = list(labels)
    ids = queue_ids(queue, labels) if queue is not None else {}
    out: Votes = {}
    for lab in labels:
        key = ids.get((lab.labeller, lab.candidate_id), lab.candidate_id)
        out.setdefault(key, {})[lab.labeller] = lab.label
    return out


@dataclass
class Consensus:
    label: str  # the majority label; the tied labels joined by " | " on a tie
    tie: bool
    n_votes: int
    share: float  # of the votes that went to the majority label

    @property
    def disagreement(self) -> bool:
        return self.share < 1.0


def consensus(votes: dict[str, str]) -> Consensus | None:
    """The majority of one candidate's votes (None without a vote)."""
    if not votes:
        return None
    counts = Counter(votes.values())
    top = max(counts.values())
    best = [lab for lab in LABELS if counts.get(lab) == top] + sorted(
        lab for lab, n in counts.items() if n == top and lab not in LABELS
    )
    return Consensus(" | ".join(best), len(best) > 1, len(votes), top / len(votes))


@dataclass
class Kappa:
    """Chance-corrected agreement: ``value`` is NaN where it is undefined (no item, or every
    label one category, when agreement by chance is already certain)."""

    kind: str  # "Cohen", "Fleiss" or "" (fewer than two labellers)
    value: float
    n_items: int  # candidates labelled by at least two of the labellers (Cohen: by both)
    labellers: tuple[str, ...]
    observed: float = math.nan  # share of agreeing pairs
    expected: float = math.nan  # the same, by chance

    def text(self) -> str:
        if not self.kind:
            return "Agreement: needs labels from two labellers."
        if not self.n_items:
            return f"{self.kind}'s κ: no candidate labelled by two of {', '.join(self.labellers)} yet."
        k = "undefined (one label only)" if math.isnan(self.value) else f"{self.value:.2f}"
        return (
            f"{self.kind}'s κ = {k} over {self.n_items} candidate(s) · {self.observed:.0%} of pairs agree"
            f" · labellers: {', '.join(self.labellers)}"
        )


def _kappa(po: float, pe: float) -> float:
    return math.nan if pe >= 1.0 - 1e-12 else (po - pe) / (1.0 - pe)


def cohen_kappa(votes: Votes, a: str, b: str) -> Kappa:
    """Cohen's κ of labellers ``a`` and ``b`` over the candidates both labelled."""
    pairs = [(v[a], v[b]) for v in votes.values() if a in v and b in v]
    n = len(pairs)
    if not n:
        return Kappa("Cohen", math.nan, 0, (a, b))
    po = sum(x == y for x, y in pairs) / n
    ca, cb = Counter(x for x, _ in pairs), Counter(y for _, y in pairs)
    pe = sum(ca[k] * cb[k] for k in ca) / n**2
    return Kappa("Cohen", _kappa(po, pe), n, (a, b), po, pe)


def fleiss_kappa(votes: Votes, labellers: Iterable[str] | None = None) -> Kappa:
    """Fleiss' κ over the candidates labelled by at least two of ``labellers`` (default all).
    With every candidate labelled by everyone it is Fleiss (1971) exactly; with fewer raters on
    some candidates each candidate's agreement is over its own raters' pairs (the usual extension)."""
    who = sorted(labellers) if labellers is not None else sorted({r for v in votes.values() for r in v})
    keep = set(who)
    items = [[lab for r, lab in v.items() if r in keep] for v in votes.values()]
    items = [i for i in items if len(i) >= 2]
    if not items:
        return Kappa("Fleiss", math.nan, 0, tuple(who))
    per_item, totals = [], Counter()
    for labs in items:
        counts = Counter(labs)
        n = len(labs)
        per_item.append((sum(c * c for c in counts.values()) - n) / (n * (n - 1)))
        totals.update(counts)
    po = sum(per_item) / len(items)
    total = sum(totals.values())
    pe = sum((c / total) ** 2 for c in totals.values())
    return Kappa("Fleiss", _kappa(po, pe), len(items), tuple(who), po, pe)


def overall_agreement(votes: Votes, ids: Iterable[str] | None = None) -> Kappa:
    """Cohen's κ with two labellers, Fleiss' κ with more (over the candidates ``ids``, default all)."""
    if ids is not None:
        wanted = set(ids)
        votes = {k: v for k, v in votes.items() if k in wanted}
    who = sorted({r for v in votes.values() for r in v})
    if len(who) < 2:
        return Kappa("", math.nan, 0, tuple(who))
    if len(who) == 2:
        return cohen_kappa(votes, *who)
    return fleiss_kappa(votes, who)


# -- exports -------------------------------------------------------------------------------------

_COMMON = (
    "survey",
    "field",
    "candidate_id",
    "ra",
    "dec",
    "score",
    "class",
    "checkpoint",
    "stride",
    "threshold",
)


def _common(c: QueueCandidate) -> dict:
    return {
        "survey": c.survey,
        "field": c.field,
        "candidate_id": c.id,
        "ra": c.ra,
        "dec": c.dec,
        "score": c.score,
        "class": c.cls,
        "checkpoint": c.checkpoint,
        "stride": c.stride,
        "threshold": c.threshold,
    }


CONSENSUS_COLUMNS = (*_COMMON, "label", "tie", "n_votes", "agreement", "votes")
VOTE_COLUMNS = (*_COMMON, "labeller", "label", "comment", "time", "session")


def consensus_rows(queue: SurveyQueue, votes: Votes) -> list[dict]:
    """One row per candidate of the survey with at least one vote: the majority label, whether
    it is a tie, how many voted, the majority's share and every vote ("name: label; ...")."""
    rows = []
    for c in queue.candidates:
        v = votes.get(c.id)
        cons = consensus(v or {})
        if cons is None:
            continue
        rows.append(
            {
                **_common(c),
                "label": cons.label,
                "tie": cons.tie,
                "n_votes": cons.n_votes,
                "agreement": cons.share,
                "votes": "; ".join(f"{r}: {lab}" for r, lab in sorted(v.items())),
            }
        )
    return rows


def vote_rows(queue: SurveyQueue, labels: Iterable[Label]) -> list[dict]:
    """One row per labeller's current label of each candidate of the survey (labels of other
    surveys' candidates are left out; a label of another scan's candidate goes where
    :func:`queue_ids` puts it)."""
    by_id = queue.by_id()
    labels = list(labels)
    ids = queue_ids(queue, labels)
    rows = []
    for lab in labels:
        c = by_id.get(ids.get((lab.labeller, lab.candidate_id), ""))
        if c is None:
            continue
        rows.append(
            {
                **_common(c),
                "labeller": lab.labeller,
                "label": lab.label,
                "comment": lab.comment,
                "time": lab.time,
                "session": lab.session,
            }
        )
    return rows


def rows_table(rows: list[dict], columns: tuple[str, ...], meta: dict | None = None):
    """An astropy Table of export rows (typed, units on RA/Dec) — also what a notebook wants."""
    from astropy import units as u
    from astropy.table import Table

    kinds = {"ra": float, "dec": float, "score": float, "threshold": float, "agreement": float}
    kinds |= {"stride": int, "n_votes": int, "tie": bool}
    cols = {c: np.array([r[c] for r in rows], dtype=kinds.get(c, str)) for c in columns}
    t = Table(cols)
    t["ra"].unit = t["dec"].unit = u.deg
    t.meta.update(meta or {})
    return t


def export_rows(
    path: str | Path, rows: list[dict], columns: tuple[str, ...], meta: dict | None = None
) -> Path:
    """ECSV (``.ecsv``), CSV (``.csv``) or DS9 regions (``.reg``) by extension, every user string
    escaped for its format as the label store's own export does."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".ecsv":
        t = _escaped(rows_table(rows, columns, meta), ecsv_text)
        t.meta["escapes"] = ECSV_ESCAPES
        t.write(path, format="ascii.ecsv", overwrite=True)
    elif suffix == ".csv":
        _escaped(rows_table(rows, columns), csv_text).write(path, format="ascii.csv", overwrite=True)
    elif suffix == ".reg":
        path.write_text(ds9_regions(rows))
    else:
        raise ValueError(f"unknown export format {suffix!r}: use .ecsv, .csv or .reg")
    return path


def ds9_regions(rows: list[dict], radius_arcmin: float = 3.0) -> str:
    """A circle per row, coloured by its label (white for a tie), its text one safe line."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    from regions import CircleSkyRegion, Regions

    regs = []
    for r in rows:
        reg = CircleSkyRegion(SkyCoord(r["ra"] * u.deg, r["dec"] * u.deg), radius_arcmin * u.arcmin)
        reg.visual["color"] = "white" if r.get("tie") else _COLOURS.get(r["label"], "white")
        who = r.get("labeller") or f"{r.get('n_votes', 0)} vote(s)"
        text = f"{r['survey']} {r['field']} {r['label']} {score_text(r['score'])} {who}"
        reg.meta["text"] = ds9_text(text)
        regs.append(reg)
    return Regions(regs).serialize(format="ds9")


def export_meta(queue: SurveyQueue, kappa: Kappa | None = None) -> dict:
    meta = {
        "survey": queue.name,
        "checkpoint": queue.checkpoint,
        "threshold": queue.threshold,
        "stride": queue.stride,
    }
    if kappa is not None and kappa.kind:
        meta["agreement"] = kappa.text()
    return meta
