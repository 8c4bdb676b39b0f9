"""Generators side by side, in one run: wall time per sample, network evaluations (NFE) and
how well the samples match real data (histogram error, zero fraction, A-classifier pass rate).

Run:  python benchmarks/bench_generators.py --real ../shared/data/GLEAM-Data \
          --ddpm checkpoints/ddpm_gleam.safetensors --edm checkpoints/edm_gleam.safetensors \
          --wgan checkpoints/wgan_gleam.safetensors [--n 16] [--label H] [--json out.json] [--plots DIR]

Rows: DDPM-1000 (ancestral), DDIM-50, DDIM-20, Heun-25 on the DDPM (49 NFE via the σ-space
wrapper), Heun-25 on the EDM model (49 NFE), and the WGAN (one shot).  Every row uses the same
seed, label and number of samples; all timings come from this one process.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from radioviz.metrics.compare import compare_images, real_cutouts
from radioviz.metrics.evaluate import load_classifier
from radioviz.sampling.generate import generate, load_generator

ROWS = [
    ("ddpm", "DDPM-1000", "ddpm", 1000),
    ("ddpm", "DDIM-50", "ddim", 50),
    ("ddpm", "DDIM-20", "ddim", 20),
    ("ddpm", "Heun-25 (DDPM)", "heun", 25),
    ("edm", "Heun-25 (EDM)", "heun", 25),
    ("wgan", "WGAN", "oneshot", 1),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--real", required=True)
    ap.add_argument("--split", default="TRAIN")
    ap.add_argument("--ddpm")
    ap.add_argument("--edm")
    ap.add_argument("--wgan")
    ap.add_argument("--classifier", default="checkpoints/classifier_A.safetensors")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--label", default="H")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rows", nargs="+", help="subset of row names")
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--json")
    ap.add_argument("--plots", type=Path)
    a = ap.parse_args()
    paths = {"ddpm": a.ddpm, "edm": a.edm, "wgan": a.wgan}
    clf = load_classifier(a.classifier)
    rows, loaded, reals = [], {}, {}
    for kind, name, sampler, steps in ROWS:
        if not paths[kind] or (a.rows and name not in a.rows):
            continue
        mc = loaded.setdefault(kind, load_generator(paths[kind]))
        g = generate(
            paths[kind], a.n, label=a.label, sampler=sampler, steps=steps, seed=a.seed, model_and_card=mc
        )
        pre = mc[1].preprocessing
        real = reals.setdefault(kind, real_cutouts(a.real, a.split, pre, a.label, a.cache_dir))
        cmp = compare_images(real, g.physical, pre.normalization, classifier_model=clf)
        r = cmp.report
        row = {
            "row": name,
            "checkpoint": paths[kind],
            "iterations": mc[1]["training"]["iterations"],
            "nfe": g.meta["nfe"],
            "seconds_per_sample": round(g.meta["wall_seconds"] / a.n, 3),
            "hist_mean_abs_rel_err": round(r["hist_mean_abs_rel_err"], 3),
            "zero_fraction_real": round(r["zero_fraction_real"], 3),
            "zero_fraction_gen": round(r["zero_fraction_gen"], 3),
            "pass_0.5": r["classifier_pass_rate_0.5"],
            "pass_0.95": r["classifier_pass_rate_0.95"],
            "fid_domain": round(r["fid_domain"], 2) if r["fid_domain"] is not None else None,
            "kid_domain": round(r["kid_domain"], 3) if r["kid_domain"] is not None else None,
            "nn_ssim_max": round(r["nn_ssim_max"], 3),
            "spectral_index_median_gen": r["spectral_index"]["median_gen"],
            "spectral_index_median_real": r["spectral_index"]["median_real"],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        if a.plots:
            from radioviz.metrics.compare_plots import plot_comparison

            plot_comparison(
                cmp,
                a.plots / f"compare_{name.split(' ')[0].lower()}_{kind}.png",
                title=f"{name}, label {a.label}, n={a.n}",
            )
    base = next((r for r in rows if r["row"] == "DDPM-1000"), None)
    if base:
        for r in rows:
            r["hist_err_vs_ddpm1000"] = (
                round(r["hist_mean_abs_rel_err"] / base["hist_mean_abs_rel_err"], 2)
                if base["hist_mean_abs_rel_err"]
                else None
            )
            r["nfe_ratio_vs_ddpm1000"] = round(base["nfe"] / r["nfe"], 1)
    print()
    print(
        f"{'row':<16}{'NFE':>6}{'s/sample':>10}{'hist err':>10}{'zero gen/real':>15}"
        f"{'pass≥0.5':>10}{'FID(A)':>8}"
    )
    for r in rows:
        print(
            f"{r['row']:<16}{r['nfe']:>6}{r['seconds_per_sample']:>10}{r['hist_mean_abs_rel_err']:>10}"
            f"{r['zero_fraction_gen']:>8}/{r['zero_fraction_real']:<6}{r['pass_0.5']:>10}"
            f"{r['fid_domain'] or '':>8}"
        )
    if a.json:
        Path(a.json).write_text(
            json.dumps({"n": a.n, "label": a.label, "seed": a.seed, "rows": rows}, indent=1)
        )


if __name__ == "__main__":
    main()
