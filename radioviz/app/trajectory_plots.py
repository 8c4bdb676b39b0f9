"""The Trajectory tab's Bokeh figures, built once per session: x_t, x̂0 and their difference, the
noise schedule and the process plot with the current step marked, x_t's histogram, the step's
words, the two-conditioning panels, the forward process's two panels, and the browser code that
swaps frames from one cache as the player moves (no server round trip per frame).  Drawing only:
what the frames hold is prepared in :mod:`.trajectory_frames`.
"""

from __future__ import annotations

from collections.abc import Callable

from bokeh.models import ColumnDataSource, CustomJS, Label, Legend, Range1d, Span
from bokeh.plotting import figure

from .client_player import STOP_JS, ClientPlayer
from .image_panel import TOOLS, ImagePanel
from .trajectory_frames import ProcessPlot, frame_js

#: what the view exposes of its plots (tests and scripts read them there)
SHARED = (
    "xt_panel",
    "x0_panel",
    "diff_panel",
    "hist_source",
    "hist_fig",
    "sched_source",
    "sched_fig",
    "marker",
    "process",
    "pair_panels",
    "fwd_panels",
    "text_fig",
    "step_text",
    "notice_text",
    "cache",
    "player",
)


def _histogram(source: ColumnDataSource):
    # fixed ranges, set per trajectory: an auto range would re-lay out the axes on every frame
    h = figure(
        width=330,
        height=240,
        tools=TOOLS,
        toolbar_location=None,
        title="histogram of x_t",
        x_range=Range1d(-1, 1),
        y_range=Range1d(0, 1),
    )
    h.quad(top="top", bottom=0, left="left", right="right", source=source, color="#555555")
    h.xaxis.axis_label, h.yaxis.axis_label = "x_t value (data scale)", "pixels"
    return h


def _schedule(source: ColumnDataSource, marker: Span):
    # ranges set from each run's own steps: an auto range the browser computed came back
    # pinned when the tab was shown again (x stayed 0–50 for a 25-step run)
    s = figure(
        width=380,
        height=280,
        y_axis_type="log",
        tools=TOOLS,
        toolbar_location=None,
        title="noise schedule",
        x_range=Range1d(0.5, 1.5, name="traj_schedule_x"),
        y_range=Range1d(1e-4, 1e8),
    )
    r1 = s.line("step", "sigma", source=source, color="#1f77b4", line_width=2)
    r2 = s.line("step", "snr", source=source, color="#d62728", line_width=2, line_dash="dashed")
    # the SNR's formula is the model's own (EDM σ_data²/σ², DDPM ᾱ/(1−ᾱ)): in "The formula"
    legend = Legend(items=[("σ", [r1]), ("SNR (signal ÷ noise power)", [r2])], orientation="horizontal")
    legend.label_text_font_size, legend.padding, legend.margin = "10px", 2, 2
    s.add_layout(legend, "below")  # over no curve (walk 16)
    s.xaxis.axis_label, s.yaxis.axis_label = "recorded step", "σ  /  SNR (log)"
    s.add_layout(marker)
    return s


class TrajectoryPlots:
    """Every figure of the tab; ``on_step(v)`` is told the player's step (1-based) when it
    reaches the server."""

    def __init__(self, on_step: Callable[[int], None]):
        self.xt_panel = ImagePanel("x_t", name="traj_xt")
        self.x0_panel = ImagePanel("predicted x̂0", name="traj_x0")
        self.diff_panel = ImagePanel("x̂0 − x_t", "diverging", name="traj_diff")
        self.hist_source = ColumnDataSource({"top": [], "left": [], "right": []}, name="traj_hist")
        self.hist_fig = _histogram(self.hist_source)
        self.sched_source = ColumnDataSource({"step": [], "sigma": [], "snr": []}, name="traj_schedule")
        self.marker = Span(location=0, dimension="height", line_color="black", line_width=2)
        self.sched_fig = _schedule(self.sched_source, self.marker)
        self.process = ProcessPlot()
        self.pair_panels = [
            [ImagePanel(f"{w} {k}", width=250, name=f"pair{i}_{w}") for w in ("x_t", "x̂0")]
            for i, k in enumerate("AB")
        ]
        self.fwd_panels = [ImagePanel("x0", name="fwd_x0"), ImagePanel("x_t", name="fwd_xt")]
        # the step's words on a canvas (a Div's new text re-lays out the whole page every frame)
        tf = figure(width=1150, height=66, tools="", toolbar_location=None, x_range=(0, 1), y_range=(0, 1))
        tf.axis.visible = tf.grid.visible = False
        tf.outline_line_color = None
        tf.min_border = 0
        self.step_text = Label(x=0, y=44, x_units="screen", y_units="screen", text="", name="traj_step_text")
        self.notice_text = Label(  # two lines: x̂0, then x_t
            x=0, y=4, x_units="screen", y_units="screen", text="", text_font_size="12px", name="traj_notice"
        )
        for lab in (self.step_text, self.notice_text):
            tf.add_layout(lab)
        self.text_fig = tf
        self.cache = ColumnDataSource({}, name="traj_cache")
        self.player = ClientPlayer(on_step, name="traj_player")
        self._link_frames()

    def redraw(self) -> None:
        """Draw the shown step again from the frames the browser holds.  Why: the tab's figures are
        built anew in the browser each time the tab is shown again, from what the server knows —
        and the frames are drawn in the browser only (walk 16: x_t grey and "Press Sample" after
        a visit to another tab).  A change of the cache's tags, on the session's next tick (after
        the figures exist again), runs the frame code."""
        cache = self.cache

        def bump() -> None:
            cache.tags = [int(cache.tags[0]) + 1 if cache.tags else 1]

        doc = cache.document
        if doc is not None and doc.session_context is not None:
            doc.add_next_tick_callback(bump)
        else:
            bump()

    def _link_frames(self) -> None:
        images = (self.xt_panel, self.x0_panel, self.diff_panel)
        pairs = [p for row in self.pair_panels for p in row]
        frame = frame_js(
            {
                "cache": self.cache,
                "srcs": [p.source for p in images],
                "maps": [p.mapper for p in images],
                "titles": [p.corner for p in images],
                "hist": self.hist_source,
                "markers": [self.marker, self.process.marker],
                "info": self.step_text,
                "note": self.notice_text,
                "slider": self.player.slider,
                "psrcs": [p.source for p in pairs],
                "pmaps": [p.mapper for p in pairs],
                "ptitles": [p.corner for p in pairs],
            }
        )
        self.player.slider.js_on_change("value", frame)
        self.cache.js_on_change("tags", frame)  # redraw(): the shown step again, from the cache
        # new frames: stop playing, go to the step they were sent at, draw it
        self.cache.js_on_change(
            "data",
            CustomJS(
                args={**frame.args, "slider": self.player.slider},
                code=STOP_JS
                + """
                const sent_at = cache.data.start;
                if (sent_at && sent_at.length && slider.value !== sent_at[0] + 1) {
                  slider.value = sent_at[0] + 1;  // its own callback draws the frame
                  slider.value_throttled = slider.value;
                  return;
                }
                """
                + frame.code,
            ),
        )
        # drawn in the browser only: nothing to send back to the server on each frame
        for m in (self.hist_source, self.marker, self.step_text, self.notice_text, self.cache):
            m.syncable = False
        for fig in (self.hist_fig, self.sched_fig):
            fig.x_range.syncable = fig.y_range.syncable = False
