"""What the Trajectory tab holds, apart from its widgets: the pickers (model, sampler, steps,
seed, band, colour scale), the recorded run shown and the step, whether that run is still what
the pickers would make, the forward process's field and noise level, and the runs that make new
frames (one sample, the same seed under two conditionings or several samplers).

:class:`TrajectoryState` is params and methods without Panel or Bokeh (after glue's
``viewers/*/state.py``), tested without a browser; :class:`~.trajectory_view.TrajectoryView`
draws it.  The latest Generate result and the Fields tab's field come from the page's shared
session (:class:`~.state.AppSession`: ``generate_result``, the open field).
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np
import param

from ..errors import InputError
from ..models.card import ModelCard
from ..models.quality import default_generator, default_guidance
from ..sampling.generate import accepted, generate
from ..sampling.registry import default_steps
from ..sampling.schedules import DiscreteSchedule
from ..sampling.trajectory import SamplingCancelled, Trajectory
from ..validate import MAX_SEED
from . import resources
from .describe import label_text, model_options
from .field_choices import FOLLOW, field_choices, keep, open_field
from .jobs import in_background
from .teaching import SCALES, card_notes, contrast_options, explanations, sampler_note, sampler_runs
from .trajectory_run import TrajectoryRun, data_scale, outdated_note

BAND_NAMES = ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"]
EDM_FORWARD_LEVELS = 100  # σ values (log-spaced over the model's range) for the EDM forward slider


def latest_generated(app):
    """The latest Generate run the page's session holds (``AppSession.generate_result``); a
    Generate view handed over directly (its ``result``, as before the session) is read too."""
    return getattr(app, "generate_result", None) or getattr(app, "result", None)


class TrajectoryState(param.Parameterized):
    """The pickers, the recorded run shown (with its step) and whether the pickers still match it."""

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
    message = param.String(default="", doc="The status line")
    error = param.String(default="", doc="What stops the tab (empty: nothing)")
    pair = param.List(default=[], doc="(title, trajectory) of the two-conditioning runs")
    side_by_side = param.List(default=[], doc="(name, NFE, seconds, sample) of the sampler comparison")

    def __init__(self, app=None, data_dir: str | None = None, fields=None, **params):
        super().__init__(**params)
        self.app = app
        # the Fields tab's folder and field: the session's (a view holding one as .app is read too)
        self.fields = fields if fields is not None else app
        self.data_dir = str(data_dir or resources.SAMPLE_DATA)
        self.model_calls = 0
        self.hist_range = (-1.0, 1.0)
        self._cancel = threading.Event()  # set by Cancel, read at each network call
        # a model that needs a drawn mask is not offered: this tab has no mask to give it (walk 16:
        # it sampled a near-blank field)
        gens = {
            n: c
            for n, c in resources.generator_cards().items()
            if c.kind in ("ddpm", "edm") and "mask" not in (c.conditions or [])
        }
        self.param.model.objects = model_options(gens)
        if gens:
            self.model = default_generator(gens, kinds=("edm", "ddpm")) or list(gens)[0]
        self._model_changed()

    # -- the model, its sampler and conditions -------------------------------------------------------

    def card(self) -> ModelCard | None:
        return resources.generator_cards().get(self.model) if self.model else None

    def kind(self) -> str:
        card = self.card()
        return card.kind if card else "ddpm"

    def schedule(self) -> DiscreteSchedule:
        card = self.card()
        return DiscreteSchedule(**((card.schedule if card else None) or {}))

    def conditions(self) -> dict:
        """Class H where the model has classes, at the guidance ω its card's quality was measured
        at: the run shown is the setting the model's figures (and the quality bar) are for — the
        DDPM meets the bar at ω = 2, not without guidance."""
        card = self.card()
        label = "H" if "H" in ((card.labels if card else None) or []) else None
        omega = default_guidance(card) if label and card else 0.0  # 0 for a model without guidance
        return {"label": label, **({"guidance": omega} if omega else {})}

    def stride(self) -> int:
        """DDPM-1000 keeps every 5th frame."""
        return 5 if self.steps > 200 else 1

    def sampler_runs(self) -> list[tuple[str, str, int]]:
        card = self.card()
        return sampler_runs(self.kind(), accepted(card)["samplers"] if card else [])

    def sampler_note(self) -> str:
        return sampler_note(self.kind(), [r[0] for r in self.sampler_runs()])

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
        top = (EDM_FORWARD_LEVELS if self.kind() == "edm" else self.schedule().T) - 1
        self.param.forward_t.bounds = (0, top)
        self.forward_t = min(self.forward_t, top)

    @param.depends("sampler", watch=True)
    def _sampler_changed(self):
        self.steps = default_steps(self.sampler, self.schedule().T if self.kind() == "ddpm" else None)

    def captions(self) -> dict[str, str]:
        """The panels' words: those of the run shown (the pickers' only before any run); the
        forward process, drawn with the picked model, is explained for that model."""
        picked = explanations(self.kind(), self.sampler, **card_notes(self.card()))
        return {**(self.shown.captions() if self.shown is not None else picked), "forward": picked["forward"]}

    @param.depends("shown", "model", "sampler", "steps", "seed", watch=True)
    def _mark_outdated(self):
        """Pickers moved away from the run shown: the run stays, with its own captions, and is
        said to be from the previous settings — never relabelled as the new ones."""
        self.outdated = outdated_note(self.shown, self.model, self.sampler, self.steps, self.seed)

    # -- the forward process --------------------------------------------------------------------------

    def forward_choices(self) -> None:
        """The Fields tab's field, then every field on offer (:func:`.field_choices.field_choices`);
        the choice kept while still offered, its picture redrawn when the followed field moves."""
        objects = {FOLLOW: FOLLOW} if getattr(self.fields, "app", self.fields) is not None else {}
        objects |= field_choices(self.data_dir, self.fields)
        old = self.forward_field
        self.param.forward_field.objects = objects
        new = keep(old, objects, next(iter(objects.values()), None))
        if new != old:
            self.forward_field = new
        else:  # the same choice; the field it follows may have moved: redraw
            self.param.trigger("forward_field")

    def forward_source(self) -> tuple[str, str] | None:
        """(server folder, name) of the forward process's field."""
        if self.forward_field == FOLLOW:
            return open_field(self.fields)
        return tuple(self.forward_field) if self.forward_field else None

    def forward_level(self) -> tuple[str, float, float]:
        """(text, signal weight a, noise weight b) of x = a·x0 + b·n at the forward slider, with
        the selected model's own schedule; shown on the data scale."""
        card = self.card()
        if self.kind() == "edm":
            lo, hi = (card.sigma_range if card else None) or [0.002, 80.0]
            sig = float(
                np.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * self.forward_t / (EDM_FORWARD_LEVELS - 1))
            )
            s = 1 / np.sqrt(1 + sig**2)
            return f"σ = {sig:.3g} (EDM, x = x0 + σ·n, shown ÷√(1+σ²))", s, sig * s
        a = float(self.schedule().alphas_cumprod[self.forward_t])
        # a model that diffuses x0 × data_scale adds noise of std √(1−ᾱ)/data_scale in data units
        scale = float(((card.precond if card else None) or {}).get("data_scale", 1.0))
        return (
            f"t = {self.forward_t}, ᾱ_t = {a:.4f}, σ = {np.sqrt((1 - a) / a) / scale:.3g}",
            np.sqrt(a),
            np.sqrt(1 - a) / scale,
        )

    # -- the run shown ---------------------------------------------------------------------------------

    @property
    def trajectory(self) -> Trajectory | None:
        return self.shown.trajectory if self.shown is not None else None

    def empty(self) -> bool:
        return self.trajectory is None or not len(self.trajectory)

    def band_index(self, traj: Trajectory | None = None) -> int:
        """The chosen band's index, kept inside the shown trajectory's channels (it may come
        from another model than the one now selected)."""
        traj = traj if traj is not None else self.trajectory
        b = self.param.band.objects.index(self.band) if self.band in self.param.band.objects else 0
        return b if traj is None or not len(traj) else min(b, traj.xs[0].shape[1] - 1)

    _band_index = band_index  # the name the tests and scripts use

    def run_of(self, traj: Trajectory, model: str, sampler: str, steps: int, seed: int) -> TrajectoryRun:
        return TrajectoryRun.of(traj, model, resources.generator_cards().get(model), sampler, steps, seed)

    def show_run(self, run: TrajectoryRun, text: str = "", keep_pair: bool = False) -> None:
        """Show ``run``: frames, schedule and captions all from it, from its first step."""
        if not keep_pair:
            self.pair = []
        traj = run.trajectory
        self.param.step.bounds = (0, max(1, len(traj)) - 1)
        b = self.band_index(traj)
        frames = [data_scale(traj, k)[b] for k in range(len(traj))]
        lo = min(float(f.min()) for f in frames) if frames else -1.0
        hi = max(float(f.max()) for f in frames) if frames else 1.0
        self.hist_range = (lo, hi if hi > lo else lo + 1)
        self.step = 0
        if self.shown is run:
            self.param.trigger("shown")
        else:
            self.shown = run
        self.message = f"{len(traj)} recorded steps · {text}"

    def use_generated(self) -> bool:
        """Show the latest Generate run, the pickers following its model, sampler, steps, seed."""
        g = latest_generated(self.app)
        if g is None or not len(g.trajectory):
            self.message = "No Generate result with a trajectory yet."
            return False
        name = Path(str(g.meta.get("checkpoint", ""))).name
        self.follow_run(name, g.meta)
        run = self.run_of(g.trajectory, name, g.meta["sampler"], g.meta["steps"], g.meta.get("seed", 0))
        self.show_run(run, f"from the Generate tab ({name}, {g.meta['sampler']})")
        return True

    def follow_run(self, name: str, meta: dict) -> None:
        """Show the run's own model, sampler, steps and seed in the pickers (when it is a
        diffusion model listed here), so the words, schedule and Run buttons are that model's."""
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


class TrajectorySampling(TrajectoryState):
    """The tab's state and the runs that make its frames: one sample, the same seed under two
    conditionings or under several samplers; ``busy`` and ``percent`` while one goes on, and
    Cancel honoured at the next network call."""

    percent = param.Integer(default=0, bounds=(0, 100), doc="How far the run going on is, %")
    busy = param.Boolean(default=False, doc="A run is going on")
    run = param.Event()
    cancel = param.Event()
    compare_samplers = param.Event()
    run_contrast = param.Event()

    @contextlib.contextmanager
    def _busy(self):
        """A run going on: ``busy`` only then (the view lights Cancel and shows the progress)."""
        self._cancel.clear()
        self.busy = True
        try:
            yield
        finally:
            self.busy = False

    @param.depends("cancel", watch=True)
    def _cancel_run(self):
        self._cancel.set()

    def _run(self, sampler: str, steps: int, stride: int = 1, **conditions):
        path = resources.CHECKPOINTS / self.model

        def callback(info):
            self.model_calls += 1
            self.percent = int(100 * (info["i"] + 1) / info["n"])
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
            **(conditions or self.conditions()),
        )

    @param.depends("run", watch=True)
    def _run_pressed(self) -> None:
        in_background(self, self.sample, "radioviz-trajectory")

    def sample(self) -> Trajectory | None:
        """One sample, every step recorded (DDPM-1000 keeps every 5th frame)."""
        if not self.model:
            self.error = "No diffusion checkpoint in checkpoints/."
            return None
        model, sampler, steps, seed = self.model, self.sampler, self.steps, self.seed  # may change meanwhile
        try:
            with self._busy():
                g = self._run(sampler, steps, self.stride())
        except (SamplingCancelled, InputError) as exc:
            self.message = str(exc)
            return None
        if (self.model, self.sampler, self.steps, self.seed) != (model, sampler, steps, seed):
            # changed during the run: the pickers go back to the run shown
            self.follow_run(model, {**g.meta, "sampler": sampler, "steps": steps, "seed": seed})
        self.show_run(
            self.run_of(g.trajectory, model, sampler, steps, seed),
            f"{sampler}, {steps} steps, {g.meta['nfe']} NFE, {g.meta['wall_seconds']:.1f} s · "
            f"class {label_text(g.meta['label']).split(':')[0]}"
            + (f", ω = {g.meta['guidance']:g}" if g.meta.get("guidance") else ""),
        )
        return g.trajectory

    @param.depends("compare_samplers", watch=True)
    def _compare_samplers_pressed(self) -> None:
        in_background(self, self.run_side_by_side, "radioviz-trajectory")

    def run_side_by_side(self):
        """The same seed under the samplers the model accepts (for an EDM: Euler-25 and Heun-25)."""
        if not self.card():
            return
        out = []
        try:
            with self._busy():
                for name, sampler, steps in self.sampler_runs():
                    g = self._run(sampler, steps, steps)
                    out.append((name, g.meta["nfe"], g.meta["wall_seconds"], g.trajectory.samples[0]))
        except SamplingCancelled as exc:
            self.message = str(exc)
        self.side_by_side = out

    @param.depends("run_contrast", watch=True)
    def _run_contrast_pressed(self) -> None:
        in_background(self, self.run_pair, "radioviz-trajectory")

    def run_pair(self) -> bool:
        """One seed under two conditionings, recorded step by step; shown in step with the player."""
        card = self.card()
        options = contrast_options(accepted(card)) if card else {}
        if self.contrast not in options:
            self.message = "This model takes no condition to contrast."
            return False
        out = []
        try:
            with self._busy():
                for cond in options[self.contrast]:
                    g = self._run(self.sampler, self.steps, self.stride(), **cond)
                    out.append((condition_title(cond), g.trajectory))
        except (SamplingCancelled, InputError) as exc:
            self.message = str(exc)
            return False
        self.pair = out
        if self.empty() or self.outdated:  # nothing shown, or another model's run: show the first
            run = self.run_of(out[0][1], self.model, self.sampler, self.steps, self.seed)
            self.show_run(run, f"{self.contrast}: the main panels show {out[0][0]}", keep_pair=True)
        else:  # the main panels keep their run; the pair plays beside it, in step
            self.param.trigger("shown")
            self.message = f"{self.contrast}: both runs below, in step with the player"
        return True


def condition_title(cond: dict) -> str:
    parts = [str(cond["label"])] if "label" in cond else []
    if "guidance" in cond:
        parts.append(f"ω = {cond['guidance']:g}")
    if "flux" in cond:
        parts.append(f"{cond['flux']:g} Jy/beam")
    return ", ".join(parts)
