"""The peak-flux baseline under the folds of ``radioviz cv``
(:func:`radioviz.training.cv_flux.flux_baseline_cv`).

Run:  python scripts/cv_flux_baseline.py --data ../shared/data/GLEAM-Data
      (add --json docs/classifiers/flux_baseline_cv.json to write the table)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from radioviz.data.dataset import DatasetConfig, build_dataset
from radioviz.training.cv_flux import flux_baseline_cv

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--json")
    a = ap.parse_args()
    ds, _, _ = build_dataset(
        DatasetConfig(a.data, "TRAIN", offcentre_per_halo=2), a.cache_dir, progress=False
    )
    out = flux_baseline_cv(ds, a.k, a.seeds)
    for band, m in out["per_band"].items():
        print(
            f"{band:>12s}  accuracy {m['accuracy']['mean']:.3f} ± {m['accuracy']['std']:.3f}"
            f"  F1 {m['f1']['mean']:.3f}  ROC AUC {m['roc_auc']['mean']:.3f}"
        )
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))
