"""Pictures that show the process (issue #28 item 2): the Trajectory tab's "What to notice" line
is computed from the run's own frames (radioviz.sampling.landmarks), the default colour scale
shows every stage, and the process plot holds the numbers the text quotes.  No browser: the
landmarks are pure functions and the view's state is read directly (the served page is driven
in tests/browser/test_browser_trajectory_process.py)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from radioviz.app.state import AppSession
from radioviz.sampling.schedules import karras_sigmas
from radioviz.sampling.trajectory import Trajectory

EDM = "edm_gleam.safetensors"
STEPS = 25


def _final(size: int = 64) -> np.ndarray:
    """A faint model-scale sky (4 bands): two compact sources on an empty (0) background."""
    yy, xx = np.mgrid[:size, :size]
    img = 0.5 * np.exp(-((yy - 40) ** 2 + (xx - 20) ** 2) / 8.0) + 0.2 * np.exp(
        -((yy - 15) ** 2 + (xx - 45) ** 2) / 18.0
    )
    return np.repeat(img[None].astype(np.float32), 4, axis=0)


def _heun_like_run(steps: int = STEPS) -> Trajectory:
    """A recorded σ-space run without a network: x = x0 + σ·n on Karras's σ; x̂0 a broad faint
    average giving way to the final image (2 % of it at the start, all from about step 18) — as
    the EDM does."""
    rng = np.random.default_rng(0)
    final = _final()
    noise = rng.standard_normal(final.shape).astype(np.float32)
    sigmas = np.asarray(karras_sigmas(steps)[:-1].tolist())
    ramp = 0.02 + 0.98 / (1 + np.exp(-(np.arange(steps) - 14) / 1.2))
    yy, xx = np.mgrid[:64, :64]
    blur = 0.05 * np.exp(-((yy - 32) ** 2 + (xx - 32) ** 2) / 300.0).astype(np.float32)
    xs = [(final + s * noise)[None].astype(np.float32) for s in sigmas]
    x0 = [(a * final + (1 - a) * blur)[None].astype(np.float32) for a in ramp]
    return Trajectory(samples=final[None], xs=xs, denoised=x0, sigmas=sigmas.tolist(), nfe=2 * steps - 1)


def _view(traj: Trajectory):
    from radioviz.app.trajectory_view import TrajectoryView

    meta = {"checkpoint": f"checkpoints/{EDM}", "sampler": "heun", "steps": len(traj), "seed": 0}
    t = TrajectoryView(AppSession(generate_result=SimpleNamespace(trajectory=traj, meta=meta)))
    assert t.use_generated() and t.model == EDM
    return t


# -- the pure part ------------------------------------------------------------------------------


def test_settled_from_needs_the_threshold_to_hold_to_the_end():
    from radioviz.sampling.landmarks import settled_from

    assert settled_from([False, True, True]) == 1
    assert settled_from([True, False, True, True]) == 2  # touched once, fell back: not yet
    assert settled_from([True, True, False]) is None
    assert settled_from([True, True]) == 0 and settled_from([]) is None


def test_correlation_and_peak_fraction():
    from radioviz.sampling.landmarks import correlation, peak_fraction

    final = _final()[0]
    frames = np.stack([final, 2 * final + 1, -final, np.zeros_like(final)])
    np.testing.assert_allclose(correlation(frames, final), [1, 1, -1, 0], atol=1e-6)
    moved = np.roll(final, 1, axis=1)  # the source one pixel off: still found
    assert peak_fraction(np.stack([0.5 * moved, final]), final) == pytest.approx([0.5, 1.0])
    assert peak_fraction(np.zeros((1, 4, 4)), np.zeros((4, 4))) == pytest.approx([1.0])


def test_landmarks_of_a_run_are_the_steps_where_each_threshold_settles():
    from radioviz.sampling.landmarks import landmarks

    traj = _heun_like_run()
    xt = np.stack([x[0, 0] / np.sqrt(1 + s**2) for x, s in zip(traj.xs, traj.sigmas, strict=True)])
    x0 = np.stack([d[0, 0] for d in traj.denoised])
    lm = landmarks(xt, x0, traj.samples[0, 0])
    assert len(lm) == STEPS and lm.final_peak == pytest.approx(float(traj.samples[0, 0].max()))
    assert lm.peak_step == int(np.flatnonzero(np.abs(lm.peak_fraction - 1) > 0.1)[-1] + 1)
    assert lm.xt_correlation[0] < 0.1 and lm.xt_correlation[-1] > 0.99  # noise … the image
    level = lm.xt_threshold  # 0.5, counted from step 1's (≈ 0 here: a stochastic-like start)
    assert level == pytest.approx(0.5 + 0.5 * max(lm.xt_correlation[0], 0.0)) and level < 0.55
    assert all(lm.xt_correlation[lm.xt_step :] >= level) and lm.xt_correlation[lm.xt_step - 1] < level
    assert 0 < lm.layout_step <= lm.peak_step < STEPS


def test_a_start_that_already_resembles_the_final_image_is_not_called_sources():
    """Walk 15: a deterministic DDIM run's step 1 — pure noise to the eye — correlated 0.54 with
    its final image (the faint background keeps the starting noise's pattern), and the line said
    "x_t shows the sources" from step 1.  The threshold is now counted from step 1's correlation."""
    from radioviz.app.teaching import notice
    from radioviz.sampling.landmarks import landmarks, xt_threshold

    rng = np.random.default_rng(3)
    noise = rng.normal(size=(32, 32))
    yy, xx = np.mgrid[:32, :32]
    source = 3.0 * np.exp(-((yy - 16) ** 2 + (xx - 16) ** 2) / 8.0)
    final = source + 0.8 * noise  # the start's pattern kept in the final image
    w = np.linspace(0, 1, 8)[:, None, None]
    xt = (1 - w) * noise + w * final  # step 1 is the noise itself
    lm = landmarks(xt, xt, final)
    start = lm.xt_correlation[0]
    assert start > 0.5  # the walk's case: a bare 0.5 would have been passed at step 1
    assert lm.xt_threshold == pytest.approx(xt_threshold(start)) and lm.xt_threshold > start
    assert lm.xt_step > 0 and all(lm.xt_correlation[lm.xt_step :] >= lm.xt_threshold)
    first = notice(0, lm).split("\n")[1]
    second = notice(1, lm).split("\n")[1]
    assert first.startswith("x_t still looks like noise") and "already in step 1's noise" not in first
    assert second.startswith("x_t still looks like noise") and "already in step 1's noise" in second
    assert notice(len(lm) - 1, lm).split("\n")[1].startswith("x_t shows the sources")
    # every line fits the 1150 px canvas it is drawn on at 12 px (walk 16: a longer one was cut)
    assert all(len(line) <= 170 for k in range(len(lm)) for line in notice(k, lm).split("\n"))
    assert xt_threshold(-0.2) == 0.5 and xt_threshold(1.0) == 1.0


# -- the view: text from the frames, a scale that shows each stage --------------------------------


def test_what_to_notice_is_read_from_the_frames_not_from_a_sigma_table():
    """Heun-25 on the served app: at step 15 (σ ≈ 1.1, the old table's stage 2) the line said
    "x_t starts to show the sources" while x_t was noise.  Now each step's line quotes that
    step's numbers, and says x_t shows the sources only once its correlation with the final
    image stays above 0.5."""
    traj = _heun_like_run()
    t = _view(traj)
    final = traj.samples[0, 0].ravel()
    r = np.array([np.corrcoef(x[0, 0].ravel(), final)[0, 1] for x in traj.xs])  # what x_t shows
    settled = int(np.flatnonzero(r < 0.5 + 0.5 * max(r[0], 0.0))[-1] + 1)
    notices = t.cache.data["notice"]
    assert 0.2 < traj.sigmas[14] <= 2 and r[14] < 0.5  # the walk's case: "stage 2", x_t noise
    for k, text in enumerate(notices):
        assert text.startswith("What to notice — x̂0") and "stage" not in text, text
        xt_line = text.split("\n")[1]
        quoted = float(re.search(r"correlation with the final image (-?[\d.]+)", xt_line).group(1))
        assert quoted == pytest.approx(r[k], abs=0.006)
        if k < settled:
            assert xt_line.startswith("x_t still looks like noise") and f"from step {settled + 1}" in xt_line
        else:
            assert xt_line.startswith("x_t shows the sources")
    assert "blurry guess" in notices[0] and "within 10 % of its final peak (100 %" in notices[-1]


def test_the_default_scale_shows_each_stage_and_states_the_fixed_range():
    """On the fixed −1…1 scale x_t was saturated noise and x̂0 a flat grey for steps 1–15.  The
    default now: x_t on its own symmetric range, stated beside the fixed scale's ±1; x̂0 as asinh
    display levels of its Jy/beam values on the final image's limits (the colorbar ticked in
    Jy/beam); the difference on its own symmetric range."""
    t = _view(_heun_like_run())
    d = t.cache.data
    assert t.scale == "stages"
    for k in (0, 14, STEPS - 1):
        m = float(np.abs(d["xt"][k]).max())
        assert d["xt_lo"][k] == pytest.approx(-m) and d["xt_hi"][k] == pytest.approx(m)
        assert f"colours ±{m:.3g} (fixed: ±1)" in d["title_xt"][k]
        assert (d["x0_lo"][k], d["x0_hi"][k]) == (0.0, 1.0) and 0 <= d["x0"][k].min() <= d["x0"][k].max() <= 1
        assert d["diff_hi"][k] == pytest.approx(float(np.abs(d["diff"][k]).max()))
    assert d["x0"][0].max() > 0.05  # the faint first guess is visible (not a flat grey) …
    assert d["x0"][-1].max() == pytest.approx(1.0, abs=0.01)  # … and the final image fills the stretch
    bar = t.x0_panel.colorbar
    # labelled by position (a float-keyed override had missed in the browser: bare levels showed)
    assert bar.formatter.args["labels"] and len(bar.formatter.args["pos"]) == len(bar.ticker.ticks)
    assert t.x0_panel.figure.title.text == "predicted x̂0 (Jy/beam, asinh)"
    # a new colorbar in the figure, not new ticks on the old (the browser kept the old ones)
    assert bar in t.x0_panel.figure.right and bar.color_mapper is t.x0_panel.mapper
    assert "% of final" in d["title_x0"][0]
    t.scale = "fixed"  # the other scales are still there, as they were
    assert t.cache.data["xt_lo"][0] == -1.0 and t.cache.data["diff_hi"][0] == 2.0
    assert t.x0_panel.colorbar.formatter is t.x0_panel._plain_ticks and t.x0_panel.colorbar is not bar
    assert t.x0_panel.figure.right.count(t.x0_panel.colorbar) == 1 and bar not in t.x0_panel.figure.right
    assert t.x0_panel.figure.title.text == "predicted x̂0"


def test_the_process_plot_holds_the_numbers_the_text_quotes():
    t = _view(_heun_like_run())
    lm = t.shown.landmarks(t._band_index())
    data = t.process.source.data
    assert data["step"] == list(range(1, STEPS + 1))
    np.testing.assert_allclose(data["xt"], lm.xt_correlation)
    np.testing.assert_allclose(data["peak"], lm.peak_fraction)
    np.testing.assert_allclose(data["x0"], lm.x0_correlation)
    assert t.process.marker.location == 1
    js = t.player.slider.js_property_callbacks["change:value"][0]
    assert t.process.marker in js.args["markers"] and t.marker in js.args["markers"]  # moved in the browser
    assert (t.process.figure.x_range.start, t.process.figure.x_range.end) == (0.5, STEPS + 0.5)


def test_an_overshooting_guess_is_said_in_times():
    """An early DDPM x̂0 (clipped to the model's range) can sit hundreds of times above a faint final
    peak: "36945 %" said nothing a student can read."""
    from radioviz.app.teaching import share_of

    assert share_of(0.82, "its final peak") == "at 82 % of its final peak"
    assert share_of(369.4, "its final peak") == "369× its final peak"
