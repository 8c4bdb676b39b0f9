"""Assemble the app page."""

from __future__ import annotations

import holoviews as hv
import panel as pn

from .compare_view import CompareView
from .fields import FieldsView
from .generate_view import GenerateView
from .models_view import ModelsView
from .survey_view import SurveyView
from .trajectory_view import TrajectoryView


def create_app(
    data_dir: str | None = None, labels_path: str | None = None, template: bool = False
) -> pn.viewable.Viewable:
    """The RadioViz page (a new one per browser session; models and fields are shared).

    ``template=True`` (what ``app.py`` serves) wraps it in Panel's Bootstrap template, whose
    resources Panel serves locally; without, it is a plain layout that displays inline in Jupyter.
    """
    pn.extension("tabulator", "filedropper", sizing_mode="stretch_width", nthreads=4, notifications=False)
    hv.extension("bokeh", logo=False)
    fields = FieldsView(labels_path=labels_path, **({"data_dir": data_dir} if data_dir else {}))
    generate = GenerateView(data_dir=data_dir)
    survey = SurveyView(fields)
    tabs = pn.Tabs(
        ("Fields", fields),
        ("Generate", generate),
        ("Trajectory", TrajectoryView(generate, data_dir=data_dir, fields_view=fields)),
        ("Compare", CompareView(generate)),
        ("Models", ModelsView()),
        ("Survey", survey),
        dynamic=True,
    )
    survey.show_fields = lambda: setattr(tabs, "active", 0)  # "Open in Fields tab" shows it
    if template:
        from .resources import serve_panel_css_locally

        serve_panel_css_locally()
        return pn.template.BootstrapTemplate(
            title="RadioViz — MWA/GLEAM fields, halo classifiers and generative models",
            main=[tabs],
            header_background="#1f2a44",
            # no page-wide busy spinner: it toggled on every server event (each Play frame) and
            # re-laid out the page; long runs have their own progress bars
            busy_indicator=None,
        )
    header = pn.pane.Markdown(
        "# RadioViz\nMWA/GLEAM radio images: fields, halo classifiers and generative models."
    )
    return pn.Column(header, tabs, sizing_mode="stretch_width")
