"""Score-map speed: batched windows (``score_map``) vs the naive one-window loop, side by side.

Run:  python benchmarks/bench_scan.py [--arch L A] [--subset 400] [--json out.json]

On a simulated 300×300×4 field at stride 1 (90 000 windows).  The naive loop (Cutout2D per band
and one forward pass per window) is timed on a random subset of windows and extrapolated; the
batched path is timed on the whole map for cheap models and on the same subset otherwise.  The
two must agree to 1e-4 on the subset.  For A, the per-window cost split between the
convolutions and the attention block + head is reported: that share cannot be batched away.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from radioviz.data.preprocess import Preprocessing, classifier_normalization, clip_stack, stack_cutout
from radioviz.io.layout import SourceStack
from radioviz.models.classifiers import build_classifier
from radioviz.scan.scoremap import predict_windows, score_map, window_batch
from radioviz.simulate import SimConfig, simulate_field


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", nargs="+", default=["L", "A"])
    ap.add_argument("--subset", type=int, default=400)
    ap.add_argument("--full-map-for", nargs="*", default=["L", "D"])
    ap.add_argument("--json")
    args = ap.parse_args()
    fld = simulate_field(SimConfig(seed=3, size=300))
    clipped = clip_stack(SourceStack(fld.name, fld.images, 1))
    pre = Preprocessing(
        normalization=classifier_normalization(np.zeros((1, 1, 2, 2)) + [[[[0, 1]]]], per_image=True)
    )
    rng = np.random.default_rng(0)
    n_total = 300 * 300
    pick = rng.choice(n_total, args.subset, replace=False)
    ys, xs = np.divmod(pick, 300)
    rows = []
    for arch in args.arch:
        torch.manual_seed(0)
        model = build_classifier(arch).eval()
        t = time.perf_counter()
        naive = np.array(
            [
                predict_windows(model, pre, stack_cutout(clipped, 64, (float(x), float(y)), "native")[None])[
                    0
                ]
                for x, y in zip(xs, ys, strict=True)
            ]
        )
        t_naive = (time.perf_counter() - t) / args.subset
        t = time.perf_counter()
        fast = predict_windows(model, pre, window_batch(clipped, xs, ys, 64, "native"))
        t_fast_subset = (time.perf_counter() - t) / args.subset
        row = {
            "arch": arch,
            "windows": n_total,
            "naive_s_per_window": t_naive,
            "fast_s_per_window_subset": t_fast_subset,
            "max_abs_diff": float(np.abs(naive - fast).max()),
        }
        if arch in args.full_map_for:
            t = time.perf_counter()
            score_map(clipped, model, 1, pre)
            row["fast_full_map_s"] = time.perf_counter() - t
            t_fast = row["fast_full_map_s"] / n_total
        else:
            t_fast = t_fast_subset
        row["naive_full_map_s_extrapolated"] = t_naive * n_total
        row["speedup"] = t_naive / t_fast
        if arch == "A":
            x = torch.from_numpy(
                pre.normalization.forward(window_batch(clipped, xs[:128], ys[:128], 64, "native"))
            )
            with torch.no_grad():
                t = time.perf_counter()
                f = model.features(x)
                t_conv = time.perf_counter() - t
                t = time.perf_counter()
                tok = f.flatten(2).transpose(1, 2)
                a, _ = model.attention(tok, tok, tok, need_weights=False)
                model.head(model.norm(model.project(a)))
                t_attn = time.perf_counter() - t
            row["attention_and_head_share"] = t_attn / (t_conv + t_attn)
        rows.append(row)
        print(
            f"{arch}: naive {t_naive * 1e3:.2f} ms/window "
            f"(full map ≈ {row['naive_full_map_s_extrapolated']:.0f} s), batched {t_fast * 1e3:.3f} ms/window"
            + (f" (full map {row['fast_full_map_s']:.1f} s)" if "fast_full_map_s" in row else "")
            + f", speed-up {row['speedup']:.1f}x, max |Δscore| {row['max_abs_diff']:.1e}"
            + (
                f", attention+head {100 * row['attention_and_head_share']:.0f}% of a batched forward"
                if "attention_and_head_share" in row
                else ""
            )
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"threads": torch.get_num_threads(), "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
