"""DDIM-50 against DDPM-1000 on one DDPM checkpoint (issue #13 target: DDIM-50's histogram error
within 1.2× of DDPM-1000's), class-H samples against the real TRAIN halo cut-outs, same seed.

Run:  python scripts/ddim_vs_ddpm.py checkpoints/ddpm_gleam.safetensors [--n 64] [--json out.json]

Each sampler's row holds what ``scripts/measure_quality.py`` measures (histogram error, zero
fraction, pass rate, NN SSIM, FID on A's features, s/sample); the card is not written.  DDPM-1000
on 64 samples is ~20× DDIM-50's time (about 20 min on one thread).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _measure_module():
    spec = importlib.util.spec_from_file_location("measure_quality", HERE / "measure_quality.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def compare(path: Path, n: int, label: str = "H", real=None, seed: int = 0, samplers=None) -> dict:
    mq = _measure_module()
    rows = {}
    for sampler, steps in samplers or (("ddim", 50), ("ddpm", None)):
        q = mq.measure(path, n, sampler, steps, label, real, n_flux=0, seed=seed)
        rows[q["sampler"]] = q
        print(
            f"{q['sampler']}: hist err {q['hist_err']:.3f}, zero fraction {q['zero_fraction_gen']:.3f} "
            f"(real {q['zero_fraction_real']:.3f}), pass {q['pass_0.5']}, "
            f"NN SSIM max {q['nn_ssim_max']:.3f}, "
            f"{q['s_per_sample']} s/sample",
            flush=True,
        )
    names = list(rows)
    fast, ref = rows[names[0]], rows[names[-1]]
    out = {
        "checkpoint": str(path),
        "n": n,
        "rows": rows,
        "hist_err_ratio": round(fast["hist_err"] / ref["hist_err"], 3),
        "zero_fraction_gap_fast": round(abs(fast["zero_fraction_gen"] - fast["zero_fraction_real"]), 4),
        "zero_fraction_gap_ref": round(abs(ref["zero_fraction_gen"] - ref["zero_fraction_real"]), 4),
        "target": f"{names[0]} histogram error within 1.2x of {names[-1]}'s",
    }
    out["met"] = out["hist_err_ratio"] <= 1.2
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--label", default="H")
    ap.add_argument("--real")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the result here")
    a = ap.parse_args()
    r = compare(a.checkpoint, a.n, a.label, a.real, a.seed)
    r["command"] = " ".join(["python", "scripts/ddim_vs_ddpm.py", *sys.argv[1:]])
    print(
        f"{a.checkpoint}: DDIM-50 / DDPM-1000 histogram error = {r['hist_err_ratio']} "
        f"({'met' if r['met'] else 'not met'}; target ≤ 1.2)"
    )
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(r, indent=1, default=float))


if __name__ == "__main__":
    main()
