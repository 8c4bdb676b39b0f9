"""Print the markdown CV table from docs/classifiers/cv_*.json (written by `radioviz cv`)."""

import json
import sys
from pathlib import Path

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/classifiers")
print("| model | level | accuracy | precision | recall | F1 | ROC AUC | seeds × folds | wall time |")
print("|---|---|---|---|---|---|---|---|---|")
for f in sorted(folder.glob("cv_*.json")):
    r = json.loads(f.read_text())
    for level in ("per_source", "per_image"):
        m = r[level]
        cells = " | ".join(
            f"{m[k]['mean']:.3f} ± {m[k]['std']:.3f}"
            for k in ("accuracy", "precision", "recall", "f1", "roc_auc")
        )
        gen = r["train_config"].get("generated_ratio", 0)
        name = r["arch"] + (f" + generated (Ng/Nr {gen:g})" if gen else "")
        norm = r["train_config"].get("normalization", "image")
        name += "" if norm == "image" else f", {norm} normalisation"
        print(
            f"| {name} | {level.replace('_', ' ')} | {cells} | {len(r['seeds'])} × {r['k']} "
            f"| {r.get('wall_seconds', 0) / 60:.0f} min |"
        )
