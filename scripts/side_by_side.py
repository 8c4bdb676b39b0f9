"""Real and generated halo cut-outs side by side on one stretch, with the structure yardsticks.

python scripts/side_by_side.py --checkpoints checkpoints/edm_gleam.safetensors [more ...]
       [--n 64] [--guidance 2] [--seed 0] [--png docs/generators/side_by_side.png] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from radioviz.metrics.compare import real_cutouts
from radioviz.metrics.plots import plot_side_by_side
from radioviz.metrics.structure import structure_report
from radioviz.models.beam import gleam_beam_fwhm_px
from radioviz.sampling.generate import generate, load_generator

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "GLEAM-Data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoints", nargs="+", required=True)
    ap.add_argument("--real", default=str(REAL))
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--guidance", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--png", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(1)
    gens, reports, real = {}, {}, None
    for ck in args.checkpoints:
        model, card = load_generator(ck)
        if real is None:
            real = real_cutouts(args.real, "TRAIN", card.preprocessing, "H")
        g = generate(
            ck, args.n, label="H", guidance=args.guidance, seed=args.seed, model_and_card=(model, card)
        )
        gens[Path(ck).stem] = g.physical
        reports[Path(ck).stem] = structure_report(real, g.physical, gleam_beam_fwhm_px())
        keys = ("power_ratio_high_median", "power_ratio_max_dev", "acf_fwhm_gen", "peak_ratio")
        print(Path(ck).stem, json.dumps({k: reports[Path(ck).stem][k] for k in keys}))
    if args.png:
        plot_side_by_side(real, gens, args.png)
    if args.json:
        meta = {"n": args.n, "guidance": args.guidance, "seed": args.seed, "n_real": int(len(real))}
        args.json.write_text(json.dumps({"meta": meta, "reports": reports}, indent=1))


if __name__ == "__main__":
    main()
