"""One ranked queue over every candidate of a survey, and what several labellers made of it.

Pure state (no Panel, no Bokeh): the Vet tab, a notebook and the tests use the same functions.
A queue is read from a finished ``radioviz survey`` folder (its task markers, which keep a class
detector's ``class`` / ``class_probs`` that ``candidates.ecsv`` drops); it is ranked by score, by
class probability or by uncertainty (|score − threshold| smallest first: the labels that teach a
model most), and filtered.  Agreement comes from the :class:`~radioviz.scan.vetting.LabelStore`'s
current labels (each labeller's latest per candidate): the votes per candidate, Cohen's κ for two
labellers, Fleiss' κ for more, and a consensus (majority, ties flagged) exported with the survey,
field, checkpoint and threshold in every row.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
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

ORDERS = ("score", "class probability", "uncertainty")
NEAREST_CLUSTER_ARCMIN = 30.0  # a built-in cluster is named beside a candidate only within this
Votes = dict[str, dict[str, str]]  # candidate id -> {labeller: label}


@dataclass
class QueueCandidate:
    """One candidate of a survey, with what is needed to show, rank, label and export it."""

    id: str  # "<field>@<x>,<y>": the Fields tab's id, so a label given in either tab is one label
    field: str
    survey: str
    ra: float
    dec: float
    score: float
    x: int  # reference-band pixel of the peak
    y: int
    n_map_pixels: int = 0
    cls: str = ""  # a class detector's most probable class other than background ("" otherwise)
    class_probs: dict[str, float] = field(default_factory=dict)
    nearest_cluster: str = ""
    separation_arcmin: float = math.nan
    folder: str = ""  # the field's image folder, as the survey recorded it
    scoremap: str = ""  # the field's score map (FITS)
    checkpoint: str = ""  # file name of the model that scored it
    threshold: float = math.nan
    stride: int = 0

    @property
    def uncertainty(self) -> float:
        """How far the score is from the threshold: small means the model was unsure."""
        return abs(self.score - self.threshold)

    def class_prob(self, name: str = "") -> float:
        """Probability of class ``name`` (of its own most probable class when empty); NaN for a
        one-class model's candidate."""
        if not self.class_probs:
            return math.nan
        name = name or self.cls
        return float(self.class_probs.get(name, math.nan))


@dataclass
class SurveyQueue:
    """Every candidate of one survey run, in the survey's order (best field first)."""

    name: str
    path: Path
    checkpoint: str
    threshold: float
    stride: int
    candidates: list[QueueCandidate]

    @property
    def fields(self) -> list[str]:
        return sorted({c.field for c in self.candidates})

    @property
    def classes(self) -> list[str]:
        """Class names a class detector gave (empty for a one-class model)."""
        return sorted({k for c in self.candidates for k in c.class_probs if k != "background"})

    def by_id(self) -> dict[str, QueueCandidate]:
        return {c.id: c for c in self.candidates}


def is_survey(folder: str | Path) -> bool:
    return (Path(folder) / "survey.json").is_file() and (Path(folder) / "tasks").is_dir()


def load_queue(folder: str | Path) -> SurveyQueue:
    """The queue of a survey output folder.  Only reads: a survey another process still writes
    (or a read-only one) is fine; a marker half seen is skipped like the survey's own reader."""
    folder = Path(folder)
    if not is_survey(folder):
        raise InputError(folder, "is not a survey output folder (no survey.json and tasks/)")
    try:
        config = json.loads((folder / "survey.json").read_text())["config"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(folder, f"cannot read survey.json ({exc})") from None
    ckpt = Path(str(config.get("checkpoint") or "")).name
    threshold, stride = float(config.get("threshold", math.nan)), int(config.get("stride", 0))
    cands: list[QueueCandidate] = []
    for path in sorted((folder / "tasks").glob("*.json")):
        try:
            marker = json.loads(path.read_text())
            row = marker["row"]
        except (OSError, ValueError, KeyError):
            continue
        if row.get("status") != "ok" or row.get("kind") == "tile":
            continue
        for c in marker.get("candidates", []):
            cands.append(_candidate(c, row, folder.name, ckpt, threshold, stride))
    _name_nearest(cands)
    cands.sort(key=lambda c: (-c.score, c.field, c.id))
    return SurveyQueue(folder.name, folder, ckpt, threshold, stride, cands)


def _candidate(c: dict, row: dict, survey: str, ckpt: str, threshold: float, stride: int) -> QueueCandidate:
    name = str(c.get("name") or row.get("name") or "")
    x, y = int(c.get("x", -1)), int(c.get("y", -1))
    probs = {str(k): float(v) for k, v in (c.get("class_probs") or {}).items()}
    sep = c.get("separation_arcmin")
    return QueueCandidate(
        id=f"{name}@{x},{y}",
        field=name,
        survey=survey,
        ra=float(c["ra"]),
        dec=float(c["dec"]),
        score=float(c["peak_score"]),
        x=x,
        y=y,
        n_map_pixels=int(c.get("n_map_pixels", c.get("n_pixels", 0)) or 0),
        cls=str(c.get("class") or ""),
        class_probs=probs,
        nearest_cluster=str(c.get("nearest_cluster") or ""),
        separation_arcmin=math.nan if sep is None else float(sep),
        folder=str(row.get("folder") or ""),
        scoremap=str(row.get("scoremap") or ""),
        checkpoint=ckpt,
        threshold=threshold,
        stride=stride,
    )


def _name_nearest(cands: list[QueueCandidate]) -> None:
    """Candidates of a field survey carry no match: name the nearest built-in cluster, as the
    Fields tab does (within NEAREST_CLUSTER_ARCMIN)."""
    todo = [c for c in cands if not c.nearest_cluster]
    if not todo:
        return
    from ..io.catalogs import builtin_clusters, crossmatch

    m = crossmatch(np.array([c.ra for c in todo]), np.array([c.dec for c in todo]), builtin_clusters(), 10.0)
    for c, name, sep in zip(todo, m["nearest"], m["separation_arcmin"], strict=True):
        if np.isfinite(sep) and sep <= NEAREST_CLUSTER_ARCMIN:
            c.nearest_cluster, c.separation_arcmin = str(name), float(sep)


# -- ranking and filters -------------------------------------------------------------------------


def rank(cands: Iterable[QueueCandidate], order: str = "score", class_name: str = "") -> list[QueueCandidate]:
    """Best first by ``order``: "score" (highest), "class probability" (of ``class_name``, else
    each candidate's own class; one-class candidates after, by score) or "uncertainty" (closest
    to the threshold first: most useful to label next).  Ties go by score, field and id."""
    tie = lambda c: (-c.score, c.field, c.id)  # noqa: E731
    if order == "score":
        key = tie
    elif order == "class probability":

        def key(c):
            p = c.class_prob(class_name)
            return (math.isnan(p), -(0.0 if math.isnan(p) else p), *tie(c))
    elif order == "uncertainty":

        def key(c):
            u = c.uncertainty
            return (math.isnan(u), 0.0 if math.isnan(u) else u, *tie(c))
    else:
        raise ValueError(f"order must be one of {ORDERS}, not {order!r}")
    return sorted(cands, key=key)


@dataclass
class QueueFilter:
    """What the queue shows; the defaults show everything."""

    fields: tuple[str, ...] = ()  # empty: every field
    score_min: float = 0.0
    score_max: float = 1.0
    class_name: str = ""  # a class detector's class ("" any)
    unlabelled_only: bool = False  # no label from ``labeller`` (from anyone when it is empty)
    labeller: str = ""
    disagreements_only: bool = False  # labellers gave it different labels
    near_arcmin: float | None = None  # a named cluster within this many arcmin

    def keeps(self, c: QueueCandidate, votes: Votes) -> bool:
        v = votes.get(c.id, {})
        if self.fields and c.field not in self.fields:
            return False
        if not self.score_min <= c.score <= self.score_max:
            return False
        if self.class_name and c.cls != self.class_name:
            return False
        if self.unlabelled_only and (self.labeller in v if self.labeller else v):
            return False
        if self.disagreements_only and len(set(v.values())) < 2:
            return False
        if self.near_arcmin is not None and not (
            c.nearest_cluster and c.separation_arcmin <= self.near_arcmin
        ):
            return False
        return True


def select(cands: Iterable[QueueCandidate], flt: QueueFilter, votes: Votes) -> list[QueueCandidate]:
    return [c for c in cands if flt.keeps(c, votes)]


# -- votes and agreement -------------------------------------------------------------------------


def votes_from(labels: Iterable[Label]) -> Votes:
    """{candidate id: {labeller: label}}; a later label of one labeller replaces an earlier one,
    so a store's ``current()`` and its whole ``history()`` give the same votes."""
    out: Votes = {}
    for lab in labels:
        out.setdefault(lab.candidate_id, {})[lab.labeller] = lab.label
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
    surveys' candidates are left out)."""
    by_id = queue.by_id()
    rows = []
    for lab in labels:
        c = by_id.get(lab.candidate_id)
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
