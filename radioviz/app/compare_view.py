"""The Compare view: real vs generated images, drawn from :class:`~.compare_state.CompareState`
(where the real images are, the comparison, an uploaded samples file) with its figures from
:mod:`.compare_figures`, each number with what it means and what a perfect generator would
score (:mod:`.teaching`).  All numbers come from :func:`radioviz.metrics.compare.compare_images`."""

from __future__ import annotations

import panel as pn
import param

from .compare_figures import NN_PX, comparison_figures, power_ratio_plot, visible_counts
from .compare_state import (
    CompareState,
    default_real_root,
    label_words,
    single_frequency_root,
    split_folders,
    two_sample_text,
)
from .uploads import dropper

__all__ = [
    "NN_PX",
    "CompareView",
    "default_real_root",
    "label_words",
    "power_ratio_plot",
    "single_frequency_root",
    "split_folders",
    "two_sample_text",
    "visible_counts",
]


PRESS = "Press **Compare** to compare the latest generated images with real ones."


class CompareView(CompareState, pn.viewable.Viewer):
    """``app``: the page's :class:`~.state.AppSession` (its latest Generate run is compared)."""

    def __init__(self, app=None, **params):
        super().__init__(app, **params)
        self.alert = pn.pane.Alert(self.param.error, alert_type="danger", visible=self.param.error.rx.bool())
        self.status = pn.pane.Markdown(self.param.message)
        self.two_sample_line = pn.pane.Markdown(self.param.two_sample_note)

    @param.depends("comparison")
    def plots(self):
        if self.comparison is None:
            return pn.pane.Markdown(PRESS)
        return comparison_figures(self.comparison)

    def __panel__(self):
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.on_session_destroyed(lambda ctx: self._forget_upload())
        up = dropper(lambda names, data: self.upload(names[0], data[0]), self.show_error)
        controls = pn.Row(
            pn.widgets.TextInput.from_param(self.param.real_root, label="Real data root", width=420),
            pn.widgets.TextInput.from_param(self.param.split, label="Split", width=100),
            pn.Column(pn.pane.Markdown("Samples .npz (optional; default: the latest Generate result)"), up),
            pn.widgets.Button.from_param(self.param.run, label="Compare", color="primary", align="end"),
            pn.widgets.Button.from_param(self.param.run_two_sample, label="Two-sample test", align="end"),
        )
        return pn.Column(
            self.alert, controls, self.status, self.two_sample_line, self.plots, sizing_mode="stretch_width"
        )
