"""The Fields view: open a field, see it on the sky (RA/Dec axes, colorbar in Jy/beam, beam,
scale bar, catalogue overlays) band by band, in RGB or blinking; scan it with a classifier in a
worker thread; vet the candidates from the keyboard into a label store shared by every session.
UI only: reading, scanning, candidates and labels all come from the library.

The tab is split along its sections: ``fields_state`` (params and pure methods), ``fields_display``,
``fields_scoring``, ``fields_cutouts``, ``fields_vetting``, ``fields_layout``; this module opens data."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import numpy as np
import panel as pn
import param

from ..data.preprocess import require_cutout_size
from ..errors import InputError
from ..scan.vetting import LabelStore, default_labels_path
from . import resources, sky
from .fields_catalogues import _catalogue
from .fields_cutouts import _cache_data, _empty_cut
from .fields_display import _palette
from .fields_layout import FieldsLayout
from .fields_models import default_model, model_summary, scoring_cards
from .fields_state import (
    AHEAD,
    BANDS,
    BEHIND,
    NOT_SCANNED,
    _first_fields_folder,
    _fits_below_hint,
)
from .jobs import Job, on_session
from .labeller_memory import remembered_labeller
from .retrain import Retrainer
from .sky_figure import SkyFigure
from .state import AppSession

__all__ = ["AHEAD", "BANDS", "BEHIND", "FieldsView", "default_model", "model_summary", "scoring_cards"]


def _default_labeller() -> str:
    """The signed-in user's name when the server has a login, else the name this browser last
    typed (a cookie, ``labeller_memory``), else empty (never the server's own OS account: labels
    are then by this session's guest name)."""
    user = getattr(pn.state, "user", None)
    return str(user) if user else remembered_labeller()


class FieldsView(FieldsLayout, pn.viewable.Viewer):
    """One browser session's Fields tab: its state (:class:`~.fields_state.FieldsState`), drawn and
    worked by the display, scoring, cut-out, vetting and layout sections (``fields_*`` modules), over
    the page's :class:`~.state.AppSession`; this class opens folders, fields and uploads."""

    def __init__(self, labels_path: str | Path | None = None, app: AppSession | None = None, **params):
        self.app = app if app is not None else AppSession()
        params.setdefault("labeller", self.app.labeller or _default_labeller())
        if resources.data_root() is not None:  # served with a data root: show paths inside it
            params["data_dir"] = (
                resources.shown_path(params["data_dir"]) if "data_dir" in params else _first_fields_folder()
            )
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
        self._cuts: dict[tuple[int, int], np.ndarray] = {}
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
        # one name per page: typed in the Vet tab, it labels here too (walk 17: a guest name did)
        self.app.param.watch(lambda e: setattr(self, "labeller", e.new), "labeller")
        self.app.param.watch(self._open_handoff, "handoff")
        self.retrainer = Retrainer()
        self._list_models()
        self.classifier = default_model(self._cards)
        self._load_folder()
        if self.labels.notice:
            self.show_error(self.labels.notice, cause="labels")

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
        self.param.update(scanned=False, candidate="")
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
        text = self.app.public(text)  # no server path: uploads by their names, the data root relative
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

    def _forget_catalogue(self):
        if self._catalog_tmp is not None:
            self._catalog_tmp.cleanup()
            self._catalog_tmp = None

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
            return fn()
        except InputError as exc:
            self.show_error(str(exc))
        except Exception as exc:  # keep the server up; show what went wrong
            self.show_error(f"{type(exc).__name__}: {exc}")
