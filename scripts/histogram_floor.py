"""How far can the histogram error go down?  Its noise floor with few real images, and how much
of a measurement's spread comes from the clip levels drawn for the samples (issue #13).

Run:  python scripts/histogram_floor.py [--real ../shared/data/GLEAM-Data] [--label H]
          [--checkpoint checkpoints/edm_gleam.safetensors --guidance 2 --seeds 0 1]
          [--json docs/benchmarks/histogram_floor.json]

1. Ideal generator: the error between two independent draws (with replacement) from the real
   cut-outs themselves (``metrics.images.histogram_error_floor``, as ``radioviz compare`` reports).
2. Real halo fields the "generator" has not seen: m real cut-outs as the reference against 64
   drawn from the other 18 − m — what a generator that makes *new* real-looking fields would score.
3. With ``--checkpoint``: one network output per seed, clipped with 20 iid and 20 balanced draws
   of the training sources' clip levels (``sampling.generate.balanced_draw``): the spread that is
   the clip draw's alone.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from radioviz.data.preprocess import apply_dead_band
from radioviz.metrics.compare import real_cutouts
from radioviz.metrics.images import histogram_comparison, histogram_error_floor
from radioviz.models.card import ModelCard
from radioviz.sampling import generate as gen_mod


def _summary(errs) -> dict:
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
    return _summary(errs)


def raw_samples(checkpoint: Path, n: int, label: str, seed: int, guidance: float) -> tuple[np.ndarray, dict]:
    """The generator's Jy/beam output before any clip level is applied."""
    mc = gen_mod.load_generator(checkpoint)
    g = gen_mod.generate(
        checkpoint, n, label=label, seed=seed, guidance=guidance, model_and_card=mc, dead_band=False
    )
    return g.physical, ModelCard.coerce(mc[1], checkpoint).to_dict()


def clip_draw_spread(real, raw, card, label: str, draws: int) -> dict:
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
        out[name] = _summary(errs)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", default="../shared/data/GLEAM-Data")
    ap.add_argument("--label", default="H")
    ap.add_argument("--n-gen", type=int, default=64)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--checkpoint", type=Path)
    ap.add_argument("--guidance", type=float, default=0.0)
    ap.add_argument("--seeds", type=int, nargs="*", default=[0])
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()

    pre_card = (
        ModelCard.read(a.checkpoint)
        if a.checkpoint
        else ModelCard.read(Path(__file__).resolve().parents[1] / "checkpoints" / "edm_gleam.safetensors")
    )
    real = real_cutouts(a.real, "TRAIN", pre_card.preprocessing, a.label)
    rng = np.random.default_rng(0)
    rep = {
        "real": f"{len(real)} real TRAIN {a.label} cut-outs ({a.real})",
        "n_gen": a.n_gen,
        "ideal_generator": histogram_error_floor(real, a.n_gen, draws=a.draws),
        "held_out_real": {
            f"{m} real vs {a.n_gen} drawn from the other {len(real) - m}": held_out_real(
                real, m, a.n_gen, a.draws, rng
            )
            for m in tqdm((6, 9, 12), desc="held-out real")
            if m < len(real)
        },
    }
    if a.checkpoint:
        rep["clip_draws"] = {}
        for seed in tqdm(a.seeds, desc="samples"):
            raw, card = raw_samples(a.checkpoint, a.n_gen, a.label, seed, a.guidance)
            rep["clip_draws"][f"seed {seed}"] = clip_draw_spread(real, raw, card, a.label, 20)
        rep["clip_draws"]["setting"] = f"{a.checkpoint}, heun default, ω = {a.guidance:g}, 20 draws each"
    print(json.dumps(rep, indent=1))
    if a.json:
        a.json.write_text(json.dumps(rep, indent=1) + "\n")


if __name__ == "__main__":
    main()
