"""The Trajectory tab's captions, schedule and frames belong to one recorded run (issue #28 item
4, "text always matches pictures"), and a seed is checked where it is typed.  No browser: the
view's state is read directly (tests/browser/test_browser_trajectory_run.py drives the served page)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from radioviz.app.state import AppSession
from radioviz.sampling.schedules import DiscreteSchedule, karras_sigmas
from radioviz.sampling.trajectory import Trajectory
from radioviz.validate import MAX_SEED, seed_int

EDM, DDPM = "edm_gleam.safetensors", "ddpm_gleam.safetensors"
EDM_CAPTION, DDPM_CAPTION = "D(x; σ)", "ε_θ(x_t, t)"


def _trajectory(steps: int, discrete: bool, size: int = 16) -> Trajectory:
    """A recorded run without a network: ``steps`` frames of 4 bands, Karras σ (EDM) or DDIM
    timesteps (DDPM)."""
    rng = np.random.default_rng(steps)
    if discrete:
        ts = np.linspace(999, 0, steps).astype(int).tolist()
        sigmas = DiscreteSchedule().sigmas[ts].tolist()
    else:
        ts, sigmas = [], karras_sigmas(steps)[:-1].tolist()
    frames = [rng.standard_normal((1, 4, size, size)).astype(np.float32) for _ in range(steps)]
    return Trajectory(samples=frames[-1], xs=frames, denoised=frames, sigmas=sigmas, ts=ts, nfe=steps)


def _generated(model: str, sampler: str, steps: int, seed: int = 0):
    """What the Generate tab leaves in ``result`` (only what the Trajectory tab reads)."""
    meta = {"checkpoint": f"checkpoints/{model}", "sampler": sampler, "steps": steps, "seed": seed}
    return SimpleNamespace(trajectory=_trajectory(steps, discrete=sampler in ("ddim", "ddpm")), meta=meta)


def test_a_model_or_sampler_switch_keeps_the_run_with_its_own_captions_marked_as_previous():
    """Walk: after EDM → DDPM the captions described the DDPM while the frames and the Karras
    schedule were still the EDM run.  Now the run keeps its captions and is greyed and marked
    "from the previous settings" until Sample runs the new settings."""
    from radioviz.app.trajectory_view import TrajectoryView

    gen = AppSession(generate_result=_generated(EDM, "heun", 25))
    t = TrajectoryView(gen)
    t.__panel__()  # the page's layout (the greyed frames are a part of it)
    assert t.use_generated() and t.model == EDM and t.sampler == "heun"
    run = t.trajectory
    assert EDM_CAPTION in t.explain["x0"].object
    schedule = dict(t.sched_source.data)

    t.model = DDPM  # the user switches the model; nothing is sampled yet
    assert t.trajectory is run and dict(t.sched_source.data) == schedule  # the old run stays …
    assert EDM_CAPTION in t.explain["x0"].object and DDPM_CAPTION not in t.explain["x0"].object
    assert "Karras" in t.explain_schedule.object and "β_t" not in t.explain_schedule.object  # … its words
    assert t.outdated.startswith("From the previous settings — press Sample")
    assert "edm_gleam (EDM) · Heun · 25 steps · seed 0" in t.outdated
    assert t.outdated_alert.visible and t.outdated_alert.object == t.outdated
    assert float(t.frames_box.styles["opacity"]) < 1  # greyed
    # the forward-process section draws with the picked model: it is explained for that one
    assert "ε from (x_t, t)" in t.explain_forward.object

    t.sampler = "heun"  # a sampler the EDM run also used: still another model's run
    assert t.outdated and EDM_CAPTION in t.explain["x0"].object
    t.model = EDM  # back to the run's own settings (EDM, Heun, its 25 steps, seed 0)
    assert (t.sampler, t.steps, t.seed) == ("heun", 25, 0)
    assert t.outdated == "" and not t.outdated_alert.visible and t.frames_box.styles["opacity"] == "1"
    t.sampler = "euler"  # a sampler switch alone marks it too
    assert t.outdated and "Update (Heun)" in t.explain_schedule.object
    assert "Update (Euler)" not in t.explain_schedule.object

    t.model, t.steps = DDPM, 3  # Sample with the new settings: frames, schedule, captions all new
    assert t.sample() is not None
    assert t.outdated == "" and t.frames_box.styles["opacity"] == "1"
    assert DDPM_CAPTION in t.explain["x0"].object and "β_t" in t.explain_schedule.object
    assert len(t.sched_source.data["step"]) == 3


def test_the_schedule_axis_is_the_runs_own_steps_after_use_last_generate_result():
    """Walk: after "Use last Generate result" a 25-step run was drawn on the 0–50 axis of the
    run before.  The browser's computed auto range came back to the server and, when the tab
    was shown again, pinned the axis; the axis is now set from each run's own steps."""
    from bokeh.models import Range1d

    from radioviz.app.trajectory_view import TrajectoryView

    gen = AppSession(generate_result=_generated(DDPM, "ddim", 50))
    t = TrajectoryView(gen)
    assert t.use_generated() and len(t.sched_source.data["step"]) == 50
    # what the browser sends back for an auto range it computed for 50 steps
    t.sched_fig.x_range.start, t.sched_fig.x_range.end = -1.45, 52.45
    gen.generate_result = _generated(EDM, "heun", 25)
    assert t.use_generated()
    x = t.sched_fig.x_range
    assert isinstance(x, Range1d) and (x.start, x.end) == (0.5, 25.5)
    assert t.sched_source.data["step"] == list(range(1, 26))
    lo, hi = t.sched_fig.y_range.start, t.sched_fig.y_range.end
    values = t.sched_source.data["sigma"] + t.sched_source.data["snr"]
    assert 0 < lo < min(values) and max(values) < hi  # the log axis holds the whole curve


def test_the_two_conditioning_panels_are_blank_and_say_run_both_until_a_pair_is_run():
    """Walk: after Sample, before "Run both", the pair's x̂0 panels were solid crimson (zeros on
    the inferno map the stages scale gives x̂0).  Before a pair exists they are blank grey with
    "press Run both" and no colour bar; a pair shows its images; a new run blanks them again."""
    from bokeh.palettes import Inferno256, gray

    from radioviz.app.trajectory_view import TrajectoryView

    gen = AppSession(generate_result=_generated(EDM, "heun", 4))
    t = TrajectoryView(gen)
    pair = [p for row in t.pair_panels for p in row]

    def blank():
        return [(p.empty, p.colorbar.visible, p.hint.text) for p in pair]

    assert blank() == [(True, False, "press Run both")] * 4  # before any run
    assert t.use_generated() and t.scale == "stages"
    assert tuple(t.x0_panel.mapper.palette) == Inferno256 and not t.x0_panel.empty
    assert blank() == [(True, False, "press Run both")] * 4  # after Sample: still blank

    t.pair = [("H", _trajectory(4, discrete=False)), ("non-halo", _trajectory(4, discrete=False))]
    t.param.trigger("shown")  # what run_pair does once both runs are made
    assert blank() == [(False, True, "")] * 4
    assert [tuple(p.mapper.palette) for p in pair] == [tuple(gray(256)), Inferno256] * 2
    assert t.cache.data["p1"][0].shape == (16, 16)  # the browser fills them from the cache

    gen.generate_result = _generated(EDM, "heun", 3)
    assert t.use_generated()  # a new run: the pair is of the old one and goes
    assert blank() == [(True, False, "press Run both")] * 4


def test_trajectory_run_describes_itself_and_its_schedule():
    """The state alone: settings, words, captions and schedule of a run, no widgets."""
    from radioviz.app import resources
    from radioviz.app.trajectory_run import TrajectoryRun, outdated_note

    traj = _trajectory(25, discrete=False)
    run = TrajectoryRun.of(traj, EDM, resources.generator_cards()[EDM], "heun", 25, 7)
    assert run.kind == "edm" and len(run) == 25 and run.settings() == (EDM, "heun", 25, 7)
    assert run.describe() == "edm_gleam (EDM) · Heun · 25 steps · seed 7"
    assert EDM_CAPTION in run.captions()["x0"]
    assert run.schedule_axes()[0] == (0.5, 25.5) and run.schedule_curve()["step"][-1] == 25
    assert outdated_note(run, EDM, "heun", 25, 7) == "" and outdated_note(None, DDPM, "ddim", 3, 0) == ""
    assert "press Sample" in outdated_note(run, EDM, "heun", 25, 8)  # a new seed is a new run too
    unknown = TrajectoryRun.of(_trajectory(3, discrete=True), "gone.safetensors", None, "ddim", 3, 0)
    assert unknown.kind == "ddpm" and DDPM_CAPTION in unknown.captions()["x0"]


@pytest.mark.parametrize("view", ["generate", "trajectory"])
def test_a_seed_past_the_libraries_range_is_refused_in_words_and_the_seed_kept(view):
    """Walk: a seed of 99999999999999999999 typed in Generate became 0 without a word (server:
    ``TypeError: ufunc 'isnan'`` — the browser sends it as a JSON integer past int64).  Seeds are
    0 … 2**32−1 (radioviz.validate.seed_int, what NumPy and PyTorch take) in every box."""
    from radioviz.app.generate_view import GenerateView
    from radioviz.app.trajectory_view import TrajectoryView

    v = GenerateView() if view == "generate" else TrajectoryView()
    v.seed_input._process_events({"value": 7})  # as the browser sends a typed value
    assert v.seed == 7
    v.seed_input._process_events({"value": 99999999999999999999})  # raised TypeError before
    assert v.seed == 7 and v.seed_input.value == 7  # kept, and the box shows it
    assert v.param.seed.bounds == (0, MAX_SEED) and seed_int(str(MAX_SEED)) == MAX_SEED
    # one message, naming the range the libraries take and the seed used, never "1e+20" (walk):
    # past 2**53 the browser's number no longer holds the digits typed, so it is said to be far out
    words = "Seed must be a whole number between 0 and 4,294,967,295: the number typed is far larger — "
    assert v.status.object == words + "refused, kept 7."
    v.seed_input._process_events({"value": MAX_SEED})  # the largest seed is taken
    assert v.seed == MAX_SEED and v.status.object == ""
    v.seed_input._process_events({"value": MAX_SEED + 1})  # as typed, the seed used in full
    assert v.seed == MAX_SEED and v.status.object.endswith(": 4294967296 refused, kept 4,294,967,295.")
    v.seed_input._process_events({"value": 1e16})
    assert v.status.object.endswith(": the number typed is far larger — refused, kept 4,294,967,295.")
    assert "e+" not in v.status.object


def test_no_mask_model_is_offered_and_sample_is_greyed_while_a_run_is_made():
    """Walk 16: a mask-conditioned model sampled a near-blank field here (the tab has no mask to
    give it), and a second Sample press during a run was taken silently."""
    import panel as pn

    from radioviz.app import resources
    from radioviz.app.trajectory_view import TrajectoryView

    t = TrajectoryView(AppSession())
    offered = set(t.param.model.objects.values() if isinstance(t.param.model.objects, dict) else [])
    offered = offered or set(t.param.model.objects)
    masked = {n for n, c in resources.generator_cards().items() if "mask" in (c.conditions or [])}
    assert offered and not offered & masked
    page = t.__panel__()
    sample = [w for w in page.select(pn.widgets.Button) if w.label == "Sample"][0]
    assert not sample.disabled
    t.busy = True
    assert sample.disabled
    t.busy = False
    assert not sample.disabled
