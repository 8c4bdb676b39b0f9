"""The Trajectory, Compare and Generate tabs' state classes (issue #25 item 3) without a browser
and without Panel or Bokeh: each is params and methods, driven here directly."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from radioviz.app import resources
from radioviz.app.state import AppSession

STATES = ("trajectory_state", "compare_state", "generate_state", "lesson")


@pytest.mark.parametrize("module", STATES)
def test_a_state_module_loads_without_panel_or_bokeh(module):
    code = (
        f"import sys, radioviz.app.{module}; "
        "print([m for m in ('panel', 'bokeh', 'holoviews') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _generated(steps: int = 3):
    from radioviz.sampling.schedules import karras_sigmas
    from radioviz.sampling.trajectory import Trajectory

    rng = np.random.default_rng(0)
    frames = [rng.standard_normal((1, 4, 16, 16)).astype(np.float32) for _ in range(steps)]
    traj = Trajectory(
        samples=frames[-1], xs=frames, denoised=frames, sigmas=karras_sigmas(steps)[:-1].tolist(), nfe=steps
    )
    meta = {"checkpoint": "checkpoints/edm_gleam.safetensors", "sampler": "heun", "steps": steps, "seed": 4}
    return SimpleNamespace(trajectory=traj, meta=meta, physical=np.abs(frames[-1]) * 0.01)


def test_trajectory_state_follows_the_sessions_generate_run_and_marks_it_old():
    from radioviz.app.trajectory_state import TrajectorySampling

    app = AppSession()
    s = TrajectorySampling(app)
    assert not s.use_generated() and "No Generate result" in s.message
    app.generate_result = _generated()
    assert s.use_generated()
    assert (s.model, s.sampler, s.steps, s.seed) == ("edm_gleam.safetensors", "heun", 3, 4)
    assert s.outdated == "" and s.param.step.bounds == (0, 2) and "3 recorded steps" in s.message
    assert "the model's current guess" in s.captions()["x0"] and s.kind() == "edm"
    s.seed = 5
    assert s.outdated.startswith("From the previous settings") and "seed 4" in s.outdated
    text, a, b = s.forward_level()
    assert text.startswith("σ = ") and a > 0 and b > 0


def test_trajectory_state_cancel_stops_a_run_at_the_next_network_call(monkeypatch):
    from radioviz.app import trajectory_state as ts
    from radioviz.sampling.trajectory import SamplingCancelled

    s = ts.TrajectorySampling()
    seen = []

    def fake_generate(path, n, callback, **kw):
        s.cancel = True  # the user presses Cancel during the run
        seen.append(s.busy)
        if callback({"i": 0, "n": 4}):
            raise SamplingCancelled("cancelled at step 1")
        raise AssertionError("not cancelled")

    monkeypatch.setattr(ts, "generate", fake_generate)
    assert s.sample() is None
    assert seen == [True] and not s.busy and s.percent == 25 and "cancelled" in s.message


def test_compare_state_reads_the_sessions_run_and_says_why_not(monkeypatch):
    from radioviz.app import compare_state as cs

    app = AppSession()
    c = cs.CompareState(app, real_root=str(resources.SAMPLE_DATA))
    assert c.compare_latest() is None and "Generate images first" in c.message
    assert c.two_sample() is None and "Press **Compare** first" in c.two_sample_note
    rng = np.random.default_rng(1)
    real = rng.lognormal(-4, 1, (6, 4, 64, 64)).astype(np.float32)
    monkeypatch.setattr(cs, "real_cutouts", lambda *a, **k: real)
    app.generate_result = SimpleNamespace(
        physical=rng.lognormal(-4, 0.5, (4, 4, 64, 64)).astype(np.float32), meta={"label": "H"}
    )
    assert c.compare_latest() is not None and c.error == ""
    assert "4 generated (latest Generate run" in c.message and "label H" in c.message
    assert not c.upload("bad.npz", b"junk") and "bad.npz" in c.error
    c.real_root = "  "  # an emptied box shows the default root again
    assert c.real_root == cs.default_real_root() and c.real_root.strip()


def test_generate_state_offers_only_what_the_model_accepts():
    from radioviz.app.generate_state import GenerateState

    g = GenerateState()
    for name in resources.generator_cards():
        g.model = name
        acc = g.accepts()
        assert g.accepted_now == acc
        assert list(g.param.sampler.objects) == (list(acc["samplers"]) or ["ddim"])
        cond = g.conditions()
        assert ("flux" in cond) == (acc["flux"] and g.use_flux)
        assert ("mask" in cond) == bool(acc["mask_classes"])
        assert cond["guidance"] == 0.0 or (acc["guidance"] and g.label is not None)
    g.label = None
    assert g.guidance == 0.0  # no class, no guidance
