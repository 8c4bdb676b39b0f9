"""The Vet tab's widgets and figures, laid out: controls on the left; on the right the agreement,
the candidate (header, four band cut-outs, the context cut-out with its score contour), the label
buttons and the ranked table.  Nothing here holds state: :class:`.vet_view.VetView` does."""

from __future__ import annotations

import panel as pn

from . import vet_cutouts as cuts
from .fields_cutouts import CUT_PX
from .fields_display import _palette
from .fields_state import BANDS, CUT_SIZE
from .labeller_memory import remember_in_browser

CONTEXT_PX = 2 * CUT_PX + 10  # screen pixels a side: as tall as the 2×2 band cut-outs


def cutout_figures(view) -> list:
    """The four band cut-outs (linked pan/zoom, as in the Fields tab) and the context cut-out with
    the threshold contour and the classifier window's outline; the browser fills their sources."""
    from bokeh.models import HoverTool, Label, LinearColorMapper
    from bokeh.plotting import figure

    from .lean_bokeh import AXES_OFF, lean

    mapper = LinearColorMapper(palette=_palette("inferno"), low=0, high=255)  # levels are bytes
    figs, xr, yr = [], None, None
    titles = [*BANDS, f"context: {cuts.CONTEXT_PX} px of {BANDS[-1]}, score ≥ threshold"]
    for b, (title, src) in enumerate(zip(titles, view._srcs, strict=True)):
        ctx = b == len(BANDS)
        side = cuts.CONTEXT_SIDE if ctx else CUT_SIZE
        f = figure(
            width=CONTEXT_PX if ctx else CUT_PX,
            height=CONTEXT_PX if ctx else CUT_PX,
            title=title,
            tools="",  # the wheel scrolls the page; a zoom stuck on every later candidate (walk 18)
            x_range=(0, side) if ctx or xr is None else xr,
            y_range=(0, side) if ctx or yr is None else yr,
            toolbar_location=None,
            min_border=2,
            **AXES_OFF,
        )
        if not ctx:
            xr, yr = f.x_range, f.y_range
        f.image(image="level", x=0, y=0, dw=side, dh=side, source=src, color_mapper=mapper)
        if ctx:
            f.line(x="x", y="y", source=view._ctx, line_color="#39d353", line_width=1.5)
            w = CUT_SIZE / cuts.CONTEXT_BIN  # the classifier's window, centred on the candidate
            f.rect(
                x=side / 2,
                y=side / 2,
                width=w,
                height=w,
                fill_alpha=0,
                line_color="white",
                line_dash="dashed",
            )
        else:
            f.add_tools(HoverTool(tooltips=[("value", "@flux{0.0000} Jy/beam")]))
        note = Label(x=side / 2, y=side / 2, text="no candidate selected", text_align="center")
        note.update(text_baseline="middle", text_font_size="10pt", text_color="#666666")
        note.name = f"rv-cutnote-{b}-{view.tag}"
        f.add_layout(note)
        figs.append(lean(f))
    figs[0].tags = [view._cache]  # the cache travels to the page with the first cut-out
    return figs


def layout(view) -> pn.Row:
    s = view.state
    text = pn.widgets.TextInput.from_param
    figs = cutout_figures(view)
    bands = pn.GridBox(
        *[pn.pane.Bokeh(f, sizing_mode="fixed") for f in figs[: len(BANDS)]],
        ncols=2,
        width=2 * (CUT_PX + 10),
        height=2 * (CUT_PX + 10),
        sizing_mode="fixed",
    )
    buttons = []
    for label, key in (("halo", "h"), ("not halo", "n"), ("unsure", "u")):
        b = pn.widgets.Button(label=f"{label} ({key})", color="light")
        b.on_click(lambda e, lab=label: view._safe(lambda: view.label_selected(lab)))
        buttons.append(b)
    prev_b, next_b = pn.widgets.Button(label="◀ prev (k)"), pn.widgets.Button(label="next (j) ▶")
    prev_b.on_click(lambda e: view.move(-1))
    next_b.on_click(lambda e: view.move(1))
    open_b = pn.widgets.Button(label="Open in Fields tab", color="primary")
    open_b.on_click(lambda e: view._safe(view.open_in_fields))
    like_b = pn.widgets.Button(label="More like this (m)", css_classes=["vet-more-like"])
    like_b.on_click(lambda e: view._safe(view.more_like_this))
    back_b = pn.widgets.Button(
        label="Back to the queue (b)",
        visible=s.param.like.rx.bool(),  # shown while the look-alikes are
        css_classes=["vet-back"],
    )
    back_b.on_click(lambda e: view._safe(view.back_to_queue))
    downloads = [
        pn.widgets.FileDownload(
            callback=lambda w=what, x=suffix: view._safe(lambda: s.export_bytes(w, x)),
            filename=f"radioviz_{what}{suffix}",
            label=f"{what.capitalize()} {suffix[1:].upper()}",
            css_classes=[f"vet-export-{what}-{suffix[1:]}"],
            width=140,
        )
        for what in ("consensus", "votes")
        for suffix in (".ecsv", ".csv", ".reg")
    ]
    runs_b = pn.widgets.Button(label="Find new survey runs", width=180)
    runs_b.on_click(lambda e: view._safe(s.find_runs))
    controls = pn.Column(
        pn.widgets.Select.from_param(s.param.survey, name="Survey"),
        runs_b,
        text(s.param.folder, placeholder="or a survey output folder"),
        pn.widgets.Select.from_param(s.param.order, name="Rank by"),
        pn.widgets.Select.from_param(s.param.class_name),
        pn.widgets.MultiChoice.from_param(s.param.fields, name="Fields"),
        pn.widgets.RangeSlider.from_param(s.param.score_range, step=0.01),
        pn.widgets.Checkbox.from_param(s.param.unlabelled_only, name="Unlabelled by me only"),
        pn.widgets.Checkbox.from_param(s.param.disagreements_only, name="Disagreements only"),
        pn.widgets.FloatInput.from_param(s.param.near_arcmin, name="Known cluster within (′, 0: off)"),
        remember_in_browser(
            text(
                s.param.labeller,
                name="Labeller",
                placeholder=f"your name (until you type one, labels are by {s.guest})",
            )
        ),
        pn.pane.Markdown("#### Export"),
        pn.GridBox(*downloads, ncols=2),
        pn.pane.Markdown(f"Labels go to `{s.labels.name}`, the label store every session shares."),
        width=320,
    )
    candidate = pn.Column(
        view.vetter,
        pn.Row(bands, pn.pane.Bokeh(figs[-1], sizing_mode="fixed")),
        pn.Row(*buttons, prev_b, next_b, open_b, like_b, back_b),
        pn.widgets.TextInput(
            placeholder="comment for the next label (Enter, then a key)",
            css_classes=[f"rv-comment-{view.tag}"],  # read by the Vetter with each label key
        ),
        sizing_mode="stretch_width",
    )
    main = pn.Column(
        view._alert,
        pn.pane.Markdown(s.param.status, css_classes=["vet-status"]),
        pn.pane.Markdown(s.param.agreement, css_classes=["vet-agreement"]),
        candidate,
        view._table,
        sizing_mode="stretch_width",
    )
    return pn.Row(controls, main, sizing_mode="stretch_width")
