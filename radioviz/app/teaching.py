"""What the app says to a learner, in one place: one plain sentence per panel with its formula one
click away (a ``<details>`` toggle), after Diffusion Explainer (Lee et al., IEEE VIS 2024) — for
the Trajectory tab's panels, schedule, update rule, guidance and forward process (adapted to the
model kind, DDPM or EDM, and the sampler), for each Compare metric (what a perfect generator would
score), and a "what to notice" line computed from the run's own frames
(:mod:`radioviz.sampling.landmarks`).  docs/teaching.md quotes the same sentences.

Pure functions: no UI imports, tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..sampling.landmarks import LAYOUT_LEVEL, PEAK_TOLERANCE, XT_LEVEL, Landmarks
from ..sampling.registry import SAMPLERS, default_steps

#: the colour scales offered, the first the default
SCALES = {"stages": "stages", "fixed scale": "fixed", "per frame": "frame"}
SCALE_HELP = (
    "<small>stages (each one visible): x_t on its own symmetric range (its corner gives it; the fixed scale "
    "is ±1), x̂0 in Jy/beam on the final image's asinh stretch (as the Fields tab shows data); "
    "fixed: x_t and x̂0 on −1…1, x̂0 − x_t on ±2; per frame: each frame's own range — read the "
    "colorbar.</small>"
)

BEAM_NOTE = (
    " This model passes every guess through the telescope's beam (band by band, nothing finer "
    "than the beam is kept), so x̂0 is always an image the telescope could have made."
)

V_FORMULA = (
    " This network outputs v̂ = v_θ(x_t, t), v = √ᾱ_t·ε − √(1−ᾱ_t)·x0, rather than ε: its guess is "
    "x̂0 = √ᾱ_t·x_t − √(1−ᾱ_t)·v̂, which never magnifies the network's error, and ε̂ = √ᾱ_t·v̂ + "
    "√(1−ᾱ_t)·x_t is what the formulas here use."
)

#: the stylesheet of a Markdown pane that holds :meth:`Layer.markdown` toggles: each "▸ The formula"
#: close under its own sentence and a paragraph's gap before the next one (it had none: the next
#: sentence started right under the toggle, as if the toggle were its heading)
TOGGLE_CSS = (
    "p:has(+ details) { margin-bottom: 0.3em; } details { margin: 0 0 16px 0; } summary { cursor: pointer; }"
)


@dataclass(frozen=True)
class Layer:
    """An explanation in two layers: ``title`` and one ``plain`` sentence shown, the ``formula``
    (markdown) behind a click."""

    title: str
    plain: str
    formula: str

    def markdown(self, summary: str = "The formula") -> str:
        return (
            f"**{self.title}** — {self.plain}\n\n<details><summary>{summary}</summary>\n\n"
            f"{self.formula}\n\n</details>"
        )


#: the plain sentences, the same for every model kind and sampler (the formulas differ)
PLAIN = {
    "xt": "the picture the sampler is working on: the clean image buried under noise that shrinks "
    "step by step.",
    "x0": "the model's current guess of the clean image.",
    "diff": "what the model would still take away — the noise left in x_t. Check its colorbar: late "
    "in the run it is tiny.",
    "schedule": "how much noise is left at each step: a lot at first, almost none at the end.",
    "update": "how one step moves x_t a little of the way towards the model's guess.",
    "guidance": "how hard the run is pushed towards the class you asked for (ω = 0: not at all).",
    "forward": "what training does: take a real image, add noise; the network learns to undo it at "
    "every noise level.",
}
TITLES = {
    "xt": "x_t",
    "x0": "x̂0",
    "diff": "x̂0 − x_t",
    "schedule": "Noise level",
    "update": "Update",
    "guidance": "Guidance",
    "forward": "Forward process",
}
GUIDANCE_FORMULA = (
    "Classifier-free guidance: D = (1+ω)·D(x; σ, class) − ω·D(x; σ, no class). The model is "
    "trained with the class dropped now and then, so it knows both; ω > 0 moves each guess away "
    "from the class-free one, towards the class (sharper class features, less variety)."
)


def layers(kind: str, sampler: str, prediction: str = "epsilon") -> dict[str, Layer]:
    """The Trajectory tab's explanations: 'xt', 'x0', 'diff', 'schedule', 'update', 'guidance',
    'forward', each a plain sentence and the formula for this model kind and sampler (and, for a
    DDPM, what its network outputs: ``prediction``, models/prediction.py)."""
    formulas = {**_formulas(kind, sampler), "guidance": GUIDANCE_FORMULA}
    if kind == "ddpm" and prediction == "v":
        formulas["x0"] += V_FORMULA
    return {k: Layer(TITLES[k], PLAIN[k], formulas[k]) for k in PLAIN}


def explanations(kind: str, sampler: str, beam: bool = False, prediction: str = "epsilon") -> dict[str, str]:
    """Markdown for the panels (the keys of :func:`layers`); ``beam``: the model's clean-image
    estimate passes through the instrument's beam (models/beam.py), said after x̂0's formula;
    ``prediction``: what a DDPM's network outputs (models/prediction.py), said there too."""
    text = {k: v.markdown() for k, v in layers(kind, sampler, prediction).items()}
    if beam:
        text["x0"] += BEAM_NOTE
    return text


def card_notes(card) -> dict:
    """What of a model's card changes the panels' words: ``beam`` and ``prediction``."""
    if card is None:
        return {"beam": False, "prediction": "epsilon"}
    return {
        "beam": bool((card.precond or {}).get("beam")),
        "prediction": card.extra.get("prediction", "epsilon"),
    }


def _formulas(kind: str, sampler: str) -> dict[str, str]:
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
            "xt": "x = x0 + σ·n — the clean image plus Gaussian noise of standard deviation σ. Shown "
            "as x/√(1+σ²) so it stays on the data scale.",
            "x0": f"The denoiser's output at this noise level: {den}.",
            "diff": "x̂0 − x_t is the part of x_t the denoiser calls noise; its size is the noise left.",
            "schedule": "σ from "
            + ("the DDPM's σ_max" if wrapped else "σ_max = 80")
            + " down to 0.002 on Karras's ρ = 7 spacing (most steps at low noise); "
            "SNR = σ_data²/σ² (signal over noise variance; σ_data is the clean data's own standard "
            "deviation on the model's scale, in its card: ≈ 0.07 for the asinh-scaled GLEAM bands, so the "
            "noise falls below the signal only at σ ≈ 0.07).",
            "update": update,
            "forward": "x = x0 + σ·n for σ on the model's own range; the network learns D(x; σ) ≈ x0 "
            "at every σ.",
        }
    update = (
        "**Update (DDIM, η = 0)**: x_{t′} = √ᾱ_{t′}·x̂0 + √(1−ᾱ_{t′})·ε̂ — jump to the next (earlier) "
        "timestep t′ along the predicted noise, deterministically."
        if sampler == "ddim"
        else "**Update (DDPM ancestral)**: x_{t−1} = (√ᾱ_{t−1}β_t/(1−ᾱ_t))·x̂0 + "
        "(√(1−β_t)(1−ᾱ_{t−1})/(1−ᾱ_t))·x_t + √β_t·z — the posterior mean plus fresh noise z."
    )
    return {
        "xt": "x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε. At t = 999 it is almost pure Gaussian noise; at t = 0 it "
        "is the sample. The network diffuses the data scaled to unit variance (×1/σ_data, the card's "
        "data_scale, ≈ 14 for the asinh-scaled bands); the panel divides x_t back by it, so its noise "
        "reads ≈ ±1/14 there.",
        "x0": "The network predicts the noise ε̂ = ε_θ(x_t, t); solving for the clean image gives "
        "x̂0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t (clipped to the data range); the 'stages' view shows it in "
        "Jy/beam, the model's normalisation undone.",
        "diff": "x̂0 − x_t = (1/√ᾱ_t − 1)·x_t − √((1−ᾱ_t)/ᾱ_t)·ε̂: mostly the predicted noise, scaled — "
        "what is still to be removed.",
        "schedule": "β_t rises linearly 1e-4 → 0.02 over T = 1000 steps; ᾱ_t = Π(1−β_s) is the "
        "fraction of signal variance left; σ_t = √((1−ᾱ_t)/ᾱ_t) and SNR = ᾱ_t/(1−ᾱ_t) = 1/σ_t².",
        "update": update,
        "forward": "x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε with the model's own β schedule; the network learns "
        "to predict ε from (x_t, t).",
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
            f"{share_of(p, 'its final peak')} ({_from(lm.peak_step, f'stays within {tol}')})."
        )
    else:
        x0 = (
            f"x̂0's brightest source is within {tol} of its final peak ({share(p)}, since step "
            f"{lm.peak_step + 1}): the image is made; only detail near the noise floor still changes."
        )
    level = f"{lm.xt_threshold:.2g}"
    start = lm.xt_correlation[0]
    # a deterministic run's final image keeps its starting noise's pattern: say so, or the number
    # would read as sources in what is still noise (one short clause: the line is drawn on a
    # canvas of fixed width, and a longer one was cut off — walk 16)
    inherited = (
        f"; {start:.2f} of it was already in step 1's noise"
        if lm.xt_threshold > XT_LEVEL + 0.05 and k > 0  # at step 1 it would say r of itself
        else ""
    )
    if lm.xt_step is None or k < lm.xt_step:
        xt = (
            f"x_t still looks like noise: correlation with the final image {rt:.2f} "
            f"({_from(lm.xt_step, f'above {level}')}{inherited})."
        )
    else:
        xt = (
            f"x_t shows the sources: correlation with the final image {rt:.2f} (above {level} "
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


def sampler_note(kind: str, names: list[str]) -> str:
    """What the same-seed sampler comparison runs (``names``, from :func:`sampler_runs`), and why."""
    if kind == "edm":
        return (
            "An EDM is a continuous-σ model: it has no discrete DDPM/DDIM sampler, so this runs "
            + " and ".join(names)
            + " (Euler: 1 network call per step; Heun: 2)."
        )
    return (
        "The DDPM under "
        + ", ".join(names)
        + " (DDPM: its ancestral sampler; Heun through the σ-space wrapper)."
    )


def sampler_runs(kind: str, samplers) -> list[tuple[str, str, int]]:
    """(name, sampler, steps) of the same-seed sampler comparison, those the model accepts."""
    runs = [(SAMPLERS[s].tag(), s, default_steps(s)) for s in ("ddpm", "ddim", "euler", "heun")]
    wanted = ("ddpm", "ddim", "heun") if kind == "ddpm" else ("euler", "heun")
    return [r for r in runs if r[1] in wanted and r[1] in samplers]


# -- the Compare tab's metrics ------------------------------------------------------------------------

#: SSIM's weakness here, said where the number is shown
SSIM_SKY = (
    "Most of a 64×64 cut-out is empty sky near zero, and SSIM rewards matching flat areas: two "
    "unrelated images that are mostly empty sky score high (0.78 between a diffuse disc and a "
    "point-source field). So SSIM is used only to flag copying — empty real cut-outs are left out as "
    "references and the closest pairs are shown as pictures below, to be looked at — while the "
    "histogram error, power ratio and spectral index measure quality."
)


def _num(v, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def metric_layers(report: dict) -> dict[str, Layer]:
    """Each Compare metric as a plain sentence (what a perfect generator would score, with this
    comparison's own number) and its definition a click away; ``report`` from
    :func:`radioviz.metrics.compare.compare_images`."""
    floor = (report.get("hist_err_floor") or {}).get("median")
    err = report.get("hist_mean_abs_rel_err")
    kid = report.get("kid_domain")
    ideal = (
        f"a perfect generator would score ≈ {floor:.2f} here, not 0 (the {report.get('n_real', '?')} real "
        "images are themselves a finite sample); read the error against that floor"
        if floor is not None
        else "a perfect generator would score near 0 only with many real images (the floor was not "
        "measured here)"
    )
    if kid is None:
        kid_plain = "not computed for this comparison."
    elif kid < 0:
        kid_plain = (
            f"{kid:.3f}: below 0, which happens by chance when the two sets cannot be told apart at "
            "this sample size — read it as 0 (a perfect generator's expected score), not as better than real."
        )
    else:
        kid_plain = f"{kid:.3f}; a perfect generator's expected score is 0 (it can dip below 0 by chance)."
    ts = report.get("two_sample")
    return {
        "hist": Layer(
            "Histogram error",
            f"how far the generated pixel brightnesses are from the real ones ({_num(err, 2)}); {ideal}.",
            "Mean over the non-zero-pixel bins of |2(real − gen)/(real + gen)| (generated counts scaled "
            "to the real total). The floor: the same error between two independent resamples of the real "
            "set itself, one of the real set's size and one of the generated set's, median of 60 draws "
            "(`metrics.images.histogram_error_floor`).",
        ),
        "zero": Layer(
            "Zero fraction",
            f"the share of exactly-zero (blanked) pixels: real {_num(report.get('zero_fraction_real'))}, "
            f"generated {_num(report.get('zero_fraction_gen'))}; a perfect generator matches the real one.",
            "Pixels equal to 0 over all pixels, per set. The survey images are clipped at zero, so a "
            "generator must learn where the sky is blank, not only how bright the sources are.",
        ),
        "power": Layer(
            "Power ratio",
            "whether generated images have the right amount of structure at each size: 1 is perfect, "
            "and the shaded band is where a perfect generator would fall with this many real images.",
            "Azimuthally averaged power spectrum |FFT|² of the generated images over that of the real ones, "
            "per band; the band is the ideal generator's 10th–90th percentile (resamples of the real set, "
            "of the generated set's size, against the real set). Above the dashed beam cut-off the "
            "telescope sees nothing, so the ratio there is noise.",
        ),
        "fid": Layer(
            "FID",
            f"the distance between the real and generated sets in a classifier's feature space "
            f"({_num(report.get('fid_domain'), 2)}); a perfect generator scores near 0 (not exactly: "
            "finite samples).",
            "Fréchet distance between Gaussians fitted to the two sets' features: |μr − μg|² + "
            "Tr(Σr + Σg − 2(ΣrΣg)^½). Biased upwards for small sets. "
            "Features: the shipped A classifier's penultimate (64-d) layer, not InceptionV3, so not "
            "comparable with published FIDs.",
        ),
        "kid": Layer(
            "KID",
            kid_plain,
            "Kernel inception distance: an unbiased estimate of the squared maximum mean discrepancy "
            "with the kernel k(x, y) = (x·y/d + 1)³ on the same features. Unbiased means its average "
            "over many draws is exactly 0 for identical distributions — so single values scatter around "
            "0 and can be negative.",
        ),
        "ssim": Layer(
            "Nearest-neighbour SSIM",
            f"how closely each generated image matches its most similar real one (max "
            f"{_num(report.get('nn_ssim_max'), 2)}): a check for copying — 0.95 or more would be a copy; a "
            "perfect generator that does not copy stays below.",
            "Structural similarity (luminance × contrast × structure over 7×7 windows) of each generated "
            "image with every real cut-out holding emission, in 8 orientations; the highest is kept. "
            + SSIM_SKY,
        ),
        "pass": Layer(
            "Classifier pass rate",
            f"the share of generated images the shipped halo classifier A scores ≥ 0.5 "
            f"({_num(report.get('classifier_pass_rate_0.5'), 2)}); a perfect generator of halos scores "
            "what real halos score.",
            "Fraction of generated images with classifier A's probability ≥ 0.5 (and ≥ 0.95). Compare "
            "with the real images' rate, not with 1: the classifier itself misses some real halos.",
        ),
        "alpha": Layer(
            "Spectral index α",
            "how brightness falls with frequency (S ∝ ν^α; radio halos have α ≈ −1.3); a perfect "
            "generator's α histogram lies on the real one.",
            "α = ln(S_high/S_low)/ln(ν_high/ν_low) per pixel bright in both the 72–103 and the "
            "170–231 MHz band.",
        ),
        "two_sample": Layer(
            "Two-sample test",
            "a small network tries to tell generated from real images: 0.5 accuracy means it cannot (a "
            "perfect generator), 1.0 that it always can" + (f" — here {ts['accuracy']:.2f}." if ts else "."),
            "A small CNN trained on half of each set, tested on the other half (k folds); accuracy with "
            "a 95 % binomial interval.",
        ),
    }


def metric_guide(report: dict) -> str:
    """The Compare tab's 'how to read these numbers': every metric's sentence, formula a click away."""
    return "\n\n".join(layer.markdown("How it is computed") for layer in metric_layers(report).values())
