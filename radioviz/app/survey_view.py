"""The Survey tab: start a survey (fields, a positions table or mosaics) on Dask from the app,
watch its progress and the Dask dashboard link, read its results, and open a surveyed field or
mosaic with its score map in the Fields tab for vetting.  The widgets over
:class:`~.survey_state.SurveyState`, which holds the run."""

from __future__ import annotations

import panel as pn

from . import resources, schedulers
from .buttons import cancel_button
from .checked_input import Refusals, checked_number
from .survey_state import SurveyState


class SurveyView(SurveyState, pn.viewable.Viewer):
    """The Survey tab of one page: the settings boxes, Start/Cancel, progress, results table and
    "Open in Fields tab" (``app``: the page's :class:`~.state.AppSession`)."""

    def __init__(self, app=None, **params):
        super().__init__(app, **params)
        self._refusals = Refusals(self, "status")  # what the Stride/Workers boxes refused

    def _scheduler_box(self) -> list:
        """The scheduler box, only where the operator allowed a scheduler at launch; else a line
        saying surveys run on the embedded cluster."""
        if not schedulers.allowed_schedulers():
            return [
                pn.pane.Markdown(
                    "Runs on an embedded Dask cluster (the server's operator can name a scheduler "
                    "at launch).",
                    css_classes=["survey-scheduler-note"],
                )
            ]
        return [
            pn.widgets.TextInput.from_param(
                self.param.scheduler, placeholder="tcp://host:8786 (empty: embedded cluster)"
            )
        ]

    def __panel__(self):
        # Start while idle, Cancel while a survey runs: never both lit
        startb = pn.widgets.Button(
            label="Start survey", color="primary", width=150, disabled=self.param.running
        )
        cancelb = cancel_button(self.param.running, width=150)  # both inside the 340 px column
        startb.on_click(lambda e: self.start())
        cancelb.on_click(lambda e: self.cancel())
        bar = pn.indicators.Progress(value=0, max=1, sizing_mode="stretch_width")
        table = pn.widgets.Tabulator(self.results_frame(), disabled=True, height=260, show_index=False)
        pick = pn.widgets.Select(label="Surveyed field / mosaic", options=[])
        openb = pn.widgets.Button(label="Open in Fields tab", disabled=True)
        openb.on_click(lambda e: self._open_picked(pick.value))

        def refresh(*_):
            bar.max, bar.value = max(self.total, 1), min(self.done, max(self.total, 1))
            if not self.running:
                table.value = self.results_frame()
                pick.options = self.openable()
                openb.disabled = not pick.options

        self.param.watch(refresh, ["done", "total", "running"])
        text = pn.widgets.TextInput.from_param
        controls = pn.Column(
            text(self.param.target, placeholder="folder, positions table, 'builtin' or 'sample'"),
            text(self.param.images, placeholder="positions mode: folder of fields / mosaics"),
            pn.widgets.Select.from_param(self.param.checkpoint),
            text(
                self.param.out, placeholder="output folder" if resources.data_root() is None else "run name"
            ),
            checked_number(self, "stride", "Stride", self._refusals),
            pn.widgets.FloatSlider.from_param(self.param.threshold),
            checked_number(self, "workers", "Workers", self._refusals),
            *self._scheduler_box(),
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
