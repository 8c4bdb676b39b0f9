"""The guided lesson's state (issue #28 item 7) without a browser: its questions, the answers read
from a tiny recorded run (and a tiny toy run), the steps the player is sent to, and next / back /
reveal / restart.  The served lesson is walked in tests/browser/test_browser_lesson.py."""

from __future__ import annotations

import numpy as np

from radioviz.app.lesson import (
    TOY,
    LessonState,
    lesson_model,
    toy_question,
    trajectory_questions,
    why_edm,
)
from radioviz.app.trajectory_run import TrajectoryRun
from radioviz.sampling.schedules import karras_sigmas
from radioviz.sampling.trajectory import Trajectory

STEPS = 12


def _run(steps: int = STEPS, arrive: float = 6.0, shift: int = 3) -> TrajectoryRun:
    """x = x0 + σ·n on Karras's σ; x̂0 a source that slides ``shift`` px into place and brightens,
    its ramp centred on step ``arrive`` (0-based)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:32, :32]

    def source(y, x, a):
        return (a * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / 6.0)).astype(np.float32)

    final = np.repeat(source(20, 12, 0.6)[None], 4, axis=0)
    noise = rng.standard_normal(final.shape).astype(np.float32)
    sig = np.asarray(karras_sigmas(steps)[:-1].tolist())
    ramp = 1 / (1 + np.exp(-(np.arange(steps) - arrive)))
    x0 = [np.repeat(source(20 + shift * (1 - r), 12, 0.6 * r)[None, None], 4, axis=1) for r in ramp]
    xs = [(final + s * noise)[None] for s in sig]
    traj = Trajectory(samples=final[None], xs=xs, denoised=x0, sigmas=sig.tolist(), nfe=2 * steps - 1)
    return TrajectoryRun(traj, "edm_gleam.safetensors", "edm", "heun", steps, 0)


def _toy(steps: int = 10):
    """Toy frames as ToyView draws them: guesses at the cloud's centre under large noise, on
    each particle's own point of a ring under small noise."""
    rng = np.random.default_rng(1)
    angle = rng.uniform(0, 2 * np.pi, 300)
    data = np.stack([np.cos(angle), np.sin(angle)], 1)
    sig = np.asarray(karras_sigmas(steps)[:-1].tolist())
    target = data[:50]
    out = {k: [] for k in ("xs", "ys", "x0", "y0")}
    for s in sig:
        w = 1 / (1 + s**2)  # how much of its own point the guess holds
        x = target + s * rng.standard_normal(target.shape)
        g = w * target + (1 - w) * data.mean(0)
        scale = 1 / np.sqrt(1 + s**2)
        out["xs"].append((x[:, 0] * scale).tolist())
        out["ys"].append((x[:, 1] * scale).tolist())
        out["x0"].append(g[:, 0].tolist())
        out["y0"].append(g[:, 1].tolist())
    return {**out, "sigma": list(map(float, sig)), "n": steps}, data


def test_answers_are_read_from_the_run_not_a_table():
    """Two runs whose picture is made at different steps give different answers and steps."""
    early, late = trajectory_questions(_run(arrive=3.0)), trajectory_questions(_run(arrive=8.0))
    assert len(early) == len(late) == 6
    assert [q.question for q in early] == [q.question for q in late]  # the same lesson …
    peak_early, peak_late = early[3].answer_at, late[3].answer_at  # … answered from each run
    assert peak_early < peak_late
    assert f"At step {peak_early} " in early[3].answer and f"At step {peak_late} " in late[3].answer
    # the halo settles into place before (or when) its brightness does; x_t shows it last
    for qs in (early, late):
        pos, peak, xt = qs[2].answer_at, qs[3].answer_at, qs[4].answer_at
        assert 1 <= pos <= peak <= STEPS and xt >= pos
        assert f"From step {pos} " in qs[2].answer
    # the layout is the one the "What to notice" line and the process plot read (walk 16: a
    # centroid of the brightest pixels said step 24 where the pictures had it from step 15)
    run = _run(arrive=3.0)
    lm = run.landmarks(0)
    assert early[2].answer_at == lm.layout_step + 1
    assert f"stays above {0.9:g}" in early[2].answer


def test_the_schedule_answer_is_where_sigma_falls_below_the_datas_own_sigma():
    """SNR = σ_data²/σ²: for an EDM on the asinh scale (σ_data ≈ 0.07) the noise falls below the
    signal near σ = 0.07, not σ = 1 (walk 15: the lesson said step 16 of 25, σ = 0.74, where x_t
    was still ten times more noise than signal); a unit-variance DDPM's crossing is σ = 1."""
    from dataclasses import replace

    for signal in (1.0, 0.0704):
        run = replace(_run(), signal_sigma=signal)
        q = trajectory_questions(run)[1]
        sig = np.asarray(run.trajectory.sigmas)
        k = int(np.flatnonzero(sig < signal)[0]) + 1
        assert q.answer_at == k and sig[k - 2] >= signal and f"At step {k} of {STEPS}" in q.answer
        assert f"({signal:.3g} on this model's scale)" in q.answer
        snr = np.asarray(run.schedule_curve()["snr"])
        assert snr[k - 2] <= 1 < snr[k - 1]  # the plot's SNR curve crosses 1 at the answer's step


def test_the_last_step_changes_little_and_the_answer_says_how_much():
    q = trajectory_questions(_run())[5]
    assert q.answer_at == STEPS and "max |Δ|" in q.answer and "× smaller" in q.answer


def test_the_toy_question_is_answered_in_plain_words_from_the_toy_frames():
    """Walk: the revealed answer was a run of measurements ("the median is 0° off the direction to
    its centre … (102%; from step 14 on)") rather than an answer to what the arrows push towards.
    Now it answers that in words first, for large and for small noise, then gives the run's numbers."""
    import re

    frames, data = _toy()
    q = toy_question(frames, data)
    assert q.player == TOY and q.answer_at > 1
    large, small, measured = re.split(r"(?<=\.) (?=When|In this run)", q.answer)[:3]
    assert large.startswith("When the noise is large (step 1, σ = ")
    assert "push every particle towards the middle of the cloud" in large
    assert small.startswith(f"When the noise is small (step {q.answer_at}, σ = ")
    assert "towards the part of the cloud nearest to it" in small
    angles = [float(a) for a in re.findall(r"(\d+)° off", measured)]
    assert angles[0] < 5 < angles[1]  # at the centre under large noise, elsewhere under small
    assert "e+" not in q.answer and "median" not in q.answer
    # a toy whose guesses never leave the middle is not said to spread onto the cloud
    bunched = {**frames, "x0": [[0.0] * 50] * len(frames["x0"]), "y0": [[0.0] * 50] * len(frames["y0"])}
    assert "have not yet spread out" in toy_question(bunched, data).answer
    assert "has not run yet" in toy_question(None, None).answer  # before a toy run: it is being made


def test_lesson_state_walks_and_moves_the_player():
    frames, data = _toy()
    s = LessonState(run=_run())
    assert s.status() == "Lesson not started" and s.target() is None and s.markdown() == ""
    s.start()
    assert s.count() == 7 and s.status() == "Question 1 of 7 · answer hidden"
    assert "Answer" not in s.markdown() and s.target() == ("trajectory", 1)
    s.next()
    assert s.index == 1 and s.target() == ("trajectory", 1)
    s.reveal()
    assert s.status() == "Question 2 of 7 · answer shown" and "Answer (from this run)" in s.markdown()
    assert s.target() == ("trajectory", s.current().answer_at) != ("trajectory", 1)
    s.back()
    assert (s.index, s.revealed) == (0, False)
    s.back()  # at the first question: stays
    assert s.index == 0
    for _ in range(10):
        s.next()
    assert s.index == 6 and s.current().player == TOY and "has not run yet" in s.current().answer
    s.toy = (frames, data)  # the toy has run: its answer is computed
    s.reveal()
    assert s.target()[0] == TOY and "When the noise is large" in s.markdown()
    s.restart()
    assert (s.index, s.revealed, s.active) == (0, False, True)


def test_why_the_lesson_uses_the_edm_comes_from_the_cards():
    from radioviz.app import resources

    cards = resources.generator_cards()
    text = why_edm(cards)
    assert text.startswith(f"This lesson uses the EDM ({lesson_model(cards).removesuffix('.safetensors')}")
    beamed = [n for n, c in cards.items() if c.kind == "edm" and (c.precond or {}).get("beam")]
    shipped = "edm_gleam.safetensors" in cards
    assert lesson_model(cards) in (beamed or ["edm_gleam.safetensors"]) or not shipped
    assert why_edm({}) == "This lesson uses the EDM."
    # the shipped DDPM's histogram meets the bar and its empty sky does not: the words say which
    from radioviz.models.quality import BAR, quality

    q = quality(cards["ddpm_gleam.safetensors"])
    if q.undertrained and q.judged_hist_err <= BAR["hist_err"]:
        assert "its empty sky: zero fraction" in text and "histogram error" not in text
    elif q.undertrained:
        assert f"histogram error {q.judged_hist_err:.2f}" in text
    else:
        assert "undertrained" not in text and "ddpm_gleam) meets the bar too" in text


def test_the_lesson_card_draws_every_change_of_its_state():
    """Start, Next and Restart change several params at once (one watcher call with several
    events): the card's status, text and buttons follow each."""
    from radioviz.app.lesson_view import LessonCard

    s = LessonState(run=_run())
    card = LessonCard(s, why_edm({}), s.start)
    assert card.status.object == "Lesson not started" and card.reveal_button.disabled
    assert card.reveal_button.color == "light"  # grey while it cannot be pressed (walk 18)
    card.start_button.clicks += 1
    assert card.status.object == "Question 1 of 7 · answer hidden" and card.back_button.disabled
    assert not card.reveal_button.disabled and card.reveal_button.color == "success"
    card.next_button.clicks += 1
    card.reveal_button.clicks += 1
    assert (
        card.status.object == "Question 2 of 7 · answer shown"
        and "Answer (from this run)" in card.text.object
    )
    assert card.reveal_button.disabled and not card.back_button.disabled
    for _ in range(6):
        card.next_button.clicks += 1
    assert card.next_button.disabled and card.echo.visible and "question 7 of 7" in card.echo.object
    card.restart_button.clicks += 1
    assert card.status.object == "Question 1 of 7 · answer hidden" and not card.echo.visible


def test_revealing_the_toy_question_before_the_toy_has_run_runs_it(monkeypatch):
    """Walk: Reveal on question 7 said "No toy run yet: press Train and sample…", no answer.  As
    Start makes the image run, Reveal makes the toy run; its answer and step follow from it."""
    from radioviz.app.toy_view import ToyState
    from radioviz.app.trajectory_view import TrajectoryView

    frames, data = _toy()
    runs = []

    def train_and_sample(state):  # the toy's run, without training a network
        runs.append(state)
        state.model = type("Toy", (), {"data": data})()
        state.frames = frames
        state.version += 1

    monkeypatch.setattr(ToyState, "train_and_sample", train_and_sample)
    t = TrajectoryView()
    t.lesson.param.update(run=_run())
    t.lesson.start()
    for _ in range(6):
        t.lesson.next()
    assert t.lesson.current().player == TOY and not runs  # asked: nothing runs yet
    t.lesson.reveal()
    assert len(runs) == 1 and t.lesson.toy is not None
    answer = t.lesson.current()
    assert answer.answer.startswith("When the noise is large") and answer.answer_at > 1
    assert t.toy.player.slider.value == answer.answer_at  # the toy's player at the step it names
    t.lesson.back()
    t.lesson.next()
    t.lesson.reveal()
    assert len(runs) == 1  # the toy has run: its frames are read again, not remade
