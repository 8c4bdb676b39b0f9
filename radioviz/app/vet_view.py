"""The Vet tab: one ranked queue over every candidate of a survey, vetted from the keyboard.

The state (survey, ranking, filters, votes, agreement, exports) is :class:`.vet_state.VetState`;
this is the view.  As in the Fields tab, the browser draws the candidate on a key press from a
cache the server fills ahead of the cursor (``shortcuts.Vetter``): the four band cut-outs and a
wider context cut-out with the score contour are rendered before the key is pressed, from
whichever field each candidate lies in, and a label is one committed row in the shared store.
"""

from __future__ import annotations

import threading
from functools import partial

import numpy as np
import pandas as pd
import panel as pn
import param

from ..errors import InputError
from ..scan.vetting import LabelSaveError
from . import resources
from . import vet_cutouts as cuts
from .fields_models import default_model, scoring_cards
from .jobs import Job, Outcome, on_session
from .shortcuts import Vetter
from .sky_figure import set_data
from .vet_state import SAMPLE_CHOICE, VetState

AHEAD, BEHIND = 12, 6  # candidates whose cut-outs the browser holds after and before the cursor
FIRST = 3  # ... sent with the page (the rest follows at once, so the first draw waits for few)
RENDERED_KEEP = 256  # rendered candidates kept on the server
WARM = 48  # candidates after the cursor rendered in the background
FLUSH_MS = 500  # the table's votes and the agreement follow labels this often (not on every key)
POLL_EVERY = 4  # flushes between looks for other sessions' labels (a stat of the store's files)
COLUMNS = ["#", "field", "score", "class", "|s − thr|", "nearest", "votes", "yours"]


class VetView(pn.viewable.Viewer):
    """One browser session's Vet tab."""

    selected = param.Integer(default=-1)

    def __init__(self, app=None, labels_path=None, **params):
        super().__init__(**params)
        from bokeh.models import ColumnDataSource

        store = getattr(app, "labels", None)
        if store is None:
            from ..scan.vetting import LabelStore, default_labels_path

            store = LabelStore(labels_path or default_labels_path())
        self.state = VetState(labels=store, guest=getattr(app, "guest", None))
        if app is not None:
            self.state.labeller = app.labeller
        self.app = app  # the page's AppSession: "Open in Fields tab" goes through it
        self.tag = f"vet{self.state.session}"
        self._cache = ColumnDataSource(self._cache_data([]), name=f"rv-cache-{self.tag}")
        self._srcs = [
            ColumnDataSource({"level": [], "flux": []}, name=f"rv-cut-{b}-{self.tag}")
            for b in range(cuts.PANELS)
        ]
        self._ctx = ColumnDataSource({"x": [], "y": []}, name=f"rv-ctx-{self.tag}")
        self.vetter = Vetter(
            on_label=self._label_from_client,
            tag=self.tag,
            panels=cuts.PANELS,
            lines=["ctx"],
            empty="No candidate in this queue (pick another survey or loosen the filters).",
            sizing_mode="stretch_width",
        )
        self.vetter.param.watch(self._index_from_client, "index")
        self._renderer = cuts.Renderer(RENDERED_KEEP, WARM)
        self._sent: set[int] = set()
        self._dirty: set[int] = set()  # rows labelled since the table and agreement were updated
        self._periodic, self._ticks = False, 0
        self._stamp = None
        self._alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(columns=COLUMNS),
            selectable=1,
            disabled=True,
            height=300,
            show_index=False,
            layout="fit_columns",
            sizing_mode="stretch_width",
            css_classes=[f"rv-table-{self.tag}"],  # found by the Vetter in the page
        )
        self.state.param.watch(self._queue_changed, "version")
        self.state.param.watch(lambda e: self._open(), ["survey", "folder"])
        self._doc = pn.state.curdoc
        self._opening = Job("radioviz-vet-sample")  # surveying the bundled sample, off the event loop
        self._open()

    # -- opening a survey ---------------------------------------------------------------------------

    def _checkpoint(self) -> str | None:
        return default_model(scoring_cards())

    def _open(self) -> None:
        """Open the chosen survey; the sample is surveyed first (a :class:`~.jobs.Job`) when it must be."""
        s = self.state
        asked = (s.survey, s.folder)
        if not s.folder.strip() and s.survey == SAMPLE_CHOICE:
            s.status = "Surveying the bundled sample fields with the default detector (once per server)…"
            self._opening.start(self._find, partial(self._found, asked))
            return
        self._opening.run_here(self._find, partial(self._found, asked))

    def _find(self, job: Job) -> str:
        return self.state.survey_folder(self._checkpoint())

    def _found(self, asked: tuple, outcome: Outcome) -> None:
        """The survey's folder is known (on the session's thread): open it, unless another survey
        was picked meanwhile."""
        if (self.state.survey, self.state.folder) != asked:
            return
        err = outcome.error
        if err is None:
            self._safe(lambda: self.state.open(outcome.result))
        elif isinstance(err, (InputError, OSError)):
            self._show_error(resources.public_message(str(err)))
        else:  # keep the page up; say what went wrong
            self._show_error(f"{type(err).__name__}: {resources.public_message(str(err))}")

    # -- the browser's cache ------------------------------------------------------------------------

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
        """A new queue (survey, order or filter): one cache for the browser, the table, row 0."""
        with self.state.lock:
            rows = self.state.rows
            want = self._window(0, FIRST, 0)
            drawn = {k: self._render(rows[k]) for k in want}
            data = self._cache_data(rows, {k: v for k, v in drawn.items() if v[0]})
            self._sent = {k for k in want if drawn[k][0]}
            self.selected = 0 if rows else -1
            self.vetter.version = self.state.version
        set_data(self._cache, data)
        self._table.value = self._frame()
        self.vetter.index = self.vetter.heard = self.selected
        self._dirty.clear()
        self._prefetch_soon()

    def _prefetch_soon(self) -> None:
        """The rest of the window once the first candidates are on their way to the page (served:
        on a thread after this event, never on the server's event loop; else now)."""
        doc = self._cache.document or self._doc
        if doc is None or doc.session_context is None:
            self._prefetch()
            return

        def start():
            work = lambda: self._safe(self._prefetch)  # noqa: E731
            threading.Thread(target=work, daemon=True, name="radioviz-vet-prefetch").start()

        doc.add_next_tick_callback(start)

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

    # -- labels -------------------------------------------------------------------------------------

    def _label_from_client(self, index: int, label: str, version: int, comment: str | None = None) -> None:
        """A key press in the browser, which has already moved on: save, then show it as saved."""
        if version != self.state.version:
            self._show_error(f"Label “{label}” NOT saved: the queue changed before it reached the server.")
            return
        if not 0 <= index < len(self.state.rows):
            return
        try:
            c = self.state.label(index, label, comment or "")
        except LabelSaveError as exc:
            self._show_error(str(exc))
            return
        self._show_row(index, c)
        if not self._periodic:
            self.flush()

    def _show_row(self, k: int, c) -> None:
        """The row's label and votes in the browser's cache now; the table with the next flush."""
        mark, info, cache = self._mark(c), self._info(k, c), self._cache
        on_session(lambda: cache.patch({"mark": [(k, mark)], "info": [(k, info)]}), cache)
        self._dirty.add(k)

    def flush(self) -> None:
        """The table rows and the agreement of the labels given since the last flush; every
        POLL_EVERY flushes (and when not served, every time) other sessions' labels too."""
        self._ticks += 1
        if not self._periodic or self._ticks % POLL_EVERY == 0:
            self.poll()
        with self.state.lock:
            dirty, self._dirty = sorted(self._dirty), set()
            rows = self.state.rows
            if not dirty or len(self._table.value) != len(rows):
                return
            votes = [(k, self._votes_text(rows[k])) for k in dirty if k < len(rows)]
            yours = [(k, self.state.my_label(rows[k])) for k in dirty if k < len(rows)]
            self.state.agreement = self.state.agreement_text()
        self._table.patch({"votes": votes, "yours": yours})

    def label_selected(self, label: str) -> None:
        """A label button: as its key, from the server (saved, then the next candidate)."""
        k = self.selected
        if 0 <= k < len(self.state.rows):
            self._label_from_client(k, label, self.state.version)
            self.move(1)

    def move(self, step: int) -> None:
        n = len(self.state.rows)
        if n:
            self.selected = (self.selected + step) % n
            self.vetter.index = self.vetter.heard = self.selected

    def poll(self) -> None:
        """Other sessions' labels: re-read the votes when the store changed, and show them."""
        stamp = self.state.store_stamp()
        if stamp == self._stamp or self.state.queue is None:
            return
        self._stamp = stamp
        before = {k: dict(v) for k, v in self.state.votes.items()}
        try:
            self.state.read_votes()
        except LabelSaveError as exc:
            self._show_error(str(exc))
            return
        for k, c in enumerate(self.state.rows):
            if self.state.votes.get(c.id) != before.get(c.id):
                self._show_row(k, c)

    # -- the rest -----------------------------------------------------------------------------------

    def _votes_text(self, c) -> str:
        return ", ".join(f"{r}: {lab}" for r, lab in sorted(self.state.votes.get(c.id, {}).items()))

    def _frame(self) -> pd.DataFrame:
        rows = [
            {
                "#": k + 1,
                "field": c.field,
                "score": round(c.score, 3),
                "class": f"{c.cls} {c.class_prob():.2f}" if c.cls else "",
                "|s − thr|": round(c.uncertainty, 3),
                "nearest": f"{c.nearest_cluster} ({c.separation_arcmin:.0f}′)" if c.nearest_cluster else "—",
                "votes": self._votes_text(c),
                "yours": self.state.my_label(c),
            }
            for k, c in enumerate(self.state.rows)
        ]
        return pd.DataFrame(rows, columns=COLUMNS)

    def open_in_fields(self) -> bool:
        """The selected candidate's whole field, with the survey's score map, in the Fields tab
        (the survey's threshold, so its candidate list is the survey's), at that candidate."""
        k, app = self.selected, self.app
        if app is None or not 0 <= k < len(self.state.rows):
            return False
        c = self.state.rows[k]
        app.open_scoremap(
            cuts.image_folder(c),
            c.field,
            cuts.scoremap(c),
            f"{c.checkpoint} (survey)",
            c.threshold,
            (c.x, c.y),
        )
        self.state.status = f"Opened {c.field} in the Fields tab at candidate {app.selected + 1}."
        return True

    def _show_error(self, text: str) -> None:
        self._alert.object, self._alert.visible = text, True

    def _safe(self, fn):
        try:
            self._alert.visible = False
            return fn()
        except (InputError, LabelSaveError, OSError) as exc:
            self._show_error(resources.public_message(str(exc)))
        except Exception as exc:  # keep the page up; say what went wrong
            self._show_error(f"{type(exc).__name__}: {resources.public_message(str(exc))}")

    def __panel__(self):
        from .vet_layout import layout

        if self._doc is not None and self._doc.session_context is not None and not self._periodic:
            self._periodic = True
            pn.state.add_periodic_callback(lambda: self._safe(self.flush), period=FLUSH_MS)
            pn.state.on_session_destroyed(lambda ctx: self._renderer.close())
        self.vetter.index = self.selected
        return layout(self)
