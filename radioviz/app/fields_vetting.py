"""The Fields tab's vetting: labels from keys, buttons and the table into the shared label
store, exports, and retraining the detector on them."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import param

from ..scan.vetting import LabelSaveError
from .fields_cutouts import FieldsCutouts
from .jobs import on_session


class FieldsVetting(FieldsCutouts):
    """The vetting section of the Fields tab."""

    def label_selected(self, label: str, advance: bool = False) -> bool:
        """Save a label for the selected candidate (and move on when asked and saved)."""
        if not self.label_candidate(self.selected, label):
            return False
        if advance and len(self.candidates) > 1:
            self.move(1)
        return True

    @param.depends("comment", watch=True)
    def _drop_late_comment(self):
        """The comment box's own update, arriving after its label already saved that comment."""
        if self._late_comment is not None and self.comment == self._late_comment:
            self._late_comment = None
            self.comment = ""

    def _label_from_client(self, index: int, label: str, version: int, comment: str | None = None) -> None:
        """A key press in the browser, which has already moved on: save and confirm (or refuse).
        ``comment`` is the comment box's text sent with the key: the box's own update travels on
        another channel and may reach the server after the label, so the key's copy wins."""
        raced = comment is not None and comment != self.comment
        if raced:
            self.comment = comment
        if version != self.vetter.version:
            self.show_error(
                f"Label “{label}” NOT saved: the candidate list changed before it reached the server; "
                "label the candidate again."
            )
            return
        if self._safe(lambda: self.label_candidate(index, label)) and raced and comment:
            self._late_comment = comment  # saved: its late box update must not linger

    def label_candidate(self, k: int, label: str) -> bool:
        """Save a label for candidate ``k``; only what the store committed is shown."""
        if not (0 <= k < len(self.candidates)):
            return False
        c = self.candidates[k]
        try:
            lab = self.labels.set(
                self.candidate_id(c),
                self.field,
                c["ra"],
                c["dec"],
                c["peak_score"],
                label,
                self.comment,
                classifier=self._scan_meta.get("classifier", ""),
                stride=self._scan_meta.get("stride", 0),
                threshold=self.threshold,
                labeller=self._labeller(),
                session=self.session,
            )
        except LabelSaveError as exc:
            self.show_error(str(exc))
            return False
        self._latest[lab.candidate_id] = lab
        self.comment = ""  # a comment belongs to one label
        if self._table is not None and len(self._table.value) == len(self.candidates):
            row = self._row(c)
            self._table.patch({col: [(k, row[col])] for col in ("label", "by", "comment")})
        mark, cache = self._mark_html(c), self._cache
        if k < len(cache.data.get("mark", [])):
            on_session(lambda: cache.patch({"mark": [(k, mark)]}), cache)
        return True

    def move(self, step: int):
        if self.candidates:
            self.selected = (self.selected + step) % len(self.candidates)

    def on_key(self, key: str):
        actions = {
            "h": lambda: self.label_selected("halo", advance=True),
            "n": lambda: self.label_selected("not halo", advance=True),
            "u": lambda: self.label_selected("unsure", advance=True),
            "j": lambda: self.move(1),
            "k": lambda: self.move(-1),
        }
        if key in actions:
            actions[key]()

    @param.depends("labeller", watch=True)
    def _share_labeller(self) -> None:
        self.app.labeller = self.labeller

    @param.depends("classifier", watch=True)
    def _share_detector(self) -> None:
        self.app.detector = self.classifier

    @param.depends("selected", watch=True)
    def _share_selected(self) -> None:
        self.app.selected = self.selected

    def _labels_ready(self) -> None:
        """The label store, busy when the page opened, is free: its labels show, saving works."""
        if self.labels.notice:
            self.show_error(self.labels.notice, cause="labels")
        else:
            self.clear_error("labels")
        self.refresh()

    def refresh(self):
        """Button (and the store becoming free again): re-read the store so other sessions' labels
        show.  Under the candidate list's lock: run beside a threshold change, it had rebuilt the
        table from the old list after the new one was shown (20 rows under "0 candidate(s)")."""
        with self._vet_lock:
            self.refresh_labels()
            self._refresh_table()
            self._draw_marks()
            self._status.object = f"Labels re-read from the store: {self.progress_text()}."

    def export_bytes(self, suffix: str) -> io.BytesIO:
        with tempfile.TemporaryDirectory() as d:
            path = self.labels.export(Path(d) / f"labels{suffix}")
            return io.BytesIO(path.read_bytes())

    def retrain(self) -> None:
        """Fine-tune the chosen detector on the label store's labels of this folder's fields (in the
        background); the new model is then chosen and the field scored again."""
        self.retrainer.start(self._root(), self.classifier, self.labels, on_done=self._retrained)

    def _retrained(self, name: str, card: dict) -> None:
        self._list_models()
        self.classifier = name
        if self.field:
            self.start_scan()
