"""Chunked browser uploads with a size limit, for every upload box in the app.

A plain ``FileInput`` sends a file as one websocket message; past Bokeh's message limit (about
15 MB of file) the browser session dropped without a word.  :class:`Dropper` is Panel's
``FileDropper`` (FilePond, served from Panel's bundled files), which sends files in chunks:

* the browser refuses a file over the limit before sending anything, in the drop box, naming the
  file ("File is too large · Maximum file size is 64 MB");
* the server refuses it too, by name, if a client sends more than the limit anyway;
* chunks are reassembled by their index, as the served app handles events on a thread pool and
  two chunks of one file may arrive in either order;
* ``on_files(names, contents)`` gets a single file as soon as it has arrived; with several, the
  files that arrived since the last hand-over, once no file is in flight (all files of a drop are
  sent at once) and no chunk has come for :data:`QUIET_S` seconds: one drop, one batch;
* the drop box says "Upload complete" only once the server accepted the files: ``on_files``
  returning ``False`` (or a message) refuses them, and the box shows the refusal in red instead
  (:class:`Verdict` holds each file's answer back until it comes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import panel as pn
import param
from bokeh.models import CustomJS
from panel.custom import JSComponent

from . import resources
from .jobs import as_session_worker

#: Bytes per websocket message (well under Bokeh's 20 MB message limit).
CHUNK_BYTES = 4_000_000
#: Seconds without a chunk after which a multi-file batch is taken as complete.
QUIET_S = 1.0
#: Seconds the drop box waits for the server's answer on a file before it calls it uploaded.
VERDICT_WAIT_S = 120
#: The drop box's refusal when the handler gave no message of its own.
REFUSED = "Refused — see the message on the page"

#: Every file of a drop in flight at once (FilePond's default is two at a time); FilePond's own
#: abort button says what it stops (its default "Cancel" read like the scan's Cancel beside it).
PARALLEL_JS = (
    "if (window.FilePond) { window.FilePond.setOptions({maxParallelUploads: 64, "
    "labelButtonAbortItemProcessing: 'Stop upload', labelButtonAbortItemLoad: 'Stop upload'}); }"
)


def size_text(n: int) -> str:
    """Bytes in the units the drop box uses (powers of 1000)."""
    if n >= 1e6:
        return f"{n / 1e6:g} MB"
    return f"{n / 1e3:g} kB" if n >= 1e3 else f"{n} bytes"


class Dropper(pn.widgets.FileDropper):
    """A ``FileDropper`` that checks sizes as chunks arrive and hands over whole batches."""

    def __init__(
        self,
        on_files: Callable[[list[str], list[bytes]], object],
        on_refused: Callable[[str], object],
        *,
        limit: int | None = None,
        **params,
    ):
        self.limit = int(limit if limit is not None else resources.max_upload_bytes())
        kb = f"{max(self.limit // 1000, 1)}KB"  # FilePond counts in powers of 1000
        params.setdefault("multiple", False)
        params.setdefault("previews", [])
        params.setdefault("layout", "compact")
        super().__init__(
            chunk_size=CHUNK_BYTES,
            max_file_size=kb,
            **params,
        )
        self._on_files, self._on_refused = on_files, on_refused
        self._lock = threading.Lock()
        self._chunks: dict[str, dict[int, bytes]] = {}  # name -> {chunk index: bytes}, in flight
        self._refused: set[str] = set()
        self._batch: dict[str, bytes] = {}  # arrived since the last hand-over (several files)
        self._timer: threading.Timer | None = None
        self._doc = None  # the session's document, for the batch timer's thread
        self.verdict = Verdict()

    def _get_model(self, doc, root=None, parent=None, comm=None):
        model = super()._get_model(doc, root, parent, comm)
        if self.multiple and doc is not None and not getattr(doc, "_radioviz_parallel", False):
            # FilePond sends two files at a time by default: a gap between the second file's end
            # and the third's start would split a drop of four band files into two batches
            doc.js_on_event("document_ready", CustomJS(code=PARALLEL_JS))
            doc._radioviz_parallel = True
        return model

    def _process_event(self, event):
        data = event.data
        name = str(data["name"])
        if event.event_name == "delete_event":  # the user removed an item from the box
            with self._lock:
                self._batch.pop(name, None)
            return
        k, n, chunk = int(data["chunk"]), int(data["total_chunks"]), bytes(data["data"])
        refusal = done = None
        with self._lock:
            self._cancel_timer()  # a chunk: the batch is not complete yet
            if name in self._refused:
                if k == n:
                    self._refused.discard(name)
                self._arm_timer()
                return
            parts = self._chunks.setdefault(name, {})
            parts[k] = chunk
            received = sum(len(p) for p in parts.values())
            at_least = max(received, (n - 1) * self.chunk_size)  # n chunks hold more than n - 1 full ones
            others = sum(len(c) for f, c in self._batch.items() if f != name)
            if at_least + others > self.limit:
                self._chunks.pop(name)
                self._refused.add(name)
                refusal = f"{name}: over the {size_text(self.limit)} upload limit (RADIOVIZ_MAX_UPLOAD_BYTES)"
            elif len(parts) == n:
                self._chunks.pop(name)
                done = b"".join(parts[i] for i in range(1, n + 1))
                if self.multiple:
                    self._batch[name] = done
            self._arm_timer()
        self._doc = pn.state.curdoc or self._doc
        if refusal:
            self._on_refused(refusal)
            self.verdict.answer([name], refusal)
        elif done is not None and not self.multiple:
            self._answer([name], self._on_files([name], [done]))

    def _answer(self, names: list[str], result) -> None:
        """Tell the drop box what the handler made of ``names`` (False or a message: refused)."""
        refused = result is False or isinstance(result, str)
        self.verdict.answer(names, (result if isinstance(result, str) else REFUSED) if refused else "")

    def _arm_timer(self):
        """With several files, hand the batch over once nothing is in flight for QUIET_S."""
        if self.multiple and self._batch and not self._chunks:
            self._timer = threading.Timer(QUIET_S, self._hand_over_in_session)
            self._timer.daemon = True
            self._timer.start()

    def _cancel_timer(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _hand_over_in_session(self):
        """The timer's thread, made to look like one of Panel's worker threads."""
        as_session_worker(self._hand_over, self._doc)

    def _hand_over(self):
        with self._lock:
            if self._chunks or not self._batch:  # a file started meanwhile: its last chunk re-arms
                return
            self._timer = None
            batch, self._batch = self._batch, {}
        self._answer(list(batch), self._on_files(list(batch), list(batch.values())))


class Verdict(JSComponent):
    """Beside a :class:`Dropper` in one layout: holds each file's "Upload complete" in the drop
    box until the server's answer (``answers``: name -> [count, refusal or ""]) arrives, and
    shows a refusal as the file's error instead."""

    answers = param.Dict(default={})

    def answer(self, names: list[str], refusal: str) -> None:
        answers = dict(self.answers)
        for name in names:
            answers[name] = [answers.get(name, [0, ""])[0] + 1, refusal]
        self.answers = answers

    _esm = (
        """
    const WAIT_MS = """
        + str(1000 * VERDICT_WAIT_S)
        + """;
    export function render({ model, view }) {
      const waiting = [];  // {name, seen, done}
      const settle = () => {
        for (const w of [...waiting]) {
          const a = model.answers[w.name];
          if (a && a[0] > w.seen) { waiting.splice(waiting.indexOf(w), 1); w.done(a[1]); }
        }
      };
      model.on("answers", settle);
      const patch = () => {
        const box = (view.parent && view.parent.child_views || []).find((v) => v._process_upload);
        if (!box) return;
        if (box._file_pond && !box._radioviz_label) {  // the refusal itself, not "Error during upload"
          box._radioviz_label = true;
          box._file_pond.setOptions({labelFileProcessingError: (e) => (e && e.body) || "Upload failed"});
        }
        if (box._radioviz_verdict) return;
        box._radioviz_verdict = true;
        const send = box._process_upload.bind(box);
        box._process_upload = (file, load, error, progress) => {
          const name = file._relativePath || file.name;
          const a = model.answers[name];
          const w = {name, seen: a ? a[0] : 0, done: null};
          const answered = new Promise((resolve) => {
            w.done = resolve;
            setTimeout(() => resolve(""), WAIT_MS);
          });
          waiting.push(w);
          const loaded = (id) => answered.then((refusal) => refusal ? error(refusal) : load(id));
          settle();
          return send(file, loaded, error, progress);
        };
      };
      patch();
      setTimeout(patch, 0);  // the drop box may be drawn after this element
      const el = document.createElement("span");
      el.style.display = "none";
      return el;
    }
    """
    )


def dropper(
    on_files: Callable[[list[str], list[bytes]], object],
    on_refused: Callable[[str], object],
    label: str = "",
    **params,
) -> pn.viewable.Viewable:
    """An upload box; ``label`` is shown above it."""
    box = Dropper(on_files, on_refused, **params)
    head = [pn.pane.Markdown(label, margin=(0, 5))] if label else []
    return pn.Column(*head, box, box.verdict)
