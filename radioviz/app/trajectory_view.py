"""The Trajectory view: step through a sampling run — x_t beside the predicted clean image and
their difference, the noise schedule (σ and SNR) and the process plot (when the picture is made)
with the current step marked, and x_t's histogram — each with a plain sentence and its formula a
click away (:mod:`.teaching`), and a "what to notice" line computed from the run's frames; a
guided lesson over the run on screen (:mod:`.lesson`); one seed under two conditionings side by
side, in step; the forward (noising) process on a real image with the model's own schedule; the
same seed under the samplers the model accepts; and the 2-D toy beside it all.

What the tab holds and runs is :class:`~.trajectory_state.TrajectorySampling` (no widgets, tested
alone); this view draws it.  Plots are Bokeh figures built once per session
(:mod:`.trajectory_plots`); a step change swaps their data in place in the browser, indexing the
recorded trajectory: no network call per frame (``model_calls`` counts them).
"""

from __future__ import annotations

import numpy as np
import panel as pn
import param

from .buttons import cancel_button
from .checked_input import Refusals, checked_number
from .field_choices import FOLLOW, follow_fields
from .image_panel import ImagePanel
from .jobs import in_background, on_session
from .lesson import LESSON_SAMPLER, LESSON_SEED, LESSON_STEPS, TOY, LessonState, lesson_model, why_edm
from .lesson_view import LessonCard
from .teaching import TOGGLE_CSS
from .toy_view import ToyView
from .trajectory_forward import forward_picture
from .trajectory_frames import HIST_BINS, frame_cache
from .trajectory_layout import CURRENT_STYLE, OUTDATED_STYLE, layout
from .trajectory_plots import SHARED, TrajectoryPlots
from .trajectory_state import BAND_NAMES, EDM_FORWARD_LEVELS, TrajectorySampling, latest_generated

__all__ = ["BAND_NAMES", "EDM_FORWARD_LEVELS", "FOLLOW", "TrajectoryView", "latest_generated"]


class TrajectoryView(TrajectorySampling, pn.viewable.Viewer):
    """``app``: the page's :class:`~.state.AppSession` (the latest Generate result, the Fields
    tab's field); ``fields_view``: where the Fields tab's field is read when not from ``app``."""

    def __init__(self, app=None, data_dir: str | None = None, fields_view=None, **params):
        self._drawn = False  # the watchers below draw only once the widgets exist
        super().__init__(app, data_dir, fields_view, **params)
        self._noise = np.random.default_rng(0).standard_normal((4, 64, 64)).astype(np.float32)
        plots = TrajectoryPlots(
            lambda v: setattr(self, "step", min(max(0, v - 1), self.param.step.bounds[1]))
        )
        for name in SHARED:
            setattr(self, name, getattr(plots, name))
        self._plots = plots
        self.progress = pn.indicators.Progress(
            value=self.param.percent, max=100, visible=self.param.busy, sizing_mode="stretch_width"
        )
        self.status = pn.pane.Markdown(self.param.message)
        refusals = Refusals(self, "message")
        self.steps_input = checked_number(self, "steps", "Steps", refusals)
        self.seed_input = checked_number(self, "seed", "Seed", refusals)
        self.alert = pn.pane.Alert(self.param.error, alert_type="danger", visible=self.param.error.rx.bool())
        self.cancel_button = cancel_button(self.param.busy, self.param.cancel)
        toggles = [TOGGLE_CSS]  # "▸ The formula" spaced apart from the next sentence
        self.explain = {k: pn.pane.Markdown("", width=290, stylesheets=toggles) for k in ("xt", "x0", "diff")}
        self.explain_schedule = pn.pane.Markdown("", sizing_mode="stretch_width", stylesheets=toggles)
        self.explain_forward = pn.pane.Markdown("", sizing_mode="stretch_width", stylesheets=toggles)
        self.pair_text = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.fwd_text = pn.pane.Markdown("")
        self.outdated_alert = pn.pane.Alert("", alert_type="warning", visible=False, name="traj_outdated")
        self.frames_box: pn.Column | None = None  # laid out by __panel__
        self.sampler_button = pn.widgets.Button.from_param(self.param.compare_samplers, label="Run samplers")
        self.side_row = pn.Row()
        self.sampler_note_pane = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.toy = ToyView()
        self.lesson = LessonState()
        self.lesson_card = LessonCard(self.lesson, why_edm(_cards()), self.start_lesson)
        self._drawn = True
        self.forward_choices()
        follow_fields(self.fields, self.forward_choices)
        self._model_shown()
        self._update_cache()
        self.toy.state.param.watch(lambda e: self._toy_to_lesson(), "version")
        moves = ["active", "index", "revealed", "run", "toy"]
        self.lesson.param.watch(lambda *e: self._lesson_moved(), moves)

    def _player_moved(self, value: int) -> None:
        """The browser's player stopped at ``value`` (1-based)."""
        self.step = min(max(0, value - 1), self.param.step.bounds[1])

    # -- words beside the pictures -------------------------------------------------------------------

    @param.depends("model", watch=True)
    def _model_shown(self):
        if not self._drawn:
            return
        runs = self.sampler_runs()
        self.sampler_button.label = "Run " + " / ".join(r[0] for r in runs) if runs else "Run samplers"
        self.sampler_note_pane.object = self.sampler_note()
        self._show_captions()
        self._update_forward()

    @param.depends("sampler", watch=True)
    def _show_captions(self):
        if not self._drawn:
            return
        text = self.captions()
        for k, pane in self.explain.items():
            pane.object = text[k]
        self.explain_schedule.object = "\n\n".join(text[k] for k in ("schedule", "update", "guidance"))
        self.explain_forward.object = text["forward"]

    @param.depends("outdated", watch=True)
    def _show_outdated(self):
        """A run from other settings stays readable, greyed and said to be old."""
        self.outdated_alert.object = self.outdated
        self.outdated_alert.visible = bool(self.outdated)
        if self.frames_box is not None:
            self.frames_box.styles = OUTDATED_STYLE if self.outdated else CURRENT_STYLE
        self._show_captions()

    # -- the run's frames (indexing cached arrays only) ----------------------------------------------

    @param.depends("shown", watch=True)
    def _shown_changed(self):
        run = self.shown
        self.player.show(1, end=max(2, len(run)))
        data, (xs, ys) = run.schedule_curve(), run.schedule_axes()

        def draw():
            self.sched_fig.x_range.update(start=xs[0], end=xs[1])
            self.sched_fig.y_range.update(start=ys[0], end=ys[1])
            self.sched_source.data = data

        on_session(draw, self.sched_fig)
        self._update_cache()
        self._show_captions()
        self.lesson.param.update(run=run, band=self.band_index())

    @param.depends("band", "scale", watch=True)
    def _update_cache(self):
        """Send every recorded frame of the shown band to the browser once; the player then
        swaps frames there (JavaScript), with no server round trip per frame."""
        if not self._drawn:
            return
        self._show_pair_state()
        if self.empty():
            text = "Press Sample (or use the Generate tab's latest result)."
            on_session(lambda: setattr(self.step_text, "text", text), self.text_fig)
            return
        n, b = len(self.trajectory), self.band_index()
        pair = [(title, traj, self.band_index(traj)) for title, traj in self.pair]
        data, bars = frame_cache(self.shown, b, self.scale, self.hist_range, pair)
        data["start"] = [min(self.step, n - 1)] * n
        edges = np.histogram_bin_edges([], HIST_BINS, range=self.hist_range)
        self.hist_edges = left, right = (edges[:-1].tolist(), edges[1:].tolist())
        self.pair_text.object = (
            f"**{self.contrast}** · same seed {self.seed}, in step with the player" if self.pair else ""
        )
        top = max(float(np.max(h)) for h in data["hist"])
        palette = "inferno" if self.scale == "stages" else "gray"
        x0_panels = [self.x0_panel, self.pair_panels[0][1], self.pair_panels[1][1]][: len(bars)]
        for panel, bar in zip(x0_panels, bars, strict=True):
            panel.label_levels(bar, palette, "asinh")
        self.process.show(self.shown.landmarks(b), min(self.step, n - 1) + 1)
        self.lesson.band = b

        def push():
            self.hist_fig.x_range.update(start=left[0], end=right[-1])
            self.hist_fig.y_range.update(start=0, end=1.05 * max(top, 1.0))
            self.hist_source.data = {"top": data["hist"][0].tolist(), "left": left, "right": right}
            self.cache.data = data

        on_session(push, self.hist_fig)

    def _show_pair_state(self) -> None:
        """The two-conditioning panels: blank and saying "press Run both" until a pair is run
        (they hold no image before, and an empty x̂0 on the inferno map read as crimson)."""
        for j, row in enumerate(self.pair_panels):
            for panel in row:
                if j < len(self.pair[:2]):
                    panel.show_image()
                else:
                    panel.show_empty("press Run both")

    @param.depends("step", watch=True)
    def _step_changed(self):
        if self.player.value != self.step + 1:
            self.player.show(self.step + 1)  # the browser redraws from its cache

    @param.depends("forward_field", "forward_t", "band", "scale", watch=True)
    def _update_forward(self):
        if not self._drawn or not self.model:
            return
        pic = forward_picture(self, self._noise)
        self.fwd_text.object = pic.text
        if pic.x0 is None:
            return
        self.fwd_panels[0].label_levels(pic.bar, "inferno" if pic.bar else "gray")
        self.fwd_panels[0].update(pic.x0, *pic.x0_limits, pic.x0_title)
        self.fwd_panels[1].update(pic.xt, *pic.xt_limits, "x_t")

    @param.depends("side_by_side", watch=True)
    def _show_side_by_side(self):
        panels = []
        for name, nfe, sec, s in self.side_by_side:
            p = ImagePanel(f"{name}: {nfe} NFE, {sec:.1f} s", width=260)
            p.update(np.clip(s[0], -1, 1), -1, 1)
            panels.append(pn.pane.Bokeh(p.figure))
        self.side_row.objects = panels

    # -- the lesson ------------------------------------------------------------------------------------

    def start_lesson(self) -> None:
        """Start on the run shown when it is the EDM's and current, else on a fresh EDM run (the
        lesson's default: the DDPM is flagged undertrained)."""
        if self.empty() or self.outdated or self.shown.kind != "edm":
            edm = lesson_model(_cards())
            if edm is None:
                self.message = "The lesson needs an EDM checkpoint in checkpoints/."
                return
            self.model = edm
            self.sampler, self.steps, self.seed = LESSON_SAMPLER, LESSON_STEPS, LESSON_SEED
            if self.sample() is None:
                return
        self.lesson.param.update(run=self.shown, band=self.band_index())
        self.lesson.start()

    def _toy_to_lesson(self) -> None:
        state = self.toy.state
        self.lesson.toy = (state.frames, state.model.data) if state.frames else None

    def _lesson_moved(self) -> None:
        """The player goes to the step the question (or its answer) is about."""
        target = self.lesson.target()
        if target is None:
            return
        player, step = target
        if player == TOY:
            if self.toy.state.frames:
                self.toy.player.show(step)
            elif self.lesson.revealed:  # its answer is read from a toy run: make one, as Start does
                in_background(self.toy, self.toy.run, "radioviz-toy")
            return
        self.step = min(step - 1, self.param.step.bounds[1])
        self.player.show(self.step + 1)

    # -- layout ----------------------------------------------------------------------------------------

    def on_shown(self) -> None:
        """The tab is shown again (``main.lazy_tabs``): its browser-drawn frames are drawn again."""
        self._plots.redraw()

    def __panel__(self):
        return layout(self)


def _cards() -> dict:
    from . import resources

    return resources.generator_cards()
