"""The Survey tab's state, apart from its widgets: the run's settings as params, starting,
watching and cancelling a survey (:mod:`radioviz.survey` does the work, as a :class:`~.jobs.Job`;
every change the page shows is handed to the session's thread, :func:`~.jobs.on_session`), its
results, and "Open in Fields" through the page's :class:`~.state.AppSession`.  No Panel: tested
without a browser; :mod:`.survey_view` draws it."""

from __future__ import annotations

import re
import tempfile
import uuid
from functools import partial
from pathlib import Path

import pandas as pd
import param

from ..errors import InputError
from . import resources, schedulers
from .fields_models import default_model, scoring_cards
from .jobs import Job, Outcome, current_doc, on_session


class SurveyCancelled(Exception):
    """Raised from the progress callback to stop a run (finished tasks stay saved)."""


#: What the target box takes for the bundled sample fields (read-only, always allowed).
SAMPLE = "sample"
MAX_RUNS = 50  # sibling runs (name-2, name-3, ...) tried when the output holds other settings
_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def session_output_root() -> Path:
    """A fresh folder of this session's own for survey output, outside the shared data root (the
    shared data is read-only to browser users); ``RADIOVIZ_SURVEYS`` picks its parent."""
    import os

    parent = Path(os.environ.get("RADIOVIZ_SURVEYS") or Path(tempfile.gettempdir()) / "radioviz-surveys")
    return parent / uuid.uuid4().hex[:12]


class SurveyState(param.Parameterized):
    """One page's survey: what to survey and how, the run's progress, and its result."""

    target = param.String(
        default=SAMPLE,
        doc="Folder of fields or mosaics (under the data folder), a positions table (ECSV/CSV/"
        "VOTable), 'builtin' (known clusters) or 'sample' (the bundled sample fields)",
    )
    images = param.String(default="", doc="Positions mode: folder of local fields / mosaics")
    checkpoint = param.Selector(
        default=None, objects=[], check_on_set=False, doc="Checkpoint in checkpoints/ (or a full path)"
    )
    out = param.String(
        default="app", doc="Run name (served: kept in this session's own folder; run again to resume)"
    )
    stride = param.Integer(default=16, bounds=(1, 64), doc="Pixels between windows (a first pass: 16)")
    threshold = param.Number(default=0.95, bounds=(0.0, 1.0), step=0.01)
    workers = param.Integer(default=2, bounds=(1, 64), doc="Embedded cluster: worker processes")
    scheduler = param.String(
        default="",
        doc="tcp://host:8786 of a Dask cluster the server's operator allows (empty: the embedded cluster)",
    )
    running = param.Boolean(default=False)
    done = param.Integer(default=0)
    total = param.Integer(default=0)
    status = param.String(default="")

    def __init__(self, app=None, **params):
        # the operator's scheduler (--dask-scheduler) unless told otherwise; a page can name
        # no other than the operator allowed at launch (schedulers.check_scheduler)
        params.setdefault("scheduler", schedulers.dask_scheduler() or "")
        super().__init__(**params)
        self._scheduler_in_use = self.scheduler
        self.app = app  # the page's AppSession: "Open in Fields tab" goes through it
        cards = scoring_cards()
        self.param.checkpoint.objects = sorted(cards)
        if cards and self.checkpoint is None:
            self.checkpoint = default_model(cards)  # the same default as the Fields tab
        if "threshold" in params:  # a threshold given explicitly outranks the model's default
            self.threshold = params["threshold"]
        self._job = Job("radioviz-survey")  # the run, off the event loop
        self._cancel = self._job.cancelled
        self.summary = None
        self.result = None
        self._doc = None
        self._output_root: Path | None = None

    @param.depends("scheduler", watch=True)
    def _check_scheduler(self):
        """A scheduler the operator did not allow is refused at once, with a message, and the
        box goes back to the one in use: nothing typed on a page is ever connected to."""
        try:
            schedulers.check_scheduler(self.scheduler)
        except InputError as exc:
            kept = self._scheduler_in_use
            self.scheduler = kept  # the box shows the one in use again
            self.status = self._refused_scheduler = f"Refused: {exc}. Kept {kept or 'the embedded cluster'}."
            return
        self._scheduler_in_use = self.scheduler
        if getattr(self, "_refused_scheduler", None) == self.status:
            self.status = ""

    @param.depends("checkpoint", watch=True, on_init=True)
    def _model_threshold(self):
        """The model's own default threshold (the detector's calibrated one), as in the Fields tab."""
        card = scoring_cards().get(self.checkpoint) if self.checkpoint else None
        thr = card.extra.get("default_threshold") if card is not None else None
        self.threshold = float(thr) if thr is not None else 0.95

    def output_folder(self) -> Path:
        """Where this run writes.  Served with a data root, ``out`` is a run name inside the
        session's own output folder, never inside the shared data; locally it is a path (a bare
        name lands under ``surveys/``)."""
        name = self.out.strip() or "app"
        if resources.data_root() is None:
            p = Path(name).expanduser()
            return p if (p.is_absolute() or len(p.parts) > 1) else Path("surveys") / p
        if not _RUN_NAME.match(name) or name in (".", ".."):
            raise resources.PathPolicyError(
                None, f"{name}: the output is a run name (letters, digits, '-', '_', '.'), not a folder"
            )
        if self._output_root is None:
            self._output_root = session_output_root()
        folder = self._output_root / name
        if folder.resolve().is_relative_to(resources.data_root()):
            raise resources.PathPolicyError(None, "the survey output would land in the shared data folder")
        return folder

    def resolve_target(self):
        """The target as the runner takes it: 'builtin', the sample fields, or a path the data
        root allows."""
        t = self.target.strip()
        if t == "builtin":
            return t
        if t in (SAMPLE, "sample_data"):
            return resources.SAMPLE_DATA
        return resources.resolve_user_path(t)

    # -- running ------------------------------------------------------------------------------------

    def _apply(self, **values):
        """Set params on the session's thread when served, directly otherwise."""
        self._hand_back(partial(self.param.update, **values))

    def _hand_back(self, fn) -> None:
        on_session(fn, doc=self._doc)

    def run(self):
        """Run the survey here (blocking); what ``start`` runs in a thread."""
        from ..survey import load_survey, run_survey
        from ..survey.store import SettingsMismatch

        self._cancel.clear()

        def progress(done, total, row):
            extra = f" — {row['name']}: {row['reason']}" if row.get("status") not in ("ok", None) else ""
            self._apply(done=done, total=total, status=f"{done} / {total} done{extra}")
            if self._cancel.is_set():
                raise SurveyCancelled

        def on_start(s):
            link = f" Dask dashboard: {s.dashboard}" if s.dashboard else ""
            self._apply(
                total=s.total,
                done=s.skipped,
                status=f"Started: {s.total} task(s), {s.skipped} done earlier.{link}",
            )

        self._apply(running=True, status="Starting the Dask cluster…")
        out = None
        try:
            # before anything else: only a scheduler the operator allowed, never one typed
            scheduler = schedulers.check_scheduler(self.scheduler)
            # every typed path obeys the server's data root (#16): nothing read or written outside it
            target = self.resolve_target()
            base = self.output_folder()
            images = [resources.resolve_user_path(self.images)] if self.images else None
            # a run with other settings in the chosen output: the next free (or matching, to
            # resume) sibling run -- base, base-2, base-3, ... -- rather than an error
            for k in range(1, MAX_RUNS + 1):
                out = base if k == 1 else base.with_name(f"{base.name}-{k}")
                try:
                    self.summary = run_survey(
                        target,
                        resources.checkpoint_path(self.checkpoint),
                        out,
                        images=images,
                        stride=self.stride,
                        threshold=self.threshold,
                        scheduler=scheduler,
                        n_workers=self.workers,
                        progress=progress,
                        on_start=on_start,
                        device=resources.DEVICE,
                    )
                    break
                except SettingsMismatch:
                    if k == MAX_RUNS:
                        raise
            self.result = load_survey(out)
            s = self.summary
            moved = (
                f" Output: run '{out.name}' ('{base.name}' holds a survey with other settings)."
                if out != base
                else ""
            )
            where = moved or (f" Output: run '{out.name}'." if resources.data_root() else "")
            text = (
                f"Finished: {s.ok} ok, {s.failed} failed, {s.errors} lost, "
                f"{s.skipped} done earlier ({s.seconds:.1f} s).{where}"
            )
            if s.skipped and not (s.ok or s.failed or s.errors):  # walk: "0 ok … 6 done earlier"
                text = (
                    f"Nothing new to run: all {s.skipped} task(s) were done by an earlier run with the same "
                    f"folder, model and settings; its results are below ({s.seconds:.1f} s).{where}"
                )
        except SurveyCancelled:
            text = "Cancelled; finished tasks are saved — start again to resume."
            self.result = load_survey(out) if out is not None and out.exists() else None
        except InputError as exc:
            text = f"Error: {resources.public_message(str(exc))}"
        except Exception as exc:  # keep the server up; show what went wrong
            text = f"Error: {type(exc).__name__}: {resources.public_message(str(exc))}"
        self._apply(running=False, status=text)
        if self.app is not None:
            self._hand_back(lambda: setattr(self.app, "survey_run", self.result))

    def start(self):
        if self.running:
            return
        self._doc = current_doc()
        self._job.start(lambda job: self.run(), self._ended)

    def _ended(self, outcome: Outcome) -> None:
        """``run`` reports its own refusals and failures; anything it let through is shown too."""
        if outcome.error is not None:
            err = outcome.error
            self.param.update(
                running=False, status=f"Error: {type(err).__name__}: {resources.public_message(str(err))}"
            )

    def cancel(self):
        self._cancel.set()

    # -- results ------------------------------------------------------------------------------------

    def results_frame(self) -> pd.DataFrame:
        if self.result is None:
            return pd.DataFrame(columns=["name", "kind", "status", "n_candidates", "max_score", "reason"])
        t = self.result.results
        cols = ["name", "kind", "status", "n_candidates", "max_score", "cluster_score", "reason"]
        frame = t[cols].to_pandas()
        # an empty reason (the row is fine) comes back from the ECSV as masked: show it empty
        frame["reason"] = frame["reason"].fillna("").astype(str)
        # one precision for every score (walk 18: 0.89154 beside 0.659266)
        frame[["max_score", "cluster_score"]] = frame[["max_score", "cluster_score"]].round(3)
        return frame

    def openable(self) -> list[str]:
        return sorted(self.result.openable) if self.result is not None else []

    def _open_picked(self, name: str | None) -> bool:
        if not name:
            self.status = "Nothing to open yet: the surveyed fields are listed here when a survey ends."
            return False
        return self.open_in_fields(name)

    def open_in_fields(self, name: str) -> bool:
        """Hand a surveyed field or mosaic, with its score map, to the Fields tab."""
        if self.app is None or self.result is None or name not in self.result.openable:
            return False
        entry = self.result.openable[name]
        ckpt = Path(str(self.result.config.get("checkpoint") or "")).name
        self.app.open_scoremap(
            entry["folder"],
            entry["field"],
            self.result.scoremap(name),
            f"{ckpt} (survey)" if ckpt else "survey score map",
            self.threshold,
        )
        self.status = f"Opened {name} in the Fields tab with its survey score map."
        return True
