"""The Fields tab's state: params and pure methods, no widgets (see :class:`FieldsState`)."""

from __future__ import annotations

import html

import pandas as pd
import param

from ..display import STRETCHES
from ..errors import InputError
from ..io.layout import data_folders_below
from ..models.card import ModelCard
from ..scan.label_match import match_labels
from ..scan.scoremap import ScoreMap
from . import resources
from .candidate_classes import MAP_LAYERS, class_name, class_text
from .fields_catalogues import CATALOGUES

AHEAD, BEHIND = 12, 4  # candidates whose cut-outs the browser holds, after and before the selected one
BANDS = ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"]
BAND_CHOICES = [*BANDS, "RGB"]
CUT_SIZE = 64
NO_MATCH = "—"
NOT_SCANNED = "Not scanned yet — press Compute score map."


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


class FieldsState(param.Parameterized):
    """What the Fields tab shows and has found, apart from any widget: the user's settings (folder,
    field, band, stretch, model, stride, threshold, catalogue, selection) as params, and the open
    folder, score map, candidates and their labels, with the pure methods that describe them
    (rows of the table, header text, the cache window).  No Panel or Bokeh: tested without a
    browser; :class:`~.fields.FieldsView` draws it and runs the work."""

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
        default=0.0,
        bounds=(0, 50),
        step=1,
        doc="Contours at k×σ, 2k×σ, 4k×σ of the shown band (in RGB: the blue channel's; 0 = off)",
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
    # kept in the page's address (main.URL_STATE), so a reload or a shared link shows the same
    # score map and candidate: the field is scored again and the candidate at this peak selected
    scanned = param.Boolean(default=False, precedence=-1, doc="A score map is shown")
    candidate = param.String(default="", precedence=-1, doc="x,y of the selected candidate's peak")
    comment = param.String(default="")
    labeller = param.String(default="", doc="Your name, saved with each label")
    message = param.String(default="")
    readout = param.String(default="")
    scan_version = param.Integer(default=0, precedence=-1)

    def __init__(self, **params):
        self._dir: str | None = None  # the folder last opened (a resolved server path, never shown)
        self._guest = getattr(self, "_guest", "guest")  # who a label is by while no labeller is set
        self._cards: dict[str, ModelCard] = {}  # scoring model cards offered, by file name
        self.scoremap: ScoreMap | None = None
        self._scan_meta: dict = {}  # the model and stride of the score map shown
        self.candidates: list[dict] = []
        self._latest: dict = {}  # candidate id -> its latest label in the store
        self._moved: tuple = (None, {})  # labels matched to candidates of another scan, and their key
        super().__init__(**params)

    def candidate_id(self, c: dict) -> str:
        return f"{self.field}@{c['x']},{c['y']}"

    def _row(self, c: dict) -> dict:
        lab = self.label_for(c)
        near = c.get("nearest_cluster") or ""
        return {
            "RA": round(c["ra"], 4),
            "Dec": round(c["dec"], 4),
            "score": round(c["peak_score"], 4),
            "class": class_name(c),  # its probability is in the candidate's line (walk 18: cut off)
            "nearest cluster": f"{near} ({c['separation_arcmin']:.1f}′)" if near else NO_MATCH,
            "label": lab.label if lab else "",
            "by": lab.labeller if lab else "",
            "comment": lab.comment if lab else "",
        }

    def candidate_frame(self) -> pd.DataFrame:
        cols = ["RA", "Dec", "score", "class", "nearest cluster", "label", "by", "comment"]
        return pd.DataFrame([self._row(c) for c in self.candidates], columns=cols)

    def vetted_count(self) -> int:
        return sum(self.label_for(c) is not None for c in self.candidates)

    def progress_text(self) -> str:
        return f"{self.vetted_count()} of {len(self.candidates)} vetted"

    def label_for(self, c: dict):
        """The latest label of candidate ``c``: its own, or one of this field's labels carried over
        from another scan's candidate by the one rule every view shares (``scan.label_match``)."""
        cid = self.candidate_id(c)
        lab = self._latest.get(cid)
        return lab if lab is not None else self._moved_labels().get(cid)

    def _moved_labels(self) -> dict:
        """Candidate id -> a label of this field whose own candidate is not in the list."""
        key = (id(self.candidates), len(self.candidates), id(self._latest), len(self._latest))
        if self._moved[0] == key:
            return self._moved[1]
        stride = int(self._scan_meta.get("stride") or 0)
        listed = [(self.candidate_id(c), c["x"], c["y"], stride) for c in self.candidates]
        labelled = {cid: int(getattr(lab, "stride", 0) or 0) for cid, lab in self._latest.items()}
        moved = {
            target: self._latest[sid]
            for sid, target in match_labels(listed, labelled).items()
            if sid != target
        }
        self._moved = (key, moved)
        return moved

    def _scan_args(self):
        if not self.classifier:
            raise InputError("checkpoints/", "no classifier checkpoint found")
        if not self.field:
            raise InputError(self.data_dir, "no field is open")
        return self._root(), self.field, self.classifier, self.stride, self.threshold

    def _scan_extent(self, name: str, smap: ScoreMap) -> str:
        """What a scan covered: the detector makes one pass over the field; L, A and D classify
        one window per stride step."""
        card = self._cards.get(name)
        from ..models import registry

        if card is not None and registry.scores_fields(card) == registry.DENSE:
            ny, nx = smap.ref_shape
            return f"one pass over {nx}×{ny} px"
        return f"{smap.scores.size} windows"

    def _window(self, k: int) -> set[int]:
        n = len(self.candidates)
        if not n:
            return set()
        k = max(k, 0)
        return {(k + d) % n for d in range(-min(BEHIND, n), min(AHEAD, n) + 1)}

    def _info_html(self, c: dict) -> str:
        near = c.get("nearest_cluster") or ""
        match = f"nearest {near} ({c['separation_arcmin']:.1f}′)" if near else f"nearest cluster {NO_MATCH}"
        kind = f" · {class_text(c)}" if c.get("class") else ""
        return html.escape(
            f"score {c['peak_score']:.3f}{kind} · RA {c['ra']:.4f}° Dec {c['dec']:+.4f}° · {match}"
        )

    def _mark_html(self, c: dict) -> str:
        lab = self.label_for(c)
        return f"<b>{html.escape(lab.label)}</b> by {html.escape(lab.labeller or '?')}" if lab else ""

    def header_text(self) -> str:
        c = self.candidates[self.selected]
        lab = self.label_for(c)
        near = c.get("nearest_cluster") or ""
        match = f"nearest {near} ({c['separation_arcmin']:.1f}′)" if near else f"nearest cluster {NO_MATCH}"
        label = f"**{lab.label}** by {lab.labeller or '?'}" if lab else "none"
        kind = f" · {class_text(c)}" if c.get("class") else ""
        return (
            f"**Candidate {self.selected + 1}/{len(self.candidates)}** · {self.progress_text()} — "
            f"score {c['peak_score']:.3f}{kind} · RA {c['ra']:.4f}° Dec {c['dec']:+.4f}° · {match} · "
            f"label: {label}"
        )

    @param.depends("band", watch=True, on_init=True)
    def _controls_for_band(self) -> None:
        """Only the controls that act on what is shown: the RGB channel pickers in RGB, the colour
        map in one band (a new user set them and saw nothing change)."""
        rgb = self.band == "RGB"
        for name in ("red", "green", "blue"):
            self.param[name].precedence = None if rgb else -1
        self.param.cmap.precedence = -1 if rgb else None

    def _band_index(self) -> int:
        return 3 if self.band == "RGB" else BANDS.index(self.band)

    def _labeller(self) -> str:
        return self.labeller.strip() or self._guest

    def _root(self) -> str:
        return self._dir
