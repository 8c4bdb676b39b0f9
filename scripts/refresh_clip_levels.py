"""Recompute a generator card's dead-band clip levels (``dead_band_jy``) from its training data.

Run:  python scripts/refresh_clip_levels.py checkpoints/ddpm_gleam.safetensors ... [--cache-dir DIR]
      python scripts/refresh_clip_levels.py checkpoints/edm_gleam.safetensors --classes   # only add
          which of the card's ``dead_band_sources`` are halo sources (``dead_band_source_halo``)

The clip level is a property of the data, not of the weights, so a card can be brought up to
date without retraining: the same dataset config (recorded in the card) is rebuilt and
``radioviz.data.dataset.clip_levels`` applied to its central cut-outs, as the trainers now do.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from radioviz.data.dataset import DatasetConfig, build_dataset, clip_levels
from radioviz.models.checkpoint import read_card
from radioviz.training.generator_data import source_clip_levels, source_is_halo


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoints", nargs="+", type=Path)
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--classes", action="store_true", help="only add dead_band_source_halo")
    a = ap.parse_args()
    for ck in a.checkpoints:
        card = read_card(ck)
        cfg = DatasetConfig(**card.data["config"])
        ds, _, _ = build_dataset(cfg, a.cache_dir, progress=False)
        if ds.meta["data_hash"] != card.data["hash"]:
            raise SystemExit(f"{ck}: the data no longer match the card's hash")
        if a.classes:
            levels = source_clip_levels(ds)
            if card.extra.get("dead_band_sources") != levels:
                raise SystemExit(f"{ck}: the card's dead_band_sources are not this data's, in this order")
            card.extra["dead_band_source_halo"] = source_is_halo(ds)
            card.write(ck)
            print(f"{ck.name}: {sum(card.extra['dead_band_source_halo'])} of {len(levels)} sources are halo")
            continue
        old = card.dead_band_jy
        card.dead_band_jy = clip_levels(ds, ds.is_centre)
        card.extra["dead_band_jy_note"] = (
            "recomputed by scripts/refresh_clip_levels.py from the training data "
            "(right-angle rotations, intensity scaling undone)"
        )
        card.write(ck)
        print(f"{ck.name}: {old} -> {card.dead_band_jy}")


if __name__ == "__main__":
    main()
