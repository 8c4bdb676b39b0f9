"""How deep generated images go below zero, per band, against the real halo cut-outs.

A new-user walk (session 18) saw generated images with negative pixels down to a third of their
peak; real GLEAM cut-outs have shallow negatives (noise and sidelobes below the dead band).  Per
image and band: the minimum over the peak (median and 10th percentile), and the share of pixels
below −5 % of the peak.

    python scripts/negative_depth.py checkpoints/edm_beam24_gleam.safetensors [more checkpoints]
"""

from __future__ import annotations

import sys

import numpy as np

from radioviz.data.preprocess import Preprocessing
from radioviz.metrics.real import real_cutouts
from radioviz.sampling.generate import generate, load_generator


def depth(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(median, p10 of min/peak, mean share of pixels < −5 % of the peak), one value per band."""
    flat = x.reshape(len(x), x.shape[1], -1)
    peak = flat.max(-1)
    ratio = flat.min(-1) / np.maximum(peak, 1e-9)
    deep = np.mean(flat < -0.05 * peak[..., None], axis=-1)
    return np.median(ratio, 0), np.percentile(ratio, 10, 0), deep.mean(0)


def main(checkpoints: list[str], n: int = 32) -> None:
    for ck in checkpoints:
        mc = load_generator(ck)
        card = mc[1].to_dict()
        pre = Preprocessing.from_dict(card["preprocessing"])
        real = real_cutouts(card["data"]["config"]["root"], "TRAIN", pre, "H")
        g = generate(ck, n, label="H", seed=0, guidance=2.0, model_and_card=mc)
        for name, x in (("real", real), (ck, g.physical)):
            med, p10, deep = depth(x)
            print(f"{name}: min/peak median {np.round(med, 3)} p10 {np.round(p10, 3)};", end=" ")
            print(f"share < −5 % of the peak {np.round(deep, 4)}")


if __name__ == "__main__":
    main(sys.argv[1:])
