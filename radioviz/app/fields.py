"""The Fields view: open a field, see it on the sky (RA/Dec axes, colorbar in Jy/beam, beam,
scale bar, catalogue overlays) band by band, in RGB or blinking; scan it with a classifier in a
worker thread; vet the candidates from the keyboard into a label store shared by every session.
UI only: reading, scanning, candidates and labels all come from the library."""

from __future__ import annotations

import functools
import html
import io
import os
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import panel as pn
import param

from ..data.noise import estimate_noise
from ..data.preprocess import require_cutout_size, stack_cutout
from ..display import STRETCHES, stretch_image, stretch_limits, stretch_values
from ..errors import InputError
from ..io.catalogs import builtin_clusters, crossmatch, read_catalog, read_psz2
from ..io.layout import data_folders_below
from ..models.card import ModelCard
from ..scan.scoremap import ScoreMap, find_candidates, score_map
from ..scan.vetting import LabelSaveError, LabelStore, default_labels_path
from . import resources, sky
from .candidate_classes import MAP_LAYERS, class_colour, class_text
from .jobs import Job, Outcome, on_session
from .retrain import Retrainer
from .session_memory import folder_cached, owned_cache
from .sky_figure import SkyFigure, contour_paths, empty_image, image_at, rgba_image, set_data
from .state import AppSession

BANDS = ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"]
BAND_CHOICES = [*BANDS, "RGB"]
NEAREST_CLUSTER_ARCMIN = 30.0  # list a catalogue cluster beside a candidate only within this
CUT_SIZE = 64
CUT_PX = 185  # screen pixels a side of each band cut-out
SCAN_BATCH = 64  # windows per classifier call: small enough that Cancel acts within a second
PRECOMPUTE_CUTS = 300  # cut-outs made in the scan thread for the best candidates
AHEAD, BEHIND = 12, 4  # candidates whose cut-outs the browser holds, after and before the selected one
CATALOGUES = ["none", "built-in clusters", "PSZ2 (shared catalogs)", "PSZ2 (VizieR, online)", "uploaded file"]
SHARED_CATALOGS = resources.REPO.parent / "shared" / "data" / "catalogs"
NO_MATCH = "—"
MAX_SHOWN = 1024  # pixels a side sent to the browser for a big mosaic's viewport
NOT_SCANNED = "Not scanned yet — press Compute score map."
#: Share of the candidate table's width per column: every title whole in the ~650 px it gets
#: at 1700 px (measured in tests/test_browser_fields.py).
TABLE_WIDTHS = {
    "RA": "9%",
    "Dec": "10%",
    "score": "12%",
    "class": "11%",
    "nearest cluster": "15%",
    "sep (′)": "10%",
    "label": "11%",
    "by": "10%",
    "comment": "12%",
}
#: Short column titles (the full names stay in the frame and the exports), each explained in
#: its header's tooltip: "score", "nearest…" and "lab…" were cut off in a 1700 px window.
TABLE_TITLES = {"nearest cluster": "nearest", "sep (′)": "sep′", "comment": "note"}
TABLE_TOOLTIPS = {
    "RA": "Right ascension of the candidate's peak (deg)",
    "Dec": "Declination of the candidate's peak (deg)",
    "score": "Peak halo score of the candidate region",
    "class": "A class detector's most probable class at the peak (halo, mini-halo, relic, radio galaxy) "
    "and its probability; empty for a model without classes",
    "nearest cluster": "Nearest catalogued cluster",
    "sep (′)": "Separation from the nearest cluster (arcmin)",
    "label": "Your label: halo, not halo or unsure",
    "by": "Who labelled it",
    "comment": "Your comment (click to edit)",
}


def _cv_auc_block(card: ModelCard) -> tuple[dict | None, str]:
    """The card's stored cross-validated ROC AUC ({mean, std}) and how it was measured.  A
    classifier card keeps it under ``metrics.cv.per_source`` (or ``per_image``); the detector's
    card keeps the CV table of every model under ``metrics.cv.<model>``, its own as ``detector``."""
    cv = (card.metrics or {}).get("cv") or {}
    if isinstance(cv.get("detector"), dict):
        cv, scope = cv["detector"], "per source"
        auc = cv.get("roc_auc")
    else:
        scope = "per source" if cv.get("per_source") else "per image"
        auc = (cv.get("per_source") or cv.get("per_image") or {}).get("roc_auc") or cv.get("roc_auc")
    if not (isinstance(auc, dict) and "mean" in auc):
        return None, ""
    seeds = cv.get("seeds")
    runs = f"{cv.get('k', '?')}-fold" + (f" × {seeds} seeds" if isinstance(seeds, int) and seeds > 1 else "")
    return auc, f"{runs}, {scope}"


def model_summary(card: ModelCard) -> str:
    """Cross-validated figures of a model card, one line for the picker (read from the card)."""
    auc, how = _cv_auc_block(card)
    if auc is None:
        return "not cross-validated"
    return f"CV AUC {auc['mean']:.2f} ± {auc.get('std', float('nan')):.2f} ({how})"


def _cv_auc(card: ModelCard) -> float:
    auc, _ = _cv_auc_block(card)
    return float(auc["mean"]) if auc is not None else float("nan")


def default_model(cards: dict[str, ModelCard]) -> str | None:
    """The segmenter when shipped (a fully convolutional map in seconds); otherwise the
    classifier with the best cross-validated AUC.  A model without CV figures is never the
    default (classifier A: unvalidated, and 103–176 s a field)."""
    if "segmenter.safetensors" in cards:
        return "segmenter.safetensors"
    validated = {n: _cv_auc(c) for n, c in cards.items() if np.isfinite(_cv_auc(c))}
    if validated:
        return max(validated, key=lambda n: (validated[n], n))
    return sorted(cards)[0] if cards else None


def scoring_cards() -> dict[str, ModelCard]:
    cards = resources.classifier_cards()
    cards.update({n: c for n, c in resources.checkpoint_cards().items() if c.kind == "segmenter"})
    return cards


def _catalogue(choice: str, path: str = "") -> object:
    """The chosen catalogue: an uploaded file's is cached with its upload (freed with it), the
    others once per process."""
    if choice == "uploaded file":
        owned = owned_cache(Path(path).parent)
        return owned.get(("catalogue", path), lambda: read_catalog(path)) if owned else read_catalog(path)
    return _shared_catalogue(choice)


@functools.lru_cache(maxsize=8)
def _shared_catalogue(choice: str) -> object:
    if choice == "built-in clusters":
        return builtin_clusters()
    if choice == "PSZ2 (shared catalogs)":
        root = Path(os.environ.get("RADIOVIZ_CATALOGS", SHARED_CATALOGS))
        return read_psz2(root / "psz2.dat.txt", root / "ReadMe.txt")
    if choice == "PSZ2 (VizieR, online)":
        return _vizier_psz2()
    return None


#: Offline, every field change would wait for VizieR's 30 s timeout again: a failure is
#: remembered this long (seconds) and its message repeated at once.
VIZIER_RETRY_S = 300.0
_vizier_failure: dict = {}


def _vizier_psz2():
    from ..io.catalogs import fetch_psz2

    at = _vizier_failure.get("at")
    if at is not None and time.monotonic() - at < VIZIER_RETRY_S:
        raise _vizier_failure["error"]
    try:
        return fetch_psz2()
    except InputError as exc:
        _vizier_failure.update(at=time.monotonic(), error=exc)
        raise


NO_CATALOGUE_FILE = (
    "No catalogue file uploaded yet: drop an ECSV, CSV, VOTable or FITS table in the catalogue box "
    "below, or pick another catalogue."
)


def _catalogue_message(choice: str, exc: InputError, path: str) -> str:
    """A catalogue that cannot be read, in the app's terms: no CLI flag, no temporary path."""
    if choice == "PSZ2 (VizieR, online)":
        reason = str(exc).split(";")[0].strip()
        return (
            f"PSZ2 from VizieR is unavailable here ({reason}). Pick “PSZ2 (shared catalogs)” or "
            "“built-in clusters” in the catalogue list, or upload a catalogue file below."
        )
    if choice == "uploaded file" and path:
        return "Catalogue rejected — " + resources.public_message(str(exc), {str(Path(path).parent): ""})
    return str(exc)


def _fits_below_hint(folder: str) -> str:
    """Where FITS lie below a folder with none directly in it (a data root such as
    ``shared/data``, whose fields are in sub-folders), as the end of the "no FITS" message."""
    found = sorted(data_folders_below(folder), key=lambda fn: -fn[1])
    if not found:
        return " (nothing to show)"
    where = ", ".join(f"{n} under {sub.relative_to(folder)}" for sub, n in found[:3])
    more = f" and {len(found) - 3} more folders" if len(found) > 3 else ""
    return (
        f"; found {where}{more} — type one of these in the folder box "
        "(or start the app with RADIOVIZ_DATA pointing there)"
    )


def _first_fields_folder() -> str:
    """Under a data root: the folder below it holding the most fields (shown relative to the root),
    so the first screen is a field, not an error; the root itself ('.') when none holds any."""
    root = resources.data_root()
    found = sorted(data_folders_below(root), key=lambda fn: (-fn[1], str(fn[0]))) if root else []
    return resources.shown_path(found[0][0]) if found else "."


class FieldsView(pn.viewable.Viewer):
    """One browser session's state for the Fields tab."""

    data_dir = param.String(
        default=str(resources.SAMPLE_DATA), doc="Folder of FITS files or a <SPLIT>_DATA_<class> root"
    )
    field = param.Selector(default=None, objects=[], check_on_set=True, allow_None=True, doc="Field to show")
    band = param.Selector(
        default="170-231MHz", objects=BAND_CHOICES, doc="One band, or RGB of the three below"
    )
    red = param.Selector(default="72-103MHz", objects=BANDS, label="RGB red")
    green = param.Selector(default="139-170MHz", objects=BANDS, label="RGB green")
    blue = param.Selector(default="170-231MHz", objects=BANDS, label="RGB blue")
    blink = param.Boolean(default=False, doc="Cycle through the four bands")
    stretch = param.Selector(default="asinh", objects=list(STRETCHES))
    percentile = param.Number(default=99.5, bounds=(90, 100), step=0.1)
    cmap = param.Selector(default="inferno", objects=["inferno", "viridis", "gray", "magma", "cividis"])
    contour_sigma = param.Number(
        default=0.0, bounds=(0, 50), step=1, doc="Contours at k×σ, 2k×σ, 4k×σ (0 = off)"
    )
    catalogue = param.Selector(default="built-in clusters", objects=CATALOGUES, doc="Overlay on the map")
    classifier = param.Selector(default=None, objects=[], doc="Model for the score map, with its CV figures")
    stride = param.Integer(
        default=4, bounds=(1, 64), doc="Pixels between windows (the Survey's first pass: 16)"
    )
    score_layer = param.Selector(
        default="halo",
        objects=list(MAP_LAYERS),
        label="Map",
        doc="A class detector's halo probability, or its probability of any extended emission (halo, "
        "mini-halo, relic or radio galaxy); a model without classes has one map",
    )
    threshold = param.Number(
        default=0.95,
        bounds=(0.0, 1.0),
        step=0.01,
        doc="Candidates are the connected regions of the score map above this: lowering it can merge "
        "neighbouring regions into one (fewer, larger candidates)",
    )
    selected = param.Integer(default=-1, doc="Index of the selected candidate")
    comment = param.String(default="")
    labeller = param.String(default="", doc="Your name, saved with each label")
    message = param.String(default="")
    readout = param.String(default="")
    scan_version = param.Integer(default=0, precedence=-1)

    def __init__(self, labels_path: str | Path | None = None, app: AppSession | None = None, **params):
        self.app = app if app is not None else AppSession()
        params.setdefault("labeller", self.app.labeller or _default_labeller())
        if resources.data_root() is not None:  # served with a data root: show paths inside it
            params["data_dir"] = (
                resources.shown_path(params["data_dir"]) if "data_dir" in params else _first_fields_folder()
            )
        self._dir = None  # the folder last opened (a resolved server path, never shown)
        self._opened: tuple[str | None, str | None] = (None, None)  # (folder, field) open_field showed
        self._uploads = self.app.uploads  # shown label -> temporary folder of an upload or fetch
        super().__init__(**params)
        self.session = self.app.id
        self._guest = self.app.guest  # who a label is by while the Labeller box is empty
        self._alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self._alert_cause = ""  # what the alert is about ("catalogue"): it goes when that is fixed
        self._status = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width")
        self._scan_job = Job(f"scan-{self.session}")  # the score map, computed off the event loop
        self._cancel = self._scan_job.cancelled  # set by a new field or model too: the scan is stale
        self.scoremap: ScoreMap | None = None
        self._scan_meta: dict = {}
        self.candidates: list[dict] = []
        self._cuts: dict[tuple[int, int], np.ndarray] = {}
        self._latest: dict = {}
        self._table: pn.widgets.Tabulator | None = None
        self._syncing = False
        self._blink_cb = None
        self._catalog_path = ""
        self._catalog_tmp: tempfile.TemporaryDirectory | None = None
        from bokeh.models import ColumnDataSource, LinearColorMapper

        from .shortcuts import Vetter

        tag = self.session
        # drawn in the browser from the cache (see shortcuts.Vetter); the server never sets them
        self._cut_srcs = [ColumnDataSource(_empty_cut(), name=f"rv-cut-{b}-{tag}") for b in range(len(BANDS))]
        self._cache = ColumnDataSource(_cache_data([], [], []), name=f"rv-cache-{tag}")
        self._sent: set[int] = set()  # rows of the cache holding cut-outs in the browser
        self._vet_lock = threading.RLock()
        self._late_comment: str | None = None  # saved with a label key; its box update may follow
        self._cut_mapper = LinearColorMapper(palette=_palette(self.cmap), low=0, high=1)
        self.sky = SkyFigure(_palette(self.cmap))
        self.sky.candidates.name, self.sky.selected.name = f"rv-cands-{tag}", f"rv-marker-{tag}"
        self.vetter = Vetter(on_label=self._label_from_client, tag=tag, sizing_mode="stretch_width")
        self.vetter.param.watch(self._index_from_client, "index")
        self._axes: dict | None = None
        self._view: tuple[float, float, float, float] | None = None  # a big mosaic's viewport
        self._events = False
        self._beam_desc = ""
        doc = pn.state.curdoc  # a store busy now is retried in a thread: its labels appear here
        if self.app.labels is None:
            self.app.labels = LabelStore(
                labels_path or default_labels_path(),
                self._labeller(),
                self.session,
                on_ready=lambda: on_session(self._labels_ready, doc=doc),
            )
        self.labels = self.app.labels
        self.app.labeller = self.labeller
        self.app.param.watch(self._open_handoff, "handoff")
        self.retrainer = Retrainer()
        self._list_models()
        self.classifier = default_model(self._cards)
        self._load_folder()
        if self.labels.notice:
            self.show_error(self.labels.notice, cause="labels")

    def _list_models(self) -> None:
        cards = scoring_cards()
        self._cards = cards
        self.param.classifier.objects = {f"{n} — {model_summary(c)}": n for n, c in sorted(cards.items())}

    # -- learning from the labels -------------------------------------------------------------------

    def retrain(self) -> None:
        """Fine-tune the chosen detector on the label store's labels of this folder's fields (in the
        background); the new model is then chosen and the field scored again."""
        doc = pn.state.curdoc
        self.retrainer.start(
            self._root(),
            self.classifier,
            self.labels,
            hand_back=lambda fn, args: on_session(partial(fn, *args), doc=doc),
            on_done=self._retrained,
        )

    def _retrained(self, name: str, card: dict) -> None:
        self._list_models()
        self.classifier = name
        if self.field:
            self.start_scan()

    # -- data ------------------------------------------------------------------------------------

    def _root(self) -> str:
        return self._dir

    @param.depends("data_dir", watch=True)
    def _load_folder(self):
        try:
            folder = self.app.resolve(self.data_dir)
            srcs = resources.sources(folder)
        except InputError as exc:
            self.show_error(str(exc))
            return
        self._dir = folder
        names = sorted(s.name for s in srcs)
        if not names:
            self.param.field.objects = []
            self.field = None
            self._status.object = ""
            self.show_error(f"{self.data_dir}: no FITS images in this folder{_fits_below_hint(folder)}")
            return
        self.clear_error()
        self.param.field.objects = names  # the field picker may already open names[0] here
        if self.field not in names:
            self.field = names[0]
        elif self._opened != (folder, self.field):
            self.param.trigger("field")

    @param.depends("field", watch=True)
    def _new_field(self):
        self.open_field(self._root(), self.field)

    def open_field(self, root: str, name: str | None) -> None:
        """The one entry point that makes a field current (folder box, upload, SkyView, surveys)."""
        self._cancel.set()
        self._opened = (root, name)
        self.scoremap, self.candidates, self._cuts, self._scan_meta = None, [], {}, {}
        self._status.object = NOT_SCANNED if name else ""
        self._axes = None
        if name:
            try:
                plane, wcs = resources.display_plane(root, name, 3)
                self._axes = sky.sky_axes(wcs, plane.shape)
            except InputError as exc:
                self.show_error(str(exc))
            except Exception as exc:  # keep the page up; say what went wrong
                self.show_error(f"{name}: cannot show this field ({type(exc).__name__}: {exc})")
        try:
            self._draw_field()
        except InputError as exc:
            self.show_error(str(exc))
        except Exception as exc:  # keep the page up; say what went wrong
            self.show_error(f"{name}: cannot show this field ({type(exc).__name__}: {exc})")
        self._set_candidates([])  # table, markers, cut-outs, cache and counts of the new field
        # the other tabs see the folder and field together, once the field is shown
        self.app.param.update(data_dir=self.data_dir, folder=root, field=name)

    def clipped(self):
        return resources.clipped_field(self._root(), self.field)

    def show_error(self, text: str, cause: str = ""):
        """Show ``text`` in the alert; ``cause`` names what it is about (e.g. "catalogue"), so the
        alert goes once that cause is gone (``clear_error(cause)``)."""
        shown = {getattr(d, "name", d): label for label, d in self._uploads.items()}
        text = resources.public_message(text, shown)
        self._alert.object = text
        self._alert.visible = True
        self.message = text
        self._alert_cause = cause

    def clear_error(self, cause: str | None = None):
        """Hide the alert (only when it is about ``cause``, if one is given)."""
        if cause is not None and cause != getattr(self, "_alert_cause", ""):
            return
        self._alert.visible = False
        self.message = ""
        self._alert_cause = ""

    def upload(self, filenames: list[str], contents: list[bytes]) -> bool:
        """Open uploaded FITS (one file per band, or a cube) as the current folder.  Sizes are
        checked before decoding; the temporary folder goes when refused, replaced or the
        session ends."""
        tmp = resources.UploadFolder("fields")  # its field is cached with it, freed with it
        d = tmp.name
        try:
            resources.check_upload(filenames, contents, tmp)
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
        self.app.forget_uploads()

    def _session_ended(self):
        """The page is gone: stop a scan and the blink timer, remove uploaded folders."""
        self._cancel.set()
        self.blink = False
        self._forget_uploads()
        self._forget_catalogue()

    def _cut_mapper_palette(self):
        mapper, palette = self._cut_mapper, _palette(self.cmap)
        on_session(lambda: setattr(mapper, "palette", palette), mapper)

    def _forget_catalogue(self):
        if self._catalog_tmp is not None:
            self._catalog_tmp.cleanup()
            self._catalog_tmp = None

    # -- display ---------------------------------------------------------------------------------

    def _band_index(self) -> int:
        return 3 if self.band == "RGB" else BANDS.index(self.band)

    def _bounds(self):
        plane, _ = resources.display_plane(self._root(), self.field, 3)
        ny, nx = plane.shape
        return (0, 0, nx, ny)

    def _big(self) -> bool:
        return bool(self.field) and resources.is_big(self._root(), self.field)

    def image_data(self, view: tuple[float, float, float, float] | None = None) -> dict:
        """The band as the image source's data: display levels, Jy/beam, RA and Dec per pixel
        (for the hover).  A big mosaic sends only the viewport ``view`` (x0, x1, y0, y1; all of it
        when None), decimated to at most ``MAX_SHOWN`` pixels a side."""
        if not self.field:
            return empty_image()
        plane, _ = resources.display_plane(self._root(), self.field, self._band_index())
        ny, nx = plane.shape
        if not resources.is_big(self._root(), self.field):
            level = stretch_image(plane, self.stretch, self.percentile)
            ra, dec = _sky_grid(self._root(), self.field, self._band_index())
            return {
                "level": [level],
                "flux": [np.nan_to_num(plane)],
                "ra": [ra],
                "dec": [dec],
                **image_at(0, 0, nx, ny),
            }
        x0, x1, y0, y1 = view or (0, nx, 0, ny)
        x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        x1, y1 = min(nx, int(np.ceil(x1))), min(ny, int(np.ceil(y1)))
        if x1 <= x0 or y1 <= y0:
            return empty_image()
        step = max(1, int(np.ceil(max(x1 - x0, y1 - y0) / MAX_SHOWN)))
        part = plane[y0:y1:step, x0:x1:step]
        vmin, vmax = _big_limits(self._root(), self.field, self._band_index(), self.percentile)
        nan = np.full_like(part, np.nan, dtype=np.float32)
        return {
            "level": [stretch_values(part, self.stretch, vmin, vmax).astype(np.float32)],
            "flux": [np.nan_to_num(part)],
            "ra": [nan],
            "dec": [nan],
            **image_at(x0, y0, part.shape[1] * step, part.shape[0] * step),
        }

    def rgb_data(self) -> dict | None:
        """Three chosen bands on the reference grid as one RGBA image; None when one band is shown
        (or for a big mosaic, whose bands are not co-registered for display)."""
        if not self.field or self.band != "RGB":
            return None
        if resources.is_big(self._root(), self.field):
            self.show_error(
                f"{self.field}: RGB needs the bands co-registered, which is not offered above "
                f"{resources.BIG_FIELD_PIXELS} pixels a band; pick one band"
            )
            return None
        planes = resources.display_planes(self._root(), self.field)
        chans = [
            stretch_image(planes[BANDS.index(b)], self.stretch, self.percentile)
            for b in (self.red, self.green, self.blue)
        ]
        ny, nx = chans[0].shape
        return {"image": [rgba_image(chans)], **image_at(0, 0, nx, ny)}

    def contour_data(self) -> dict:
        """Contours at k, 2k, 4k, 8k × σ of the shown band (none when off, in RGB or on mosaics)."""
        if not self.field or self.contour_sigma <= 0 or self.band == "RGB" or self._big():
            return {"xs": [], "ys": []}
        plane = resources.display_plane(self._root(), self.field, self._band_index())[0]
        sigma = estimate_noise(plane).sigma or 1.0
        return contour_paths(plane, [self.contour_sigma * sigma * f for f in (1, 2, 4, 8)])

    def score_data(self) -> dict:
        """The score map above the threshold as one image (0 at the threshold, 1 at a score of 1;
        NaN, i.e. transparent, below), placed on the field's pixel grid."""
        smap = self.scoremap
        if smap is None:
            return _empty_score()
        s, st, thr = smap.scores, smap.stride, self.threshold
        ny, nx = s.shape
        level = np.where(s >= thr, (s - thr) / max(1.0 - thr, 1e-6), np.nan).astype(np.float32)
        return {"image": [level], **image_at(0.5 - st / 2, 0.5 - st / 2, st * nx, st * ny)}

    def candidate_data(self) -> dict:
        """Candidate markers: pixel centres, score and 1-based number (for the hover)."""
        cs = self.candidates
        return {
            "x": [c["x"] + 0.5 for c in cs],
            "y": [c["y"] + 0.5 for c in cs],
            "score": [float(c["peak_score"]) for c in cs],
            "candidate": list(range(1, len(cs) + 1)),
            "colour": [class_colour(c) for c in cs],
            "kind": [class_text(c) or "—" for c in cs],
        }

    def _draw_overlay(self) -> None:
        """Redraw the score map and candidate circles by replacing their sources' data."""
        set_data(self.sky.score, self.score_data())
        set_data(self.sky.candidates, self.candidate_data())

    def catalog_data(self) -> dict:
        """The chosen catalogue's objects inside the field, in plot pixels, with names for the hover."""
        empty = {"x": [], "y": [], "name": [], "ra": [], "dec": []}
        if self.catalogue == "none":
            self.clear_error("catalogue")
            return empty
        if self.catalogue == "uploaded file" and not self._catalog_path:
            self.show_error(NO_CATALOGUE_FILE, cause="catalogue")
            return empty
        try:
            table = _catalogue(self.catalogue, self._catalog_path)
        except InputError as exc:
            self.show_error(_catalogue_message(self.catalogue, exc, self._catalog_path), cause="catalogue")
            return empty
        self.clear_error("catalogue")
        if table is None or not self.field:
            return empty
        plane, wcs = resources.display_plane(self._root(), self.field, 3)
        t = sky.catalog_in_field(table, wcs, plane.shape)
        return {c: np.asarray(t[c]).tolist() for c in ("x", "y", "name", "ra", "dec")}

    def _draw_furniture(self, plane, wcs) -> None:
        """Beam ellipse (lower left) and scale bar (lower right) of the current field."""
        im = self.clipped().stack.images[-1]
        beam, bar, text, self._beam_desc = sky.beam_and_scalebar(wcs, plane.shape, im.header, im.band)
        set_data(self.sky.beam, beam)
        set_data(self.sky.bar, bar)
        set_data(self.sky.bar_text, text)

    @param.depends("band", "stretch", "percentile", "red", "green", "blue", watch=True)
    def _draw_image(self) -> None:
        if not self.field:
            self.sky.set_image(empty_image(), None)
            return
        try:
            plane, _ = resources.display_plane(self._root(), self.field, self._band_index())
            rgb = self.rgb_data()
            cbar = sky.colorbar_opts(plane, self.stretch, self.percentile)
            self.sky.set_image(self.image_data(self._view if self._big() else None), cbar, rgb)
        except InputError as exc:
            self.show_error(str(exc))
        self._draw_contours()

    @param.depends("contour_sigma", watch=True)
    def _draw_contours(self) -> None:
        set_data(self.sky.contours, self.contour_data())

    @param.depends("catalogue", watch=True)
    def _draw_catalogue(self) -> None:
        set_data(self.sky.catalogue, self.catalog_data())

    @param.depends("cmap", watch=True)
    def _draw_palette(self) -> None:
        self.sky.set_palette(_palette(self.cmap))
        self._cut_mapper_palette()

    def _draw_field(self) -> None:
        """Everything on the sky plot for a newly opened field (or none)."""
        self._view = None
        if self.field and self._axes is not None:
            plane, wcs = resources.display_plane(self._root(), self.field, 3)
            self.sky.set_field(plane.shape, self._axes)
            self._draw_furniture(plane, wcs)
        self._draw_image()
        self._draw_catalogue()

    def _on_pointer(self, x, y):
        if x is None or not self.field:
            return
        b = self._band_index()
        plane, wcs = resources.display_plane(self._root(), self.field, b)
        ny, nx = plane.shape
        if not (0 <= x < nx and 0 <= y < ny):
            self.readout = ""
            return
        sky_pos = wcs.pixel_to_world(x - 0.5, y - 0.5)
        value = plane[int(y), int(x)]
        self.readout = (
            f"RA {sky_pos.ra.to_string('hourangle', sep='hms', precision=1)} "
            f"Dec {sky_pos.dec.to_string(sep='dms', precision=0, alwayssign=True)} "
            f"({sky_pos.ra.deg:.4f}°, {sky_pos.dec.deg:+.4f}°)  {BANDS[b]}: {value * 1e3:.1f} mJy/beam"
        )

    def _on_tap(self, x, y):
        if x is None or not self.candidates:
            return
        d = [(c["x"] + 0.5 - x) ** 2 + (c["y"] + 0.5 - y) ** 2 for c in self.candidates]
        k = int(np.argmin(d))
        if d[k] <= (3 * self.stride + 6) ** 2:
            self.selected = k

    def _on_ranges(self, event) -> None:
        """Pan/zoom on a big mosaic: send the viewport's pixels, decimated to the screen."""
        self._view = (event.x0, event.x1, event.y0, event.y1)
        if self._big() and self.band != "RGB":
            self.sky.set_image(self.image_data(self._view), sky.colorbar_opts(*self._cbar_args()))

    def _cbar_args(self):
        plane, _ = resources.display_plane(self._root(), self.field, self._band_index())
        return plane, self.stretch, self.percentile

    def field_plot(self):
        """The sky plot: one Bokeh figure (see ``sky_figure``); clicks select the nearest candidate,
        the pointer's position feeds the readout, pan/zoom on a mosaic fetches its viewport."""
        from bokeh.events import MouseMove, RangesUpdate, Tap

        fig = self.sky.fig
        if not self._events:
            fig.on_event(MouseMove, lambda e: self._safe(lambda: self._on_pointer(e.x, e.y)))
            fig.on_event(Tap, lambda e: self._safe(lambda: self._on_tap(e.x, e.y)))
            fig.on_event(RangesUpdate, lambda e: self._safe(lambda: self._on_ranges(e)))
            self._events = True
        return pn.pane.Bokeh(fig, sizing_mode="fixed")

    def _blink_step(self):
        order = BANDS
        k = order.index(self.band) if self.band in order else -1
        self.band = order[(k + 1) % len(order)]

    @param.depends("blink", watch=True)
    def _toggle_blink(self):
        if self.blink and self._blink_cb is None and pn.state.curdoc is not None:
            self._blink_cb = pn.state.add_periodic_callback(self._blink_step, period=900)
        elif not self.blink and self._blink_cb is not None:
            self._blink_cb.stop()
            self._blink_cb = None

    # -- scoring and candidates -------------------------------------------------------------------

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

    def _scan_args(self):
        if not self.classifier:
            raise InputError("checkpoints/", "no classifier checkpoint found")
        if not self.field:
            raise InputError(self.data_dir, "no field is open")
        return self._root(), self.field, self.classifier, self.stride, self.threshold

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
        self.vetter.scroll_top += 1
        self._status.object = (
            f"Score map: {self._scan_extent(name, smap)} in {seconds:.1f} s, max score "
            f"{np.nanmax(smap.scores):.3f}; {len(self.candidates)} candidate(s) ≥ {self.threshold:.2f}"
        )

    def _scan_extent(self, name: str, smap: ScoreMap) -> str:
        """What a scan covered: the detector makes one pass over the field; L, A and D classify
        one window per stride step."""
        card = self._cards.get(name)
        if card is not None and card.arch == "segmenter":
            ny, nx = smap.ref_shape
            return f"one pass over {nx}×{ny} px"
        return f"{smap.scores.size} windows"

    def cancel(self):
        self._cancel.set()

    def show_scoremap(self, folder: str, field: str, smap: ScoreMap, classifier: str = "survey score map"):
        """Open ``field`` from ``folder`` with a precomputed score map (e.g. a survey's) to vet;
        ``classifier`` (the checkpoint that made it) goes into every label and export."""
        self.data_dir, self.field = folder, field
        self._cancel.set()  # a scan still running for this view is superseded
        self.stride = smap.stride  # the sidebar shows how the map was made (walk: it kept its own)
        self.scoremap, self._cuts = smap, {}
        self._scan_meta = {"classifier": classifier, "stride": smap.stride}
        self._update_candidates()

    def _open_handoff(self, event) -> None:
        """Another tab asked for a field with its score map (``AppSession.open_scoremap``)."""
        h = event.new
        if h is None:
            return
        self.threshold = h.threshold
        self.show_scoremap(self.app.shown(h.folder), h.field, h.scoremap, h.classifier)
        if h.at is not None:
            at = (int(h.at[0]), int(h.at[1]))
            self.selected = next((i for i, c in enumerate(self.candidates) if (c["x"], c["y"]) == at), 0)

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
        self._status.object = note

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
                self.param.update(scan_version=self.scan_version + 1, selected=0 if cands else -1)
            finally:
                self._syncing = False
            self._refresh_table()
            self.param.trigger("selected")

    def candidate_id(self, c: dict) -> str:
        return f"{self.field}@{c['x']},{c['y']}"

    def _row(self, c: dict) -> dict:
        lab = self._latest.get(self.candidate_id(c))
        near = c.get("nearest_cluster") or ""
        return {
            "RA": round(c["ra"], 4),
            "Dec": round(c["dec"], 4),
            "score": round(c["peak_score"], 4),
            "class": class_text(c),
            "nearest cluster": near or NO_MATCH,
            "sep (′)": f"{c['separation_arcmin']:.1f}" if near else NO_MATCH,
            "label": lab.label if lab else "",
            "by": lab.labeller if lab else "",
            "comment": lab.comment if lab else "",
        }

    def candidate_frame(self) -> pd.DataFrame:
        cols = ["RA", "Dec", "score", "class", "nearest cluster", "sep (′)", "label", "by", "comment"]
        return pd.DataFrame([self._row(c) for c in self.candidates], columns=cols)

    def vetted_count(self) -> int:
        return sum(self.candidate_id(c) in self._latest for c in self.candidates)

    def progress_text(self) -> str:
        return f"{self.vetted_count()} of {len(self.candidates)} vetted"

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
        lab = self._latest.get(self.candidate_id(c))
        if lab is None:
            self.comment = str(event.value)
            self._status.object = "Comment kept for this candidate's label (not yet labelled)."
            return
        self.selected = event.row
        self.comment = str(event.value)
        self.label_selected(lab.label, advance=False)

    # -- cut-outs --------------------------------------------------------------------------------

    def cut_for(self, c: dict) -> np.ndarray:
        key = (c["x"], c["y"])
        if key not in self._cuts:
            self._cuts[key] = stack_cutout(self.clipped(), CUT_SIZE, (float(c["x"]), float(c["y"])), "native")
        return self._cuts[key]

    def cutout_plots(self):
        """Four band cut-outs as plain Bokeh figures with shared (linked) pan/zoom; the browser
        swaps their images from the cache on a key press (see ``shortcuts.Vetter``), and says so
        when no candidate is selected rather than drawing a flat square."""
        from bokeh.models import HoverTool, Label
        from bokeh.plotting import figure

        if getattr(self, "_cut_figs", None) is None:
            mapper, tag = self._cut_mapper, self.session
            figs, xr, yr = [], None, None
            for b, (band, src) in enumerate(zip(BANDS, self._cut_srcs, strict=True)):
                f = figure(
                    width=CUT_PX,
                    height=CUT_PX,
                    title=band,
                    tools="pan,wheel_zoom,reset",
                    x_range=xr or (0, CUT_SIZE),
                    y_range=yr or (0, CUT_SIZE),
                    active_scroll="wheel_zoom",
                    toolbar_location=None,
                    min_border=2,
                )
                xr, yr = f.x_range, f.y_range
                f.image(image="level", x=0, y=0, dw=CUT_SIZE, dh=CUT_SIZE, source=src, color_mapper=mapper)
                f.add_tools(HoverTool(tooltips=[("value", "@flux{0.0000} Jy/beam")]))
                f.add_layout(
                    Label(
                        x=CUT_SIZE / 2,
                        y=CUT_SIZE / 2,
                        text="no candidate selected",
                        text_align="center",
                        text_baseline="middle",
                        text_font_size="10pt",
                        text_color="#666666",
                        name=f"rv-cutnote-{b}-{tag}",
                    )
                )
                f.axis.visible = False
                f.grid.visible = False
                figs.append(f)
            figs[0].tags = [self._cache]  # the cache travels to the page with the first cut-out
            self._cut_figs = figs
        side = 2 * (CUT_PX + 10)  # two fixed figures a row, each with Panel's 5 px margins
        return pn.GridBox(
            *[pn.pane.Bokeh(f, sizing_mode="fixed") for f in self._cut_figs],
            ncols=2,
            width=side,
            height=side,
            sizing_mode="fixed",
        )

    @param.depends("selected", watch=True)
    def _show_selected(self):
        """The server moved the selection (a button, a click on the map, a new list): the browser
        draws it (see ``shortcuts.Vetter``) from the cache, topped up around it here."""
        with self._vet_lock:
            self.vetter.index = self.selected
            self.vetter.heard = self.selected
        self._prefetch()

    def _index_from_client(self, event) -> None:
        """The browser has drawn a new candidate (a key or a click on a row): record it, send
        the cut-outs ahead of it; nothing is sent back to redraw."""
        with self._vet_lock:
            k = self.vetter.index  # the latest, should two moves be handled at once
            if k != self.selected and 0 <= k < len(self.candidates):
                self.selected = k
            self.vetter.heard = self.selected

    def _window(self, k: int) -> set[int]:
        n = len(self.candidates)
        if not n:
            return set()
        k = max(k, 0)
        return {(k + d) % n for d in range(-min(BEHIND, n), min(AHEAD, n) + 1)}

    def _cache_rows(self, rows) -> dict:
        """Cut-out columns (display levels and Jy/beam per band) of the cache ``rows``."""
        out = {f"{col}{b}": [] for col in ("level", "flux") for b in range(len(BANDS))}
        for i in rows:
            for b, raw in enumerate(self.cut_for(self.candidates[i])):
                vmin, vmax = stretch_limits(raw, self.percentile)
                out[f"level{b}"].append(stretch_values(raw, self.stretch, vmin, vmax).astype(np.float32))
                out[f"flux{b}"].append(np.nan_to_num(raw).astype(np.float32))
        return out

    @param.depends("scan_version", watch=True)
    def _new_version(self) -> None:
        self.vetter.version = self.scan_version

    @param.depends("stretch", "percentile", watch=True)
    def _build_cache(self, selected: int | None = None) -> None:
        """Every candidate's header text and label, and the cut-outs of those around the selected
        one (``selected``, else the current), as the browser's cache: sent once per candidate
        list, stretch or percentile."""
        with self._vet_lock:
            cands = self.candidates
            rows = sorted(self._window(self.selected if selected is None else selected))
            cuts = self._cache_rows(rows)
            data = _cache_data(
                [self._info_html(c) for c in cands], [self._mark_html(c) for c in cands], rows, cuts
            )
            self._sent = set(rows)
        set_data(self._cache, data)

    def _prefetch(self) -> None:
        """Send the cut-outs of the candidates now near the selected one; forget those far away."""
        with self._vet_lock:
            want = self._window(self.selected)
            add, drop = sorted(want - self._sent), sorted(self._sent - want)
            if not add and not drop:
                return
            cuts = self._cache_rows(add)
            z = np.zeros((1, 1), np.float32)
            patch = {name: [(i, v) for i, v in zip(add, vals, strict=True)] for name, vals in cuts.items()}
            for name in cuts:
                patch[name] += [(i, z) for i in drop]
            patch["ready"] = [(i, 1) for i in add] + [(i, 0) for i in drop]
            self._sent = want
        cache = self._cache
        on_session(lambda: cache.patch(patch), cache)

    def _info_html(self, c: dict) -> str:
        near = c.get("nearest_cluster") or ""
        match = f"nearest {near} ({c['separation_arcmin']:.1f}′)" if near else f"nearest cluster {NO_MATCH}"
        kind = f" · {class_text(c)}" if c.get("class") else ""
        return html.escape(
            f"score {c['peak_score']:.3f}{kind} · RA {c['ra']:.4f}° Dec {c['dec']:+.4f}° · {match}"
        )

    def _mark_html(self, c: dict) -> str:
        lab = self._latest.get(self.candidate_id(c))
        return f"<b>{html.escape(lab.label)}</b> by {html.escape(lab.labeller or '?')}" if lab else ""

    def _draw_marks(self) -> None:
        """Re-send the labels column of the cache (after the store was re-read)."""
        marks = [self._mark_html(c) for c in self.candidates]
        cache = self._cache
        if len(marks) == len(cache.data.get("mark", [])):
            on_session(lambda: cache.data.update(mark=marks), cache)

    def header_text(self) -> str:
        c = self.candidates[self.selected]
        lab = self._latest.get(self.candidate_id(c))
        near = c.get("nearest_cluster") or ""
        match = f"nearest {near} ({c['separation_arcmin']:.1f}′)" if near else f"nearest cluster {NO_MATCH}"
        label = f"**{lab.label}** by {lab.labeller or '?'}" if lab else "none"
        kind = f" · {class_text(c)}" if c.get("class") else ""
        return (
            f"**Candidate {self.selected + 1}/{len(self.candidates)}** · {self.progress_text()} — "
            f"score {c['peak_score']:.3f}{kind} · RA {c['ra']:.4f}° Dec {c['dec']:+.4f}° · {match} · "
            f"label: {label}"
        )

    def cutouts_view(self):
        """The selected candidate's header and its four cut-outs (for notebooks)."""
        return pn.Column(self.vetter, self.cutout_plots())

    # -- vetting ---------------------------------------------------------------------------------

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

    def _labeller(self) -> str:
        return self.labeller.strip() or self._guest

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
        """Button: re-read the store so other sessions' labels show."""
        self.refresh_labels()
        self._refresh_table()
        self._draw_marks()
        self._status.object = f"Labels re-read from the store: {self.progress_text()}."

    def export_bytes(self, suffix: str) -> io.BytesIO:
        with tempfile.TemporaryDirectory() as d:
            path = self.labels.export(Path(d) / f"labels{suffix}")
            return io.BytesIO(path.read_bytes())

    def upload_catalogue(self, filename: str, content: bytes) -> bool:
        """Overlay an uploaded catalogue; its size is checked before it is read, and its temporary
        folder goes when refused, replaced or the session ends."""
        tmp = resources.UploadFolder("catalogue", prefix="radioviz-catalogue-")
        try:
            path = resources.check_upload([filename], [content], tmp)[0]
            _catalogue("uploaded file", str(path))
        except (InputError, OSError) as exc:
            msg = resources.public_message(str(exc), {tmp.name: "the upload"})
            self.show_error(f"Catalogue rejected — {msg}", cause="catalogue")
            tmp.cleanup()
            return False
        self._forget_catalogue()
        self._catalog_tmp = tmp
        self._catalog_path = str(path)
        self.clear_error("catalogue")
        self.catalogue = "uploaded file"
        self.param.trigger("catalogue")
        return True

    # -- layout ----------------------------------------------------------------------------------

    def __panel__(self):
        from .uploads import dropper

        upload = dropper(
            lambda names, values: self._safe(lambda: self.upload(names, values)) or self.message or False,
            lambda msg: self.show_error(f"Upload rejected — {msg}"),
            "Upload FITS (one file per band, or a cube)",
            multiple=True,
        )
        cat_upload = dropper(
            lambda names, values: (
                self._safe(lambda: self.upload_catalogue(names[0], values[0])) or self.message or False
            ),
            lambda msg: self.show_error(f"Catalogue rejected — {msg}"),
            "Catalogue file (ECSV, CSV, VOTable, FITS table)",
            multiple=False,
        )
        if pn.state.curdoc is not None:
            pn.state.on_session_destroyed(lambda ctx: self._session_ended())
        target = pn.widgets.TextInput(
            label="Fetch from SkyView (online)", placeholder="cluster name or RA, Dec (deg)"
        )
        fetch = pn.widgets.Button(label="Fetch GLEAM field")
        fetch.on_click(lambda e: self._safe(lambda: self.fetch(target.value)))
        compute = pn.widgets.Button(label="Compute score map", color="primary", width=170)
        cancel = pn.widgets.Button(label="Cancel", color="warning", width=90)
        compute.on_click(lambda e: self._safe(self.start_scan))
        cancel.on_click(lambda e: self.cancel())
        self._table = pn.widgets.Tabulator(
            self.candidate_frame(),
            selectable=1,
            editors={
                c: None for c in ("RA", "Dec", "score", "class", "nearest cluster", "sep (′)", "label", "by")
            }
            | {"comment": {"type": "input"}},
            height=220,
            sizing_mode="stretch_width",
            layout="fit_columns",  # every column inside the table's width (they were cut off)
            widths=TABLE_WIDTHS,
            titles=TABLE_TITLES,
            header_tooltips=TABLE_TOOLTIPS,
            show_index=False,
            css_classes=[f"rv-table-{self.session}"],  # found by the Vetter in the page
            # nine columns in ≈ 700 px: headers a little smaller and tighter, so no title is cut
            stylesheets=[
                ".tabulator-col .tabulator-col-content { padding: 4px 3px; } "
                ".tabulator-col-title { font-size: 0.86em; }"
            ],
        )
        self._table.on_edit(lambda e: self._safe(lambda: self._on_table_edit(e)))
        buttons = []
        for label, key in (("halo", "h"), ("not halo", "n"), ("unsure", "u")):
            b = pn.widgets.Button(label=f"{label} ({key})", color="light")
            b.on_click(lambda e, k=key: self.on_key(k))
            buttons.append(b)
        prev_b, next_b = pn.widgets.Button(label="◀ prev (k)"), pn.widgets.Button(label="next (j) ▶")
        prev_b.on_click(lambda e: self.move(-1))
        next_b.on_click(lambda e: self.move(1))
        refresh_b = pn.widgets.Button(label="Refresh labels")
        refresh_b.on_click(lambda e: self._safe(self.refresh))
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
                parameters=["data_dir", "field", "band", "red", "green", "blue", "blink"],
                widgets={"blink": pn.widgets.Toggle},
                show_name=False,
            ),
            upload,
            target,
            fetch,
            pn.Param(
                self.param,
                parameters=["stretch", "percentile", "cmap", "contour_sigma", "catalogue"],
                widgets={"percentile": pn.widgets.FloatSlider, "contour_sigma": pn.widgets.FloatSlider},
                show_name=False,
            ),
            cat_upload,
            pn.pane.Markdown("#### Model"),
            pn.Param(
                self.param,
                parameters=["classifier", "score_layer", "stride", "threshold"],
                widgets={"threshold": pn.widgets.FloatSlider},
                show_name=False,
            ),
            pn.Row(compute, cancel),
            self.progress,
            width=300,
        )
        self._show_selected()
        vetting = pn.Column(
            self.vetter,
            self.cutout_plots(),
            pn.Row(*buttons),
            pn.Row(prev_b, next_b, refresh_b),
            pn.widgets.TextInput.from_param(
                self.param.comment,
                placeholder="comment for the next label (Enter, then a key)",
                css_classes=[f"rv-comment-{self.session}"],  # read by the Vetter with each label key
            ),
            pn.widgets.TextInput.from_param(
                self.param.labeller,
                label="Labeller",
                placeholder=f"your name (until you type one, labels are by {self._guest})",
            ),
            pn.Row(*downloads),
            pn.pane.Markdown(
                f"Labels are saved on every key press to `{self.labels.name}`, the label store shared "
                "by all sessions."
            ),
            self._retrain_panel(),
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
            pn.Row(
                pn.Column(self.field_plot(), readout),
                pn.Column(self._table, vetting, sizing_mode="stretch_width", min_width=380),
            ),
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

    def _retrain_panel(self) -> pn.Column:
        """ "Retrain on my labels": button, stop, progress and what it did."""
        go = pn.widgets.Button(label="Retrain on my labels", color="primary", width=190)
        stop = pn.widgets.Button(label="Stop retraining", width=140)
        go.on_click(lambda e: self._safe(self.retrain))
        stop.on_click(lambda e: self.retrainer.cancel())
        r = self.retrainer
        bar = pn.indicators.Progress(
            value=r.param.progress, max=100, visible=r.param.running, sizing_mode="stretch_width"
        )
        return pn.Column(
            pn.Row(go, stop),
            bar,
            pn.pane.Markdown(
                r.param.status,
                css_classes=[f"rv-retrain-{self.session}"],
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        )

    def _safe(self, fn):
        try:
            return fn()
        except InputError as exc:
            self.show_error(str(exc))
        except Exception as exc:  # keep the server up; show what went wrong
            self.show_error(f"{type(exc).__name__}: {exc}")


def _empty_score() -> dict:
    return {"image": [np.full((1, 1), np.nan, np.float32)], **image_at(0, 0, 1, 1)}


def _empty_cut() -> dict:
    return {"level": [], "flux": []}


def _cache_data(info: list[str], marks: list[str], rows: list[int], cuts: dict | None = None) -> dict:
    """The browser's vetting cache: per candidate its header text, label, and the four bands'
    cut-outs (levels and Jy/beam) where ``ready`` (the ``rows``, in order, from ``cuts``); a 1×1
    placeholder elsewhere."""
    n, z = len(info), np.zeros((1, 1), np.float32)
    data = {f"{col}{b}": [z] * n for col in ("level", "flux") for b in range(len(BANDS))}
    for name, vals in (cuts or {}).items():
        for i, v in zip(rows, vals, strict=True):
            data[name][i] = v
    ready = [0] * n
    for i in rows:
        ready[i] = 1
    return {**data, "ready": ready, "info": list(info), "mark": list(marks)}


def _palette(cmap: str) -> list[str]:
    from bokeh import palettes

    return {
        "inferno": palettes.Inferno256,
        "viridis": palettes.Viridis256,
        "gray": palettes.Greys256,  # black → white, as ds9
        "magma": palettes.Magma256,
        "cividis": palettes.Cividis256,
    }[cmap]


def _default_labeller() -> str:
    """The signed-in user's name when the server has a login, else empty (never the server's own
    OS account: labels are then by this session's guest name)."""
    user = getattr(pn.state, "user", None)
    return str(user) if user else ""


def _with_matches(cands: list[dict]) -> list[dict]:
    """Each candidate with its nearest built-in cluster (within NEAREST_CLUSTER_ARCMIN) or none."""
    if not cands:
        return cands
    m = crossmatch(
        np.array([c["ra"] for c in cands]), np.array([c["dec"] for c in cands]), builtin_clusters(), 10.0
    )
    for c, name, sep in zip(cands, m["nearest"], m["separation_arcmin"], strict=True):
        near = bool(np.isfinite(sep)) and sep <= NEAREST_CLUSTER_ARCMIN
        c["nearest_cluster"], c["separation_arcmin"] = (str(name), float(sep)) if near else ("", float("nan"))
    return cands


@folder_cached(32)
def _sky_grid(root: str, name: str, band: int) -> tuple[np.ndarray, np.ndarray]:
    """RA and Dec (degrees) of every display pixel, for the hover (cached per field and band)."""
    plane, wcs = resources.display_plane(root, name, band)
    ny, nx = plane.shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    ra, dec = wcs.pixel_to_world_values(xx, yy)
    return np.asarray(ra, np.float32), np.asarray(dec, np.float32)


@folder_cached(32)
def _big_limits(root: str, name: str, band: int, percentile: float) -> tuple[float, float]:
    """Stretch limits of a whole mosaic band (from a subsample), so a pan keeps one scale."""
    plane, _ = resources.display_plane(root, name, band)
    return stretch_limits(plane, percentile)
