"""The Vet tab's cache in the browser: the cut-outs and header of the candidates around the
cursor, rendered on the server ahead of it and patched into one ``ColumnDataSource`` that the
page's ``shortcuts.Vetter`` draws from on a key press (no round trip).

A layer of :class:`.vet_view.VetView` (it holds the state, the cache source and the renderer):
a new queue sends the first few candidates with the table, then the rest of the window follows
from a :class:`~.jobs.Job` started on the next tick, so the first draw waits for few; each move
the browser reports sends what the new window lacks.
"""

from __future__ import annotations

import numpy as np

from . import vet_cutouts as cuts
from .jobs import Job, Outcome, on_session
from .sky_figure import set_data

AHEAD, BEHIND = 12, 6  # candidates whose cut-outs the browser holds after and before the cursor
FIRST = 3  # ... sent with the page (the rest follows at once, so the first draw waits for few)
RENDERED_KEEP = 256  # rendered candidates kept on the server
WARM = 48  # candidates after the cursor rendered in the background


class VetCache:
    """What the browser holds of the queue, and keeping it ahead of the cursor."""

    def _init_cache(self) -> None:
        from bokeh.models import ColumnDataSource

        self._cache = ColumnDataSource(self._cache_data([]), name=f"rv-cache-{self.tag}")
        self._srcs = [
            ColumnDataSource({"level": [], "flux": []}, name=f"rv-cut-{b}-{self.tag}")
            for b in range(cuts.PANELS)
        ]
        self._ctx = ColumnDataSource({"x": [], "y": []}, name=f"rv-ctx-{self.tag}")
        self._renderer = cuts.Renderer(RENDERED_KEEP, WARM)
        self._sent: set[int] = set()
        self._prefetching = Job("radioviz-vet-prefetch")
        self._prefetch_again = False  # a queue changed while a prefetch ran: run once more after it

    def _cache_data(self, rows: list, drawn: dict | None = None) -> dict:
        data = cuts.empty_columns(len(rows))
        ready = [0] * len(rows)
        for k, (row, _) in (drawn or {}).items():
            for name, value in row.items():
                data[name][k] = value
            ready[k] = 1
        info = [self._info(k, c) for k, c in enumerate(rows)]
        marks = [self._mark(c) for c in rows]
        return {**data, "ready": ready, "info": info, "mark": marks}

    def _render(self, c) -> tuple[dict, dict | None]:
        """A candidate's cache row and numbers (rendered ahead in the background, else now)."""
        row, nums, error = self._renderer.render(c)
        if error:
            self._show_error(error)
        return row, nums

    def _info(self, k: int, c) -> str:
        got = self._renderer.get(c)
        return f"{cuts.numbers_html(c, got[1] if got else None)} · {self.state.votes_html(c)}"

    def _mark(self, c) -> str:
        mine = self.state.my_label(c)
        return f"<b>{mine}</b>" if mine else ""

    def _window(self, k: int, ahead: int = AHEAD, behind: int = BEHIND) -> list[int]:
        n = len(self.state.rows)
        if not n:
            return []
        k = max(k, 0)
        return sorted({(k + d) % n for d in range(-min(behind, n), min(ahead, n) + 1)})

    def _queue_changed(self, *_) -> None:
        """A new queue (survey, order, filter, look-alikes): one cache for the browser, the
        table, row 0 (back from look-alikes: the candidate asked about)."""
        with self.state.lock:
            rows = self.state.rows
            start = self.state.take_start()
            want = self._window(start, FIRST, 0)
            drawn = {k: self._render(rows[k]) for k in want}
            data = self._cache_data(rows, {k: v for k, v in drawn.items() if v[0]})
            self._sent = {k for k in want if drawn[k][0]}
            self.selected = start if rows else -1
            self.vetter.version = self.state.version
        set_data(self._cache, data)
        self._table.value = self._frame()
        self.vetter.index = self.vetter.heard = self.selected
        self._dirty.clear()
        self._prefetch_soon()

    def _prefetch_soon(self) -> None:
        """The rest of the window once the first candidates are on their way to the page (served:
        a :class:`~.jobs.Job` started after this event, never on the server's event loop; else
        now)."""
        doc = self._cache.document or self._doc
        if doc is None or doc.session_context is None:
            self._prefetch()
            return

        def start() -> None:
            from panel.io.state import set_curdoc

            with set_curdoc(doc):  # the job hands its end back to this page
                self._start_prefetch()

        doc.add_next_tick_callback(start)

    def _start_prefetch(self) -> None:
        self._prefetch_again = not self._prefetching.start(lambda job: self._prefetch(), self._prefetched)

    def _prefetched(self, outcome: Outcome) -> None:
        """A prefetch ended (on the session's thread): its error shown; run again when a newer
        queue came while it ran."""
        if outcome.error is not None:
            self._show_error(f"Cut-outs not sent ahead: {type(outcome.error).__name__}: {outcome.error}")
        if self._prefetch_again:
            self._start_prefetch()

    def _index_from_client(self, *_) -> None:
        """The browser has drawn a new candidate: send the cut-outs ahead of it."""
        with self.state.lock:
            k = self.vetter.index
            if 0 <= k < len(self.state.rows):
                self.selected = k
            self.vetter.heard = self.selected
        self._prefetch()

    def _prefetch(self) -> None:
        with self.state.lock:
            rows = self.state.rows
            self._renderer.follow(rows, self.selected + AHEAD)
            want = set(self._window(self.selected))
            add, drop = sorted(want - self._sent), sorted(self._sent - want)
            if not add and not drop:
                return
            patch: dict[str, list] = {}
            added = []
            for k in add:
                row, _ = self._render(rows[k])
                if not row:
                    continue
                for name, value in row.items():
                    patch.setdefault(name, []).append((k, value))
                patch.setdefault("info", []).append((k, self._info(k, rows[k])))
                added.append(k)
            z = np.zeros((1, 1), np.float32)
            for k in drop:
                for b in range(cuts.PANELS):
                    patch.setdefault(f"level{b}", []).append((k, z))
                    patch.setdefault(f"flux{b}", []).append((k, z))
            if added or drop:
                patch["ready"] = [(k, 1) for k in added] + [(k, 0) for k in drop]
            self._sent = (self._sent - set(drop)) | set(added)
        cache = self._cache
        if patch:
            on_session(lambda: cache.patch(patch), cache)

    def _show_row(self, k: int, c) -> None:
        """The row's label and votes in the browser's cache now; the table with the next flush."""
        mark, info, cache = self._mark(c), self._info(k, c), self._cache
        on_session(lambda: cache.patch({"mark": [(k, mark)], "info": [(k, info)]}), cache)
        self._dirty.add(k)
