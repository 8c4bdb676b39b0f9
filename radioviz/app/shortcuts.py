"""Vetting from the keyboard, drawn in the browser: the selected candidate's header, its four band
cut-outs, its marker on the sky and its table row change on a key press without a server round
trip.  The server sends each candidate's cut-outs ahead into a cache source (``rv-cache``) and
hears the new index (``index``) and each label (a message) asynchronously; only labels the
store committed come back (the cache's ``mark`` column), and a failed save is shown by the server.
"""

from __future__ import annotations

from collections.abc import Callable

import param
from panel.custom import JSComponent

LABELS = {"h": "halo", "n": "not halo", "u": "unsure"}
HINT = "Keys: h halo · n not halo · u unsure · j next · k previous"


class Vetter(JSComponent):
    """The candidate header plus page-wide keys (ignored while typing in a text field; Enter or
    Escape leaves the field).  The Bokeh models it drives are found in the page by name, each
    name suffixed with ``tag``: ``rv-cache`` (per candidate: ``level0..3``, ``flux0..3``,
    ``ready``, ``info``, ``mark``), ``rv-cut-0..3`` and ``rv-cutnote-0..3`` (the cut-out images
    and their notes), ``rv-cands`` and ``rv-marker`` (candidates and the highlight on the sky), and
    the Tabulator with CSS class ``rv-table-<tag>``.  Another view may draw more cut-outs
    (``panels``: ``rv-cut-4`` from ``level4``/``flux4``, ...) and lines (``lines``: ``rv-<name>``
    from ``<name>_x``/``<name>_y``), as the Vet tab's context cut-out and its score contour.  A
    vetter whose tab is not shown ignores the keys (the Fields and Vet tabs each have one).  A
    label carries the text of the comment box (CSS class ``rv-comment-<tag>``) as the page shows
    it: a comment committed with Enter and the key pressed next travel together, so the server
    cannot save the label before the comment."""

    keys = param.List(default=["h", "n", "u", "j", "k"])
    commands = param.List(
        default=[], doc="More keys, each sent to the server with the cursor's index (the Vet tab's m, b)"
    )
    hint = param.String(default=HINT, doc="The keys, as the line under the header says them")
    panels = param.Integer(default=4, doc="Cut-out images rv-cut-<b> (cache columns level<b>, flux<b>)")
    lines = param.List(
        default=[], doc="Line sources rv-<name>, drawn from the cache columns <name>_x and <name>_y"
    )
    index = param.Integer(default=-1, doc="Selected candidate; either side may set it")
    heard = param.Integer(
        default=-1, doc="The candidate the server has taken in (published so tests can wait on it)"
    )
    version = param.Integer(default=0, doc="Candidate list version; a label names the one it saw")
    tag = param.String(default="")
    scroll_top = param.Integer(default=0, doc="Raised when a scan finishes: bring the map into view")
    empty = param.String(
        default="Compute a score map, then pick a candidate (click it on the map or in the table)."
    )
    counted = param.String(
        default="vetted", doc="What the header's count says (the Vet tab counts your own labels)"
    )

    def __init__(
        self,
        on_label: Callable[[int, str, int, str | None], object] | None = None,
        on_command: Callable[[str, int], object] | None = None,
        **params,
    ):
        super().__init__(**params)
        self._on_label, self._on_command = on_label, on_command

    def _handle_msg(self, data) -> None:
        if self._on_command is not None and isinstance(data, dict) and data.get("command") in self.commands:
            self._on_command(str(data["command"]), int(data.get("index", -1)))
            return
        if self._on_label is not None and isinstance(data, dict) and data.get("label") in LABELS.values():
            comment = data.get("comment")
            self._on_label(
                int(data["index"]),
                str(data["label"]),
                int(data.get("version", -1)),
                None if comment is None else str(comment),
            )

    _esm = (
        """
    const LABELS = """
        + repr(LABELS).replace("'", '"')
        + """;
    export function render({ model, view }) {
      const doc = view.model.document;
      const get = (name) => doc.get_model_by_name(`${name}-${model.tag}`);
      const findByClass = (cls) => {
        for (const m of doc._all_models.values()) if ((m.css_classes || []).includes(cls)) return m;
        return null;
      };
      let table = null;
      const findTable = () => {
        if (table !== null && table.document === doc) return table;
        table = null;
        const cls = `rv-table-${model.tag}`;
        for (const m of doc._all_models.values())
          if (String(m.type).endsWith("DataTabulator") && (m.css_classes || []).includes(cls)) table = m;
        return table;
      };
      const wrap = document.createElement("div");
      const head = document.createElement("div");
      head.className = "rv-vet-head";
      const hint = document.createElement("div");
      hint.className = "rv-shortcuts";
      hint.textContent = model.hint;
      wrap.append(head, hint);
      const panels = [...Array(model.panels).keys()];
      const drawn = ["rv-marker", ...panels.map((b) => `rv-cut-${b}`),
                     ...panels.map((b) => `rv-cutnote-${b}`), ...model.lines.map((n) => `rv-${n}`)];
      for (const n of drawn) {
        const m = get(n);
        if (m) m.syncable = false;  // drawn here; the server never needs it back
      }
      let shown = -2, lastHead = null;
      const draw = (k) => {
        const cache = get("rv-cache");
        const d = cache ? cache.data : {};
        const n = d.info ? d.info.length : 0;
        const ok = k >= 0 && k < n;
        const ready = ok && d.ready[k] > 0;
        // only what changed is set: a patch of another candidate's row (cut-outs sent ahead, a
        // label confirmed) redraws the header, not the figures
        for (const b of panels) {
          const src = get(`rv-cut-${b}`), note = get(`rv-cutnote-${b}`);
          const img = ready ? d[`level${b}`][k] : undefined;
          if (src && src.data.level[0] !== img)
            src.data = ready ? {level: [img], flux: [d[`flux${b}`][k]]} : {level: [], flux: []};
          const text = ready ? "" : (ok ? "loading…" : "no candidate selected");
          if (note && note.text !== text) note.text = text;
        }
        for (const n of model.lines) {
          const src = get(`rv-${n}`);
          const xs = ready ? d[`${n}_x`][k] : undefined;
          if (src && (src.data.x !== xs || !ready))
            src.data = ready ? {x: xs, y: d[`${n}_y`][k]} : {x: [], y: []};
        }
        const cands = get("rv-cands"), marker = get("rv-marker");
        if (marker) {
          const has = ok && cands && k < cands.data.x.length;
          const x = has ? cands.data.x[k] : undefined, y = has ? cands.data.y[k] : undefined;
          if (marker.data.x[0] !== x || marker.data.y[0] !== y)
            marker.data = has ? {x: [x], y: [y]} : {x: [], y: []};
        }
        if (!ok) {
          const text = n ? "Pick a candidate (click it on the map or in the table)." : model.empty;
          if (text !== lastHead) head.textContent = text;
          lastHead = text;
        } else {
          const vetted = d.mark.filter((m) => m).length;
          const text = `<b>Candidate ${k + 1}/${n}</b> · ${vetted} of ${n} ${model.counted} — ${d.info[k]}`
            + ` · label: ${d.mark[k] || "none"}`;
          if (text !== lastHead) head.innerHTML = text;
          lastHead = text;
        }
        shown = k;
        // the table row after the candidate is painted (selecting a row costs a frame)
        requestAnimationFrame(() => setTimeout(() => {
          const t = findTable();
          if (!t || shown !== k || !ok) return;
          const sel = t.source.selected;
          if (sel.indices.length !== 1 || sel.indices[0] !== k) sel.indices = [k];
        }, 0));
      };
      const go = (k) => {
        draw(k);
        if (model.index !== k) model.index = k;  // the server hears it; nothing waits for it
      };
      const onKey = (e) => {
        const origin = (e.composedPath && e.composedPath()[0]) || e.target;
        const tag = (origin && origin.tagName) || "";
        if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
          // typing in a box never labels; Enter or Escape leaves a one-line box for the keys
          // (Escape at once: its default action kept the focus long enough for the next key to
          // be typed into the box; Enter after the input has committed the value)
          if (e.key === "Escape" && tag === "INPUT") origin.blur();
          else if (e.key === "Enter" && tag === "INPUT") setTimeout(() => origin.blur(), 0);
          return;
        }
        if (e.ctrlKey || e.metaKey || e.altKey || origin.isContentEditable) return;
        if (!model.keys.includes(e.key) && !model.commands.includes(e.key)) return;
        // a vetter in a tab not shown (another tab's vetter is in the same page) hears nothing
        if (!wrap.isConnected || wrap.getClientRects().length === 0) return;
        lastKey = performance.now();
        const cache = get("rv-cache");
        const n = cache && cache.data.info ? cache.data.info.length : 0;
        const k = model.index >= 0 && model.index < n ? model.index : -1;
        if (model.commands.includes(e.key)) {  // even on an empty list ("back" from one)
          model.send_msg({command: e.key, index: k});
          return;
        }
        if (!n) return;
        if (e.key === "j") go((k + 1) % n);
        else if (e.key === "k") go(k < 0 ? n - 1 : (k - 1 + n) % n);
        else if (k >= 0 && LABELS[e.key]) {
          const box = findByClass(`rv-comment-${model.tag}`);
          const comment = box ? box.value : null;
          model.send_msg({label: LABELS[e.key], index: k, version: model.version, comment: comment});
          if (box && box.value) box.value = "";  // a comment belongs to one label: not the next key's
          if (n > 1) go((k + 1) % n);
        }
      };
      document.addEventListener("keydown", onKey);
      const redraw = () => draw(model.index);
      // the cache source is watched once it is in the document: a page whose tab is built while
      // the server is busy can render this view before the figure carrying the cache arrives, and
      // a view that never heard the cache's data stayed on "no candidate" (CI, session 16)
      let watched = [], cacheSeen = null, removed = false;
      const hookCache = () => {
        const cache = get("rv-cache") || null;
        if (cache === cacheSeen) return;
        for (const s of watched) s.disconnect(redraw);
        cacheSeen = cache;
        watched = cache ? [cache.properties.data.change, cache.patching, cache.streaming] : [];
        for (const s of watched) s.connect(redraw);
      };
      hookCache();
      const waitForCache = () => {
        if (removed) return;
        if (cacheSeen === null) hookCache();
        if (cacheSeen !== null) redraw();
        else setTimeout(waitForCache, 100);
      };
      if (cacheSeen === null) setTimeout(waitForCache, 100);
      // a row selected by a click moves the cursor; a selection that arrives late from an older
      // move (the table's own echo, or the server's, behind a busy server) must not pull it back
      let lastClick = -1e9, lastKey = -1e9;
      const onPointer = (e) => {
        const path = e.composedPath ? e.composedPath() : [];
        if (path.some((n) => n.classList && n.classList.contains("tabulator"))) lastClick = performance.now();
      };
      document.addEventListener("pointerdown", onPointer, true);
      const t = findTable();
      const onSelect = () => {
        const inds = t.source.selected.indices;
        const clicked = lastClick > lastKey && performance.now() - lastClick < 5000;
        if (clicked && inds.length === 1 && inds[0] !== shown) go(inds[0]);  // a click on a row
      };
      if (t) t.source.selected.properties.indices.change.connect(onSelect);
      model.on("index", () => { if (model.index !== shown) draw(model.index); });
      model.on("scroll_top", () => {
        // the Compute button is far down the page: show the map and the candidates it found
        for (let n = view.el; n; n = n.parentNode || n.host) if (n.scrollTop > 0) n.scrollTop = 0;
      });
      model.on("remove", () => {
        removed = true;
        document.removeEventListener("keydown", onKey);
        document.removeEventListener("pointerdown", onPointer, true);
        for (const s of watched) s.disconnect(redraw);
        if (t) t.source.selected.properties.indices.change.disconnect(onSelect);
      });
      draw(model.index);
      return wrap;
    }
    """
    )
