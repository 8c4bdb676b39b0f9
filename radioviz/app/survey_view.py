"""The Survey tab: start a survey (fields, a positions table or mosaics) on Dask from the app,
watch its progress and the Dask dashboard link, read its results, and open a surveyed field or
mosaic with its score map in the Fields tab for vetting.  UI only: :mod:`radioviz.survey` does
the work.  The run goes on in its own thread; every change to what the page shows is handed to
the session's thread (``add_next_tick_callback``)."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

import pandas as pd
import panel as pn
import param

from ..errors import InputError
from . import resources


class SurveyCancelled(Exception):
    """Raised from the progress callback to stop a run (finished tasks stay saved)."""


class SurveyView(pn.viewable.Viewer):
    target = param.String(
        default=str(resources.SAMPLE_DATA),
        doc="Folder of fields or mosaics, a positions table (ECSV/CSV/VOTable) or 'builtin'",
    )
    images = param.String(default="", doc="Positions mode: folder of local fields / mosaics")
    checkpoint = param.Selector(
        default=None, objects=[], check_on_set=False, doc="Checkpoint in checkpoints/ (or a full path)"
    )
    out = param.String(default="surveys/app", doc="Output folder (run again to resume)")
    stride = param.Integer(default=16, bounds=(1, 64), doc="Pixels between windows (a first pass: 16)")
    threshold = param.Number(default=0.95, bounds=(0.0, 1.0), step=0.01)
    workers = param.Integer(default=2, bounds=(1, 64), doc="Embedded cluster: worker processes")
    scheduler = param.String(default="", doc="tcp://host:8786 of an existing Dask cluster (empty: embedded)")
    running = param.Boolean(default=False)
    done = param.Integer(default=0)
    total = param.Integer(default=0)
    status = param.String(default="")

    def __init__(self, fields=None, **params):
        super().__init__(**params)
        self.fields = fields
        names = sorted(resources.classifier_cards())
        self.param.checkpoint.objects = names
        if names and self.checkpoint is None:
            self.checkpoint = "classifier_L.safetensors" if "classifier_L.safetensors" in names else names[0]
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.summary = None
        self.result = None
        self._doc = None

    # -- running ------------------------------------------------------------------------------------

    def _apply(self, **values):
        """Set params on the session's thread when served, directly otherwise."""
        if self._doc is not None:
            self._doc.add_next_tick_callback(partial(self.param.update, **values))
        else:
            self.param.update(**values)

    def run(self):
        """Run the survey here (blocking); what ``start`` runs in a thread."""
        from ..survey import load_survey, run_survey

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
        try:
            self.summary = run_survey(
                self.target,
                resources.CHECKPOINTS / self.checkpoint,
                Path(self.out).expanduser(),
                images=[self.images] if self.images else None,
                stride=self.stride,
                threshold=self.threshold,
                scheduler=self.scheduler or None,
                n_workers=self.workers,
                progress=progress,
                on_start=on_start,
            )
            self.result = load_survey(self.out)
            s = self.summary
            text = (
                f"Finished: {s.ok} ok, {s.failed} failed, {s.errors} lost, "
                f"{s.skipped} done earlier ({s.seconds:.1f} s)."
            )
        except SurveyCancelled:
            text = "Cancelled; finished tasks are saved — start again to resume."
            self.result = load_survey(self.out)
        except InputError as exc:
            text = f"Error: {exc}"
        except Exception as exc:  # keep the server up; show what went wrong
            text = f"Error: {type(exc).__name__}: {exc}"
        self._apply(running=False, status=text)

    def start(self):
        if self.running:
            return
        self._doc = pn.state.curdoc
        self._thread = threading.Thread(target=self.run, daemon=True, name="radioviz-survey")
        self._thread.start()

    def cancel(self):
        self._cancel.set()

    # -- results ------------------------------------------------------------------------------------

    def results_frame(self) -> pd.DataFrame:
        if self.result is None:
            return pd.DataFrame(columns=["name", "kind", "status", "n_candidates", "max_score", "reason"])
        t = self.result.results
        cols = ["name", "kind", "status", "n_candidates", "max_score", "cluster_score", "reason"]
        return t[cols].to_pandas()

    def openable(self) -> list[str]:
        return sorted(self.result.openable) if self.result is not None else []

    def open_in_fields(self, name: str) -> bool:
        """Hand a surveyed field or mosaic, with its score map, to the Fields tab."""
        if self.fields is None or self.result is None or name not in self.result.openable:
            return False
        entry = self.result.openable[name]
        self.fields.threshold = self.threshold
        self.fields.show_scoremap(entry["folder"], entry["field"], self.result.scoremap(name))
        self.status = f"Opened {name} in the Fields tab with its survey score map."
        return True

    def __panel__(self):
        startb = pn.widgets.Button(name="Start survey", button_type="primary")
        cancelb = pn.widgets.Button(name="Cancel", button_type="warning")
        startb.on_click(lambda e: self.start())
        cancelb.on_click(lambda e: self.cancel())
        bar = pn.indicators.Progress(value=0, max=1, sizing_mode="stretch_width", name="survey progress")
        table = pn.widgets.Tabulator(self.results_frame(), disabled=True, height=260, show_index=False)
        pick = pn.widgets.Select(name="Surveyed field / mosaic", options=[])
        openb = pn.widgets.Button(name="Open in Fields tab")
        openb.on_click(lambda e: pick.value and self.open_in_fields(pick.value))

        def refresh(*_):
            bar.max, bar.value = max(self.total, 1), min(self.done, max(self.total, 1))
            if not self.running:
                table.value = self.results_frame()
                pick.options = self.openable()

        self.param.watch(refresh, ["done", "total", "running"])
        text = pn.widgets.TextInput.from_param
        controls = pn.Column(
            text(self.param.target, placeholder="folder, positions table or 'builtin'"),
            text(self.param.images, placeholder="positions mode: folder of fields / mosaics"),
            pn.widgets.Select.from_param(self.param.checkpoint),
            text(self.param.out, placeholder="output folder"),
            pn.widgets.IntInput.from_param(self.param.stride),
            pn.widgets.FloatSlider.from_param(self.param.threshold),
            pn.widgets.IntInput.from_param(self.param.workers),
            text(self.param.scheduler, placeholder="tcp://host:8786 (empty: embedded cluster)"),
            width=320,
        )
        return pn.Row(
            pn.Column(controls, pn.Row(startb, cancelb), width=340),
            pn.Column(
                bar,
                pn.pane.Markdown(self.param.status, css_classes=["survey-status"]),
                table,
                pn.Row(pick, openb),
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        )
