"""The detector's evaluation table, run by ``radioviz cv --arch segmenter``: leave-sky-group-out
CV (k folds × seeds) of the segmenter and, on the same folds, of L, D and the peak-flux baseline,
with source-, field- and injection-level numbers; the ablation; the screened variants; the class
detector's report; the simulated labeller; the final checkpoints.  Resumable: every fit is one
file under ``work`` (:mod:`radioviz.training.detector_cv` writes and reads them).

Stages (``stages``): detector, final, window, ablation, screen, report, labeller, final-classes,
classes.  Reports go to ``docs`` (cv_detector.json and _table.md, cv_class_detector.json and .md,
cv_labeller.json and .md, reliability and injection plots); ``out`` is the final checkpoint.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..data.dataset import DatasetConfig, build_dataset
from ..data.splits import group_folds
from ..errors import InputError
from ..io.layout import read_stack, split_sources
from . import detector_cv as dc
from .segmenter import SegTrainConfig, load_fields, train_segmenter

STAGES = (
    "detector",
    "final",
    "window",
    "ablation",
    "screen",
    "report",
    "labeller",
    "final-classes",
    "classes",
    "table",
    "reliability",
)


def _log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


@dataclass
class DetectorCV:
    """What one ``radioviz cv --arch segmenter`` run does (the command line's options)."""

    data: Path
    k: int = 4
    seeds: int = 5
    config: SegTrainConfig = field(default_factory=SegTrainConfig)  # the detector recipe (steps …)
    stride: int = 8  # window classifiers' score-map stride
    work: Path = Path("work/cv")
    docs: Path = Path("docs/classifiers")
    out: str = "checkpoints/segmenter"
    stages: tuple[str, ...] = ("detector", "final", "window", "ablation")
    window_archs: tuple[str, ...] = ("D", "flux", "L")
    l_seeds: int = 5
    a_seeds: int = 1
    ablation_seeds: int = 1
    screen_base: str = "full"
    variants: tuple[str, ...] = ()  # screened variants (default: every one of VARIANTS)
    screen_seeds: int = 2
    inject_seeds: int = 5
    inject_archs: tuple[str, ...] = ("L",)
    final_variant: str = "clsw"
    labeller_seeds: int = 2
    labeller_classes: bool = True
    command: str = ""
    log: object = _log

    @property
    def steps(self) -> int:
        return self.config.steps


ABLATIONS = {
    "noinj": {"use_injections": False},
    "noreal": {"use_real_halos": False},
    "nohard": {"use_hard_negatives": False},
}
#: Screened variants of the full recipe (seeds 0-1 first; ``--stages screen --variants ...``):
#: tag -> (config changes, ensemble member index).  "i1" is the full recipe again with another
#: initialisation and batch stream, the second member of the "ensemble" rows of the report.
VARIANTS = {
    "s1200": ({"steps": 1200}, 0),
    "b16": ({"base": 16}, 0),
    "c96": ({"crop": 96}, 0),
    "i1": ({}, 1),
    "cls": ({"classes": True}, 0),
    "clsw": ({"classes": True, "class_weight": 3.0, "steps": 3000}, 0),
    # capacity of the shipped class detector (clsw: base 8, depth 3, 3000 steps), one change each
    "cw-b4": ({"classes": True, "class_weight": 3.0, "steps": 3000, "base": 4}, 0),
    "cw-b16": ({"classes": True, "class_weight": 3.0, "steps": 3000, "base": 16}, 0),
    "cw-d4": ({"classes": True, "class_weight": 3.0, "steps": 3000, "depth": 4}, 0),
    "cw-s1500": ({"classes": True, "class_weight": 3.0, "steps": 1500}, 0),
    "cw-s6000": ({"classes": True, "class_weight": 3.0, "steps": 6000}, 0),
    # inputs (#26 item 2): the shipped recipe reading the spectral index channel too
    "cw-alpha": ({"classes": True, "class_weight": 3.0, "steps": 3000, "spectral_index": True}, 0),
    # ... and the bands with their compact sources subtracted (data.compact_residual)
    "cw-res": ({"classes": True, "class_weight": 3.0, "steps": 3000, "residual": True}, 0),
    # ... trained twice as long (capacity: halo-at-peak rose with the steps on seed 0)
    "cw-res-s6000": ({"classes": True, "class_weight": 3.0, "steps": 6000, "residual": True}, 0),
}
NAMES = {
    "full": "detector",
    "full400": "detector (400 steps)",
    "s1200": "1200 steps",
    "b16": "base 16 (wider)",
    "c96": "96² crops",
    "i1": "detector, 2nd initialisation",
    "cls": "class detector (halo / mini-halo / relic / radio galaxy / background)",
    "clsw": "class detector, other classes weighted 3, 3000 steps",
    "cw-b4": "class detector, base 4 (narrower)",
    "cw-b16": "class detector, base 16 (wider)",
    "cw-d4": "class detector, depth 4",
    "cw-s1500": "class detector, 1500 steps",
    "cw-s6000": "class detector, 6000 steps",
    "cw-alpha": "class detector + spectral index input",
    "cw-res": "class detector + compact-source residual input",
    "cw-res-s6000": "class detector + residual, 6000 steps",
    "noinj": "− injections",
    "noreal": "− real-halo weak labels",
    "nohard": "− hard negatives",
}


def raw_centre_scores(files_by_seed, labels) -> tuple[list, list]:
    """Per seed, every field's held-out raw centre score (and the labels): what the shipped model's
    Platt calibration is fitted on."""
    scores = []
    for _seed, fl in sorted(files_by_seed.items()):
        raw = np.full(len(labels), np.nan)
        for p in fl:
            z = np.load(p)
            raw[z["test"]] = z["centre_scores"]
        scores.append(raw.tolist())
    return scores, [labels.tolist()] * len(scores)


def report(a, fs, ds, cfg) -> dict:
    labels = fs.source_labels
    a.docs.mkdir(parents=True, exist_ok=True)
    det_geo = _det_geo(fs)
    ref = 0.007778
    win_geo = {
        "pixel_deg": ref * a.stride,
        "centre": (149.5 / a.stride, 149.5 / a.stride),
        "area_deg2": (300 * ref) ** 2,
    }
    _rows, results = [], {}
    files = dc._seed_files(a.work, "det-full", a.k)
    if files:
        results["detector"] = dc.evaluate_method(files, labels, det_geo, True, 0.5)
    for arch, name in (("L", "L"), ("A", "A"), ("D", "D"), ("flux", "peak-flux baseline")):
        f = dc._seed_files(a.work, arch, a.k)
        if f:
            results[name] = dc.evaluate_method(f, labels, win_geo, False, 0.95)
    raw_scores, raw_labels = raw_centre_scores(files, labels)
    ablation = {}  # every variant on the seeds that all variants have (the full detector's included)
    abl_files = {tag: dc._seed_files(a.work, f"det-{tag}", a.k) for tag in [a.screen_base, *ABLATIONS]}
    common = set.intersection(*(set(f) for f in abl_files.values())) if abl_files else set()
    abl_seeds = sorted(common)
    for tag, f in abl_files.items():
        if abl_seeds:
            ablation[NAMES[tag]] = dc.evaluate_method(
                {s: f[s] for s in abl_seeds}, labels, det_geo, True, 0.5
            )
    screen, screen_rows = screen_report(a, fs, labels, det_geo)
    curves = []
    for p in sorted(a.work.glob("det-full-s*-f*.npz")):
        curves.append(json.loads(str(np.load(p)["history"])))
    fits = [np.load(p) for p in sorted(a.work.glob("det-full-s*-f*.npz"))]
    seconds = [float(z["seconds"]) for z in fits]
    cpu = [float(z["cpu_seconds"]) for z in fits if "cpu_seconds" in z.files]
    out = {
        "k": a.k,
        "command": a.command,
        "data_hash": fs.data_hash,
        "detector_config": cfg.__dict__ if hasattr(cfg, "__dict__") else {},
        "methods": {
            n: {k: v for k, v in r.items() if k not in ("pooled_scores", "pooled_labels")}
            for n, r in results.items()
        },
        "ablation_seeds": abl_seeds,
        "ablation": {
            n: {k: v for k, v in r.items() if k not in ("pooled_scores", "pooled_labels", "runs")}
            for n, r in ablation.items()
        },
        "screen": screen,
        "raw_centre_scores": raw_scores,
        "raw_centre_labels": raw_labels,
        "detector_fit_seconds": {
            "mean": float(np.mean(seconds)) if seconds else None,
            "cpu_mean": float(np.mean(cpu)) if cpu else None,
            "cpu_total": float(np.sum(cpu)) if cpu else None,
            "n": len(seconds),
        },
        "heldout_learning_curves": curves,
        "definitions": {
            "source level": "cluster score at the field centre (detector: calibrated peak within 5 arcmin; "
            "windows: the central 64x64 cut-out), threshold 0.5",
            "peak_within_10arcmin": "share of held-out halo fields whose map maximum lies within 10 arcmin "
            "of the field centre",
            "centre_vs_rest_auc": "ROC AUC (halo vs halo-free fields) of the centre score's percentile "
            "within its own map",
            "false_candidates_per_deg2": "connected regions above the default threshold (detector: "
            "calibrated 0.5, NMS 10 arcmin; windows: 0.95, the paper's) on held-out halo-free fields, "
            "per deg2",
            "injection": "completeness = share of injected halos (0.8 deg from the centre of held-out "
            "halo-free fields) whose cluster score reaches 0.5 (detector: its raw, uncalibrated probability)",
        },
    }
    if "detector" in results:
        rel = dc.reliability(results["detector"]["pooled_scores"], results["detector"]["pooled_labels"])
        out["reliability"] = rel
        dc.plot_reliability(rel, a.docs / "reliability_detector.png", "Detector: held-out calibration")
    if results:
        dc.plot_injection(results, a.docs / "injection_cv.png")
    a.docs.mkdir(parents=True, exist_ok=True)
    table = [
        "| model | accuracy | F1 | ROC AUC | halo at field peak (≤ 10′) | centre-vs-rest AUC "
        "| false cand. / deg² | 50 % completeness flux, Jy (0.5 / 1 / 1.5 Mpc; blank-position rate ≥ 0.5) "
        "| fits |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, r in results.items():
        nseed = len(r["seeds"])
        inj = r.get("injection", {}).get("n_folds", 0)
        table.append(
            dc.table_row(
                n,
                r,
                f"{nseed} × {a.k}" + (f" (injection: {inj} folds)" if inj and inj != nseed * a.k else ""),
            )
        )
    abl = [
        f"| variant (seeds {', '.join(map(str, abl_seeds))}; {a.k} folds) | accuracy | F1 | ROC AUC "
        "| halo at field peak | centre-vs-rest AUC | false cand. / deg² | 50 % completeness flux, Jy "
        "| fits |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, r in ablation.items():
        abl.append(dc.table_row(n, r, f"{len(abl_seeds)} × {a.k}"))
    (a.docs / "cv_detector_table.md").write_text(
        "\n".join(table)
        + "\n\nAblation:\n\n"
        + "\n".join(abl)
        + "\n\nScreen:\n\n"
        + "\n".join(screen_rows)
        + "\n"
    )
    out["card_summary"] = {
        n: {k: r[k] for k in dc.TABLE_METRICS}
        | {
            "seeds": len(r["seeds"]),
            "k": a.k,
            "flux_50pc": r.get("injection", {}).get("at_0.5", {}).get("flux_50pc"),
        }
        for n, r in results.items()
    }
    (a.docs / "cv_detector.json").write_text(json.dumps(out, indent=1, default=float))
    card = Path(a.out).with_suffix(".json")
    if card.exists():
        c = json.loads(card.read_text())
        c.setdefault("metrics", {})["cv"] = out["card_summary"]
        c["metrics"].pop("cv_ablation_seed0", None)
        c["metrics"]["cv_ablation_seeds"] = abl_seeds
        c["metrics"]["cv_ablation"] = {
            n: {k: r[k] for k in ("accuracy", "roc_auc", "peak_within_10arcmin", "false_candidates_per_deg2")}
            for n, r in ablation.items()
        }
        c["metrics"]["cv_source"] = str(a.docs / "cv_detector.json")
        c["learning_curve_heldout"] = curves
        card.write_text(json.dumps(c, indent=2, sort_keys=True, default=float))
    print("\n".join(table))
    print("\n".join(abl))
    print("\n".join(screen_rows))
    return out


def _det_geo(fs) -> dict:
    """The detector grid's pixel, field centre and area (what the field-level metrics need)."""
    return {"pixel_deg": fs.spec.pixel_deg, "centre": fs.centres[0], "area_deg2": fs.fields[0].area_deg2}


def variant_table(a, fs, labels, det_geo, tags: tuple[str, ...]) -> list[str]:
    """Screened variants side by side on the seeds every one of them has (all folds): the CV
    table's columns plus the impostor fields; written to ``cv_variants_<tags>.md`` (and .json) in
    the docs folder.  ``--stages table --variants clsw cw-alpha`` is the spectral-index ablation;
    one tag alone gives its mean ± std over all its seeds."""
    runs = {t: dc._seed_files(a.work, f"det-{t}", a.k) for t in tags}
    runs = {t: {s: f for s, f in fl.items() if len(f) == a.k} for t, fl in runs.items()}
    seeds = sorted(set.intersection(*(set(fl) for fl in runs.values()))) if runs else []
    if not seeds:
        a.log(f"no seed has every fold of all of {', '.join(tags)}")
        return []
    lines = [
        f"| model (seeds {', '.join(map(str, seeds))}; {a.k} folds) | accuracy | F1 | ROC AUC "
        "| halo at field peak | centre-vs-rest AUC | false cand. / deg² | 50 % completeness flux, Jy "
        "| impostors: halo score < 0.5 | CPU s per fit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    out = {"seeds": seeds, "k": a.k, "command": a.command}
    for tag, fl in runs.items():
        files = {s: fl[s] for s in seeds}
        r = dc.evaluate_method(files, labels, det_geo, True, 0.5)
        imp = dc.impostor_table(r, files, fs)
        row = dc.table_row(NAMES[tag], r, f"{_cpu(files):.0f}").split(" | ")
        row[-1:-1] = [f"{imp['halo_below_threshold']} / {imp['n']}"]
        lines.append(" | ".join(row))
        out[tag] = {
            "name": NAMES[tag],
            "metrics": {k: v for k, v in r.items() if k not in ("pooled_scores", "pooled_labels", "runs")},
            "per_seed": [{k: v for k, v in run.items() if k != "source_scores"} for run in r["runs"]],
            "impostors": imp,
            "cpu_s_per_fit": _cpu(files),
        }
    stem = "cv_variants_" + "_".join(tags)
    a.docs.mkdir(parents=True, exist_ok=True)
    (a.docs / f"{stem}.json").write_text(json.dumps(out, indent=1, default=float))
    (a.docs / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return lines


def class_report(a, fs, labels, det_geo) -> dict:
    """The class detector against the one-class detector on the seeds both have: the CV table's
    numbers, how often it names injected kinds right, and the impostor fields (docs/classifiers/
    cv_class_detector.json and .md)."""
    runs = {t: dc._seed_files(a.work, f"det-{t}", a.k) for t in ("full", "cls", "clsw")}
    runs = {t: {s: f for s, f in fl.items() if len(f) == a.k} for t, fl in runs.items()}
    runs = {t: fl for t, fl in runs.items() if fl}
    seeds = sorted(set.intersection(*(set(fl) for fl in runs.values()))) if len(runs) > 1 else []
    if not seeds:
        return {}
    out = {"seeds": seeds, "k": a.k, "command": a.command}
    lines = [
        f"| model (seeds {', '.join(map(str, seeds))}; {a.k} folds) | accuracy | F1 | ROC AUC "
        "| halo at field peak | centre-vs-rest AUC | false cand. / deg² | 50 % completeness flux, Jy "
        "| impostors: halo score < 0.5 | impostors: also flagged as diffuse | CPU s per fit |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for tag, files in runs.items():
        files = {s: files[s] for s in seeds}
        r = dc.evaluate_method(files, labels, det_geo, True, 0.5)
        imp = dc.impostor_table(r, files, fs)
        conf = dc.confusion_summary(files)
        rel = dc.reliability(r["pooled_scores"], r["pooled_labels"])
        if tag == "cls":
            dc.plot_reliability(
                rel, a.docs / "reliability_class_detector.png", "Class detector: held-out calibration"
            )
        out[tag] = {
            "name": NAMES[tag],
            "metrics": {k: v for k, v in r.items() if k not in ("pooled_scores", "pooled_labels", "runs")},
            "per_seed": [{k: v for k, v in run.items() if k != "source_scores"} for run in r["runs"]],
            "impostors": imp,
            "confusion": conf,
            "reliability": rel,
            "cpu_s_per_fit": _cpu(files),
        }
        row = dc.table_row(NAMES[tag], r, f"{_cpu(files):.0f}").split(" | ")
        both = f"{imp['both']} / {imp['n']}" if conf else "— (one map)"
        row[-1:-1] = [f"{imp['halo_below_threshold']} / {imp['n']}", both]
        lines.append(" | ".join(row))
    shipped = out.get(a.final_variant) or out.get("cls")
    conf = shipped["confusion"]
    if conf:
        lines += [
            "",
            f"Injected kind → class named (sum over {conf['fits']} held-out folds; sources of 0.2–2 Jy):",
            "",
            "| injected | " + " | ".join(conf["named_as"]) + " | named right |",
            "|---|" + "---|" * (len(conf["named_as"]) + 1),
        ]
        for k, row in zip(conf["kinds"], conf["counts"], strict=True):
            lines.append(f"| {k} | " + " | ".join(map(str, row)) + f" | {conf['named_right'][k]:.0%} |")
    lines += ["", "Impostor fields (held-out halo score, calibrated; any-diffuse peak within 5′):", ""]
    lines += [
        "| field | one-class detector | class detector: halo | class detector: any diffuse |",
        "|---|---|---|---|",
    ]
    for name, row in shipped["impostors"]["fields"].items():
        old = out["full"]["impostors"]["fields"][name]
        lines.append(
            f"| {name} | {old['halo_score']:.2f} ± {old['halo_score_std']:.2f} | {row['halo_score']:.2f} ± "
            f"{row['halo_score_std']:.2f} | {row.get('diffuse_peak', float('nan')):.2f} |"
        )
    a.docs.mkdir(parents=True, exist_ok=True)
    (a.docs / "cv_class_detector.json").write_text(json.dumps(out, indent=1, default=float))
    (a.docs / "cv_class_detector.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return out


def final_class_detector(a, fs, cfg) -> Path:
    """Train the shipped class detector on every TRAIN field with the ``--final-variant`` recipe,
    calibrated (Platt) on that variant's held-out centre scores, its card carrying the CV table
    against the one-class detector, the class confusion and the impostor fields."""
    labels = fs.source_labels
    det_geo = _det_geo(fs)
    files = dc._seed_files(a.work, f"det-{a.final_variant}", a.k)
    raw_scores, raw_labels = raw_centre_scores(files, labels)
    mine = dc.evaluate_method(files, labels, det_geo, True, 0.5)
    summary = {"detector": {k: mine[k] for k in dc.TABLE_METRICS} | {"seeds": len(mine["seeds"]), "k": a.k}}
    one = dc._seed_files(a.work, "det-full", a.k)
    if one:
        r = dc.evaluate_method(one, labels, det_geo, True, 0.5)
        summary["one-class detector"] = {k: r[k] for k in dc.TABLE_METRICS} | {
            "seeds": len(r["seeds"]),
            "k": a.k,
        }
    cv = {"raw_centre_scores": raw_scores, "raw_centre_labels": raw_labels, "card_summary": summary}
    cv_path = a.docs / "cv_class_detector_final.json"  # what `radioviz train segmenter --cv` reads
    cv_path.write_text(json.dumps(cv, indent=1, default=float))
    change, _ = VARIANTS[a.final_variant]
    final = replace(cfg, **change)
    cmd = (
        f"radioviz train segmenter --data {a.data} --classes --class-weight {final.class_weight:g} "
        f"--steps {final.steps}{' --residual' if final.residual else ''} --cv {cv_path} --out {a.out}"
    )
    out, card = train_segmenter(a.data, a.out, final, resume=True, cv=cv, command=cmd, log=a.log)
    path = Path(a.out).with_suffix(".json")
    c = json.loads(path.read_text())
    c["metrics"]["classes"] = {
        "confusion": dc.confusion_summary(files),
        "impostors": dc.impostor_table(mine, files, fs),
        "cv_source": str(a.docs / "cv_class_detector.json"),
    }
    path.write_text(json.dumps(c, indent=2, sort_keys=True, default=float))
    a.log(f"wrote {out} ({card['cost']['seconds']:.0f} s, {card['cost']['cpu_hours']:.3f} CPU h)")
    return out


def shipped_reliability(a, fs) -> list[dict]:
    """The shipped detector's reliability diagram (``reliability_class_detector.png``) from the raw
    held-out centre scores its calibration was fitted on (``cv_class_detector_final.json``, seeds
    0, 1, … in order): each fold calibrated on the other folds of its seed, pooled over seeds.
    Why apart from ``final-classes``: the diagram is redrawn without the per-fold files."""
    path = a.docs / "cv_class_detector_final.json"
    d = json.loads(path.read_text())
    scores, labels, accuracy = [], [], []
    for seed, (raw, lab) in enumerate(zip(d["raw_centre_scores"], d["raw_centre_labels"], strict=True)):
        lab = np.asarray(lab, int)
        if not np.array_equal(lab, fs.source_labels):
            raise InputError(path, "its labels are not the fields' (another data set?)")
        cal = dc.cross_fitted_scores(raw, lab, group_folds(fs.groups, lab, a.k, seed))
        scores.append(cal)
        labels.append(lab)
        accuracy.append(float(np.mean((cal >= 0.5) == (lab == 1))))
    rel = dc.reliability(np.concatenate(scores), np.concatenate(labels))
    d["reliability"] = {"bins": rel, "seeds": len(scores), "k": a.k, "accuracy_per_seed": accuracy}
    path.write_text(json.dumps(d, indent=1, default=float))
    dc.plot_reliability(
        rel,
        a.docs / "reliability_class_detector.png",
        f"Shipped detector, held out ({len(scores)} seeds × {a.k} folds)",
    )
    for r in rel:
        share = "—" if r["fraction_halo"] is None else f"{100 * r['fraction_halo']:.0f} %"
        a.log(f"{r['lo']:.1f}–{r['hi']:.1f}: {r['n']} scores, {share} halos")
    return rel


def labeller_report(a, tag: str) -> dict:
    """The simulated-labeller table (docs/classifiers/cv_labeller.json and .md)."""
    files = sorted(a.work.glob(f"lab-{tag}-s*-f*.json"))
    if not files:
        return {}
    out = dc.labeller_summary(files) | {"command": a.command, "detector": tag}

    def ms(d, k):
        v = d.get(k)
        return f"{v['mean']:.2f} ± {v['std']:.2f}" if v else "—"

    lines = [
        f"| held-out figures (seeds {', '.join(map(str, out['seeds']))}; {a.k} folds) | halo in top 1 "
        "| halo in top 3 | false cand. / deg² (raw ≥ 0.5) | share of labels that are halos |",
        "|---|---|---|---|---|",
        f"| before (no labels) | {ms(out['before'], 'halo_in_top1')} | {ms(out['before'], 'halo_in_top3')} "
        f"| {ms(out['before'], 'false_candidates_per_deg2')} | — |",
    ]
    for k in dc.LABELLER_KS:
        r = out[f"k{k}"]
        lines.append(
            f"| after fine-tuning on the top {k} | {ms(r, 'halo_in_top1')} | {ms(r, 'halo_in_top3')} "
            f"| {ms(r, 'false_candidates_per_deg2')} | {r['labels_halo_share']:.2f} |"
        )
    a.docs.mkdir(parents=True, exist_ok=True)
    (a.docs / "cv_labeller.json").write_text(json.dumps(out, indent=1))
    (a.docs / "cv_labeller.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return out


def _cpu(files_by_seed) -> float | None:
    cpu = [float(np.load(p)["cpu_seconds"]) for fl in files_by_seed.values() for p in fl]
    return float(np.mean(cpu)) if cpu else None


def screen_report(a, fs, labels, det_geo) -> tuple[dict, list[str]]:
    """The screened variants against the full detector on the same seeds, plus the two that need no
    retraining: the ensemble (mean map of the full fit and its 2nd initialisation on the same fold)
    and the cluster score stacked with the central peak flux (logistic, fitted on other folds)."""
    full = dc._seed_files(a.work, f"det-{a.screen_base}", a.k)
    seeds = [s for s in sorted(full) if s < a.screen_seeds]
    if not seeds:
        return {}, []
    base = {s: full[s] for s in seeds}
    feats = dc.peak_flux_features(fs)
    rows: dict[str, tuple[dict, dict, str]] = {}

    def add(name, files, cost, stack=None, extra=""):
        r = dc.evaluate_method(files, labels, det_geo, True, 0.5, stack=stack)
        rows[name] = (r, cost, extra)

    add(NAMES[a.screen_base], base, {"cpu_s_per_fit": _cpu(base)})
    for tag in VARIANTS:
        f = dc._seed_files(a.work, f"det-{tag}", a.k)
        if f:
            add(NAMES[tag], f, {"cpu_s_per_fit": _cpu(f)})
    i1 = dc._seed_files(a.work, "det-i1", a.k)
    ens = dc.ensemble_parts([base, i1], fs) if i1 else {}
    if ens:
        add("ensemble of 2 (detector + 2nd initialisation)", ens, {"cpu_s_per_fit": 2 * _cpu(base)})
    add("detector + peak flux (stacked)", base, {"cpu_s_per_fit": _cpu(base)}, stack=feats)
    if ens:
        add("ensemble of 2 + peak flux (stacked)", ens, {"cpu_s_per_fit": 2 * _cpu(base)}, stack=feats)
    add("detector + peak flux (stacked), all seeds", full, {"cpu_s_per_fit": _cpu(full)}, stack=feats)
    table = [
        "| variant | seeds | accuracy | F1 | ROC AUC | halo at field peak | centre-vs-rest AUC "
        "| false cand. / deg² | 50 % completeness flux, Jy | CPU s per fit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    out = {}
    for name, (r, cost, _) in rows.items():
        row = dc.table_row(name, r, f"{cost['cpu_s_per_fit']:.0f}")
        cells = row.split(" | ")
        cells.insert(1, ", ".join(map(str, r["seeds"])))
        table.append(" | ".join(cells))
        out[name] = {k: v for k, v in r.items() if k not in ("pooled_scores", "pooled_labels", "runs")} | cost
    return out, table


def run(a: DetectorCV) -> None:
    """Run ``a.stages`` in order (each fit skipped when its file exists)."""
    unknown = set(a.stages) - set(STAGES)
    if unknown:
        raise InputError(None, f"unknown stage(s) {sorted(unknown)}; choose from {', '.join(STAGES)}")
    a.variants = tuple(a.variants or VARIANTS)
    a.work.mkdir(parents=True, exist_ok=True)
    fs = load_fields(a.data)
    cfg = a.config
    ds, _, _ = build_dataset(DatasetConfig(str(a.data), "TRAIN", offcentre_per_halo=2), progress=False)
    if list(ds.source_names) != fs.names or not np.array_equal(ds.source_group, fs.groups):
        raise InputError(
            a.data, "the data set and the gridded fields list the sources or sky groups differently"
        )
    for stage in a.stages:
        if stage == "detector":
            for seed in range(a.seeds):
                for f in range(a.k):
                    dc.detector_fold(
                        fs, seed, f, a.k, cfg, a.work, "full", a.log, inject=seed < a.inject_seeds
                    )
            report(a, fs, ds, cfg)
        elif stage == "final":
            cv = report(a, fs, ds, cfg)
            cmd = (
                f"radioviz train segmenter --data {a.data} --steps {a.steps} "
                f"--cv {a.docs / 'cv_detector.json'} --out {a.out}"
            )
            out, card = train_segmenter(a.data, a.out, cfg, resume=True, cv=cv, command=cmd, log=a.log)
            a.log(f"wrote {out} ({card['cost']['seconds']:.0f} s, {card['cost']['cpu_hours']:.3f} CPU h)")
            report(a, fs, ds, cfg)
        elif stage == "window":
            stacks = {s.name: read_stack(s) for s in split_sources(a.data, "TRAIN")}
            for arch in a.window_archs:
                for seed in range({"L": a.l_seeds, "A": a.a_seeds}.get(arch, a.seeds)):
                    for f in range(a.k):
                        dc.window_fold(
                            ds,
                            stacks,
                            arch,
                            seed,
                            f,
                            a.k,
                            a.work,
                            a.stride,
                            a.log,
                            inject=arch in a.inject_archs,
                        )
                report(a, fs, ds, cfg)
        elif stage == "ablation":
            for tag, change in ABLATIONS.items():
                for seed in range(a.ablation_seeds):
                    for f in range(a.k):
                        dc.detector_fold(
                            fs, seed, f, a.k, replace(cfg, **change), a.work, tag, a.log, inject=True
                        )
                report(a, fs, ds, cfg)
        elif stage == "screen":
            for tag in a.variants:
                change, member = VARIANTS[tag]
                for seed in range(a.screen_seeds):
                    for f in range(a.k):
                        dc.detector_fold(
                            fs, seed, f, a.k, replace(cfg, **change), a.work, tag, a.log, True, member
                        )
        elif stage == "report":
            report(a, fs, ds, cfg)
        elif stage == "labeller":
            tag, lcfg = ("cls", replace(cfg, classes=True)) if a.labeller_classes else ("one", cfg)
            for seed in range(a.labeller_seeds):
                for f in range(a.k):
                    dc.labeller_fold(fs, seed, f, a.k, lcfg, a.work, tag, a.log)
            labeller_report(a, tag)
        elif stage == "final-classes":
            final_class_detector(a, fs, cfg)
        elif stage == "table":
            variant_table(a, fs, fs.source_labels, _det_geo(fs), a.variants)
        elif stage == "classes":
            class_report(a, fs, fs.source_labels, _det_geo(fs))
        elif stage == "reliability":
            shipped_reliability(a, fs)
