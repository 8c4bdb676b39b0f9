"""Look at a generator: a PNG grid of samples (rows) in each band (columns), beside real cut-outs.

Run:  python scripts/sample_grid.py CHECKPOINT --n 6 --label H [--flux 2] [--real DATA_ROOT] --out grid.png

Each panel uses the same asinh stretch (in units of the band's clip level) for real and
generated images, so noise, speckle, edge rows and missing negatives are visible at a glance.
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from radioviz.data.preprocess import Preprocessing
from radioviz.metrics.compare import real_cutouts
from radioviz.sampling.generate import generate, load_generator


def main():
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
    card = card.to_dict() if hasattr(card, "to_dict") else card
    g = generate(
        a.checkpoint,
        a.n,
        label=a.label,
        flux=a.flux,
        sampler=a.sampler,
        steps=a.steps,
        seed=a.seed,
        model_and_card=(model, card),
    )
    rows = [("gen", im) for im in g.physical]
    if a.real:
        pre = Preprocessing.from_dict(card["preprocessing"])
        real = real_cutouts(a.real, "TRAIN", pre, a.label)
        rows += [("real", im) for im in real[: max(2, a.n // 2)]]
    dead = np.asarray(card.get("dead_band_jy") or [0.05] * g.physical.shape[1])
    c = g.physical.shape[1]
    fig, axes = plt.subplots(len(rows), c, figsize=(1.6 * c, 1.6 * len(rows)), squeeze=False)
    for r, (kind, im) in enumerate(rows):
        for b in range(c):
            ax = axes[r, b]
            ax.imshow(np.arcsinh(im[b] / dead[b]), origin="lower", cmap="inferno", vmin=-3, vmax=7)
            ax.set_xticks([])
            ax.set_yticks([])
            if b == 0:
                ax.set_ylabel(f"{kind} {im.max():.1f}", fontsize=7)
            if r == 0:
                ax.set_title(pre_band(card, b), fontsize=7)
    fig.suptitle(
        f"{a.checkpoint.split('/')[-1]}  {g.meta['sampler']}-{g.meta['steps']}  label {a.label}"
        + (f"  flux {a.flux}" if a.flux else ""),
        fontsize=8,
    )
    fig.tight_layout()
    fig.savefig(a.out, dpi=80)
    print(f"wrote {a.out}")


def pre_band(card: dict, b: int) -> str:
    bands = card.get("preprocessing", {}).get("bands") or []
    return bands[b] if b < len(bands) else f"band {b}"


if __name__ == "__main__":
    main()
