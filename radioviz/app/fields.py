"""The Fields view: open a field, see it band by band or in RGB, scan it with a classifier, vet
the candidates and export the labels.  UI only: reading, scanning, candidates and labels all
come from the library."""

from __future__ import annotations

import io
import os
import tempfile
import threading
from pathlib import Path

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the renderer the opts below need)
import numpy as np
import pandas as pd
import panel as pn
import param
from holoviews.operation.datashader import regrid

from ..data.noise import estimate_noise
from ..data.preprocess import require_cutout_size, stack_cutout
from ..display import STRETCHES, stretch_image
from ..errors import InputError
from ..io.catalogs import builtin_clusters, crossmatch
from ..scan.scoremap import ScoreMap, find_candidates, score_map
from ..scan.vetting import LabelStore
from . import resources

BAND_CHOICES = ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz", "RGB"]
NEAREST_CLUSTER_ARCMIN = 30.0  # list a catalogue cluster beside a candidate only within this


def default_labels_path() -> Path:
    return Path(os.environ.get("RADIOVIZ_LABELS", Path.cwd() / "radioviz_labels.ecsv"))


class FieldsView(pn.viewable.Viewer):
    """One browser session's state for the Fields tab."""

    data_dir = param.String(
        default=str(resources.SAMPLE_DATA), doc="Folder of FITS files or a <SPLIT>_DATA_<class> root"
    )
    field = param.Selector(default=None, objects=[], doc="Field to show")
    band = param.Selector(
        default="170-231MHz", objects=BAND_CHOICES, doc="One band, or RGB of 72–103 / 139–170 / 170–231 MHz"
    )
    stretch = param.Selector(default="asinh", objects=list(STRETCHES))
    percentile = param.Number(default=99.5, bounds=(90, 100), step=0.1)
    cmap = param.Selector(default="inferno", objects=["inferno", "viridis", "gray", "magma", "cividis"])
    contour_sigma = param.Number(
        default=0.0, bounds=(0, 50), step=1, doc="Contours at k×σ, 2k×σ, 4k×σ (0 = off)"
    )
    classifier = param.Selector(default=None, objects=[], doc="Classifier checkpoint for the score map")
    stride = param.Integer(default=4, bounds=(1, 32))
    threshold = param.Number(default=0.95, bounds=(0.0, 1.0), step=0.01)
    selected = param.Integer(default=-1, doc="Index of the selected candidate")
    comment = param.String(default="")
    message = param.String(default="")
    readout = param.String(default="")

    def __init__(self, labels_path: str | Path | None = None, **params):
        if resources.data_root() is not None:  # served with a data root: show paths inside it
            params["data_dir"] = resources.shown_path(params["data_dir"]) if "data_dir" in params else "."
        self._dir = None  # the folder last opened (a resolved server path, never shown)
        self._uploads: dict[str, tempfile.TemporaryDirectory | str] = {}  # shown label -> folder
        super().__init__(**params)
        self._alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self._status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width")
        self._cancel = threading.Event()
        self.scoremap: ScoreMap | None = None
        self.candidates: list[dict] = []
        self.labels = LabelStore(labels_path or default_labels_path())
        names = sorted(
            resources.classifier_cards(),
            key=lambda n: (n != "classifier_A.safetensors", n != "classifier_L.safetensors", n),
        )
        self.param.classifier.objects = names
        if names:
            self.classifier = names[0]
        self._load_folder()

    # -- data ------------------------------------------------------------------------------------

    @param.depends("data_dir", watch=True)
    def _load_folder(self):
        try:
            folder = self._uploads.get(self.data_dir)
            folder = getattr(folder, "name", folder) or str(resources.resolve_user_path(self.data_dir))
            srcs = resources.sources(folder)
        except InputError as exc:
            self.show_error(str(exc))
            return
        self._dir = folder
        names = sorted(s.name for s in srcs)
        self._labels = {s.name: s.label for s in srcs}
        self.param.field.objects = names
        self.clear_error()
        if names and self.field not in names:
            self.field = names[0]

    @param.depends("field", watch=True)
    def _new_field(self):
        self.scoremap, self.candidates, self.selected = None, [], -1

    def _root(self) -> str:
        return self._dir

    def clipped(self):
        return resources.clipped_field(self._root(), self.field)

    def show_error(self, text: str):
        shown = {getattr(d, "name", d): label for label, d in self._uploads.items()}
        text = resources.public_message(text, shown)
        self._alert.object = text
        self._alert.visible = True
        self.message = text

    def clear_error(self):
        self._alert.visible = False
        self.message = ""

    def upload(self, filenames: list[str], contents: list[bytes]) -> bool:
        """Open uploaded FITS (one file per band, or a cube) as the current folder.  Sizes are
        checked before decoding; the temporary folder goes when refused, replaced or the
        session ends."""
        tmp = tempfile.TemporaryDirectory(prefix="radioviz-upload-")
        d = tmp.name
        try:
            resources.check_upload(filenames, contents, Path(d))
            srcs = resources.sources(d)
            if not srcs:
                raise InputError(None, "no FITS images among the uploaded files")
            for im in resources.clipped_field(d, srcs[0].name).stack.images:  # a bad file: reported here
                require_cutout_size(im)  # a band no classifier or cut-out can use
        except (InputError, OSError) as exc:
            self.show_error(f"Upload rejected — {resources.public_message(str(exc), {d: 'the upload'})}")
            tmp.cleanup()
            return False
        label = "upload: " + ", ".join(Path(str(n)).name for n in filenames[:2])
        label += f" (+{len(filenames) - 2})" if len(filenames) > 2 else ""
        self._forget_uploads()
        self._uploads[label] = tmp
        if self.data_dir == label:  # the same names again: a new folder all the same
            self._load_folder()
            self.param.trigger("field")
        else:
            self.data_dir = label
        return True

    def _forget_uploads(self):
        """Remove this session's uploaded folders (on a new upload and when the session ends)."""
        for tmp in self._uploads.values():
            if hasattr(tmp, "cleanup"):
                tmp.cleanup()
        self._uploads.clear()

    # -- display ---------------------------------------------------------------------------------

    def _plane(self) -> np.ndarray:
        if self.band == "RGB":
            if resources.is_big(self._root(), self.field):
                raise InputError(
                    self.field,
                    "RGB needs the bands co-registered, which is not offered above "
                    f"{resources.BIG_FIELD_PIXELS} pixels a band; pick one band",
                )
            planes = resources.display_planes(self._root(), self.field)
            return np.dstack([stretch_image(planes[i], self.stretch, self.percentile) for i in (0, 2, 3)])
        return resources.display_plane(self._root(), self.field, BAND_CHOICES.index(self.band))[0]

    @param.depends("field", "band", "stretch", "percentile", "cmap")
    def image_element(self):
        if not self.field:
            return hv.Image(np.zeros((2, 2)))
        try:
            plane = self._plane()
        except InputError as exc:
            self.show_error(str(exc))
            return hv.Image(np.zeros((2, 2)))
        ny, nx = plane.shape[:2]
        if self.band == "RGB":
            return hv.RGB(plane[::-1], bounds=(0, 0, nx, ny), kdims=["x", "y"])
        shown = stretch_image(plane, self.stretch, self.percentile)
        return hv.Image(shown[::-1], bounds=(0, 0, nx, ny), kdims=["x", "y"]).opts(cmap=self.cmap)

    @param.depends("field", "band", "contour_sigma")
    def contour_element(self):
        if not self.field or self.contour_sigma <= 0 or self.band == "RGB":
            return hv.Contours([])
        plane = resources.display_plane(self._root(), self.field, BAND_CHOICES.index(self.band))[0]
        sigma = estimate_noise(plane).sigma or 1.0
        ny, nx = plane.shape
        levels = [self.contour_sigma * sigma * f for f in (1, 2, 4, 8)]
        return hv.operation.contours(
            hv.Image(plane[::-1], bounds=(0, 0, nx, ny), kdims=["x", "y"]), levels=levels, filled=False
        ).opts(line_color="white", line_width=0.8)

    @param.depends("field", "threshold", "selected")
    def score_element(self):
        smap = self.scoremap
        if smap is None:
            return hv.Image(np.zeros((2, 2)), kdims=["x", "y"], vdims="score").opts(alpha=0)
        s = smap.scores
        ny, nx = s.shape
        st = smap.stride
        masked = np.where(s >= self.threshold, s, np.nan)
        bounds = (0.5 - st / 2, 0.5 - st / 2, 0.5 + st * (nx - 0.5), 0.5 + st * (ny - 0.5))
        return hv.Image(masked[::-1], bounds=bounds, kdims=["x", "y"], vdims="score").opts(
            cmap="Greens", alpha=0.55, clim=(self.threshold, 1.0), colorbar=True
        )

    @param.depends("field", "threshold", "selected")
    def candidate_element(self):
        pts = [(c["x"] + 0.5, c["y"] + 0.5, c["peak_score"], i) for i, c in enumerate(self.candidates)]
        el = hv.Points(pts, kdims=["x", "y"], vdims=["score", "index"])
        return el.opts(
            size=12,
            marker="circle",
            fill_alpha=0,
            line_color="cyan",
            line_width=2,
            tools=["tap", "hover"],
            nonselection_alpha=1.0,
        )

    def _on_pointer(self, x, y):
        if x is None or not self.field:
            return
        b = 3 if self.band == "RGB" else BAND_CHOICES.index(self.band)
        plane, wcs = resources.display_plane(self._root(), self.field, b)
        ny, nx = plane.shape
        if not (0 <= x < nx and 0 <= y < ny):
            self.readout = ""
            return
        sky = wcs.pixel_to_world(x - 0.5, y - 0.5)
        value = plane[int(y), int(x)]
        self.readout = (
            f"RA {sky.ra.deg:.4f}°  Dec {sky.dec.deg:+.4f}°  {BAND_CHOICES[b]}: {value * 1e3:.1f} mJy/beam"
        )

    def _on_tap(self, x, y):
        if x is None or not self.candidates:
            return
        d = [(c["x"] + 0.5 - x) ** 2 + (c["y"] + 0.5 - y) ** 2 for c in self.candidates]
        k = int(np.argmin(d))
        if d[k] <= (3 * self.stride + 6) ** 2:
            self.selected = k

    def field_plot(self):
        hv.Store.set_current_backend("bokeh")
        img = regrid(hv.DynamicMap(self.image_element), dynamic=True)
        candidates = hv.DynamicMap(self.candidate_element)
        pointer = hv.streams.PointerXY(source=img)
        pointer.add_subscriber(lambda x, y: self._on_pointer(x, y))
        tap = hv.streams.Tap(source=candidates)
        tap.add_subscriber(lambda x, y: self._on_tap(x, y))
        overlay = img * hv.DynamicMap(self.contour_element) * hv.DynamicMap(self.score_element) * candidates
        return overlay.opts(
            hv.opts.Image(
                width=620, height=560, tools=["hover"], xaxis=None, yaxis=None, active_tools=["wheel_zoom"]
            ),
            hv.opts.RGB(width=620, height=560, xaxis=None, yaxis=None, active_tools=["wheel_zoom"]),
        )

    # -- scoring and candidates -------------------------------------------------------------------

    def compute_scores(self) -> ScoreMap | None:
        """Score the current field (runs in a worker thread when served; cancellable)."""
        if not self.classifier:
            self.show_error("No classifier checkpoint found in checkpoints/.")
            return None
        model, pre, _ = resources.classifier(resources.CHECKPOINTS / self.classifier)
        self._cancel.clear()
        self.progress.value, self.progress.visible = 0, True

        def callback(done, total):
            self.progress.value = int(100 * done / total)
            return self._cancel.is_set()

        try:
            smap = score_map(self.clipped(), model, self.stride, pre, batch=512, callback=callback)
        finally:
            self.progress.visible = False
        if self._cancel.is_set():
            self._status.object = "Score map cancelled."
            return None
        self.scoremap = smap
        self._update_candidates()
        self._status.object = (
            f"Score map: {smap.scores.size} windows, max score {np.nanmax(smap.scores):.3f}; "
            f"{len(self.candidates)} candidate(s) ≥ {self.threshold:.2f}"
        )
        return smap

    def cancel(self):
        self._cancel.set()

    def show_scoremap(self, folder: str, field: str, smap: ScoreMap):
        """Open ``field`` from ``folder`` with a precomputed score map (e.g. a survey's) to vet."""
        self.data_dir, self.field = folder, field
        self.scoremap = smap
        self._update_candidates()

    @param.depends("threshold", watch=True)
    def _update_candidates(self):
        if self.scoremap is None:
            return
        self.candidates = find_candidates(self.scoremap, self.threshold)
        if self.candidates:
            m = crossmatch(
                np.array([c["ra"] for c in self.candidates]),
                np.array([c["dec"] for c in self.candidates]),
                builtin_clusters(),
                10.0,
            )
            for c, name, sep in zip(self.candidates, m["nearest"], m["separation_arcmin"], strict=True):
                near = sep <= NEAREST_CLUSTER_ARCMIN
                c["nearest_cluster"], c["separation_arcmin"] = (
                    (str(name), float(sep)) if near else ("", float("nan"))
                )
        self.selected = 0 if self.candidates else -1
        self.param.trigger("selected")

    def candidate_id(self, c: dict) -> str:
        return f"{self.field}@{c['x']},{c['y']}"

    def candidate_frame(self) -> pd.DataFrame:
        rows = []
        for c in self.candidates:
            lab = self.labels.get(self.candidate_id(c))
            rows.append(
                {
                    "RA": round(c["ra"], 4),
                    "Dec": round(c["dec"], 4),
                    "score": round(c["peak_score"], 4),
                    "nearest cluster": c.get("nearest_cluster", ""),
                    "sep (′)": round(c.get("separation_arcmin", np.nan), 1),
                    "label": lab.label if lab else "",
                }
            )
        return pd.DataFrame(rows, columns=["RA", "Dec", "score", "nearest cluster", "sep (′)", "label"])

    @param.depends("selected", "field")
    def cutouts_view(self):
        if not (0 <= self.selected < len(self.candidates)):
            return pn.pane.Markdown(
                "Compute a score map, then pick a candidate (click it on the map or in the table)."
            )
        c = self.candidates[self.selected]
        cuts = stack_cutout(self.clipped(), 64, (float(c["x"]), float(c["y"])), "native")
        panels = [
            pn.pane.HoloViews(
                hv.Image(
                    stretch_image(p, self.stretch, self.percentile)[::-1],
                    bounds=(0, 0, 64, 64),
                    kdims=["cx", "cy"],
                ).opts(
                    cmap=self.cmap, width=170, height=170, xaxis=None, yaxis=None, title=name, toolbar=None
                ),
                linked_axes=False,
                sizing_mode="fixed",
            )
            for p, name in zip(cuts, BAND_CHOICES[:4], strict=True)
        ]
        lab = self.labels.get(self.candidate_id(c))
        head = pn.pane.Markdown(
            f"**Candidate {self.selected + 1}/{len(self.candidates)}** — score {c['peak_score']:.3f} · "
            f"RA {c['ra']:.4f}° Dec {c['dec']:+.4f}° · nearest {c.get('nearest_cluster', '?')} "
            f"({c.get('separation_arcmin', float('nan')):.1f}′) · label: **{lab.label if lab else 'none'}**"
        )
        return pn.Column(head, pn.Row(*panels))

    # -- vetting ---------------------------------------------------------------------------------

    def label_selected(self, label: str) -> bool:
        if not (0 <= self.selected < len(self.candidates)):
            return False
        c = self.candidates[self.selected]
        self.labels.set(
            self.candidate_id(c), self.field, c["ra"], c["dec"], c["peak_score"], label, self.comment
        )
        self.comment = ""
        self.param.trigger("selected")
        return True

    def move(self, step: int):
        if self.candidates:
            self.selected = (self.selected + step) % len(self.candidates)

    def on_key(self, key: str):
        actions = {
            "h": lambda: self.label_selected("halo"),
            "n": lambda: self.label_selected("not halo"),
            "u": lambda: self.label_selected("unsure"),
            "j": lambda: self.move(1),
            "k": lambda: self.move(-1),
        }
        if key in actions:
            actions[key]()
            if key in "hnu":
                self.move(1)

    def export_bytes(self, suffix: str) -> io.BytesIO:
        with tempfile.TemporaryDirectory() as d:
            path = self.labels.export(Path(d) / f"labels{suffix}")
            return io.BytesIO(path.read_bytes())

    # -- layout ----------------------------------------------------------------------------------

    def __panel__(self):
        from .shortcuts import KeyboardShortcuts
        from .uploads import dropper

        upload = dropper(
            self.upload,
            lambda msg: self.show_error(f"Upload rejected — {msg}"),
            "Upload FITS (one file per band, or a cube)",
            multiple=True,
        )
        if pn.state.curdoc is not None:
            pn.state.on_session_destroyed(lambda ctx: self._forget_uploads())
        target = pn.widgets.TextInput(
            label="Fetch from SkyView (online)", placeholder="cluster name or RA, Dec (deg)"
        )
        fetch = pn.widgets.Button(label="Fetch GLEAM field")
        fetch.on_click(lambda e: self._safe(lambda: self.fetch(target.value)))
        compute = pn.widgets.Button(label="Compute score map", color="primary")
        cancel = pn.widgets.Button(label="Cancel", color="warning")
        compute.on_click(lambda e: self._safe(self.compute_scores))
        cancel.on_click(lambda e: self.cancel())
        table = pn.widgets.Tabulator(
            self.candidate_frame(),
            selectable=1,
            disabled=True,
            height=220,
            sizing_mode="stretch_width",
            show_index=False,
        )

        def refresh_table(*_):
            table.value = self.candidate_frame()
            table.selection = [self.selected] if self.selected >= 0 else []

        self.param.watch(refresh_table, ["selected", "field", "threshold"])
        table.param.watch(lambda e: e.new and setattr(self, "selected", e.new[0]), "selection")
        buttons = []
        for label, key in (("halo", "h"), ("not halo", "n"), ("unsure", "u")):
            b = pn.widgets.Button(label=f"{label} ({key})", color="light")
            b.on_click(lambda e, k=key: self.on_key(k))
            buttons.append(b)
        prev_b, next_b = pn.widgets.Button(label="◀ prev (k)"), pn.widgets.Button(label="next (j) ▶")
        prev_b.on_click(lambda e: self.move(-1))
        next_b.on_click(lambda e: self.move(1))
        keys = KeyboardShortcuts()
        keys.param.watch(lambda e: self.on_key(keys.key), "presses")
        downloads = [
            pn.widgets.FileDownload(
                callback=lambda s=s: self.export_bytes(s),
                filename=f"radioviz_labels{s}",
                label=f"Export {s[1:].upper()}",
            )
            for s in (".ecsv", ".csv", ".reg")
        ]
        controls = pn.Column(
            pn.Param(
                self.param,
                parameters=["data_dir", "field", "band", "stretch", "percentile", "cmap", "contour_sigma"],
                widgets={"percentile": pn.widgets.FloatSlider, "contour_sigma": pn.widgets.FloatSlider},
                show_name=False,
            ),
            upload,
            target,
            fetch,
            pn.pane.Markdown("#### Classifier"),
            pn.Param(
                self.param,
                parameters=["classifier", "stride", "threshold"],
                widgets={"threshold": pn.widgets.FloatSlider},
                show_name=False,
            ),
            pn.Row(compute, cancel),
            self.progress,
            width=300,
        )
        vetting = pn.Column(
            self.cutouts_view,
            pn.Row(*buttons, prev_b, next_b),
            pn.widgets.TextInput.from_param(self.param.comment, placeholder="comment for the next label"),
            keys,
            pn.Row(*downloads),
            pn.pane.Markdown(f"Labels are saved on every change to `{self.labels.path}`."),
            sizing_mode="stretch_width",
        )
        readout = pn.pane.Markdown(
            pn.bind(
                lambda r: r or "Move the cursor over the image for RA, Dec and value.", self.param.readout
            )
        )
        main = pn.Column(
            self._alert,
            self._status,
            pn.Row(self.field_plot(), pn.Column(table, vetting, sizing_mode="stretch_width")),
            readout,
            sizing_mode="stretch_width",
        )
        return pn.Row(controls, main, sizing_mode="stretch_width")

    def fetch(self, target: str) -> bool:
        """Fetch a GLEAM field through SkyView into a temporary folder and open it (online only)."""
        from ..io.skyview import fetch_gleam_field

        self._status.object = f"Fetching {target!r} from SkyView…"
        try:
            folder = fetch_gleam_field(target, Path(tempfile.mkdtemp(prefix="radioviz_skyview_")))
        except InputError as exc:
            self._status.object = ""
            self.show_error(str(exc))
            return False
        label = f"SkyView: {folder.name}"
        self._uploads[label] = str(folder)
        self.data_dir = label
        self._status.object = f"Fetched {folder.name} from SkyView."
        return True

    def _safe(self, fn):
        try:
            self.clear_error()
            return fn()
        except InputError as exc:
            self.show_error(str(exc))
        except Exception as exc:  # keep the server up; show what went wrong
            self.show_error(f"{type(exc).__name__}: {exc}")
