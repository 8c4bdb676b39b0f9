"""The Vet tab's "More like this": the candidate under the cursor and the survey's candidates
nearest it in the detector's own feature space (:mod:`radioviz.scan.similar`), shown as the
queue until "Back to the queue".

A layer of :class:`.vet_view.VetView`.  The survey's embeddings take seconds the first time (a
network pass per field), so they are computed in a :class:`~.jobs.Job` with its progress in the
status line; the page stays live, and a second press while it runs does nothing.  What the
queue then shows is :meth:`.vet_state.VetState.show_like`'s.
"""

from __future__ import annotations

from functools import partial

from ..errors import InputError
from . import resources
from .jobs import Job, Outcome


class VetSimilar:
    """ "More like this (m)" and "Back to the queue (b)"."""

    def _init_similar(self) -> None:
        self._similar = Job("radioviz-vet-similar")

    def more_like_this(self) -> bool:
        """Start finding the look-alikes of the candidate under the cursor; False (nothing
        started) when no candidate is selected or a search is already running."""
        s = self.state
        k = self.selected
        if self._similar.running or s.queue is None or not 0 <= k < len(s.rows):
            return False
        cid, queue = s.rows[k].id, s.queue
        self._hide_error()
        s.status = f"Finding the candidates most like {cid} (the detector's features of every field)…"
        return self._similar.start(
            lambda job: s.embeddings(progress=lambda done, total: job.report((done, total))),
            partial(self._similar_found, cid, queue),
            partial(self._similar_progress, cid),
        )

    def _similar_progress(self, cid: str, done_total: tuple[int, int]) -> None:
        done, total = done_total
        self.state.status = (
            f"Finding the candidates most like {cid}: the detector's features of field {done} of "
            f"{total} (once per survey)…"
        )

    def _similar_found(self, cid: str, queue, outcome: Outcome) -> None:
        """The survey's embeddings are ready (on the session's thread): show ``cid``'s look-alikes,
        unless another survey was opened meanwhile; a failure is one line in the alert."""
        s = self.state
        if s.queue is not queue:
            return
        err = outcome.error
        if err is None:
            try:
                s.show_like(cid, outcome.result)
                return
            except InputError as exc:
                err = exc
        s.status = s.queue_summary()
        if isinstance(err, (InputError, OSError)):
            self._show_error(f"More like this: {resources.public_message(str(err))}")
        else:  # keep the page up; say what went wrong
            self._show_error(f"More like this: {type(err).__name__}: {resources.public_message(str(err))}")

    def back_to_queue(self) -> bool:
        """The ranked queue again (False when it is already shown)."""
        s = self.state
        if not s.like:
            return False
        s.show_queue()
        s.status = s.queue_summary()
        return True

    def _similar_text(self, c) -> str:
        """The table's "similar" cell: the cosine similarity to the candidate asked about."""
        s = self.state
        if not s.like:
            return ""
        if c.id == s.like:
            return "asked"
        sim = s.similarity.get(c.id)
        return "" if sim is None else f"{sim:.3f}"
