"""Where the Trajectory tab's pieces sit on the page: the lesson card on top, the controls beside
the frames (player, the step's words, the three images with their explanations, schedule,
process plot and histogram), then the two-conditioning panels, the forward process, the sampler
comparison and the 2-D toy."""

from __future__ import annotations

import panel as pn
from bokeh.layouts import row as bokeh_row

from .teaching import SCALE_HELP

#: the frames of a run made with other settings than the pickers': still readable, plainly old
OUTDATED_STYLE = {"opacity": "0.5", "filter": "grayscale(100%)"}
#: … and back (explicit values: an emptied style dict leaves the browser's old ones in place)
CURRENT_STYLE = {"opacity": "1", "filter": "none"}


def layout(view) -> pn.Column:
    """The tab's page for a :class:`~.trajectory_view.TrajectoryView`."""
    use = pn.widgets.Button(label="Use last Generate result")
    use.on_click(lambda e: view.use_generated())
    controls = pn.Column(
        pn.widgets.Select.from_param(view.param.model, label="Model"),
        pn.widgets.Select.from_param(view.param.sampler, label="Sampler"),
        view.steps_input,
        view.seed_input,
        pn.widgets.Select.from_param(view.param.band, label="Band"),
        pn.widgets.RadioButtonGroup.from_param(view.param.scale, label="Colour scale"),
        pn.pane.Markdown(SCALE_HELP),
        pn.Row(
            # greyed while a run is made (walk 16: a second press was taken silently)
            pn.widgets.Button.from_param(
                view.param.run, label="Sample", color="primary", disabled=view.param.busy
            ),
            view.cancel_button,
        ),
        use,
        view.progress,
        view.status,
        width=300,
    )
    images = pn.Row(
        *[
            pn.Column(pn.pane.Bokeh(p.figure), view.explain[k])
            for p, k in ((view.xt_panel, "xt"), (view.x0_panel, "x0"), (view.diff_panel, "diff"))
        ]
    )
    frames = pn.Column(
        view.outdated_alert,
        pn.pane.Bokeh(bokeh_row(*view.player.controls())),
        pn.pane.Bokeh(view.text_fig),
        images,
        pn.Row(
            pn.pane.Bokeh(view.sched_fig),
            pn.pane.Bokeh(view.process.figure),
            pn.pane.Bokeh(view.hist_fig),
            view.explain_schedule,
        ),
        css_classes=["traj-frames"],
        styles=OUTDATED_STYLE if view.outdated else CURRENT_STYLE,
    )
    view.frames_box = frames
    pair = pn.Column(
        "### One seed, two conditionings (in step with the player above)",
        pn.Row(
            pn.widgets.Select.from_param(view.param.contrast, label="Contrast", width=320),
            pn.widgets.Button.from_param(view.param.run_contrast, label="Run both", align="end"),
        ),
        view.pair_text,
        pn.Row(*[pn.pane.Bokeh(p.figure) for row in view.pair_panels for p in row]),
    )
    forward = pn.Column(
        "### Forward process: noising a real image with this model's schedule",
        view.explain_forward,
        pn.Row(
            pn.widgets.Select.from_param(view.param.forward_field, label="Field", width=320),
            pn.widgets.IntSlider.from_param(view.param.forward_t, label="noise level (index)", width=400),
        ),
        view.fwd_text,
        pn.Row(*[pn.pane.Bokeh(p.figure) for p in view.fwd_panels]),
    )
    side = pn.Column(
        "### Same seed, different samplers", view.sampler_note_pane, view.sampler_button, view.side_row
    )
    return pn.Column(
        view.alert,
        view.lesson_card,
        pn.Row(controls, frames),
        pair,
        forward,
        side,
        view.lesson_card.echo,  # the lesson's toy question, where the toy is
        view.toy,  # the same process on 2-D points, beside the 4 096-D image
        sizing_mode="stretch_width",
    )
