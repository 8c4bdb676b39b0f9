"""Which candidate a stored label belongs to: one rule for the Fields tab, the Vet queue and the
exports, so the same label shows on the same source everywhere.

A label is stored under its candidate's id ``"<field>@<x>,<y>"`` (the candidate's peak pixel).
Another scan of the same field (another stride, threshold or model) moves the peaks by a few
pixels, and a label given at stride 16 vanished at stride 4 (#25); the Vet queue, matching ids
exactly, showed a label that the Fields tab had carried over as missing.  The rule:

- a label whose own candidate is in the list stays with it;
- otherwise it goes to the nearest candidate of the same field that has no label of its own,
  if that peak lies within ``max(LABEL_MATCH_PX, the scan's stride, the label's stride)`` pixels;
- each candidate takes at most one such stored id (the nearest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

LABEL_MATCH_PX = 4  # how near (pixels) a moved peak must be, at the finest stride


def parse_id(candidate_id: str) -> tuple[str, int, int] | None:
    """(field, x, y) of a candidate id ``field@x,y``; None for another form."""
    try:
        field, at = candidate_id.rsplit("@", 1)
        x, y = at.split(",")
        return field, int(x), int(y)
    except ValueError:
        return None


def match_labels(
    candidates: Iterable[tuple[str, int, int, int]], labelled: Mapping[str, int]
) -> dict[str, str]:
    """{stored candidate id: id of the candidate in the list it belongs to}.

    ``candidates``: (id, x, y, stride of its scan) of each candidate in the list (ids
    ``field@x,y``); ``labelled``: {stored candidate id: the stride it was labelled at (0 unknown)}.
    Stored ids that belong to no listed candidate are left out."""
    cands = list(candidates)
    ids = {cid for cid, *_ in cands}
    out = {cid: cid for cid in labelled if cid in ids}
    free: dict[str, list[tuple[str, int, int, int]]] = {}
    for cid, x, y, stride in cands:
        at = parse_id(cid)
        if cid not in labelled and at is not None:
            free.setdefault(at[0], []).append((cid, x, y, stride))
    best: dict[str, tuple[int, str]] = {}  # listed id -> (squared distance, stored id)
    for sid, lab_stride in labelled.items():
        at = parse_id(sid)
        if sid in ids or at is None or at[0] not in free:
            continue
        _, lx, ly = at
        d2, target, stride = min(((x - lx) ** 2 + (y - ly) ** 2, cid, s) for cid, x, y, s in free[at[0]])
        reach = max(LABEL_MATCH_PX, int(stride or 0), int(lab_stride or 0))
        if d2 <= reach**2 and (target not in best or (d2, sid) < best[target]):
            best[target] = (d2, sid)
    out.update({sid: target for target, (_, sid) in best.items()})
    return out
