"""How far can the histogram error go down?  Its noise floor with few real images, and how much
of a measurement's spread comes from the clip levels drawn for the samples (issue #13).

1. Ideal generator: the error between two independent draws (with replacement) from the real
   cut-outs themselves (:func:`radioviz.metrics.images.histogram_error_floor`).
2. Real halo fields the "generator" has not seen: m real cut-outs as the reference against
   ``n_gen`` drawn from the others — what a generator that makes *new* real-looking fields scores.
3. With a checkpoint: one network output per seed, clipped with 20 iid and 20 balanced draws of
   the training sources' clip levels (``sampling.generate.balanced_draw``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.preprocess import apply_dead_band
from ..models.card import ModelCard
from .images import histogram_comparison, histogram_error_floor


def summary(errs) -> dict:
    """Mean, sd, median, 10th and 90th percentiles of a set of errors."""
    e = np.asarray(errs, float)
    p10, med, p90 = np.percentile(e, [10, 50, 90])
    return {
        "mean": round(float(e.mean()), 3),
        "sd": round(float(e.std()), 3),
        "median": round(float(med), 3),
        "p10": round(float(p10), 3),
        "p90": round(float(p90), 3),
        "n": int(e.size),
    }


def held_out_real(real: np.ndarray, m: int, n_gen: int, draws: int, rng) -> dict:
    """m real cut-outs as the reference, n_gen drawn (with replacement) from the others."""
    errs = []
    for _ in range(draws):
        p = rng.permutation(len(real))
        ref, pool = real[p[:m]], real[p[m:]]
        errs.append(
            histogram_comparison(ref, pool[rng.integers(0, len(pool), n_gen)])["hist_mean_abs_rel_err"]
        )
    return summary(errs)


def raw_samples(checkpoint: Path, n: int, label: str, seed: int, guidance: float) -> tuple[np.ndarray, dict]:
    """The generator's Jy/beam output before any clip level is applied."""
    from ..sampling import generate as gen_mod

    mc = gen_mod.load_generator(checkpoint)
    g = gen_mod.generate(
        checkpoint, n, label=label, seed=seed, guidance=guidance, model_and_card=mc, dead_band=False
    )
    return g.physical, ModelCard.coerce(mc[1], checkpoint).to_dict()


def clip_draw_spread(real, raw, card, label: str, draws: int) -> dict:
    """The histogram error of one network output clipped with ``draws`` iid and balanced draws of
    the training sources' clip levels: the spread that is the clip draw's alone."""
    from ..sampling import generate as gen_mod

    src = gen_mod.clip_level_sources(card, label)
    out = {}
    for name, draw in (
        ("iid", lambda rng: rng.integers(0, len(src), len(raw))),
        ("balanced", lambda rng: gen_mod.balanced_draw(len(src), len(raw), rng)),
    ):
        errs = [
            histogram_comparison(real, apply_dead_band(raw, src[draw(np.random.default_rng(k))]))[
                "hist_mean_abs_rel_err"
            ]
            for k in range(draws)
        ]
        out[name] = summary(errs)
    return out


def histogram_floor_report(
    real: np.ndarray,
    n_gen: int = 64,
    draws: int = 200,
    checkpoint: Path | None = None,
    label: str = "H",
    guidance: float = 0.0,
    seeds=(0,),
    progress: bool = False,
) -> dict:
    """Parts 1–3 above for the real cut-outs ``real`` (part 3 only with ``checkpoint``)."""
    from tqdm.auto import tqdm

    rng = np.random.default_rng(0)
    rep = {"n_gen": n_gen, "ideal_generator": histogram_error_floor(real, n_gen, draws=draws)}
    rep["held_out_real"] = {
        f"{m} real vs {n_gen} drawn from the other {len(real) - m}": held_out_real(real, m, n_gen, draws, rng)
        for m in tqdm((6, 9, 12), desc="held-out real", disable=not progress)
        if m < len(real)
    }
    if checkpoint:
        rep["clip_draws"] = {}
        for seed in tqdm(seeds, desc="samples", disable=not progress):
            raw, card = raw_samples(checkpoint, n_gen, label, seed, guidance)
            rep["clip_draws"][f"seed {seed}"] = clip_draw_spread(real, raw, card, label, 20)
        rep["clip_draws"]["setting"] = f"{checkpoint}, heun default, ω = {guidance:g}, 20 draws each"
    return rep
