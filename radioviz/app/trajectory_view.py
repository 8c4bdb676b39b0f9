"""The Trajectory view: step through a sampling run — x_t beside the predicted clean image and
their difference, the noise schedule (σ and SNR) and the process plot (when the picture is made)
with the current step marked, and x_t's histogram — each with a short explanation adapted to the
model kind (DDPM or EDM) and a "what to notice" line computed from the run's frames; one seed
under two conditionings side by side, in step; the forward (noising) process on a real image
with the model's own schedule; and the same seed under the samplers the model accepts.

Plots are Bokeh figures built once per session; a step change swaps their data in place
(:class:`~radioviz.app.image_panel.ImagePanel`), indexing the recorded trajectory: no network
call per frame (``model_calls`` counts them, for the benchmark and the tests).  What each frame
shows is prepared in :mod:`.trajectory_frames`.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np
import panel as pn
import param
from bokeh.layouts import row as bokeh_row
from bokeh.models import ColumnDataSource, CustomJS, Label, Legend, Range1d, Span
from bokeh.plotting import figure

from ..data.preprocess import Preprocessing
from ..display import stretch_image
from ..errors import InputError
from ..models.card import ModelCard
from ..models.quality import default_generator
from ..sampling.generate import accepted, generate
from ..sampling.registry import default_steps
from ..sampling.schedules import DiscreteSchedule
from ..sampling.trajectory import SamplingCancelled, Trajectory
from ..validate import MAX_SEED
from . import resources
from .checked_input import Refusals, checked_number
from .client_player import STOP_JS, ClientPlayer
from .describe import label_text, model_options
from .field_choices import FOLLOW, field_choices, follow_fields, keep, open_field
from .image_panel import TOOLS, ImagePanel
from .session import on_session
from .sky import colorbar_opts
from .teaching import contrast_options, explanations, sampler_runs
from .trajectory_frames import HIST_BINS, SCALE_HELP, SCALES, ProcessPlot, frame_cache, frame_js, symmetric
from .trajectory_run import TrajectoryRun, data_scale, outdated_note

BAND_NAMES = ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"]
EDM_FORWARD_LEVELS = 100  # σ values (log-spaced over the model's range) for the EDM forward slider
#: the frames of a run made with other settings than the pickers': still readable, plainly old
OUTDATED_STYLE = {"opacity": "0.5", "filter": "grayscale(100%)"}
#: … and back (explicit values: an emptied style dict leaves the browser's old ones in place)
CURRENT_STYLE = {"opacity": "1", "filter": "none"}


class TrajectoryView(pn.viewable.Viewer):
    model = param.Selector(default=None, objects=[])
    sampler = param.Selector(default="ddim", objects=["ddim"])
    steps = param.Integer(default=50, bounds=(1, 1000))
    seed = param.Integer(default=0, bounds=(0, MAX_SEED))
    band = param.Selector(default=BAND_NAMES[0], objects=BAND_NAMES)
    scale = param.Selector(default="stages", objects=SCALES, doc="Colour scale of the images")
    step = param.Integer(default=0, bounds=(0, 0), doc="Recorded step shown (0-based)")
    shown = param.ClassSelector(
        class_=TrajectoryRun, default=None, doc="The run whose frames, schedule and captions are shown"
    )
    outdated = param.String(
        default="", doc="Why the run shown is not what the pickers would make (empty: it is)"
    )
    forward_field = param.Selector(default=None, objects=[], doc="Real image for the forward process")
    forward_t = param.Integer(default=0, bounds=(0, 999), doc="Forward-process noise level (index)")
    contrast = param.Selector(default=None, objects=[], doc="Two conditionings, same seed")
    run = param.Event()
    cancel = param.Event()
    compare_samplers = param.Event()
    run_contrast = param.Event()

    def __init__(self, generate_view=None, data_dir: str | None = None, fields_view=None, **params):
        super().__init__(**params)
        self.generate_view = generate_view
        self.fields_view = fields_view
        self.data_dir = str(data_dir or resources.SAMPLE_DATA)
        self.model_calls = 0
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("")
        refusals = Refusals(self.status)
        self.steps_input = checked_number(self, "steps", "Steps", refusals)
        self.seed_input = checked_number(self, "seed", "Seed", refusals)
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False)
        self._cancel = threading.Event()
        self.cancel_button = pn.widgets.Button.from_param(
            self.param.cancel, label="Cancel", color="warning", disabled=True
        )  # lit only while a run goes on
        self.side_by_side: list[tuple[str, int, float, np.ndarray]] = []
        self.pair: list[tuple[str, Trajectory]] = []
        self._hist_range = (-1.0, 1.0)
        self._noise = np.random.default_rng(0).standard_normal((4, 64, 64)).astype(np.float32)
        self._build_plots()
        gens = {n: c for n, c in resources.generator_cards().items() if c.kind in ("ddpm", "edm")}
        self.param.model.objects = model_options(gens)
        if gens:
            self.model = default_generator(gens, kinds=("edm", "ddpm")) or list(gens)[0]
        self._forward_choices()
        follow_fields(fields_view, self._forward_choices)
        self._model_changed()
        self._update_cache()

    # -- the plots, built once ---------------------------------------------------------------------

    def _build_plots(self):
        self.xt_panel = ImagePanel("x_t", name="traj_xt")
        self.x0_panel = ImagePanel("predicted x̂0", name="traj_x0")
        self.diff_panel = ImagePanel("x̂0 − x_t", "diverging", name="traj_diff")
        self.hist_source = ColumnDataSource({"top": [], "left": [], "right": []}, name="traj_hist")
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
        h.quad(top="top", bottom=0, left="left", right="right", source=self.hist_source, color="#555555")
        h.xaxis.axis_label, h.yaxis.axis_label = "x_t value (data scale)", "pixels"
        self.hist_fig = h
        self.sched_source = ColumnDataSource({"step": [], "sigma": [], "snr": []}, name="traj_schedule")
        # ranges set from each run's own steps: an auto range the browser computed came back
        # pinned when the tab was shown again (x stayed 0–50 for a 25-step run)
        s = figure(
            width=380,
            height=240,
            y_axis_type="log",
            tools=TOOLS,
            toolbar_location=None,
            title="noise schedule",
            x_range=Range1d(0.5, 1.5, name="traj_schedule_x"),
            y_range=Range1d(1e-4, 1e8),
        )
        r1 = s.line("step", "sigma", source=self.sched_source, color="#1f77b4", line_width=2)
        r2 = s.line(
            "step", "snr", source=self.sched_source, color="#d62728", line_width=2, line_dash="dashed"
        )
        s.add_layout(Legend(items=[("σ", [r1]), ("SNR = 1/σ²", [r2])], location="top_center"))
        s.xaxis.axis_label, s.yaxis.axis_label = "recorded step", "σ  /  SNR (log)"
        self.marker = Span(location=0, dimension="height", line_color="black", line_width=2)
        s.add_layout(self.marker)
        self.sched_fig = s
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
        self.explain = {k: pn.pane.Markdown("", width=290) for k in ("xt", "x0", "diff")}
        self.explain_schedule = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.explain_forward = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.pair_text = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.fwd_text = pn.pane.Markdown("")
        self.player = ClientPlayer(
            lambda v: setattr(self, "step", min(max(0, v - 1), self.param.step.bounds[1])), name="traj_player"
        )
        frame = frame_js(
            {
                "cache": self.cache,
                "srcs": [p.source for p in (self.xt_panel, self.x0_panel, self.diff_panel)],
                "maps": [p.mapper for p in (self.xt_panel, self.x0_panel, self.diff_panel)],
                "titles": [p.corner for p in (self.xt_panel, self.x0_panel, self.diff_panel)],
                "hist": self.hist_source,
                "markers": [self.marker, self.process.marker],
                "info": self.step_text,
                "note": self.notice_text,
                "slider": self.player.slider,
                "psrcs": [p.source for row in self.pair_panels for p in row],
                "pmaps": [p.mapper for row in self.pair_panels for p in row],
                "ptitles": [p.corner for row in self.pair_panels for p in row],
            }
        )
        self.player.slider.js_on_change("value", frame)
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
        for r in (
            self.hist_fig.x_range,
            self.hist_fig.y_range,
            self.sched_fig.x_range,
            self.sched_fig.y_range,
        ):
            r.syncable = False
        self.outdated_alert = pn.pane.Alert("", alert_type="warning", visible=False, name="traj_outdated")
        self.frames_box: pn.Column | None = None  # laid out by __panel__
        self.sampler_button = pn.widgets.Button.from_param(self.param.compare_samplers, label="Run samplers")
        self.side_row = pn.Row()
        self.sampler_note_pane = pn.pane.Markdown("", sizing_mode="stretch_width")

    # -- model, sampler, conditions ----------------------------------------------------------------

    def card(self) -> ModelCard | None:
        return resources.generator_cards().get(self.model) if self.model else None

    @param.depends("model", watch=True)
    def _model_changed(self):
        card = self.card()
        acc = accepted(card) if card else {"samplers": ["ddim"]}
        self.param.sampler.objects = list(acc["samplers"]) or ["ddim"]
        self.sampler = self.param.sampler.objects[0]
        bands = resources.model_bands(card)
        self.param.band.objects = bands
        if self.band not in bands:
            self.band = bands[0]
        self.param.contrast.objects = list(contrast_options(acc)) if card else []
        self.contrast = (self.param.contrast.objects or [None])[0]
        kind = card.kind if card else "ddpm"
        runs = sampler_runs(kind, acc["samplers"])
        self.sampler_button.label = "Run " + " / ".join(r[0] for r in runs) if runs else "Run samplers"
        self.sampler_note_pane.object = (
            "An EDM is a continuous-σ model: it has no discrete DDPM/DDIM sampler, so this runs "
            + " and ".join(r[0] for r in runs)
            + " (Euler: 1 network call per step; Heun: 2)."
            if kind == "edm"
            else "The DDPM under "
            + ", ".join(r[0] for r in runs)
            + " (DDPM: its ancestral sampler; Heun through the σ-space wrapper)."
        )
        self.param.forward_t.bounds = (0, (EDM_FORWARD_LEVELS if kind == "edm" else self._schedule().T) - 1)
        self.forward_t = min(self.forward_t, self.param.forward_t.bounds[1])
        self._show_captions()
        self._update_forward()

    @param.depends("sampler", watch=True)
    def _sampler_changed(self):
        self.steps = default_steps(self.sampler, self._schedule().T if self._kind() == "ddpm" else None)
        self._show_captions()

    def _kind(self) -> str:
        card = self.card()
        return card.kind if card else "ddpm"

    def _show_captions(self):
        """The panels' captions are those of the run shown (the pickers' only before any run);
        the forward process, drawn with the picked model, is explained for that model."""
        card = self.card()
        beam = bool(card is not None and (card.precond or {}).get("beam"))
        picked = explanations(self._kind(), self.sampler, beam=beam)
        text = self.shown.captions() if self.shown is not None else picked
        for k, pane in self.explain.items():
            pane.object = text[k]
        self.explain_schedule.object = text["schedule"] + "\n\n" + text["update"]
        self.explain_forward.object = picked["forward"]

    @param.depends("shown", "model", "sampler", "steps", "seed", watch=True)
    def _mark_outdated(self):
        """Pickers moved away from the run shown: the run stays, with its own captions, greyed
        and said to be from the previous settings — never relabelled as the new ones."""
        self.outdated = outdated_note(self.shown, self.model, self.sampler, self.steps, self.seed)
        self.outdated_alert.object = self.outdated
        self.outdated_alert.visible = bool(self.outdated)
        if self.frames_box is not None:
            self.frames_box.styles = OUTDATED_STYLE if self.outdated else CURRENT_STYLE
        self._show_captions()

    @property
    def trajectory(self) -> Trajectory | None:
        """The shown run's trajectory."""
        return self.shown.trajectory if self.shown is not None else None

    def _run_of(self, traj: Trajectory, model: str, sampler: str, steps: int, seed: int) -> TrajectoryRun:
        return TrajectoryRun.of(traj, model, resources.generator_cards().get(model), sampler, steps, seed)

    def _schedule(self) -> DiscreteSchedule:
        card = self.card()
        return DiscreteSchedule(**((card.schedule if card else None) or {}))

    def _conditions(self) -> dict:
        card = self.card()
        labels = (card.labels if card else None) or []
        return {"label": "H" if "H" in labels else None}

    @contextlib.contextmanager
    def _busy(self):
        """A run going on: the progress bar shown and Cancel lit, only then."""
        self._cancel.clear()
        self.progress.visible, self.cancel_button.disabled = True, False
        try:
            yield
        finally:
            self.progress.visible, self.cancel_button.disabled = False, True

    def _run(self, sampler: str, steps: int, stride: int = 1, **conditions):
        path = resources.CHECKPOINTS / self.model

        def callback(info):
            self.model_calls += 1
            self.progress.value = int(100 * (info["i"] + 1) / info["n"])
            return self._cancel.is_set()

        return generate(
            path,
            1,
            sampler=sampler,
            steps=steps,
            seed=self.seed,
            callback=callback,
            record_stride=stride,
            model_and_card=resources.generator(path),
            **(conditions or self._conditions()),
        )

    def _stride(self) -> int:
        return 5 if self.steps > 200 else 1

    @param.depends("run", watch=True)
    def sample(self) -> Trajectory | None:
        """One sample, every step recorded (DDPM-1000 keeps every 5th frame)."""
        if not self.model:
            self.alert.object, self.alert.visible = "No diffusion checkpoint in checkpoints/.", True
            return None
        # the pickers may change meanwhile
        model, sampler, steps, seed = self.model, self.sampler, self.steps, self.seed
        try:
            with self._busy():
                g = self._run(sampler, steps, self._stride())
        except (SamplingCancelled, InputError) as exc:
            self.status.object = str(exc)
            return None
        if (self.model, self.sampler, self.steps, self.seed) != (model, sampler, steps, seed):
            # changed during the run: the pickers go back to the run shown
            self._follow_run(model, {**g.meta, "sampler": sampler, "steps": steps, "seed": seed})
        self.show_run(
            self._run_of(g.trajectory, model, sampler, steps, seed),
            f"{sampler}, {steps} steps, {g.meta['nfe']} NFE, {g.meta['wall_seconds']:.1f} s · "
            f"class {label_text(g.meta['label']).split(':')[0]}",
        )
        return g.trajectory

    def show_run(self, run: TrajectoryRun, text: str = "", keep_pair: bool = False) -> None:
        """Show ``run``: frames, schedule and captions all from it."""
        if not keep_pair:
            self.pair = []
        traj = run.trajectory
        n = max(1, len(traj))
        self.param.step.bounds = (0, n - 1)
        b = self._band_index(traj)
        frames = [data_scale(traj, k)[b] for k in range(len(traj))]
        lo = min(float(f.min()) for f in frames) if frames else -1.0
        hi = max(float(f.max()) for f in frames) if frames else 1.0
        self._hist_range = (lo, hi if hi > lo else lo + 1)
        self.step = 0
        self.player.show(1, end=max(2, n))
        data, (xs, ys) = run.schedule_curve(), run.schedule_axes()

        def draw():
            self.sched_fig.x_range.update(start=xs[0], end=xs[1])
            self.sched_fig.y_range.update(start=ys[0], end=ys[1])
            self.sched_source.data = data

        on_session(draw, self.sched_fig)
        if self.shown is run:
            self.param.trigger("shown")
        else:
            self.shown = run
        self.status.object = f"{len(traj)} recorded steps · {text}"

    def use_generated(self) -> bool:
        g = getattr(self.generate_view, "result", None)
        if g is None or not len(g.trajectory):
            self.status.object = "No Generate result with a trajectory yet."
            return False
        name = Path(str(g.meta.get("checkpoint", ""))).name
        self._follow_run(name, g.meta)
        run = self._run_of(g.trajectory, name, g.meta["sampler"], g.meta["steps"], g.meta.get("seed", 0))
        self.show_run(run, f"from the Generate tab ({name}, {g.meta['sampler']})")
        return True

    def _follow_run(self, name: str, meta: dict) -> None:
        """Show the run's own model, sampler, steps and seed in the pickers (when it is a
        diffusion model listed here), so the teaching texts, schedule and Run buttons are those
        of the model whose frames are shown."""
        if name not in self.param.model.objects:
            return
        self.model = name
        if meta.get("sampler") in self.param.sampler.objects:
            self.sampler = meta["sampler"]
        lo, hi = self.param.steps.bounds
        if isinstance(meta.get("steps"), int):
            self.steps = min(max(meta["steps"], lo), hi)
        if isinstance(meta.get("seed"), int) and meta["seed"] >= 0:
            self.seed = meta["seed"]

    @param.depends("cancel", watch=True)
    def _cancel_run(self):
        self._cancel.set()

    @param.depends("compare_samplers", watch=True)
    def run_side_by_side(self):
        """The same seed under the samplers the model accepts (for an EDM: Euler-25 and Heun-25)."""
        card = self.card()
        if not card:
            return
        out = []
        try:
            with self._busy():
                for name, sampler, steps in sampler_runs(card.kind, accepted(card)["samplers"]):
                    g = self._run(sampler, steps, steps)
                    out.append((name, g.meta["nfe"], g.meta["wall_seconds"], g.trajectory.samples[0]))
        except SamplingCancelled as exc:
            self.status.object = str(exc)
        self.side_by_side = out
        self._show_side_by_side()

    @param.depends("run_contrast", watch=True)
    def run_pair(self) -> bool:
        """One seed under two conditionings, recorded step by step; shown in step with the player."""
        card = self.card()
        options = contrast_options(accepted(card)) if card else {}
        if self.contrast not in options:
            self.status.object = "This model takes no condition to contrast."
            return False
        out = []
        try:
            with self._busy():
                for cond in options[self.contrast]:
                    g = self._run(self.sampler, self.steps, self._stride(), **cond)
                    out.append((_condition_title(cond), g.trajectory))
        except (SamplingCancelled, InputError) as exc:
            self.status.object = str(exc)
            return False
        self.pair = out
        if self._empty() or self.outdated:  # nothing shown, or another model's run: show the first
            run = self._run_of(out[0][1], self.model, self.sampler, self.steps, self.seed)
            self.show_run(run, f"{self.contrast}: the main panels show {out[0][0]}", keep_pair=True)
        else:  # the main panels keep their run; the pair plays beside it, in step
            self.param.trigger("shown")
            self.status.object = f"{self.contrast}: both runs below, in step with the player"
        return True

    # -- frames (indexing cached arrays only) -------------------------------------------------------

    def _band_index(self, traj: Trajectory | None = None) -> int:
        """The chosen band's index, kept inside the shown trajectory's channels (it may come
        from another model than the one now selected)."""
        traj = traj if traj is not None else self.trajectory
        b = self.param.band.objects.index(self.band) if self.band in self.param.band.objects else 0
        return b if traj is None or not len(traj) else min(b, traj.xs[0].shape[1] - 1)

    def _empty(self):
        return self.trajectory is None or not len(self.trajectory)

    @param.depends("shown", "band", "scale", watch=True)
    def _update_cache(self):
        """Send every recorded frame of the shown band to the browser once; the player then
        swaps frames there (JavaScript), with no server round trip per frame."""
        if self._empty():
            text = "Press Sample (or use the Generate tab's latest result)."
            on_session(lambda: setattr(self.step_text, "text", text), self.text_fig)
            return
        n, b = len(self.trajectory), self._band_index()
        pair = [(title, traj, self._band_index(traj)) for title, traj in self.pair]
        data, bars = frame_cache(self.shown, b, self.scale, self._hist_range, pair)
        data["start"] = [min(self.step, n - 1)] * n
        edges = np.histogram_bin_edges([], HIST_BINS, range=self._hist_range)
        self.hist_edges = left, right = (edges[:-1].tolist(), edges[1:].tolist())
        self.pair_text.object = (
            f"**{self.contrast}** · same seed {self.seed}, in step with the player" if self.pair else ""
        )
        top = max(float(np.max(h)) for h in data["hist"])
        palette = "inferno" if self.scale == "stages" else "gray"
        x0_panels = [self.x0_panel, self.pair_panels[0][1], self.pair_panels[1][1]]
        for panel, bar in zip(x0_panels, bars + [None] * (3 - len(bars)), strict=True):
            panel.label_levels(bar, palette, "asinh")
        self.process.show(self.shown.landmarks(b), min(self.step, n - 1) + 1)

        def push():
            self.hist_fig.x_range.update(start=left[0], end=right[-1])
            self.hist_fig.y_range.update(start=0, end=1.05 * max(top, 1.0))
            self.hist_source.data = {"top": data["hist"][0].tolist(), "left": left, "right": right}
            self.cache.data = data

        on_session(push, self.hist_fig)

    @param.depends("step", watch=True)
    def _step_changed(self):
        if self.player.value != self.step + 1:
            self.player.show(self.step + 1)  # the browser redraws from its cache

    # -- forward process ---------------------------------------------------------------------------

    def _forward_choices(self):
        """The Fields tab's field, then every field on offer (:func:`.field_choices.field_choices`);
        the choice kept while still offered, its picture redrawn when the followed field moves."""
        objects = {FOLLOW: FOLLOW} if self.fields_view is not None else {}
        objects |= field_choices(self.data_dir, self.fields_view)
        old = self.forward_field
        self.param.forward_field.objects = objects
        new = keep(old, objects, next(iter(objects.values()), None))
        if new != old:
            self.forward_field = new
        else:
            self._update_forward()

    def _forward_source(self) -> tuple[str, str] | None:
        """(server folder, name) of the forward process's field."""
        if self.forward_field == FOLLOW:
            return open_field(self.fields_view)
        return tuple(self.forward_field) if self.forward_field else None

    def forward_level(self) -> tuple[str, float, float]:
        """(text, signal weight a, noise weight b) of x = a·x0 + b·n at the forward slider, with
        the selected model's own schedule; shown on the data scale."""
        if self._kind() == "edm":
            card = self.card()
            lo, hi = (card.sigma_range if card else None) or [0.002, 80.0]
            n = EDM_FORWARD_LEVELS
            sig = float(np.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * self.forward_t / (n - 1)))
            s = 1 / np.sqrt(1 + sig**2)
            return f"σ = {sig:.3g} (EDM, x = x0 + σ·n, shown ÷√(1+σ²))", s, sig * s
        a = float(self._schedule().alphas_cumprod[self.forward_t])
        card = self.card()
        # a model that diffuses x0 × data_scale adds noise of std √(1−ᾱ)/data_scale in data units
        scale = float(((card.precond if card else None) or {}).get("data_scale", 1.0))
        return (
            f"t = {self.forward_t}, ᾱ_t = {a:.4f}, σ = {np.sqrt((1 - a) / a) / scale:.3g}",
            np.sqrt(a),
            np.sqrt(1 - a) / scale,
        )

    @param.depends("forward_field", "forward_t", "band", "scale", watch=True)
    def _update_forward(self):
        if not hasattr(self, "fwd_panels") or not self.model:
            return
        src = self._forward_source()
        if src is None:
            self.fwd_text.object = "No field for the forward process (open one in the Fields tab)."
            return
        card = self.card()
        pre = card.preprocessing or Preprocessing()
        try:
            cut = resources.central_cutout(*src)
        except Exception as exc:  # noqa: BLE001 - any unreadable field: say so, keep the view
            why = resources.public_message(str(exc))
            self.fwd_text.object = f"Cannot use {src[1]} for the forward process: {why}"
            return
        if len(pre.bands) == 1:
            cut = cut[2:3]  # a single-frequency model: the 139–170 MHz band (it holds 154 MHz)
        x0 = pre.normalization.to_model(cut[None])[0]
        text, a, b = self.forward_level()
        xt = a * x0 + b * self._noise[: len(x0)]
        band = min(self._band_index(), len(x0) - 1)
        shown0, bar = x0[band], None
        if self.scale == "fixed":  # one colour scale for both, so the added noise is what differs
            both = np.concatenate([x0[band].ravel(), xt[band].ravel()])
            lim0 = lim1 = (float(both.min()), float(both.max()))
        elif self.scale == "frame":
            lim0, lim1 = (
                (float(x0[band].min()), float(x0[band].max())),
                (float(xt[band].min()), float(xt[band].max())),
            )
        else:  # as the main panels: x0 in Jy/beam on its asinh stretch, x_t on its symmetric range
            flux = cut[min(band, len(cut) - 1)]
            shown0, lim0, lim1, bar = (
                stretch_image(flux, "asinh"),
                (0.0, 1.0),
                symmetric(xt[band]),
                colorbar_opts(flux, "asinh", 99.5),
            )
        self.fwd_panels[0].label_levels(bar, "inferno" if bar else "gray")
        unit = f"; {bar['title']}, asinh" if bar else ""
        self.fwd_panels[0].update(shown0, *lim0, f"x0 (field {src[1]}{unit})")
        self.fwd_panels[1].update(xt[band], *lim1, "x_t")
        if self.forward_field == FOLLOW:
            where = "the Fields tab's field"
        elif Path(src[0]).resolve() == resources.SAMPLE_DATA.resolve():
            where = "a bundled field"
        else:
            where = f"in {resources.shown_path(src[0])}"
        self.fwd_text.object = f"{text} · x0 = {src[1]} ({where}), band {self.band}"

    # -- sampler comparison --------------------------------------------------------------------------

    def _show_side_by_side(self):
        panels = []
        for name, nfe, sec, s in self.side_by_side:
            p = ImagePanel(f"{name}: {nfe} NFE, {sec:.1f} s", width=260)
            p.update(np.clip(s[0], -1, 1), -1, 1)
            panels.append(pn.pane.Bokeh(p.figure))
        self.side_row.objects = panels

    # -- layout --------------------------------------------------------------------------------------

    def __panel__(self):
        use = pn.widgets.Button(label="Use last Generate result")
        use.on_click(lambda e: self.use_generated())
        controls = pn.Column(
            pn.widgets.Select.from_param(self.param.model, label="Model"),
            pn.widgets.Select.from_param(self.param.sampler, label="Sampler"),
            self.steps_input,
            self.seed_input,
            pn.widgets.Select.from_param(self.param.band, label="Band"),
            pn.widgets.RadioButtonGroup.from_param(self.param.scale, label="Colour scale"),
            pn.pane.Markdown(SCALE_HELP),
            pn.Row(
                pn.widgets.Button.from_param(self.param.run, label="Sample", color="primary"),
                self.cancel_button,
            ),
            use,
            self.progress,
            self.status,
            width=300,
        )
        images = pn.Row(
            *[
                pn.Column(pn.pane.Bokeh(p.figure), self.explain[k])
                for p, k in ((self.xt_panel, "xt"), (self.x0_panel, "x0"), (self.diff_panel, "diff"))
            ]
        )
        frames = pn.Column(
            self.outdated_alert,
            pn.pane.Bokeh(bokeh_row(*self.player.controls())),
            pn.pane.Bokeh(self.text_fig),
            images,
            pn.Row(
                pn.pane.Bokeh(self.sched_fig),
                pn.pane.Bokeh(self.process.figure),
                pn.pane.Bokeh(self.hist_fig),
                self.explain_schedule,
            ),
            css_classes=["traj-frames"],
            styles=OUTDATED_STYLE if self.outdated else CURRENT_STYLE,
        )
        self.frames_box = frames
        pair = pn.Column(
            "### One seed, two conditionings (in step with the player above)",
            pn.Row(
                pn.widgets.Select.from_param(self.param.contrast, label="Contrast", width=320),
                pn.widgets.Button.from_param(self.param.run_contrast, label="Run both", align="end"),
            ),
            self.pair_text,
            pn.Row(*[pn.pane.Bokeh(p.figure) for row in self.pair_panels for p in row]),
        )
        forward = pn.Column(
            "### Forward process: noising a real image with this model's schedule",
            self.explain_forward,
            pn.Row(
                pn.widgets.Select.from_param(self.param.forward_field, label="Field", width=320),
                pn.widgets.IntSlider.from_param(self.param.forward_t, label="noise level (index)", width=400),
            ),
            self.fwd_text,
            pn.Row(*[pn.pane.Bokeh(p.figure) for p in self.fwd_panels]),
        )
        side = pn.Column(
            "### Same seed, different samplers",
            self.sampler_note_pane,
            self.sampler_button,
            self.side_row,
        )
        from .toy_view import ToyView

        return pn.Column(
            self.alert,
            pn.Row(controls, frames),
            pair,
            forward,
            side,
            ToyView(),  # the same process on 2-D points, beside the 4 096-D image
            sizing_mode="stretch_width",
        )


def _condition_title(cond: dict) -> str:
    parts = []
    if "label" in cond:
        parts.append(str(cond["label"]))
    if "guidance" in cond:
        parts.append(f"ω = {cond['guidance']:g}")
    if "flux" in cond:
        parts.append(f"{cond['flux']:g} Jy/beam")
    return ", ".join(parts)
