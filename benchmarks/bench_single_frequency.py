"""The single-frequency WGAN-vs-DDPM comparison of Mishra et al. (their Table 4), in one run.

Both generators are trained on ``Data_for_Gen_Model_Evaluation`` (129 single-frequency MWA
Phase-II images of 21 halo clusters; ``radioviz train ddpm|wgan --convention single-frequency``)
and sampled here with the same seed and the same mix of labels as the real set.  Columns: the
paper's FID/KID (InceptionV3, 10 000 samples) beside ours (the A classifier's 64-d features with
the band copied into its four inputs: Inception weights cannot be downloaded here, so the two
are not comparable in value, only in ranking), histogram error, zero fractions, nearest-neighbour
SSIM and the cost per sample.

Run:  python benchmarks/bench_single_frequency.py --real ../shared/data/Data_for_Gen_Model_Evaluation \
          --ddpm checkpoints/ddpm_single.safetensors --wgan checkpoints/wgan_single.safetensors \
          --n 64 --json docs/benchmarks/single_frequency.json --plots docs/generators
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from radioviz.data.dataset import DatasetConfig, build_dataset
from radioviz.metrics.compare import compare_images
from radioviz.metrics.evaluate import load_classifier
from radioviz.sampling.generate import generate, load_generator
from radioviz.training.generator_data import LABEL_NAMES, source_subtypes

#: Mishra et al. Table 4 (InceptionV3 features, 10 000 samples).
PAPER = {"WGAN": {"fid": 25.02, "kid": 2.85}, "DDPM-1000": {"fid": 8.40, "kid": 2.25}}
ROWS = [("ddpm", "DDPM-1000", "ddpm", 1000), ("ddpm", "DDIM-50", "ddim", 50), ("wgan", "WGAN", "oneshot", 1)]


def label_counts(labels: np.ndarray, n: int) -> dict[str, int]:
    """``n`` split over the labels in the real set's proportions (largest remainders)."""
    frac = np.bincount(labels, minlength=len(LABEL_NAMES)) / len(labels) * n
    counts = np.floor(frac).astype(int)
    counts[np.argsort(counts - frac)[: n - counts.sum()]] += 1
    return {LABEL_NAMES[i]: int(c) for i, c in enumerate(counts) if c}


#: the row whose sampler the app uses by default for each model kind: what its card reports
CARD_ROW = {"ddpm": "DDIM-50", "wgan": "WGAN"}


def write_quality(rows: list[dict], n: int, seed: int, command: str) -> None:
    """Each model's measured quality (its default sampler's row) into its card's ``quality``, so
    the Models tab and the pickers show it (:mod:`radioviz.models.quality`)."""
    for row in rows:
        if row["row"] not in CARD_ROW.values():
            continue
        card_file = Path(row["checkpoint"]).with_suffix(".json")
        card = json.loads(card_file.read_text())
        card["quality"] = {
            "date": time.strftime("%Y-%m-%d"),
            "sampler": row["row"].lower(),
            "n": n,
            "seed": seed,
            "label": "real label mix (H, cH, mH)",
            "real": "the 129 single-frequency images (../shared/data/Data_for_Gen_Model_Evaluation)",
            "hist_err": row["hist_mean_abs_rel_err"],
            "zero_fraction_gen": row["zero_fraction_gen"],
            "zero_fraction_real": row["zero_fraction_real"],
            "fid_domain": row["fid_domain"],
            "nn_ssim_max": row["nn_ssim_max"],
            "nn_ssim_median": row["nn_ssim_median"],
            "s_per_sample": row["seconds_per_sample"],
            "command": command,
        }
        card_file.write_text(json.dumps(card, indent=2, sort_keys=True, default=str))
        print(f"wrote the quality of {row['checkpoint']} into {card_file}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--real", required=True, help="the single-frequency image folder")
    ap.add_argument("--ddpm")
    ap.add_argument("--wgan")
    ap.add_argument("--classifier", default="checkpoints/classifier_A.safetensors")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rows", nargs="+", help="subset of row names")
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--json")
    ap.add_argument("--plots", type=Path)
    ap.add_argument(
        "--write-cards", action="store_true", help="write each model's row into its card's quality"
    )
    ap.add_argument(
        "--cards-from",
        type=Path,
        help="only write the cards' quality from this earlier --json result (no sampling)",
    )
    a = ap.parse_args()
    command = " ".join(["python", "benchmarks/bench_single_frequency.py", *sys.argv[1:]])
    if a.cards_from:
        saved = json.loads(a.cards_from.read_text())
        write_quality(saved["rows"], saved["n"], saved["seed"], saved.get("command", command))
        return
    paths = {"ddpm": a.ddpm, "wgan": a.wgan}
    clf = load_classifier(a.classifier)
    ds, _, _ = build_dataset(
        DatasetConfig(str(a.real), band_convention="single-frequency", augment=False),
        a.cache_dir,
        progress=False,
    )
    counts = label_counts(source_subtypes(ds)[ds.source], a.n)
    print(f"{len(ds.images)} real images; sampling {counts}", flush=True)
    rows = []
    for kind, name, sampler, steps in ROWS:
        if not paths[kind] or (a.rows and name not in a.rows):
            continue
        mc = load_generator(paths[kind])
        gens = [
            generate(
                paths[kind], k, label=lab, sampler=sampler, steps=steps, seed=a.seed + i, model_and_card=mc
            )
            for i, (lab, k) in enumerate(counts.items())
        ]
        physical = np.concatenate([g.physical for g in gens])
        seconds = sum(g.meta["wall_seconds"] for g in gens)
        pre = mc[1].preprocessing
        cmp = compare_images(ds.images, physical, pre.normalization, classifier_model=clf)
        r = cmp.report
        row = {
            "row": name,
            "checkpoint": paths[kind],
            "iterations": mc[1].training.steps,
            "training_wall_seconds": mc[1].training.record.get("wall_seconds"),
            "nfe": gens[0].meta["nfe"],
            "seconds_per_sample": round(seconds / a.n, 3),
            "fid_domain": round(r["fid_domain"], 2),
            "kid_domain": round(r["kid_domain"], 4),
            "paper_fid_inception": PAPER.get(name, {}).get("fid"),
            "paper_kid_inception": PAPER.get(name, {}).get("kid"),
            "hist_mean_abs_rel_err": round(r["hist_mean_abs_rel_err"], 3),
            "zero_fraction_real": round(r["zero_fraction_real"], 3),
            "zero_fraction_gen": round(r["zero_fraction_gen"], 3),
            "nn_ssim_max": round(r["nn_ssim_max"], 3),
            "nn_ssim_median": round(r["nn_ssim_median"], 3),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        if a.plots:
            from radioviz.metrics.compare_plots import plot_comparison

            plot_comparison(
                cmp,
                a.plots / f"single_frequency_{name.split('-')[0].lower()}.png",
                title=f"single frequency: {name}, n={a.n}",
            )
    print(
        f"\n{'model':<11}{'FID (A)':>9}{'KID (A)':>9}{'paper FID/KID':>15}{'hist err':>10}"
        f"{'zero gen/real':>15}{'NN SSIM':>9}{'s/sample':>10}"
    )
    for r in rows:
        paper = f"{r['paper_fid_inception']}/{r['paper_kid_inception']}" if r["paper_fid_inception"] else "—"
        print(
            f"{r['row']:<11}{r['fid_domain']:>9}{r['kid_domain']:>9}{paper:>15}{r['hist_mean_abs_rel_err']:>10}{r['zero_fraction_gen']:>8}/{r['zero_fraction_real']:<6}{r['nn_ssim_max']:>9}{r['seconds_per_sample']:>10}"
        )
    if a.json:
        Path(a.json).write_text(
            json.dumps(
                {
                    "n": a.n,
                    "seed": a.seed,
                    "labels": counts,
                    "n_real": int(len(ds.images)),
                    "fid_note": cmp.report.get("fid_note"),
                    "rows": rows,
                    "command": command,
                },
                indent=1,
            )
        )
    if a.write_cards:
        write_quality(rows, a.n, a.seed, command)


if __name__ == "__main__":
    main()
