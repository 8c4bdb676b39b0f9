"""One table of every detector and classifier measured on the same leave-sky-group-out folds.

Issue #26 asks for one table: today's detector, the new one, its ablations, the peak-flux baseline
and the retrained-on-labels variant.  Each row was measured by its own ``radioviz cv`` run (the
JSON files under docs/classifiers, each naming its command); the folds are the same for a given
seed in every run (``group_folds`` over the sky groups), so a row measured on fewer seeds is also
compared with its base recipe *on the same seeds*: the spread between seeds is larger than most
differences between recipes, and a mean over other seeds would mislead.  ± is the spread between
seeds (population std, as in the other tables).

    python scripts/cv_summary.py docs/classifiers > docs/classifiers/cv_summary.md
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

METRICS = [
    ("accuracy", "accuracy", "{:.2f}"),
    ("roc_auc", "ROC AUC", "{:.2f}"),
    ("peak_within_10arcmin", "halo at field peak", "{:.2f}"),
    ("centre_vs_rest_auc", "centre-vs-rest AUC", "{:.2f}"),
    ("false_candidates_per_deg2", "false cand. / deg²", "{:.2f}"),
]
SHIPPED = "class detector + residual (shipped)"

#: (row name, file, key, base row name or None, what it ablates)
ROWS = [
    (
        "peak-flux baseline (threshold on log peak)",
        "cv_detector.json",
        "methods/peak-flux baseline",
        None,
        "",
    ),
    ("L window classifier (Mishra et al.)", "cv_detector.json", "methods/L", None, ""),
    ("D window classifier", "cv_detector.json", "methods/D", None, ""),
    ("A window classifier", "cv_detector.json", "methods/A", None, ""),
    ("one-class detector (the issue's start)", "cv_detector.json", "methods/detector", None, ""),
    ("class detector (classes weighted 3)", "cv_variants_clsw_cw-res.json", "clsw", None, "classes"),
    (SHIPPED, "cv_variants_clsw_cw-res.json", "cw-res", "class detector (classes weighted 3)", "residual"),
    (
        "class detector + spectral index",
        "cv_variants_clsw_cw-alpha_cw-res.json",
        "cw-alpha",
        "class detector (classes weighted 3)",
        "spectral index",
    ),
    (
        "class detector, base 4 (narrower)",
        "cv_capacity.json",
        "cw-b4",
        "class detector (classes weighted 3)",
        "width",
    ),
    (
        "class detector, base 16 (wider)",
        "cv_capacity.json",
        "cw-b16",
        "class detector (classes weighted 3)",
        "width",
    ),
    ("class detector, depth 4", "cv_capacity.json", "cw-d4", "class detector (classes weighted 3)", "depth"),
    (
        "class detector, 1 500 steps",
        "cv_capacity.json",
        "cw-s1500",
        "class detector (classes weighted 3)",
        "steps",
    ),
    (
        "class detector, 6 000 steps",
        "cv_capacity.json",
        "cw-s6000",
        "class detector (classes weighted 3)",
        "steps",
    ),
    ("shipped recipe, 6 000 steps", "cv_res_steps.json", "cw-res-s6000", SHIPPED, "steps"),
]


def per_seed(folder: Path, file: str, key: str) -> dict[int, dict]:
    """{seed: its figures} of one row."""
    node = json.loads((folder / file).read_text())
    for part in key.split("/"):
        node = node[part]
    runs = node.get("per_seed") or node.get("runs")
    return {int(r["seed"]): r for r in runs}


def cell(values: list[float], fmt: str) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.mean(values))} ± {fmt.format(statistics.pstdev(values))}"


def detector_table(folder: Path) -> list[str]:
    rows = {name: per_seed(folder, file, key) for name, file, key, _, _ in ROWS}
    head = [
        "model",
        *(label for _, label, _ in METRICS),
        "seeds × folds",
        "ablates",
        "Δ against its base on the same seeds (AUC / halo at peak)",
    ]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, _, _, base, what in ROWS:
        seeds = sorted(rows[name])
        figures = [cell([rows[name][s][m] for s in seeds], fmt) for m, _, fmt in METRICS]
        delta = "—"
        if base is not None:
            common = [s for s in seeds if s in rows[base]]
            d_auc = statistics.mean(rows[name][s]["roc_auc"] - rows[base][s]["roc_auc"] for s in common)
            d_peak = statistics.mean(
                rows[name][s]["peak_within_10arcmin"] - rows[base][s]["peak_within_10arcmin"] for s in common
            )
            delta = (
                f"{d_auc:+.2f} / {d_peak:+.2f} vs {base.split(' (')[0]}, seeds {', '.join(map(str, common))}"
            )
        label = f"**{name}**" if name == SHIPPED else name
        seeds_txt = ", ".join(map(str, seeds))
        out.append(
            f"| {label} | {' | '.join(figures)} | {len(seeds)} × 4 (seeds {seeds_txt}) "
            f"| {what or '—'} | {delta} |"
        )
    return out


def labeller_table(folder: Path) -> list[str]:
    path = folder / "cv_labeller.json"
    if not path.exists():
        return []
    d = json.loads(path.read_text())
    seeds = d["seeds"]
    out = [
        "",
        f"Retrained on labels (simulated labeller, the class detector at 1 200 steps; seeds "
        f"{', '.join(map(str, seeds))}, {d['folds']} held-out folds; `{d['command']}`):",
        "",
        "| held-out figures | halo in top 1 | halo in top 3 | false cand. / deg² (raw ≥ 0.5) "
        "| share of labels that are halos |",
        "|---|---|---|---|---|",
    ]
    for key, name in (
        ("before", "before (no labels)"),
        ("k10", "top 10 labelled"),
        ("k30", "top 30 labelled"),
        ("k100", "top 100 labelled"),
    ):
        r = d[key]
        share = r.get("labels_halo_share")
        figures = [
            f"{r[m]['mean']:.2f} ± {r[m]['std']:.2f}"
            for m in ("halo_in_top1", "halo_in_top3", "false_candidates_per_deg2")
        ]
        out.append(f"| {name} | {' | '.join(figures)} | {'—' if share is None else f'{share:.2f}'} |")
    return out


def main(folder: str = "docs/classifiers") -> None:
    f = Path(folder)
    print("\n".join(detector_table(f) + labeller_table(f)))


if __name__ == "__main__":
    main(*sys.argv[1:])
