"""A guided lesson over the run on screen (issue #28 item 7): seven questions, each with the step
the player should show, and an answer computed from the recorded run's frames
(:mod:`radioviz.sampling.landmarks` and the toy's frames), never from a fixed table — a new run
gives new answers.

:class:`LessonState` holds where the learner is (question, answer shown or not) as params, with
pure methods; the Trajectory tab's lesson card only draws it and moves the players.  No UI
imports: tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import param

from ..models.quality import BAR, default_generator, quality
from ..sampling.landmarks import LAYOUT_LEVEL
from .teaching import share
from .trajectory_run import TrajectoryRun, data_scale

#: the toy's guesses "spread like the cloud" from this share of the cloud's width
SPREAD_LEVEL = 0.5
#: the toy's "small noise": the first step with σ below this
SMALL_SIGMA = 0.1
#: the toy's pushes "point at the middle of the cloud" while their median direction is within this
#: many degrees of the direction to the cloud's centre
CENTRE_DEG = 20.0
#: the lesson's run: the best-measured EDM under Heun, as the tab opens
LESSON_SAMPLER, LESSON_STEPS, LESSON_SEED = "heun", 25, 0
TRAJECTORY, TOY = "trajectory", "toy"
#: the toy's answer before the toy has run (the Trajectory tab runs it when this answer is revealed)
NO_TOY = (
    "The toy below has not run yet: it is being trained and sampled now (a few seconds), and the "
    "answer, read from its run, appears here."
)


@dataclass(frozen=True)
class Question:
    """One lesson step: the question, where to look, the answer read from the run, and the step
    (1-based) of ``player`` shown with the question and with the answer."""

    question: str
    look: str
    answer: str
    ask_at: int
    answer_at: int
    player: str = TRAJECTORY


def _step(k: int | None, n: int) -> int:
    """A 0-based landmark as the player's 1-based step (never reached: the last step)."""
    return n if k is None else k + 1


def _steps(k: int) -> str:
    return f"{k} step{'s' if k != 1 else ''}"


def _amount(r: float) -> str:
    """How much of the final image a correlation ``r`` holds, in a word."""
    return "Almost none" if r < 0.2 else "Little" if r < 0.5 else "Much"


def _sigma(run: TrajectoryRun, step: int) -> str:
    return f"σ = {run.trajectory.sigmas[step - 1]:.3g}"


def trajectory_questions(run: TrajectoryRun, band: int = 0) -> list[Question]:
    """The six questions on the image run, answered from its frames."""
    traj, n = run.trajectory, len(run)
    lm = run.landmarks(band)
    sig = np.asarray(traj.sigmas, float)
    out = [
        Question(
            "Step 1: how much of the final image is already in x_t, the picture being denoised?",
            "the x_t panel, and the 'What to notice' line about x_t (its correlation with the final image)",
            f"{_amount(lm.xt_correlation[0])}: x_t's correlation with the final image is "
            f"{lm.xt_correlation[0]:.2f} at step 1 ({_sigma(run, 1)}); to the eye it is noise. "
            + (
                f"Yet x̂0, the model's guess, is already {lm.x0_correlation[0]:.2f} correlated with it: a "
                "blurry average picture."
                if lm.x0_correlation[0] > max(lm.xt_correlation[0], 0.2)
                else f"x̂0, the model's guess, is a blurry average picture (correlation "
                f"{lm.x0_correlation[0]:.2f}): nothing of this image is decided yet."
            ),
            1,
            1,
        )
    ]
    signal = run.signal_sigma
    below = np.flatnonzero(sig < signal)
    k1 = int(below[0]) + 1 if below.size else n
    out.append(
        Question(
            "On the noise schedule, at which step does the noise fall below the signal (SNR > 1: σ below "
            "the clean data's own σ)?",
            "the dashed red SNR curve of the 'noise schedule' plot: where it rises past 1",
            f"At step {k1} of {n} ({_sigma(run, k1)}): σ falls from {sig[0]:.3g} to below the data's own "
            f"σ ({signal:.3g} on this model's scale) in the first {k1 - 1} steps, and the remaining "
            f"{n - k1 + 1} are spent at low noise, where the detail is made.",
            1,
            k1,
        )
    )
    # the layout as the "What to notice" line and the green curve read it (walk 16: a centroid of
    # the brightest pixels jumped between the halo and a compact source, and said step 24 where
    # the pictures had the layout from step 15)
    kp = _step(lm.layout_step, n)
    r0 = lm.x0_correlation
    out.append(
        Question(
            "At which step does the layout of x̂0 — where the halo and the other sources sit — stop changing?",
            "the x̂0 panel while you step forward (▶ one step at a time), and the green curve of "
            "'when the picture is made'",
            f"From step {kp} ({_sigma(run, kp)}): from there x̂0's correlation with the final image "
            f"stays above {LAYOUT_LEVEL:g} (the green curve over its dotted line; the 'What to notice' "
            f"line says x̂0 has the final layout); at step 1 it was {r0[0]:.2f}. "
            + (
                "Where things sit is decided early, while the noise is still louder than the signal."
                if sig[kp - 1] >= signal
                else "Where things sit is decided only as the noise falls below the signal."
            ),
            1,
            kp,
        )
    )
    kb = _step(lm.peak_step, n)
    out.append(
        Question(
            "When does x̂0's brightest source reach 90 % of its final peak (and stay within 10 % of it)?",
            "the orange curve of 'when the picture is made', and the 'What to notice' line",
            f"At step {kb} ({_sigma(run, kb)}), with x̂0's brightest source at "
            f"{share(lm.peak_fraction[kb - 1])} of its final peak"
            + (f" of {lm.final_peak:.3g} Jy/beam" if run.normalization else "")
            + "; "
            + (
                f"{_steps(kb - kp)} after the layout settled: first where, then how bright."
                if kb > kp
                else "by the time the layout settled."
            ),
            kp,
            kb,
        )
    )
    kx = _step(lm.xt_step, n)
    out.append(
        Question(
            "When does x_t itself begin to show the sources (its correlation with the final image past "
            "the dotted line)?",
            "the x_t panel and the dashed curve of 'when the picture is made'",
            f"Only at step {kx} of {n} ({_sigma(run, kx)}; the line is at {lm.xt_threshold:.2g}: half-way "
            f"from the {max(lm.xt_correlation[0], 0.0):.2f} step 1's noise already had to 1), "
            + (
                f"{_steps(kx - kp)} after x̂0 had the final layout: the model knows the picture "
                "before the noise has left x_t."
                if kx > kp
                else "as x̂0's layout settled."
                if kx == kp
                else f"{_steps(kp - kx)} before x̂0's layout settled (step {kp}): the last "
                "small shifts happen while the sources already show."
            ),
            kp,
            kx,
        )
    )
    first, last = (np.abs(traj.denoised[k][0][band] - data_scale(traj, k)[band]).max() for k in (0, n - 1))
    out.append(
        Question(
            "How much does the last step still change? Read the colorbar of x̂0 − x_t.",
            "the x̂0 − x_t panel and its 'max |Δ|' label, at step 1 and at the last step",
            f"Almost nothing: max |Δ| is {last:.3g} at step {n}, against {first:.3g} at step 1 "
            f"({first / max(last, 1e-12):.0f}× smaller). On the default 'stages' scale the "
            "panel still fills its colours at every step (its range follows the step's own difference): "
            "always read the colorbar.",
            1,
            n,
        )
    )
    return out


def toy_question(frames: dict | None, data: np.ndarray | None) -> Question:
    """The toy's question: what the arrows point at under large and under small noise, answered
    from the toy's recorded frames (positions x_t, guesses x̂0) and its training cloud."""
    q = (
        "In the 2-D toy below: what do the arrows push the particles towards when the noise is large, "
        "and when it is small?"
    )
    look = "the toy's arrows and its green guesses x̂0, at step 1 and at a late step (press Train and sample)"
    if not frames or data is None:
        return Question(q, look, NO_TOY, 1, 1, TOY)
    sig = np.asarray(frames["sigma"], float)
    n = int(frames["n"])
    data = np.asarray(data, float)
    centre, width = data.mean(0), float(data.std(0).mean())

    def at(k):
        scale = np.sqrt(1 + sig[k] ** 2)
        x = np.stack([frames["xs"][k], frames["ys"][k]], 1) * scale
        g = np.stack([frames["x0"][k], frames["y0"][k]], 1)
        push, to_centre = g - x, centre - x
        cos = (push * to_centre).sum(1) / np.maximum(
            np.linalg.norm(push, axis=1) * np.linalg.norm(to_centre, axis=1), 1e-12
        )
        return float(np.degrees(np.arccos(np.clip(np.median(cos), -1, 1)))), float(g.std(0).mean()) / width

    small = np.flatnonzero(sig < SMALL_SIGMA)
    k_small = int(small[0]) + 1 if small.size else n
    (a0, s0), (a1, s1) = at(0), at(k_small - 1)
    large = (
        "towards the middle of the cloud: with that much noise a particle could have come from anywhere, "
        "so the best guess is the average of the whole cloud"
        if a0 <= CENTRE_DEG
        else f"not straight at the middle of the cloud ({a0:.0f}° off it): this toy has not learnt the "
        "average"
    )
    spread = s1 >= SPREAD_LEVEL
    small_words = (
        "each particle towards the part of the cloud nearest to it, so the particles spread out onto the "
        "cloud's shape"
        if spread
        else "the particles still towards the middle of the cloud: they have not yet spread out onto its "
        "shape"
    )
    # the question answered in words first; then what this run measured, in plain numbers
    return Question(
        q,
        look,
        f"When the noise is large (step 1, σ = {sig[0]:.3g}), the arrows push every particle {large}. "
        f"When the noise is small (step {k_small}, σ = {sig[k_small - 1]:.3g}), they push {small_words}. "
        f"In this run the typical push points {a0:.0f}° off the direction to the cloud's middle at step "
        f"1 (0° = straight at it) and {a1:.0f}° off it at step {k_small}, and the guesses x̂0 cover "
        f"{share(s0)} and then {share(s1)} of the cloud's width. "
        "The image model does the same with 4 096 pixels: first towards the average picture, then towards "
        "one image of its own.",
        1,
        k_small,
        TOY,
    )


def lesson_model(cards: dict) -> str | None:
    """The lesson's model: the best-measured EDM among ``cards`` ({file name: card})."""
    return default_generator({n: c for n, c in cards.items() if getattr(c, "kind", None) == "edm"}, ("edm",))


def why_edm(cards: dict) -> str:
    """Which EDM the lesson runs, and why not the DDPM: its own measured quality, from its card."""
    edm = lesson_model(cards)
    which = f"the EDM ({edm.removesuffix('.safetensors')}, Heun, {LESSON_STEPS} steps)" if edm else "the EDM"
    ddpms = {  # the DDPMs of the four-band images the lesson is about
        n: c
        for n, c in cards.items()
        if getattr(c, "kind", None) == "ddpm" and len(getattr(c.preprocessing, "bands", None) or []) > 1
    }
    good = [n for n, c in ddpms.items() if not quality(c).undertrained]
    if good:
        return (
            f"This lesson uses {which}; the DDPM ({good[0].removesuffix('.safetensors')}) meets the "
            "bar too: pick it above to follow the DDPM and DDIM samplers."
        )
    flagged = [n for n, c in ddpms.items() if quality(c).undertrained]
    if not flagged:
        return f"This lesson uses {which}."
    q = quality(ddpms[flagged[0]])
    e, over = q.judged_hist_err, " (mean over seeds)" if q.hist_err_seeds else ""
    err = f" (histogram error {e:.2f}{over})" if e is not None else ""
    if e is not None and e <= BAR["hist_err"] and q.judged_gap is not None:
        err = (  # the histogram passes: say which part of the bar does not
            f" (its empty sky: zero fraction {q.zero_fraction_gen:.3f} against the real "
            f"{q.zero_fraction_real:.3f}, bar ± {BAR['zero_fraction_gap']})"
        )
    return (
        f"This lesson uses {which}: the DDPM ({flagged[0].removesuffix('.safetensors')}) is flagged "
        f"undertrained{err}, so its pictures would teach a model that does not yet work."
    )


class LessonState(param.Parameterized):
    """Where the learner is: the run and toy the answers are read from, the question shown and
    whether its answer is revealed."""

    run = param.ClassSelector(class_=TrajectoryRun, default=None, doc="The image run on screen")
    band = param.Integer(default=0, bounds=(0, None))
    toy = param.Parameter(default=None, doc="(frames, training cloud) of the toy on screen, or None")
    active = param.Boolean(default=False, doc="The lesson has started")
    index = param.Integer(default=0, bounds=(0, None), doc="The question shown (0-based)")
    revealed = param.Boolean(default=False, doc="Its answer is shown")

    def questions(self) -> list[Question]:
        """Every question, answered from the run and toy now on screen."""
        if self.run is None or not len(self.run):
            return []
        frames, data = self.toy if self.toy else (None, None)
        return [*trajectory_questions(self.run, self.band), toy_question(frames, data)]

    def current(self) -> Question | None:
        qs = self.questions()
        return qs[min(self.index, len(qs) - 1)] if qs else None

    def count(self) -> int:
        return len(self.questions())

    def start(self) -> None:
        self.param.update(active=True, index=0, revealed=False)

    def next(self) -> None:
        if self.index < self.count() - 1:
            self.param.update(index=self.index + 1, revealed=False)

    def back(self) -> None:
        if self.index > 0:
            self.param.update(index=self.index - 1, revealed=False)

    def reveal(self) -> None:
        self.revealed = True

    def restart(self) -> None:
        self.start()

    def target(self) -> tuple[str, int] | None:
        """(player, 1-based step) the question is about: its asking step, its answer's once revealed."""
        q = self.current() if self.active else None
        if q is None:
            return None
        return q.player, q.answer_at if self.revealed else q.ask_at

    def status(self) -> str:
        """What the page publishes (the browser test waits on it): "Question 3 of 7 · answer shown"."""
        if not self.active or self.current() is None:
            return "Lesson not started"
        shown = "answer shown" if self.revealed else "answer hidden"
        return f"Question {self.index + 1} of {self.count()} · {shown}"

    def markdown(self) -> str:
        """The question, where to look and (once revealed) the answer."""
        q = self.current() if self.active else None
        if q is None:
            return ""
        text = f"#### {q.question}\n\n*Look at:* {q.look}."
        return text + (f"\n\n**Answer (from this run):** {q.answer}" if self.revealed else "")
