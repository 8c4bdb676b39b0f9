"""Plot a generator card's learning curve against CPU hours
(:func:`radioviz.metrics.plots.plot_learning_curve`).

Run:  python scripts/plot_learning_curve.py checkpoints/edm_gleam.json --out docs/generators/edm_lc.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from radioviz.metrics.plots import plot_learning_curve

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("card", type=Path)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    print(f"wrote {plot_learning_curve(json.loads(a.card.read_text()), a.out, a.card.name)}")
