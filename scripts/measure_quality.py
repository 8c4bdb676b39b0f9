"""Measure a generator's quality and write it into its model card (``card["quality"]``), where
the Models tab, the model pickers and the default-model choice read it
(:mod:`radioviz.models.quality`).

Run:  python scripts/measure_quality.py checkpoints/edm_gleam.safetensors [--n 64] [--sampler heun]

Class-H samples against the real TRAIN halo cut-outs (the numbers ``radioviz compare --json``
reports: histogram error, zero fraction, domain FID/KID on the A classifier's features, A pass
rate, NN SSIM); for a flux-conditioned model also the Spearman ρ between requested and generated
peak flux over ``--n-flux`` samples requested log-uniformly across the training peak range.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from radioviz.data.flux import peak_flux
from radioviz.data.preprocess import Preprocessing
from radioviz.metrics.compare import compare_images, real_cutouts
from radioviz.metrics.evaluate import load_classifier
from radioviz.models.checkpoint import card_path, read_card
from radioviz.sampling.generate import generate, load_generator
from radioviz.sampling.samplers import Churn

REPO = Path(__file__).resolve().parents[1]


def flux_steering(path, model_and_card, n: int, label: str, seed: int, opts: dict | None = None) -> dict:
    card = model_and_card[1]
    card = card.to_dict() if hasattr(card, "to_dict") else card
    lo, hi = card["flux"]["train_range"]
    want = np.geomspace(max(lo, 0.3), hi, n)
    g = generate(
        path, n, label=label, flux=want, seed=seed + 1, model_and_card=model_and_card, **(opts or {})
    )
    got = peak_flux(g.physical)
    rho = spearmanr(want, got).statistic
    return {
        "n": n,
        "requested_range": [float(want[0]), float(want[-1])],
        "spearman_rho": round(float(rho), 3),
        "median_ratio_generated_to_requested": round(float(np.median(got / want)), 3),
        "pairs": [[round(float(a), 3), round(float(b), 3)] for a, b in zip(want, got, strict=True)],
    }


def sampler_options(guidance: float = 0.0, churn: list[float] | None = None) -> dict:
    """generate() keyword arguments for guidance ω and churn (S_churn[, S_tmin, S_tmax, S_noise])."""
    opts = {"guidance": guidance} if guidance else {}
    if churn and churn[0] > 0:
        opts["churn"] = Churn(*churn)
    return opts


def measure(
    path: Path,
    n: int,
    sampler: str | None,
    steps: int | None,
    label: str,
    real_root,
    n_flux: int,
    seed=0,
    opts: dict | None = None,
    flux_from_real: bool = False,
):
    """``opts``: extra generate() arguments (guidance, churn); ``flux_from_real``: request each
    sample's peak flux drawn (seeded) from the real cut-outs' peaks instead of no flux."""
    torch.set_num_threads(1)
    opts = dict(opts or {})
    mc = load_generator(path)
    card = mc[1].to_dict() if hasattr(mc[1], "to_dict") else mc[1]
    pre = Preprocessing.from_dict(card["preprocessing"])
    root = real_root or card["data"]["config"]["root"]
    real = real_cutouts(root, "TRAIN", pre, label)
    clf = load_classifier(REPO / "checkpoints" / "classifier_A.safetensors")
    flux = None
    if flux_from_real:
        flux = np.random.default_rng(seed).choice(peak_flux(real), n)
    t0 = time.time()
    g = generate(
        path, n, label=label, sampler=sampler, steps=steps, seed=seed, flux=flux, model_and_card=mc, **opts
    )
    wall = time.time() - t0
    cmp = compare_images(real, g.physical, pre.normalization, classifier_model=clf)
    r = cmp.report
    q = {
        "date": dt.date.today().isoformat(),
        "sampler": f"{g.meta['sampler']}-{g.meta['steps']}",
        "guidance": g.meta["guidance"],
        "churn": g.meta.get("churn"),
        "flux_requested": "per sample, drawn from the real peaks" if flux_from_real else None,
        "nfe": g.meta["nfe"],  # counts both network calls of a guided step
        "n": n,
        "label": label,
        "seed": seed,
        "real": f"{len(real)} real TRAIN {label} cut-outs ({root})",
        "s_per_sample": round(wall / n, 3),
        "hist_err": round(r["hist_mean_abs_rel_err"], 4),
        # an ideal generator's error against these real images (their own sampling noise)
        "hist_err_floor": {
            k: round(v, 4) if isinstance(v, float) else v for k, v in r["hist_err_floor"].items()
        },
        "zero_fraction_gen": round(r["zero_fraction_gen"], 4),
        "zero_fraction_real": round(r["zero_fraction_real"], 4),
        "nn_ssim_max": round(r["nn_ssim_max"], 4),
        "nn_ssim_median": round(r["nn_ssim_median"], 4),
        "n_nn_ssim_ge_0.95": int((cmp.nn_ssim >= 0.95).sum()),
        "fid_domain": None if r["fid_domain"] is None else round(float(r["fid_domain"]), 3),
        "kid_domain": None if r["kid_domain"] is None else round(float(r["kid_domain"]), 3),
        "pass_0.5": r["classifier_pass_rate_0.5"],
        "pass_0.95": r["classifier_pass_rate_0.95"],
        "negative_fraction_gen": round(float(np.mean(g.physical < 0)), 5),
        "negative_fraction_real": round(float(np.mean(real < 0)), 5),
        "command": " ".join(["python", "scripts/measure_quality.py", *sys.argv[1:]]),
    }
    if card.get("kwargs", {}).get("flux_cond") and n_flux:
        q["flux_steering"] = flux_steering(path, mc, n_flux, label, seed, opts)
    return q


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoints", nargs="+", type=Path)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--sampler")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--label", default="H")
    ap.add_argument("--real")
    ap.add_argument("--n-flux", type=int, default=32)
    ap.add_argument("--guidance", type=float, default=0.0, help="classifier-free guidance ω")
    ap.add_argument(
        "--churn",
        type=float,
        nargs="+",
        metavar="S",
        help="Heun churn: S_churn [S_tmin [S_tmax [S_noise]]] (Karras et al. Algorithm 2)",
    )
    ap.add_argument(
        "--flux-from-real", action="store_true", help="request peak fluxes drawn from the real cut-outs'"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dry-run", action="store_true", help="print, do not write the card")
    ap.add_argument("--append", type=Path, help="also append each result as one JSON line to this file")
    a = ap.parse_args()
    opts = sampler_options(a.guidance, a.churn)
    for path in a.checkpoints:
        q = measure(path, a.n, a.sampler, a.steps, a.label, a.real, a.n_flux, a.seed, opts, a.flux_from_real)
        print(path, json.dumps({k: v for k, v in q.items() if k != "flux_steering"}))
        if "flux_steering" in q:
            print("  flux:", {k: v for k, v in q["flux_steering"].items() if k != "pairs"})
        if a.append:
            with open(a.append, "a") as f:
                f.write(json.dumps({"checkpoint": str(path), **q}) + "\n")
        if not a.dry_run:
            card = read_card(path)
            card = card.to_dict() if hasattr(card, "to_dict") else card
            kept = {k: v for k, v in (card.get("quality") or {}).items() if k == "structure"}
            card["quality"] = {**q, **kept}  # the structure yardsticks are measured apart
            card_path(path).write_text(json.dumps(card, indent=2, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
