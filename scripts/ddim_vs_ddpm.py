"""DDIM-50 against DDPM-1000 on one DDPM checkpoint (issue #13 target: DDIM-50's histogram error
within 1.2× of DDPM-1000's), class-H samples against the real TRAIN halo cut-outs, same seed.

Run:  python scripts/ddim_vs_ddpm.py checkpoints/ddpm_gleam.safetensors [--n 64] [--guidance 2]
      [--json out.json]

Each row is what ``radioviz measure quality`` measures (:func:`radioviz.metrics.card_measures.
measure_quality`); the card is not written.  DDPM-1000 on 64 samples is ~20× DDIM-50's time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from radioviz.metrics.card_measures import measure_quality

CLASSIFIER = Path(__file__).resolve().parents[1] / "checkpoints" / "classifier_A.safetensors"


def compare(path: Path, n: int, label: str = "H", real=None, seed: int = 0, guidance: float = 0.0) -> dict:
    rows = {}
    for sampler, steps in (("ddim", 50), ("ddpm", None)):
        q = measure_quality(
            path,
            n,
            sampler,
            steps,
            label,
            real,
            n_flux=0,
            seed=seed,
            classifier=CLASSIFIER,
            opts={"guidance": guidance} if guidance else None,
        )
        rows[q["sampler"]] = q
        print(f"{q['sampler']}: hist err {q['hist_err']:.3f}, {q['s_per_sample']} s/sample", flush=True)
    (fast_name, fast), (ref_name, ref) = rows.items()
    gap = {k: round(abs(r["zero_fraction_gen"] - r["zero_fraction_real"]), 4) for k, r in rows.items()}
    ratio = round(fast["hist_err"] / ref["hist_err"], 3)
    return {
        "checkpoint": str(path),
        "n": n,
        "guidance": guidance,
        "rows": rows,
        "hist_err_ratio": ratio,
        "zero_fraction_gap_fast": gap[fast_name],
        "zero_fraction_gap_ref": gap[ref_name],
        "target": f"{fast_name} histogram error within 1.2x of {ref_name}'s",
        "met": ratio <= 1.2,
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--label", default="H")
    ap.add_argument("--real")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--guidance", type=float, default=0.0, help="classifier-free guidance ω (both samplers)")
    ap.add_argument("--json", type=Path, help="write the result here")
    a = ap.parse_args()
    r = compare(a.checkpoint, a.n, a.label, a.real, a.seed, a.guidance)
    r["command"] = " ".join(["python", "scripts/ddim_vs_ddpm.py", *sys.argv[1:]])
    print(f"{a.checkpoint}: DDIM-50 / DDPM-1000 histogram error = {r['hist_err_ratio']} (target ≤ 1.2)")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(r, indent=1, default=float))
