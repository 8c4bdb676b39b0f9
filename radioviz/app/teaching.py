"""What the Trajectory tab says beside each panel, adapted to the model kind (DDPM or EDM) and
the sampler: one line of meaning and one formula per panel, after Diffusion Explainer (Lee et
al., IEEE VIS 2024), and a "what to notice" line computed from the run's own frames
(:mod:`radioviz.sampling.landmarks`).

Pure functions: no UI imports, tested alone.
"""

from __future__ import annotations

from ..sampling.landmarks import LAYOUT_LEVEL, PEAK_TOLERANCE, XT_LEVEL, Landmarks
from ..sampling.registry import SAMPLERS, default_steps

BEAM_NOTE = (
    " This model passes every guess through the telescope's beam (band by band, nothing finer "
    "than the beam is kept), so x̂0 is always an image the telescope could have made."
)


def explanations(kind: str, sampler: str, beam: bool = False) -> dict[str, str]:
    """Markdown for the panels: 'xt', 'x0', 'diff', 'schedule', 'update', 'forward'; ``beam``:
    the model's clean-image estimate passes through the instrument's beam (models/beam.py)."""
    text = _explanations(kind, sampler)
    if beam:
        text["x0"] += BEAM_NOTE
    return text


def _explanations(kind: str, sampler: str) -> dict[str, str]:
    if kind == "edm" or sampler in ("heun", "euler"):
        wrapped = kind == "ddpm"
        den = (
            "D(x; σ) = x − σ·ε̂(x/√(1+σ²), t(σ)) — the DDPM's ε-network wrapped as a denoiser"
            if wrapped
            else "D(x; σ) = c_skip(σ)·x + c_out(σ)·F_θ(c_in(σ)·x; c_noise(σ)), c_skip = σd²/(σ²+σd²)"
        )
        update = (
            "**Update (Euler)**: x ← x + (σ_next − σ)·(x − D(x; σ))/σ — one network call per step."
            if sampler == "euler"
            else "**Update (Heun)**: an Euler step to σ_next, then the slope is re-evaluated there and "
            "the two slopes averaged: x ← x + (σ_next − σ)·½(d + d′), d = (x − D(x; σ))/σ. "
            "Two network calls per step (one on the last)."
        )
        return {
            "xt": "**x_t**: the image being denoised, x = x0 + σ·n — the clean image plus Gaussian "
            "noise of standard deviation σ. Shown as x/√(1+σ²) so it stays on the data scale.",
            "x0": f"**x̂0**: the denoiser's guess of the clean image at this noise level: {den}.",
            "diff": "**x̂0 − x_t**: what the model would still remove; its size is the noise left. "
            "Check its colorbar: late in the run it is tiny.",
            "schedule": "**Noise level**: σ from "
            + ("the DDPM's σ_max" if wrapped else "σ_max = 80")
            + " down to 0.002 on Karras's ρ = 7 spacing (most steps at low noise); "
            "SNR = 1/σ² (signal over noise variance, for data of unit scale).",
            "update": update,
            "forward": "**Forward process** (what training does): x = x0 + σ·n for σ on the model's "
            "own range; the network learns D(x; σ) ≈ x0 at every σ.",
        }
    update = (
        "**Update (DDIM, η = 0)**: x_{t′} = √ᾱ_{t′}·x̂0 + √(1−ᾱ_{t′})·ε̂ — jump to the next (earlier) "
        "timestep t′ along the predicted noise, deterministically."
        if sampler == "ddim"
        else "**Update (DDPM ancestral)**: x_{t−1} = (√ᾱ_{t−1}β_t/(1−ᾱ_t))·x̂0 + "
        "(√(1−β_t)(1−ᾱ_{t−1})/(1−ᾱ_t))·x_t + √β_t·z — the posterior mean plus fresh noise z."
    )
    return {
        "xt": "**x_t**: the noisy image at timestep t, x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε. At t = 999 it is "
        "almost pure Gaussian noise; at t = 0 it is the sample.",
        "x0": "**x̂0**: the network predicts the noise ε̂ = ε_θ(x_t, t); solving for the clean image "
        "gives x̂0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t (clipped to [−1, 1]).",
        "diff": "**x̂0 − x_t**: the predicted noise, scaled — what is still to be removed. "
        "Check its colorbar: late in the run it is tiny.",
        "schedule": "**Schedule**: β_t rises linearly 1e-4 → 0.02 over T = 1000 steps; ᾱ_t = Π(1−β_s) "
        "is the fraction of signal variance left; σ_t = √((1−ᾱ_t)/ᾱ_t) and SNR = ᾱ_t/(1−ᾱ_t) = 1/σ_t².",
        "update": update,
        "forward": "**Forward process** (what training does): x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε with the "
        "model's own β schedule; the network learns to predict ε from (x_t, t).",
    }


def notice(k: int, lm: Landmarks) -> str:
    """'What to notice' at recorded step ``k`` (0-based), read from the run's own frames: a line on
    x̂0, then one on x_t (a fixed σ table had said x_t showed the sources while it was noise)."""
    r0, rt, p = lm.x0_correlation[k], lm.xt_correlation[k], lm.peak_fraction[k]
    tol = share(PEAK_TOLERANCE)
    if lm.layout_step is None or k < lm.layout_step:
        x0 = (
            f"x̂0 is a blurry guess: where the emission sits is still being decided (correlation with "
            f"the final image {r0:.2f}; {_from(lm.layout_step, f'≥ {LAYOUT_LEVEL:g}')})."
        )
    elif lm.peak_step is None or k < lm.peak_step:
        x0 = (
            f"x̂0 has the final layout (correlation {r0:.2f}) but its brightest source is "
            f"{share_of(p, 'its final peak')} ({_from(lm.peak_step, f'within {tol}')})."
        )
    else:
        x0 = (
            f"x̂0's brightest source is within {tol} of its final peak ({share(p)}, since step "
            f"{lm.peak_step + 1}): the image is made; only detail near the noise floor still changes."
        )
    if lm.xt_step is None or k < lm.xt_step:
        xt = (
            f"x_t still looks like noise: correlation with the final image {rt:.2f} "
            f"({_from(lm.xt_step, f'above {XT_LEVEL:g}')})."
        )
    else:
        xt = (
            f"x_t shows the sources: correlation with the final image {rt:.2f} (above {XT_LEVEL:g} "
            f"since step {lm.xt_step + 1}); x̂0 − x_t is the noise still to remove."
        )
    return f"What to notice — {x0}\n{xt}"


def share(v: float) -> str:
    """A fraction as "82 %"; from 10 times on as "37×" (an early DDPM x̂0 can overshoot wildly)."""
    return f"{100 * v:.0f} %" if abs(v) < 10 else f"{v:.0f}×"


def share_of(v: float, whole: str) -> str:
    """ "at 82 % of <whole>", or "37× <whole>"."""
    return f"at {share(v)} of {whole}" if abs(v) < 10 else f"{share(v)} {whole}"


def _from(step: int | None, what: str) -> str:
    return f"{what} from step {step + 1}" if step is not None else f"never {what} in this run"


def contrast_options(accepts: dict) -> dict[str, tuple[dict, dict]]:
    """{name: (conditions A, conditions B)} for the two-conditioning view, those the model takes."""
    out: dict[str, tuple[dict, dict]] = {}
    labels = accepts.get("labels") or []
    if "H" in labels and "non-halo" in labels:
        out["class: H (radio halo) vs non-halo"] = ({"label": "H"}, {"label": "non-halo"})
    base = {"label": "H"} if "H" in labels else {}
    if accepts.get("guidance"):
        out["guidance: ω = 0 vs ω = 4"] = ({**base, "guidance": 0.0}, {**base, "guidance": 4.0})
    if accepts.get("flux"):
        out["peak flux: 0.5 vs 5 Jy/beam"] = ({**base, "flux": 0.5}, {**base, "flux": 5.0})
    return out


def sampler_runs(kind: str, samplers) -> list[tuple[str, str, int]]:
    """(name, sampler, steps) of the same-seed sampler comparison, those the model accepts."""
    runs = [(SAMPLERS[s].tag(), s, default_steps(s)) for s in ("ddpm", "ddim", "euler", "heun")]
    wanted = ("ddpm", "ddim", "heun") if kind == "ddpm" else ("euler", "heun")
    return [r for r in runs if r[1] in wanted and r[1] in samplers]
