"""The Fields tab's page: the sidebar of controls, the sky plot, the candidate table, the
vetting column and the retraining panel, wired to the view's methods."""

from __future__ import annotations

import panel as pn

from .buttons import cancel_button
from .candidate_classes import class_legend_html
from .fields_vetting import FieldsVetting
from .labeller_memory import remember_in_browser

#: Share of the candidate table's width per column: every title whole in the ~600 px it gets
#: at 1600 px (measured in tests/browser/test_browser_fields.py; the separation went into the
#: nearest cluster's cell when nine columns no longer fitted).
TABLE_WIDTHS = {  # every title whole at 1280 px (browser test); the class without its probability
    "RA": "10%",
    "Dec": "11%",
    "score": "13%",
    "class": "16%",
    "nearest cluster": "16%",
    "label": "12%",
    "by": "10%",
    "comment": "12%",
}
#: Short column titles (the full names stay in the frame and the exports), each explained in
#: its header's tooltip: "score", "nearest…" and "lab…" were cut off in a 1700 px window.
TABLE_TITLES = {"nearest cluster": "nearest", "comment": "note"}
TABLE_TOOLTIPS = {
    "RA": "Right ascension of the candidate's peak (deg)",
    "Dec": "Declination of the candidate's peak (deg)",
    "score": "Peak halo score of the candidate region",
    "class": "A class detector's most probable class at the peak (halo, mini-halo, relic, radio galaxy; "
    "its probability is in the candidate's line below the table); empty for a model without classes",
    "nearest cluster": "Nearest catalogued cluster, and its separation (arcmin)",
    "label": "Your label: halo, not halo or unsure",
    "by": "Who labelled it",
    "comment": "Your comment (click to edit)",
}


class FieldsLayout(FieldsVetting):
    """The layout section of the Fields tab."""

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
        # enabled only while a score map is being computed (the progress bar shows then)
        cancel = cancel_button(self.progress.param.visible, width=90)
        compute.on_click(lambda e: self._safe(self.start_scan))
        cancel.on_click(lambda e: self.cancel())
        self._table = pn.widgets.Tabulator(
            self.candidate_frame(),
            selectable=1,
            editors={c: None for c in ("RA", "Dec", "score", "class", "nearest cluster", "label", "by")}
            | {"comment": {"type": "input"}},
            height=220,
            sizing_mode="stretch_width",
            layout="fit_columns",  # every column inside the table's width (they were cut off)
            widths=TABLE_WIDTHS,
            titles=TABLE_TITLES,
            header_tooltips=TABLE_TOOLTIPS,
            show_index=False,
            css_classes=[f"rv-table-{self.session}"],  # found by the Vetter in the page
            # eight columns in ≈ 600 px: headers a little smaller and tighter, so no title is cut
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
            remember_in_browser(
                pn.widgets.TextInput.from_param(
                    self.param.labeller,
                    label="Labeller",
                    placeholder=f"your name (until you type one, labels are by {self._guest})",
                )
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
        legend = pn.pane.HTML(pn.bind(lambda _v: class_legend_html(self.candidates), self.param.scan_version))
        main = pn.Column(
            self._alert,
            self._status,
            pn.Row(
                pn.Column(self.field_plot(), readout, legend),
                pn.Column(self._table, vetting, sizing_mode="stretch_width", min_width=380),
            ),
            sizing_mode="stretch_width",
        )
        return pn.Row(controls, main, sizing_mode="stretch_width")

    def _retrain_panel(self) -> pn.Column:
        """ "Retrain on my labels": button, stop, progress and what it did."""
        go = pn.widgets.Button(label="Retrain on my labels", color="primary", width=190)
        r = self.retrainer
        # grey and disabled while nothing runs, as every Cancel (walk 18)
        stop = cancel_button(r.param.running, label="Stop retraining", width=140)
        go.on_click(lambda e: self._safe(self.retrain))
        stop.on_click(lambda e: self.retrainer.cancel())
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
