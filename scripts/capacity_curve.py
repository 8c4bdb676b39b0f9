"""Plot the class detector's held-out figures against its capacity (#26 item 3): steps, width and
depth, one change at a time from the shipped recipe, from the JSON `radioviz cv --stages table
--variants clsw cw-s1500 cw-s6000 cw-b4 cw-b16 cw-d4` writes (same seeds and folds for every row).

Run:  python scripts/capacity_curve.py work/cv_docs/cv_variants_clsw_....json docs/classifiers/capacity.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

#: the shipped recipe and what each capacity variant changes: (axis, value)
AXES = {
    "clsw": {"steps": 3000, "base": 8, "depth": 3},
    "cw-s1500": {"steps": 1500},
    "cw-s6000": {"steps": 6000},
    "cw-b4": {"base": 4},
    "cw-b16": {"base": 16},
    "cw-d4": {"depth": 4},
}
METRICS = (
    ("roc_auc", "source ROC AUC"),
    ("accuracy", "accuracy"),
    ("peak_within_10arcmin", "halo at field peak"),
)


def series(d: dict, axis: str) -> list[tuple[float, dict]]:
    """(value of ``axis``, metrics) for the shipped recipe and every variant that changes ``axis``."""
    pts = [(AXES["clsw"][axis], d["clsw"]["metrics"])] if "clsw" in d else []
    pts += [(v[axis], d[t]["metrics"]) for t, v in AXES.items() if t != "clsw" and axis in v and t in d]
    return sorted(pts, key=lambda p: p[0])


def main(src: str, out: str) -> None:
    d = json.loads(Path(src).read_text())
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
    for ax, axis in zip(axes, ("steps", "base", "depth"), strict=True):
        pts = series(d, axis)
        for key, label in METRICS:
            xs = [x for x, _ in pts]
            ys = [m[key]["mean"] for _, m in pts]
            es = [m[key]["std"] for _, m in pts]
            ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label=label)
        ax.axhline(0.8, color="grey", lw=0.8, ls="--")
        ax.set_xlabel({"steps": "training steps", "base": "width (base channels)", "depth": "depth"}[axis])
        if axis != "depth":
            ax.set_xscale("log", base=2)
        ax.set_xticks([x for x, _ in pts], [f"{x:g}" for x, _ in pts])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"held-out (seeds {', '.join(map(str, d['seeds']))}; {d['k']} folds)")
    axes[0].legend(fontsize=8)
    fig.suptitle(
        "Class detector: one change at a time from the shipped recipe (base 8, depth 3, 3000 steps); "
        "dashed: target 0.8"
    )
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:3])
