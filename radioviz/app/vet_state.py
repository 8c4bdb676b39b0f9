"""The Vet tab's state: which survey, how its queue is ranked and filtered, who labels, the
votes and the agreement — params and plain Python, no widget (the view is :mod:`.vet_view`).
The queue, agreement and exports themselves are :mod:`radioviz.scan.queue` and
:mod:`radioviz.scan.agreement`."""

from __future__ import annotations

import html
import io
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

import param

from ..errors import InputError
from ..models.segmenter_spec import CLASS_NAMES
from ..scan import agreement as agr
from ..scan.queue import ORDERS, QueueCandidate, QueueFilter, SurveyQueue, is_survey, load_queue, rank, select
from ..scan.vetting import LabelSaveError, LabelStore, default_labels_path
from . import resources

SAMPLE_CHOICE = "bundled sample fields · default detector"
SAMPLE_STRIDE = 4  # the Fields tab's default
NO_CLUSTER = (
    "No candidate of this survey has a known cluster near it (none of its positions is in the cluster "
    "catalogues), so the near-cluster filter empties the queue: set it to 0."
)
SAMPLE_PREFIX = "sample-"  # the bundled sample's survey folders (sample-<detector>-s<stride>)
LIKE_K = 20  # "More like this" lists this many
_SAMPLE_LOCK = threading.Lock()


def surveys_parent() -> Path:
    """Where the Survey tab's served runs go (``RADIOVIZ_SURVEYS``, else the temp folder)."""
    return Path(os.environ.get("RADIOVIZ_SURVEYS") or Path(tempfile.gettempdir()) / "radioviz-surveys")


def survey_runs() -> dict[str, Path]:
    """{shown name: folder} of every survey run the app made, newest first: served runs (one
    folder a session, ``<parent>/<session>/<run>``) and, without a data root, ``surveys/``."""
    parent = surveys_parent()
    roots = [parent] + ([Path("surveys")] if resources.data_root() is None else [])
    found: list[tuple[float, str, Path]] = []
    for root in roots:
        for marker in [*root.glob("*/survey.json"), *root.glob("*/*/survey.json")]:
            run = marker.parent
            rel = run.relative_to(root)
            if root == parent and len(rel.parts) == 1 and run.name.startswith(SAMPLE_PREFIX):
                continue  # the bundled sample's survey: offered once, as SAMPLE_CHOICE (walk 17)
            done = run / "candidates.ecsv"
            when = (done if done.exists() else marker).stat().st_mtime
            # a served run sits in its session's folder: named by its run and time, not the hash;
            # a run the Survey tab wrote under the working folder's surveys/ says so
            if len(rel.parts) > 1:
                name = f"{run.name} · served {time.strftime('%d %b %H:%M', time.localtime(when))}"
            else:
                name = str(rel) if root == parent else f"surveys/{rel}"
            found.append((when, name, run))
    out: dict[str, Path] = {}
    for _, name, run in sorted(found, key=lambda f: -f[0]):
        out[name if name not in out else f"{name} ({len(out)})"] = run
    return out


def _sample_folder(checkpoint: str, stride: int) -> Path:
    return surveys_parent() / f"{SAMPLE_PREFIX}{Path(checkpoint).stem}-s{stride}"


def sample_surveyed(checkpoint: str, stride: int = SAMPLE_STRIDE) -> bool:
    """Whether the bundled sample's survey with ``checkpoint`` is already done (opened at once)."""
    from ..io.layout import discover

    out = _sample_folder(checkpoint, stride)
    n_fields = len(discover(resources.SAMPLE_DATA))
    return (out / "candidates.ecsv").exists() and len(list((out / "tasks").glob("*.json"))) >= n_fields


def sample_survey(checkpoint: str, stride: int = SAMPLE_STRIDE) -> Path:
    """The bundled sample fields surveyed with ``checkpoint`` (once per server: later calls find it
    done), on an in-process Dask client."""
    from ..survey import run_survey

    out = _sample_folder(checkpoint, stride)
    with _SAMPLE_LOCK:
        if sample_surveyed(checkpoint, stride):
            return out
        from dask.distributed import Client

        with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
            run_survey(
                resources.SAMPLE_DATA,
                resources.checkpoint_path(checkpoint),
                out,
                stride=stride,
                client=client,
            )
    return out


class VetState(param.Parameterized):
    """One page's queue over one survey, and what this labeller and the others made of it."""

    survey = param.Selector(default=None, objects=[], check_on_set=False, doc="Survey run (newest first)")
    folder = param.String(default="", doc="Or a survey output folder (the Survey tab's --out)")
    order = param.Selector(default="score", objects=list(ORDERS), doc="Best first")
    class_name = param.Selector(
        default="", objects={"any": ""}, label="Class", doc="A class detector's class (any: every class)"
    )
    fields = param.ListSelector(default=[], objects=[], doc="Only these fields (none picked: all)")
    score_range = param.Range(default=(0.0, 1.0), bounds=(0.0, 1.0), doc="Scores shown")
    unlabelled_only = param.Boolean(default=False, doc="Only candidates you have not labelled")
    disagreements_only = param.Boolean(default=False, doc="Only candidates labellers disagree on")
    near_arcmin = param.Number(default=0.0, bounds=(0.0, 600.0), doc="A known cluster within (′); 0: off")
    labeller = param.String(default="", doc="Your name, saved with each label")
    status = param.String(default="")
    agreement = param.String(default="Agreement: needs labels from two labellers.")
    version = param.Integer(default=0, precedence=-1, doc="Raised whenever the queue shown changes")
    like = param.String(default="", doc="The candidate whose look-alikes are shown (empty: the ranked queue)")

    def __init__(self, labels: LabelStore | None = None, guest: str | None = None, **params):
        self.session = uuid.uuid4().hex[:8]
        self.guest = guest or f"guest-{self.session[:6]}"
        super().__init__(**params)
        self.labels = (
            labels if labels is not None else LabelStore(default_labels_path(), session=self.session)
        )
        self.queue: SurveyQueue | None = None
        self.rows: list[QueueCandidate] = []
        self.votes: agr.Votes = {}
        self.similarity: dict[str, float] = {}  # candidate id -> cosine similarity to ``like``
        self.start_at = ""  # the candidate id the next queue opens at ("" : row 0)
        self._embeddings = None  # (survey folder, Embeddings) of "More like this"
        self.lock = threading.RLock()
        self.page_runs: dict[str, Path] = {}  # runs this page's Survey tab made wherever it wrote them
        self.find_runs()
        if self.survey is None:
            self.survey = next(iter(self.runs), SAMPLE_CHOICE)

    def find_runs(self) -> None:
        """List the survey runs again (one the Survey tab finished since is added)."""
        found = survey_runs()
        known = {p.resolve() for p in found.values()}
        mine = {n: p for n, p in self.page_runs.items() if p.resolve() not in known}
        self.runs = {**mine, **found}
        self.param.survey.objects = [*self.runs, SAMPLE_CHOICE]

    def add_page_run(self, folder: Path) -> None:
        """A run this page's Survey tab finished, wherever its output is (walk 18: a run written to
        a folder of the user's choosing was never offered here): listed first, not opened."""
        folder = Path(folder)
        if is_survey(folder) and folder.resolve() not in {p.resolve() for p in self.page_runs.values()}:
            self.page_runs = {f"{folder.name} · this page's Survey tab": folder, **self.page_runs}
        self.find_runs()

    def who(self) -> str:
        return self.labeller.strip() or self.guest

    # -- opening --------------------------------------------------------------------------------

    def survey_folder(self, checkpoint: str | None) -> Path:
        """The folder the picker or the folder box names (the sample surveyed on first use)."""
        if self.folder.strip():
            path = resources.resolve_user_path(self.folder)
            if not is_survey(path):
                raise InputError(None, f"{resources.shown_path(path)}: not a survey output folder")
            return path
        if self.survey == SAMPLE_CHOICE or self.survey not in self.runs:
            if not checkpoint:
                raise InputError(
                    None, "no detector or classifier checkpoint to survey the sample fields with"
                )
            return sample_survey(checkpoint)
        return self.runs[self.survey]

    def open(self, folder: Path) -> None:
        queue = load_queue(folder)
        with self.lock:
            self.queue = queue
            self.param.class_name.objects = {"any": "", **{CLASS_NAMES.get(c, c): c for c in queue.classes}}
            self.param.fields.objects = queue.fields
            self.param.update(class_name="", fields=[], like="")
            self.similarity = {}
            try:  # a store that cannot be read is reported, and the queue is shown without its votes
                self.read_votes()
            finally:
                self.apply()
                self.status = self.queue_summary()

    def queue_summary(self) -> str:
        """The status line of the ranked queue: the survey, its size, detector and settings."""
        queue = self.queue
        if queue is None:
            return ""
        n, f = len(queue.candidates), len(queue.fields)
        return (
            f"{queue.name}: {n} candidate(s) in {f} field(s) · {queue.checkpoint} · threshold "
            f"{queue.threshold:.2f} · stride {queue.stride}"
        )

    # -- the queue shown ------------------------------------------------------------------------

    def filter(self) -> QueueFilter:
        lo, hi = self.score_range
        return QueueFilter(
            fields=tuple(self.fields),
            score_min=lo,
            score_max=hi,
            class_name=self.class_name,
            unlabelled_only=self.unlabelled_only,
            labeller=self.who(),
            disagreements_only=self.disagreements_only,
            near_arcmin=self.near_arcmin or None,
        )

    @param.depends(
        "order",
        "class_name",
        "fields",
        "score_range",
        "unlabelled_only",
        "disagreements_only",
        "near_arcmin",
        watch=True,
    )
    def apply(self) -> None:
        """Rank and filter the queue (labels given since stay in it until the next change: the
        rows under the cursor never move while you work down them)."""
        with self.lock:
            if self.queue is None:
                return
            if self.like:
                by_id = self.queue.by_id()
                ranked = [by_id[self.like], *(by_id[i] for i in self.similarity)]
            else:
                ranked = rank(self.queue.candidates, self.order, self.class_name)
            self.rows = select(ranked, self.filter(), self.votes)
            self.version += 1
            if self.near_arcmin and not any(c.nearest_cluster for c in self.queue.candidates):
                self.status = NO_CLUSTER  # why the queue is empty (walk 17: only "loosen the filters")
            elif self.status == NO_CLUSTER:
                self.status = self.queue_summary()

    # -- "More like this" -----------------------------------------------------------------------

    def embeddings(self, progress=None):
        """The open survey's candidates in the detector's feature space (computed once per
        survey and detector and kept beside the survey: :mod:`radioviz.scan.similar`)."""
        from ..scan.similar import survey_embeddings

        queue = self.queue
        if queue is None:
            raise InputError(None, "no survey open")
        cached = self._embeddings
        if cached is None or cached[0] != queue.path:
            cached = (queue.path, survey_embeddings(queue, progress=progress))
            self._embeddings = cached
        return cached[1]

    def show_like(self, cid: str, emb) -> None:
        """The queue becomes ``cid`` followed by its LIKE_K look-alikes, most similar first (the
        filters still apply); :meth:`show_queue` goes back."""
        from ..scan.similar import most_similar

        pairs = most_similar(emb, cid, LIKE_K)
        with self.lock:
            self.similarity = dict(pairs)
            if self.like == cid:
                self.apply()
            else:
                self.like = cid
        best = f"; most similar {pairs[0][1]:.2f}" if pairs else ""
        self.status = (
            f"Most like {cid}: {len(pairs)} candidate(s) across the survey, by the detector's own "
            f"features (cosine similarity{best}). “Back to the queue” (b) returns."
        )

    def show_queue(self) -> None:
        """The ranked queue again, opened at the candidate whose look-alikes were shown."""
        with self.lock:
            self.start_at = self.like
            self.similarity = {}
            self.like = ""

    def take_start(self) -> int:
        """The row a new queue opens at (that of ``start_at``, once; else row 0)."""
        cid, self.start_at = self.start_at, ""
        return next((k for k, c in enumerate(self.rows) if c.id == cid), 0)

    @param.depends("like", watch=True)
    def _like_changed(self) -> None:
        self.apply()

    # -- votes ----------------------------------------------------------------------------------

    def read_votes(self) -> None:
        self.votes = agr.votes_from(self.labels.current(), self.queue)
        self.agreement = self.agreement_text()

    def agreement_text(self) -> str:
        if self.queue is None:
            return ""
        return agr.overall_agreement(self.votes, (c.id for c in self.queue.candidates)).text()

    def votes_html(self, c: QueueCandidate) -> str:
        v = self.votes.get(c.id, {})
        if not v:
            return "no votes yet"
        return "votes: " + ", ".join(f"{html.escape(r)} {html.escape(lab)}" for r, lab in sorted(v.items()))

    def my_label(self, c: QueueCandidate) -> str:
        return self.votes.get(c.id, {}).get(self.who(), "")

    def label(self, k: int, label: str, comment: str = "") -> QueueCandidate:
        """Save one label for row ``k`` (one committed row in the store), raising
        :class:`LabelSaveError` when it was not saved.  The agreement is left to the caller
        (``agreement_text``): a burst of keys should not recompute it for every label."""
        c = self.rows[k]
        lab = self.labels.set(
            c.id,
            c.field,
            c.ra,
            c.dec,
            c.score,
            label,
            comment,
            classifier=c.checkpoint,
            stride=c.stride,
            threshold=c.threshold,
            labeller=self.who(),
            session=self.session,
        )
        with self.lock:
            self.votes.setdefault(c.id, {})[lab.labeller] = lab.label
        return c

    def store_stamp(self) -> tuple:
        """Changes whenever any session commits a label (the store's WAL grows or is folded in)."""
        out = []
        for suffix in ("", "-wal"):
            try:
                st = os.stat(f"{self.labels.path}{suffix}")
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return tuple(out)

    # -- exports --------------------------------------------------------------------------------

    def export_bytes(self, what: str, suffix: str) -> io.BytesIO:
        """``what`` "consensus" (majority per candidate, ties flagged) or "votes" (every
        labeller's current label), as ECSV, CSV or DS9 regions."""
        if self.queue is None:
            raise InputError(None, "no survey open")
        try:
            self.read_votes()
        except LabelSaveError:
            pass  # the votes held here are exported
        if what == "consensus":
            rows, cols = agr.consensus_rows(self.queue, self.votes), agr.CONSENSUS_COLUMNS
        else:
            rows, cols = agr.vote_rows(self.queue, self.labels.current()), agr.VOTE_COLUMNS
        kappa = agr.overall_agreement(self.votes, (c.id for c in self.queue.candidates))
        with tempfile.TemporaryDirectory() as d:
            path = agr.export_rows(
                Path(d) / f"{what}{suffix}", rows, cols, agr.export_meta(self.queue, kappa)
            )
            return io.BytesIO(path.read_bytes())
