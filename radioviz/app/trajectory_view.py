"""The Trajectory view: step through a sampling run — x_t beside the predicted clean image and
their difference, the noise schedule with the current step marked, and x_t's histogram — plus
the forward (noising) process on a real image and the same seed under three samplers.

Scrubbing only indexes the recorded trajectory: no network call per frame
(``model_calls`` counts them, for the benchmark and the tests).
"""

from __future__ import annotations

import threading

import holoviews as hv
import numpy as np
import panel as pn
import param

from ..errors import InputError
from ..sampling.generate import accepted, generate
from ..sampling.registry import SAMPLERS, default_steps
from ..sampling.schedules import DiscreteSchedule
from ..sampling.trajectory import SamplingCancelled, Trajectory
from . import resources

BAND_NAMES = ["72-103MHz", "103-134MHz", "139-170MHz", "170-231MHz"]
#: The side-by-side runs: (tag, sampler, steps) at the registry's default steps.
SAMPLER_RUNS = tuple((SAMPLERS[s].tag(), s, default_steps(s)) for s in ("ddpm", "ddim", "heun"))
RUNS_TEXT = " / ".join(tag for tag, _, _ in SAMPLER_RUNS)


def _img(a: np.ndarray, title: str, cmap: str = "gray", sym: bool = False) -> hv.Image:
    lim = float(np.abs(a).max()) or 1.0
    clim = (-lim, lim) if sym else (-1.0, 1.0)
    return hv.Image(a[::-1], bounds=(0, 0, 64, 64)).opts(
        cmap=cmap,
        clim=clim,
        width=260,
        height=260,
        xaxis=None,
        yaxis=None,
        toolbar=None,
        title=title,
        colorbar=False,
        framewise=True,
    )


class TrajectoryView(pn.viewable.Viewer):
    model = param.Selector(default=None, objects=[])
    sampler = param.Selector(default="ddim", objects=["ddim"])
    steps = param.Integer(default=50, bounds=(1, 1000))
    seed = param.Integer(default=0, bounds=(0, 2**31 - 1))
    band = param.Selector(default=BAND_NAMES[0], objects=BAND_NAMES)
    step = param.Integer(default=0, bounds=(0, 0), doc="Recorded step shown")
    trajectory = param.Parameter(default=None)
    forward_field = param.Selector(default=None, objects=[], doc="Real image for the forward process")
    forward_t = param.Integer(default=0, bounds=(0, 999))
    run = param.Event()
    cancel = param.Event()
    compare_samplers = param.Event()

    def __init__(self, generate_view=None, data_dir: str | None = None, **params):
        super().__init__(**params)
        self.generate_view = generate_view
        self.data_dir = str(data_dir or resources.SAMPLE_DATA)
        self.model_calls = 0
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("")
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False)
        self._cancel = threading.Event()
        self.side_by_side: list[tuple[str, int, float, np.ndarray]] = []
        gens = {n: c for n, c in resources.generator_cards().items() if c.kind in ("ddpm", "edm")}
        self.param.model.objects = list(gens)
        if gens:
            self.model = next((n for n in gens if n.startswith("ddpm")), list(gens)[0])
        try:
            names = sorted(s.name for s in resources.sources(self.data_dir))
        except InputError:
            names = []
        self.param.forward_field.objects = names
        if names:
            self.forward_field = names[0]
        self._noise = np.random.default_rng(0).standard_normal((4, 64, 64)).astype(np.float32)

        self._model_changed()

    @param.depends("model", watch=True)
    def _model_changed(self):
        card = resources.generator_cards().get(self.model) if self.model else None
        self.param.sampler.objects = list(accepted(card)["samplers"]) if card else ["ddim"]
        self.sampler = self.param.sampler.objects[0]
        bands = resources.model_bands(card)
        self.param.band.objects = bands
        if self.band not in bands:
            self.band = bands[0]

    @param.depends("sampler", watch=True)
    def _sampler_changed(self):
        self.steps = default_steps(self.sampler)

    def _conditions(self) -> dict:
        card = resources.generator_cards()[self.model]
        return {"label": "H" if "H" in card.labels else None}

    def _run(self, sampler: str, steps: int, stride: int = 1):
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
            **self._conditions(),
        )

    @param.depends("run", watch=True)
    def sample(self) -> Trajectory | None:
        """One sample, every step recorded (DDPM-1000 keeps every 5th frame)."""
        if not self.model:
            self.alert.object, self.alert.visible = "No diffusion checkpoint in checkpoints/.", True
            return None
        self._cancel.clear()
        self.progress.visible = True
        try:
            g = self._run(self.sampler, self.steps, 5 if self.steps > 200 else 1)
        except (SamplingCancelled, InputError) as exc:
            self.status.object = str(exc)
            return None
        finally:
            self.progress.visible = False
        self.set_trajectory(
            g.trajectory,
            f"{self.sampler}, {self.steps} steps, {g.meta['nfe']} NFE, {g.meta['wall_seconds']:.1f} s",
        )
        return g.trajectory

    def set_trajectory(self, traj: Trajectory, text: str = "") -> None:
        self.param.step.bounds = (0, max(0, len(traj) - 1))
        self.step = 0
        self.trajectory = traj
        self.status.object = f"{len(traj)} recorded steps · {text}"

    def use_generated(self) -> bool:
        g = getattr(self.generate_view, "result", None)
        if g is None or not len(g.trajectory):
            self.status.object = "No Generate result with a trajectory yet."
            return False
        self.set_trajectory(g.trajectory, f"from the Generate tab ({g.meta['sampler']})")
        return True

    @param.depends("cancel", watch=True)
    def _cancel_run(self):
        self._cancel.set()

    @param.depends("compare_samplers", watch=True)
    def run_side_by_side(self):
        """The same seed through DDPM-1000, DDIM-50 and Heun-25 (those the model accepts)."""
        card = resources.generator_cards().get(self.model)
        if not card:
            return
        self._cancel.clear()
        self.progress.visible = True
        out = []
        try:
            for name, sampler, steps in SAMPLER_RUNS:
                if sampler in accepted(card)["samplers"]:
                    g = self._run(sampler, steps, steps)
                    out.append((name, g.meta["nfe"], g.meta["wall_seconds"], g.trajectory.samples[0]))
        except SamplingCancelled as exc:
            self.status.object = str(exc)
        finally:
            self.progress.visible = False
        self.side_by_side = out
        self.param.trigger("trajectory")

    # -- views (indexing cached frames only) -------------------------------------------------------

    @param.depends("trajectory")
    def player(self):
        """A new Player per trajectory (its range is fixed once drawn in the browser)."""
        n = len(self.trajectory) if self.trajectory is not None else 1
        p = pn.widgets.Player(
            label="step",
            start=0,
            end=max(1, n - 1),
            value=0,
            loop_policy="once",
            interval=150,
            show_value=True,
            width=520,
        )
        p.param.watch(lambda e: setattr(self, "step", min(e.new, n - 1)), "value")
        return p

    def _frame(self):
        """(x_t on the data scale, x̂0, σ, recorded index) of the current step and band."""
        t = self.trajectory
        k = min(self.step, len(t) - 1)
        b = self._band_index()
        sig = t.sigmas[k]
        # discrete samplers record x_t = √ᾱ·x0 + …; σ-space ones x0 + σ·n: show both on the data scale
        x = t.xs[k][0, b] if t.ts else t.xs[k][0, b] / np.sqrt(1 + sig**2)
        return x, t.denoised[k][0, b], sig, k

    def _band_index(self) -> int:
        """The chosen band's index, kept inside the shown trajectory's channels (it may come
        from another model than the one now selected)."""
        b = self.param.band.objects.index(self.band) if self.band in self.param.band.objects else 0
        return b if self._empty() else min(b, self.trajectory.xs[0].shape[1] - 1)

    def _empty(self):
        return self.trajectory is None or not len(self.trajectory)

    @param.depends("trajectory", "step", "band")
    def _xt_el(self):
        return (
            _img(np.zeros((64, 64)), "x_t") if self._empty() else _img(self._frame()[0], "x_t (data scale)")
        )

    @param.depends("trajectory", "step", "band")
    def _x0_el(self):
        return (
            _img(np.zeros((64, 64)), "predicted x̂0")
            if self._empty()
            else _img(self._frame()[1], "predicted x̂0")
        )

    @param.depends("trajectory", "step", "band")
    def _diff_el(self):
        if self._empty():
            return _img(np.zeros((64, 64)), "x̂0 − x_t", "RdBu_r", sym=True)
        x, x0, _, _ = self._frame()
        return _img(x0 - x, "x̂0 − x_t", "RdBu_r", sym=True)

    @param.depends("trajectory", "step", "band")
    def _hist_el(self):
        v = (
            np.zeros(10)
            if self._empty()
            else self.trajectory.xs[min(self.step, len(self.trajectory) - 1)][0, self._band_index()]
        )
        return hv.Histogram(np.histogram(v, 60)).opts(
            width=300, height=230, title="histogram of x_t", toolbar=None, framewise=True
        )

    @param.depends("trajectory")
    def _schedule_el(self):
        sig = [1.0] if self._empty() else self.trajectory.sigmas
        return hv.Curve((np.arange(len(sig)), np.maximum(sig, 1e-4)), "recorded step", "σ").opts(
            logy=True, width=300, height=230, title="noise level σ", toolbar=None, framewise=True
        )

    @param.depends("trajectory", "step")
    def _marker_el(self):
        return hv.VLine(0 if self._empty() else min(self.step, len(self.trajectory) - 1)).opts(color="red")

    @param.depends("trajectory", "step")
    def step_text(self):
        if self._empty():
            return pn.pane.Markdown("Press **Sample** (or use the Generate tab's latest result).")
        _, _, sig, k = self._frame()
        t = self.trajectory
        return pn.pane.Markdown(
            f"step {k + 1}/{len(t)} · σ = {sig:.4g}" + (f" · t = {t.ts[k]}" if t.ts else "")
        )

    def frames(self):
        """Plots built once; a step change only swaps their data (no new figures, no model call)."""
        dm = lambda fn: pn.pane.HoloViews(hv.DynamicMap(fn), linked_axes=False)  # noqa: E731
        return pn.Column(
            self.step_text,
            pn.Row(dm(self._xt_el), dm(self._x0_el), dm(self._diff_el)),
            pn.Row(
                pn.pane.HoloViews(
                    hv.DynamicMap(self._schedule_el) * hv.DynamicMap(self._marker_el), linked_axes=False
                ),
                dm(self._hist_el),
            ),
        )

    @param.depends("forward_field", "forward_t", "band")
    def forward_view(self):
        if not self.forward_field or not self.model:
            return pn.pane.Markdown("No field for the forward process.")
        pre = resources.generator_cards()[self.model].preprocessing
        cut = resources.central_cutout(self.data_dir, self.forward_field)
        if len(pre.bands) == 1:
            cut = cut[2:3]  # a single-frequency model: the 139–170 MHz band (it holds 154 MHz)
        x0 = pre.normalization.to_model(cut[None])[0]
        a = float(DiscreteSchedule().alphas_cumprod[self.forward_t])
        xt = np.sqrt(a) * x0 + np.sqrt(1 - a) * self._noise[: len(x0)]
        b = min(self._band_index(), len(x0) - 1)
        return pn.Row(
            pn.pane.HoloViews(_img(x0[b], "x0 (real)"), linked_axes=False),
            pn.pane.HoloViews(_img(xt[b], f"x_t, t = {self.forward_t}, ᾱ = {a:.3f}"), linked_axes=False),
        )

    @param.depends("trajectory")
    def side_by_side_view(self):
        if not self.side_by_side:
            return pn.pane.Markdown(f"Same seed, three samplers: press **Run {RUNS_TEXT}**.")
        b = 0
        return pn.Row(
            *[
                pn.pane.HoloViews(
                    _img(np.clip(s[b], -1, 1), f"{name}: {nfe} NFE, {sec:.1f} s"), linked_axes=False
                )
                for name, nfe, sec, s in self.side_by_side
            ]
        )

    def __panel__(self):
        use = pn.widgets.Button(label="Use last Generate result")
        use.on_click(lambda e: self.use_generated())
        controls = pn.Column(
            pn.widgets.Select.from_param(self.param.model, label="Model"),
            pn.widgets.Select.from_param(self.param.sampler, label="Sampler"),
            pn.widgets.IntInput.from_param(self.param.steps, label="Steps"),
            pn.widgets.IntInput.from_param(self.param.seed, label="Seed"),
            pn.widgets.Select.from_param(self.param.band, label="Band"),
            pn.Row(
                pn.widgets.Button.from_param(self.param.run, label="Sample", color="primary"),
                pn.widgets.Button.from_param(self.param.cancel, label="Cancel", color="warning"),
            ),
            use,
            self.progress,
            self.status,
            width=300,
        )
        forward = pn.Column(
            "### Forward process: noising a real image",
            pn.widgets.Select.from_param(self.param.forward_field, label="Field"),
            pn.widgets.IntSlider.from_param(self.param.forward_t, label="t"),
            self.forward_view,
        )
        side = pn.Column(
            "### Same seed, three samplers",
            pn.widgets.Button.from_param(self.param.compare_samplers, label=f"Run {RUNS_TEXT}"),
            self.side_by_side_view,
        )
        return pn.Column(
            self.alert,
            pn.Row(controls, pn.Column(self.player, self.frames())),
            forward,
            side,
            sizing_mode="stretch_width",
        )
