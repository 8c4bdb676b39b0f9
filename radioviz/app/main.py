"""Assemble the app page."""
from __future__ import annotations

import holoviews as hv
import panel as pn

from .fields import FieldBrowser


def create_app(data_dir: str | None = None) -> pn.viewable.Viewable:
    """The RadioViz page (a new one per browser session)."""
    pn.extension(sizing_mode="stretch_width")
    hv.extension("bokeh", logo=False)
    browser = FieldBrowser(**({"data_dir": data_dir} if data_dir else {}))
    tabs = pn.Tabs(("Fields", browser), dynamic=True)
    return pn.Column(pn.pane.Markdown("# RadioViz\nMWA/GLEAM radio images: fields, halo classifiers and generative models."), tabs, sizing_mode="stretch_width")
