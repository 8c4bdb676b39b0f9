"""Put the spread over seeds of a card's quality measurement into the card (``quality.over_seeds``),
so one seed's number is read with its noise.

Run:  python scripts/record_seed_spread.py checkpoints/edm_gleam.safetensors work/sweep_strat.jsonl

The JSON lines are ``scripts/measure_quality.py --append`` rows; only those with the card's own
setting (sampler, guidance, churn, label, number of samples, flux request) are used.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from radioviz.models.checkpoint import card_path

SETTING = ("sampler", "guidance", "churn", "label", "n", "flux_requested")


def spread(quality: dict, rows: list[dict]) -> dict:
    latest = {r["seed"]: r for r in rows if all(r.get(k) == quality.get(k) for k in SETTING)}  # last per seed
    same = [latest[k] for k in sorted(latest)]
    if len(same) < 2:
        raise SystemExit("fewer than two seeds with the card's setting: nothing to summarise")
    err = np.array([r["hist_err"] for r in same])
    gap = [round(abs(r["zero_fraction_gen"] - r["zero_fraction_real"]), 4) for r in same]
    return {
        "seeds": [r["seed"] for r in same],
        "hist_err": err.tolist(),
        "hist_err_mean": round(float(err.mean()), 3),
        "hist_err_sd": round(float(err.std(ddof=1)), 3),
        "zero_fraction_gap": gap,
        "fid_domain": [r["fid_domain"] for r in same],
        "nn_ssim_max": max(r["nn_ssim_max"] for r in same),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("jsonl", type=Path)
    a = ap.parse_args()
    path = card_path(a.checkpoint)
    card = json.loads(path.read_text())
    rows = [json.loads(line) for line in a.jsonl.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if Path(r.get("checkpoint", "")).name == a.checkpoint.name]
    card["quality"]["over_seeds"] = spread(card["quality"], rows)
    print(json.dumps(card["quality"]["over_seeds"]))
    path.write_text(json.dumps(card, indent=2, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
