"""The Fields tab's scoring: a score map computed off the event loop (a :class:`~.jobs.Job`),
or handed over by another tab, its candidates above the threshold and the candidate table."""

from __future__ import annotations

from functools import partial

import numpy as np
import param

from ..data.preprocess import stack_cutout
from ..errors import InputError
from ..scan.scoremap import ScoreMap, find_candidates, score_map
from ..scan.vetting import LabelSaveError
from . import resources
from .candidate_classes import MAP_LAYERS, MAP_MEANING
from .fields_catalogues import _with_matches
from .fields_display import FieldsDisplay
from .fields_models import model_summary, scoring_cards
from .fields_state import (
    CUT_SIZE,
    NOT_SCANNED,
)
from .jobs import Outcome, when_page_loaded

SCAN_BATCH = 64  # windows per classifier call: small enough that Cancel acts within a second
PRECOMPUTE_CUTS = 300  # cut-outs made in the scan thread for the best candidates


class FieldsScoring(FieldsDisplay):
    """The scoring section of the Fields tab."""

    def _list_models(self) -> None:
        cards = scoring_cards()
        self._cards = cards
        self.param.classifier.objects = {f"{n} — {model_summary(c)}": n for n, c in sorted(cards.items())}

    def _scan(self, root: str, field: str, name: str, stride: int, threshold: float, progress=None):
        """Score a field (any thread): the map, its candidates, their cut-outs; None if cancelled."""
        model, pre, _ = resources.classifier(resources.checkpoint_path(name))
        clipped = resources.clipped_field(root, field)

        def callback(done, total):
            if progress is not None:
                progress(int(100 * done / total))
            return self._cancel.is_set()

        smap = score_map(clipped, model, stride, pre, batch=SCAN_BATCH, callback=callback)
        smap = smap.showing(MAP_LAYERS[self.score_layer])  # a class detector's halo or any-diffuse map
        if self._cancel.is_set():
            return None
        cands = _with_matches(find_candidates(smap, threshold))
        cuts = {}
        for c in cands[:PRECOMPUTE_CUTS]:
            if self._cancel.is_set():
                return None
            cuts[(c["x"], c["y"])] = stack_cutout(clipped, CUT_SIZE, (float(c["x"]), float(c["y"])), "native")
        return smap, cands, cuts

    def compute_scores(self) -> ScoreMap | None:
        """Score the current field here and now (what scripts and tests call)."""
        args = self._scan_args()
        self._scan_job.run_here(lambda job: self._scan(*args), partial(self._finish_scan, args))
        return self.scoremap

    def start_scan(self) -> None:
        """Score the current field in a worker thread; Cancel stops it within one batch."""
        if self._scan_job.running:
            self._status.object = "A score map is already being computed — Cancel it first."
            return
        try:
            args = self._scan_args()
        except InputError as exc:
            self.show_error(str(exc))
            return
        self.clear_error()
        self.progress.value, self.progress.visible = 0, True
        self._status.object = f"Scoring {args[1]} with {args[2]} (stride {args[3]})…"
        self._scan_job.start(
            lambda job: self._scan(*args, progress=job.report),
            partial(self._finish_scan, args),
            lambda value: setattr(self.progress, "value", value),
        )

    def _finish_scan(self, args, outcome: Outcome) -> None:
        self.progress.visible = False
        root, field, name, stride, _ = args
        result, error, seconds = outcome.result, outcome.error, outcome.seconds
        if error is not None:
            msg = str(error) if isinstance(error, InputError) else f"{type(error).__name__}: {error}"
            self.show_error(f"Score map failed — {msg}")
            self._status.object = ""
            return
        if result is None or field != self.field or root != self._root():
            self._status.object = "Score map cancelled."
            return
        if name != self.classifier:  # e.g. Compute pressed a moment before the new model was taken
            self._status.object = (
                f"Score map with {name} dropped: the model is now {self.classifier} — press Compute "
                "score map again."
            )
            return
        smap, cands, cuts = result
        self.scoremap, self._cuts = smap, cuts
        self._scan_meta = {"classifier": name, "stride": stride}
        self.candidates = []
        self._set_candidates(cands)
        self.scanned = True
        self.vetter.scroll_top += 1
        self._status.object = (
            f"Score map: {self._scan_extent(name, smap)} in {seconds:.1f} s, max score "
            f"{np.nanmax(smap.scores):.3f}; {len(self.candidates)} candidate(s) ≥ {self.threshold:.2f}"
        )

    def cancel(self):
        self._cancel.set()

    def show_scoremap(self, folder: str, field: str, smap: ScoreMap, classifier: str = "survey score map"):
        """Open ``field`` from ``folder`` with a precomputed score map (e.g. a survey's) to vet;
        ``classifier`` (the checkpoint that made it) goes into every label and export.  The Stride
        box keeps the user's setting (#25: it was silently set to the survey's); the status says
        how this map was made."""
        self.data_dir, self.field = folder, field
        self._cancel.set()  # a scan still running for this view is superseded
        self.scoremap, self._cuts = smap, {}
        self._scan_meta = {"classifier": classifier, "stride": smap.stride}
        self._update_candidates()
        self.scanned = True
        self._status.object = (
            f"Score map from {classifier} at stride {smap.stride}: {len(self.candidates)} candidate(s) ≥ "
            f"{self.threshold:.2f} (Compute score map scores it again at your stride, {self.stride})"
        )

    def _open_handoff(self, event) -> None:
        """Another tab asked for a field with its score map (``AppSession.open_scoremap``)."""
        h = event.new
        if h is None:
            return
        self.threshold = h.threshold
        self.show_scoremap(self.app.shown(h.folder), h.field, h.scoremap, h.classifier)
        if h.at is not None:
            self.selected = self._index_of_candidate(f"{int(h.at[0])},{int(h.at[1])}")

    @param.depends("classifier", watch=True, on_init=True)
    def _model_threshold(self):
        """Each model's own default threshold: the detector's card holds its calibrated one
        (0.5); L, A and D keep the paper's 0.95."""
        card = resources.classifier_cards().get(self.classifier) if self.classifier else None
        thr = card.extra.get("default_threshold") if card is not None else None
        if (
            getattr(self, "scoremap", None) is not None
            and self._scan_meta.get("classifier") != self.classifier
        ):
            self._clear_scan(f"Not scanned yet with {self.classifier} — press Compute score map.")
        self.threshold = float(thr) if thr is not None else 0.95

    def _clear_scan(self, note: str = NOT_SCANNED) -> None:
        """No score map (another model was picked): no candidates, and the status says so."""
        self._cancel.set()
        self.scoremap, self._cuts, self._scan_meta = None, {}, {}
        self._set_candidates([])
        self.param.update(scanned=False, candidate="")
        self._status.object = note

    @param.depends("scanned", watch=True)
    def _scan_as_asked(self) -> None:
        """``scanned`` set from the page's address (a reload, a shared link): score the field again."""
        if self._scan_wanted():
            when_page_loaded(lambda: self._scan_wanted() and self.start_scan())

    def _scan_wanted(self) -> bool:
        """A score map is asked for (``scanned``), none is shown and none is being made."""
        return bool(self.scanned and self.scoremap is None and not self._scan_job.running and self.field)

    @param.depends("selected", watch=True)
    def _remember_candidate(self) -> None:
        if 0 <= self.selected < len(self.candidates):
            c = self.candidates[self.selected]
            self.candidate = f"{c['x']},{c['y']}"

    def _index_of_candidate(self, xy: str | None = None) -> int:
        """Index of the candidate at the peak "x,y" (default ``candidate``: a reload's, or the one
        selected before the list changed), else 0."""
        at = (self.candidate if xy is None else xy).split(",")
        for i, c in enumerate(self.candidates):
            if [str(c["x"]), str(c["y"])] == at:
                return i
        return 0

    @param.depends("score_layer", watch=True)
    def _switch_layer(self):
        """Show the other map of a class detector's scan (no new scan: both came from one pass)."""
        with self._vet_lock:
            smap = self.scoremap
            if smap is None:
                return
            if MAP_LAYERS[self.score_layer] not in smap.layers:
                self._status.object = "This score map has one layer: the model has no classes."
                return
            self.scoremap = smap.showing(MAP_LAYERS[self.score_layer])
        self._update_candidates()
        what = MAP_MEANING.get(self.score_layer, self.score_layer)
        self._status.object = (
            f"Map: {what}. {len(self.candidates)} candidate(s) where it is ≥ {self.threshold:.2f}."
        )

    @param.depends("threshold", watch=True)
    def _update_candidates(self):
        # quick threshold changes are handled on several threads at once: one at a time, each for
        # the latest threshold, so the list shown is the slider's
        with self._vet_lock:
            if self.scoremap is None:
                return
            thr = self.threshold
            self._set_candidates(_with_matches(find_candidates(self.scoremap, thr)))
            self._status.object = f"{len(self.candidates)} candidate(s) ≥ {thr:.2f}"

    def _set_candidates(self, cands: list[dict]) -> None:
        with self._vet_lock:  # never while the browser's cache is built from the old list
            self.candidates = cands
            self.refresh_labels()
            self._draw_overlay()
            self._build_cache(0 if cands else -1)
            self._syncing = True  # the table is rebuilt below, once
            try:
                pick = self._index_of_candidate() if cands else -1
                self.param.update(scan_version=self.scan_version + 1, selected=pick)
            finally:
                self._syncing = False
            self._refresh_table()
            self.param.trigger("selected")

    def refresh_labels(self) -> None:
        """Re-read this field's labels from the store (other sessions' labels appear)."""
        try:
            self._latest = self.labels.latest(self.field) if self.field else {}
        except LabelSaveError as exc:
            self.show_error(str(exc))

    def _refresh_table(self) -> None:
        if self._table is None:
            return
        self._syncing = True
        try:
            self._table.selection = []
            self._table.value = self.candidate_frame()
            if 0 <= self.selected < len(self.candidates):
                self._table.selection = [self.selected]
        finally:
            self._syncing = False

    def _on_table_edit(self, event):
        if event.column != "comment" or not (0 <= event.row < len(self.candidates)):
            return
        c = self.candidates[event.row]
        lab = self.label_for(c)
        if lab is None:
            self.comment = str(event.value)
            self._status.object = "Comment kept for this candidate's label (not yet labelled)."
            return
        self.selected = event.row
        self.comment = str(event.value)
        self.label_selected(lab.label, advance=False)
