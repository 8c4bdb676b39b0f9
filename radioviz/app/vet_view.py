"""The Vet tab: one ranked queue over every candidate of a survey, vetted from the keyboard.

The state (survey, ranking, filters, votes, agreement, look-alikes, exports) is
:class:`.vet_state.VetState`; this is the view, in layers: the browser's cache of cut-outs kept
ahead of the cursor (:mod:`.vet_cache`), "More like this" (:mod:`.vet_similar`), the page
(:mod:`.vet_layout`), and here opening a survey, labels, the table and "Open in Fields tab".
As in the Fields tab, the browser draws the candidate on a key press (``shortcuts.Vetter``) and
a label is one committed row in the shared store.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import panel as pn
import param

from ..errors import InputError
from ..models.segmenter_spec import CLASS_NAMES
from ..scan.vetting import LabelSaveError
from . import resources
from . import vet_cutouts as cuts
from .fields_models import default_model, scoring_cards
from .jobs import Job, Outcome, on_session
from .shortcuts import HINT, Vetter
from .vet_cache import VetCache
from .vet_similar import VetSimilar
from .vet_state import SAMPLE_CHOICE, VetState, sample_surveyed

FLUSH_MS = 500  # the table's votes and the agreement follow labels this often (not on every key)
POLL_EVERY = 4  # flushes between looks for other sessions' labels (a stat of the store's files)
COLUMNS = ["#", "field", "score", "class", "|s − thr|", "nearest", "similar", "votes", "yours"]
#: Share of the table's width per column: the votes (every labeller's) get the most.
WIDTHS = dict(zip(COLUMNS, ["5%", "10%", "8%", "14%", "10%", "10%", "10%", "21%", "12%"], strict=True))
COMMANDS = {"m": "more_like_this", "b": "back_to_queue"}  # keys beside h / n / u / j / k


class VetView(VetCache, VetSimilar, pn.viewable.Viewer):
    """One browser session's Vet tab."""

    selected = param.Integer(default=-1)

    def __init__(self, app=None, labels_path=None, **params):
        super().__init__(**params)
        store = getattr(app, "labels", None)
        if store is None:
            from ..scan.vetting import LabelStore, default_labels_path

            store = LabelStore(labels_path or default_labels_path())
        self.state = VetState(labels=store, guest=getattr(app, "guest", None))
        if app is not None:  # one name per page, shared with the Fields tab both ways
            self.state.labeller = app.labeller
            if getattr(app, "survey_run", None) is not None:  # a run the Survey tab made already
                self.state.add_page_run(app.survey_run.out)
            app.param.watch(lambda e: e.new is not None and self.state.add_page_run(e.new.out), "survey_run")
            app.param.watch(lambda e: setattr(self.state, "labeller", e.new), "labeller")
            self.state.param.watch(lambda e: setattr(app, "labeller", e.new), "labeller")
        self.app = app  # the page's AppSession: "Open in Fields tab" goes through it
        self.tag = f"vet{self.state.session}"
        self._doc = pn.state.curdoc
        self._init_cache()
        self._init_similar()
        self.vetter = Vetter(
            on_label=self._label_from_client,
            on_command=self._command_from_client,
            commands=list(COMMANDS),
            hint=f"{HINT} · m more like this · b back to the queue",
            tag=self.tag,
            panels=cuts.PANELS,
            lines=["ctx"],
            empty="No candidate in this queue (pick another survey or loosen the filters).",
            counted="vetted by you",  # the marks are this labeller's (the Fields tab counts anyone's)
            sizing_mode="stretch_width",
        )
        self.vetter.param.watch(self._index_from_client, "index")
        self._dirty: set[int] = set()  # rows labelled since the table and agreement were updated
        self._periodic, self._ticks = False, 0
        self._stamp = None
        self._alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(columns=COLUMNS),
            selectable=1,
            disabled=True,
            height=420,
            show_index=False,
            layout="fit_columns",
            widths=WIDTHS,
            formatters={"votes": {"type": "textarea"}},  # every labeller's vote, wrapped (walk 16)
            header_tooltips={
                "class": "The class detector's most probable class other than background, with its "
                "probability (background may still be larger: the candidate is where the map is high)",
                "|s − thr|": "How far the score is from the survey's threshold: small = most useful to label",
                "similar": "Cosine similarity to the candidate asked about (More like this)",
            },
            sizing_mode="stretch_width",
            css_classes=[f"rv-table-{self.tag}"],  # found by the Vetter in the page
        )
        self.state.param.watch(self._queue_changed, "version")
        self.state.param.watch(self._labeller_changed, "labeller")
        self.state.param.watch(lambda e: self._open(), ["survey", "folder"])
        self._opening = Job("radioviz-vet-sample")  # surveying the bundled sample, off the event loop
        self._open()

    def _labeller_changed(self, *_) -> None:
        """Someone else at the keyboard: the marks, "yours", the vetted count and the "unlabelled by
        me" filter are that labeller's now, and the cursor stays on the candidate it was on (walk
        15: the previous labeller's labels stayed on screen)."""
        s = self.state
        with s.lock:
            if 0 <= self.selected < len(s.rows):
                s.start_at = s.rows[self.selected].id
        s.apply()

    # -- opening a survey ---------------------------------------------------------------------------

    def _checkpoint(self) -> str | None:
        return default_model(scoring_cards())

    def _open(self) -> None:
        """Open the chosen survey; the sample is surveyed first (a :class:`~.jobs.Job`) when it must be."""
        s = self.state
        asked = (s.survey, s.folder)
        ckpt = self._checkpoint()
        if not s.folder.strip() and s.survey == SAMPLE_CHOICE and not (ckpt and sample_surveyed(ckpt)):
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

    # -- labels -------------------------------------------------------------------------------------

    def _command_from_client(self, key: str, index: int) -> None:
        """``m`` or ``b`` in the browser, at its cursor ``index``."""
        if 0 <= index < len(self.state.rows):
            self.selected = index
        self._safe(getattr(self, COMMANDS[key]))

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
        """The votes grouped by label ("halo: ann, bob · not halo: cy"): short enough that a row
        of many labellers stays a line or two (walk 17: 4–7 lines a row, two rows in view)."""
        by: dict[str, list[str]] = {}
        for r, lab in sorted(self.state.votes.get(c.id, {}).items()):
            by.setdefault(lab, []).append(r)
        return " · ".join(f"{lab}: {', '.join(who)}" for lab, who in sorted(by.items()))

    def _frame(self) -> pd.DataFrame:
        rows = [
            {
                "#": k + 1,
                "field": c.field,
                "score": round(c.score, 3),
                "class": f"{CLASS_NAMES.get(c.cls, c.cls)} {c.class_prob():.2f}" if c.cls else "",
                "|s − thr|": round(c.uncertainty, 3),
                "nearest": f"{c.nearest_cluster} ({c.separation_arcmin:.0f}′)" if c.nearest_cluster else "—",
                "similar": self._similar_text(c),
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
        if app is None:
            return False
        if not 0 <= k < len(self.state.rows):
            self.state.status = (
                "No candidate to open: the queue is empty with these filters — widen them, or pick a survey."
                if not self.state.rows
                else "Select a candidate first (j / k or a row of the table)."
            )
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
        """``text`` in the tab's alert (from any thread: changed on the session's)."""

        def show() -> None:
            self._alert.object, self._alert.visible = text, True

        on_session(show, doc=self._doc)

    def _hide_error(self) -> None:
        self._alert.visible = False

    def _safe(self, fn, clear: bool = True):
        """Run ``fn``, its error shown in the tab's alert; ``clear``: a user's action takes the
        last error away first (the periodic flush does not: walk 17, an error was hidden within
        half a second)."""
        try:
            if clear:
                self._hide_error()
            return fn()
        except (InputError, LabelSaveError, OSError) as exc:
            self._show_error(resources.public_message(str(exc)))
        except Exception as exc:  # keep the page up; say what went wrong
            self._show_error(f"{type(exc).__name__}: {resources.public_message(str(exc))}")

    def __panel__(self):
        from .vet_layout import layout

        if self._doc is not None and self._doc.session_context is not None and not self._periodic:
            self._periodic = True
            pn.state.add_periodic_callback(lambda: self._safe(self.flush, clear=False), period=FLUSH_MS)
            pn.state.on_session_destroyed(lambda ctx: self._renderer.close())
        self.vetter.index = self.selected
        return layout(self)
