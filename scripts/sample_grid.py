"""Look at a generator: a PNG grid of samples (rows) in each band (columns), beside real cut-outs
(:func:`radioviz.metrics.plots.plot_sample_grid`: one asinh stretch per band, real and generated).

Run:  python scripts/sample_grid.py CHECKPOINT --n 6 --label H [--flux 2] [--real DATA_ROOT] --out grid.png
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from radioviz.metrics.plots import plot_sample_grid
from radioviz.metrics.real import real_cutouts
from radioviz.sampling.generate import generate, load_generator

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--n", type=int, default=6)
    ap.add_argument("--label", default="H")
    ap.add_argument("--flux", type=float)
    ap.add_argument("--sampler")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--real")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, card = load_generator(a.checkpoint)
    g = generate(
        a.checkpoint, a.n, label=a.label, flux=a.flux, sampler=a.sampler, steps=a.steps, seed=a.seed,
        model_and_card=(model, card),
    )  # fmt: skip
    rows = [("gen", im) for im in g.physical]
    if a.real:
        rows += [
            ("real", im)
            for im in real_cutouts(a.real, "TRAIN", card.preprocessing, a.label)[: max(2, a.n // 2)]
        ]
    dead = np.asarray(card.dead_band_jy or [0.05] * g.physical.shape[1])
    title = f"{a.checkpoint.split('/')[-1]}  {g.meta['sampler']}-{g.meta['steps']}  label {a.label}"
    title += f"  flux {a.flux}" if a.flux else ""
    print(f"wrote {plot_sample_grid(rows, dead, list(card.preprocessing.bands or []), title, a.out)}")
