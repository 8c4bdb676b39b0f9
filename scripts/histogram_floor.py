"""How far can the histogram error go down? (:mod:`radioviz.metrics.histogram_floor`: the ideal
generator's floor, held-out real fields, and with ``--checkpoint`` the spread of the clip draw).

Run:  python scripts/histogram_floor.py [--real ../shared/data/GLEAM-Data] [--label H]
          [--checkpoint checkpoints/edm_gleam.safetensors --guidance 2 --seeds 0 1]
          [--json docs/benchmarks/histogram_floor.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from radioviz.metrics.histogram_floor import histogram_floor_report
from radioviz.metrics.real import real_cutouts
from radioviz.models.card import ModelCard

EDM = Path(__file__).resolve().parents[1] / "checkpoints" / "edm_gleam.safetensors"

if __name__ == "__main__":
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
    real = real_cutouts(a.real, "TRAIN", ModelCard.read(a.checkpoint or EDM).preprocessing, a.label)
    rep = {"real": f"{len(real)} real TRAIN {a.label} cut-outs ({a.real})"}
    rep |= histogram_floor_report(real, a.n_gen, a.draws, a.checkpoint, a.label, a.guidance, a.seeds, True)
    print(json.dumps(rep, indent=1))
    if a.json:
        a.json.write_text(json.dumps(rep, indent=1) + "\n")
