"""Leave-sky-group-out CV of the detector and of the window classifiers on the *same* folds, with
the field-level numbers a score map is judged by.

Every fit writes one ``.npz`` under the work directory (skipped when it exists, so an
interrupted run resumes): the held-out fields' score maps, their centre scores and, for the
injection–recovery, the scores of halos injected into the held-out halo-free fields.  The report
(:func:`report`) reads them all back.

Folds: :func:`radioviz.data.splits.group_folds` over the sky groups of the 36 TRAIN fields, the
seeds of ``radioviz cv``; detector, L, D and the peak-flux baseline see identical folds.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from ..data.splits import group_folds
from ..metrics.classification import binary_metrics
from ..models.segmenter import (
    CLASSES,
    Calibration,
    class_probabilities,
    disc_max,
    halo_probability,
    predict_logits,
)
from ..scan.injection import InjectionGrid
from .segmenter import FieldSet, SegTrainConfig, fit_segmenter

CLUSTER_RADIUS_ARCMIN = 5.0
PEAK_RADIUS_ARCMIN = 10.0
#: The injection grid of the CV (the ``radioviz inject`` grid plus 0.02 Jy, further below detectability).
CV_INJECTIONS = InjectionGrid(fluxes_jy=(0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0))

#: The CV table's columns, source and field level (one order for the table, the card and scripts).
TABLE_METRICS = (
    "accuracy",
    "f1",
    "roc_auc",
    "peak_within_10arcmin",
    "centre_vs_rest_auc",
    "false_candidates_per_deg2",
)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def radius_px(pixel_deg: float, arcmin: float) -> float:
    return arcmin / 60 / pixel_deg


def disc_max_map(p: np.ndarray, r_px: float) -> np.ndarray:
    """Each pixel's cluster score: the peak within ``r_px`` (a disc maximum filter)."""
    from scipy import ndimage

    rr = int(np.ceil(r_px))
    yy, xx = np.mgrid[-rr : rr + 1, -rr : rr + 1]
    return ndimage.maximum_filter(p, footprint=np.hypot(xx, yy) <= r_px, mode="constant", cval=0.0)


# -- detector fits --------------------------------------------------------------------------------


def detector_fold(
    fs: FieldSet,
    seed: int,
    fold: int,
    k: int,
    cfg: SegTrainConfig,
    out: Path,
    tag: str,
    log=print,
    inject=True,
    member: int = 0,
):
    """One fold of one detector variant.  ``member`` > 0 trains another ensemble member on the same
    fold: same data and recipe, a different initialisation and batch stream."""
    path = out / f"det-{tag}-s{seed}-f{fold}.npz"
    if path.exists():
        return path
    torch.set_num_threads(1)
    y = fs.source_labels
    folds = group_folds(fs.groups, y, k, seed)
    train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
    r_px = radius_px(fs.spec.pixel_deg, CLUSTER_RADIUS_ARCMIN)

    def centre_scores(model):
        return np.array(
            [
                disc_max(halo_probability(model, fs.fields[i].scaled(model.inputs)), *fs.centres[i], r_px)
                for i in test
            ]
        )

    def ev(model):  # learning curve on the held-out fold: reported, never used to choose anything
        from ..metrics.classification import roc_auc

        return {"heldout_source_auc": roc_auc(y[test], centre_scores(model))}

    fit = fit_segmenter(fs, train, replace(cfg, seed=seed * 100 + fold + 10_000 * member), eval_fn=ev)
    maps = np.stack([halo_probability(fit.model, fs.fields[i].scaled(fit.model.inputs)) for i in test])
    maps = maps.astype(np.float16)
    extra = {}
    if fit.model.out_channels > 1:  # a class detector: its "any diffuse" maps and its class confusion
        extra["diffuse_maps"] = np.stack(
            [
                1 - class_probabilities(predict_logits(fit.model, fs.fields[i].scaled(fit.model.inputs)))[0]
                for i in test
            ]
        ).astype(np.float16)
        extra["confusion"] = class_confusion(fit.model, fs, test, seed=seed * 100 + fold)
    from ..scan.detector import injection_scores

    inj_rows, blanks = [], []
    for i in test:
        if y[i] != 0 or not inject:
            continue
        rows, b = injection_scores(
            lambda s: halo_probability(fit.model, s),
            fs.fields[i],
            CV_INJECTIONS,
            CLUSTER_RADIUS_ARCMIN,
            seed=int(i),
            inputs=fit.model.inputs,
        )
        inj_rows += [(i, *r) for r in rows]
        blanks += [(i, v) for v in b]
    np.savez_compressed(
        path,
        test=test,
        maps=maps,
        centre_scores=centre_scores(fit.model),
        inj=np.array(inj_rows, float).reshape(-1, 5),
        blanks=np.array(blanks, float).reshape(-1, 2),
        history=json.dumps(fit.history),
        seconds=fit.seconds,
        cpu_seconds=fit.cpu_seconds,
        config=json.dumps(asdict(cfg)),
        **extra,
    )
    auc = fit.history[-1].get("heldout_source_auc")
    log(f"{path.name}: {fit.seconds:.0f} s ({fit.cpu_seconds:.0f} CPU s), held-out AUC {auc}")
    return path


#: The injected kinds a class detector is asked to name (held-out fields, bright enough to see).
CONFUSION_KINDS = ("halo", "minihalo", "relic", "radio_galaxy")
CONFUSION_FLUX_JY = (0.2, 2.0)  # log-uniform: 20–200 σ integrated, detectable at 1.5 Mpc


def class_confusion(model, fs: FieldSet, test, seed: int, per_field: int = 2, crop: int = 96) -> np.ndarray:
    """Counts [true kind, named class] of sources of each kind injected into held-out fields: the
    named class is the most probable non-background class over the source's truth mask (column 0:
    the mask's mean background probability was the highest — the source was missed)."""
    from ..simulate.diffuse import draw_source, inject_classes

    rng = np.random.default_rng([seed, 7])
    out = np.zeros((len(CONFUSION_KINDS), len(CLASSES)), int)
    for i in test:
        f = fs.fields[int(i)]
        h, w = f.data.shape[1:]
        for _ in range(per_field):
            y0, x0 = int(rng.integers(0, max(h - crop, 1))), int(rng.integers(0, max(w - crop, 1)))
            base = f.data[:, y0 : y0 + crop, x0 : x0 + crop]
            for t, kind in enumerate(CONFUSION_KINDS):
                lo, hi = np.log(CONFUSION_FLUX_JY[0]), np.log(CONFUSION_FLUX_JY[1])
                src = draw_source(
                    rng, crop / 2, crop / 2, kind=kind, flux_jy=float(np.exp(rng.uniform(lo, hi)))
                )
                data, truth, _ = inject_classes(base, [src], f.sigmas, f.thresholds, f.pixel_deg * 3600, rng)
                if not (truth > 0).any():
                    continue
                from ..models.segmenter import detector_input

                p = class_probabilities(
                    predict_logits(model, detector_input(model, data, f.sigmas, f.pixel_deg))
                )
                mean = p[:, truth > 0].mean(1)
                named = 0 if mean[0] >= mean[1:].max() else 1 + int(np.argmax(mean[1:]))
                out[t, named] += 1
    return out


# -- window classifiers (L, D) and the peak-flux baseline on the same folds ------------------------


class FluxThreshold(torch.nn.Module):
    """The peak-flux baseline as a window classifier: halo if the 72–103 MHz peak is below a cut."""

    def __init__(self, cut: float = 0.0, band: int = 0):
        super().__init__()
        self.cut, self.band = float(cut), band

    def forward(self, x):
        logpeak = torch.log10(torch.clamp(x[:, self.band].amax(dim=(-2, -1)), min=1e-4))
        z = 4 * (self.cut - logpeak)
        return torch.stack([torch.zeros_like(z), z], 1)  # softmax -> sigmoid(z)


def flux_map(stack, model: FluxThreshold, stride: int, size: int = 64) -> np.ndarray:
    """The peak-flux baseline's score map, identical to scoring every window: the maximum of the
    band's 64×64 window around each strided reference pixel, through the fitted cut."""
    from scipy import ndimage

    from ..data.noise import clip_image

    band = stack.images[model.band]
    data, _, _ = clip_image(band.data)
    # a 64-px window whose centre pixel is at offset 32 (Cutout2D's even-size convention)
    peak = ndimage.maximum_filter(data, size=size, mode="constant", cval=0.0, origin=(-1, -1))
    ref = stack.images[-1]
    ys, xs = np.mgrid[0 : ref.shape[0] : stride, 0 : ref.shape[1] : stride]
    bx, by = band.wcs.world_to_pixel(ref.wcs.pixel_to_world(xs.ravel(), ys.ravel()))
    ix = np.clip(np.round(bx).astype(int), 0, data.shape[1] - 1)
    iy = np.clip(np.round(by).astype(int), 0, data.shape[0] - 1)
    logpeak = np.log10(np.maximum(peak[iy, ix], 1e-4))
    return (1 / (1 + np.exp(-4 * (model.cut - logpeak)))).reshape(ys.shape).astype(np.float32)


def window_fold(
    ds,
    stacks: dict,
    arch: str,
    seed: int,
    fold: int,
    k: int,
    out: Path,
    stride: int = 8,
    log=print,
    inject=True,
):
    """One fold of L / D (retrained exactly as ``radioviz cv`` does) or of the peak-flux baseline:
    held-out centre scores, stride-``stride`` score maps of the held-out fields, and (seed 0) the
    injection–recovery of :mod:`radioviz.scan.injection` on the held-out halo-free fields."""
    path = out / f"{arch}-s{seed}-f{fold}.npz"
    if path.exists():
        return path
    from ..data.preprocess import Normalization, Preprocessing
    from ..models.classifiers import predict_halo_scores
    from ..scan.injection import injection_recovery
    from ..scan.scoremap import score_map
    from .classifier import TrainConfig, fit_classifier
    from .crossval import _identity_scale
    from .cv_flux import fit_threshold, log_peak

    torch.set_num_threads(1)
    t0 = time.time()
    folds = group_folds(ds.source_group, ds.source_labels, k, seed)
    test_src, train_src = np.flatnonzero(folds == fold), np.flatnonzero(folds != fold)
    ident = np.flatnonzero(ds.is_centre & (ds.aug == 0))
    if arch == "flux":
        peak = log_peak(ds)
        model = FluxThreshold(fit_threshold(peak[train_src, 0], ds.source_labels[train_src]))
        norm = Normalization(False, 0.0, 1.0)
    else:
        inner = group_folds(
            ds.source_group[train_src], ds.source_labels[train_src], max(k - 1, 2), seed + 1000
        )
        val_src, fit_src = train_src[inner == 0], train_src[inner != 0]
        if (
            arch == "A"
        ):  # the shipped A's recipe (checkpoints/classifier_A.json): ≈ 24 min a fit on a free core
            cfg = TrainConfig(arch, 12, patience=12, images_per_epoch=2000, seed=seed * 100 + fold)
        else:
            cfg = TrainConfig(arch, 15, images_per_epoch=3000, seed=seed * 100 + fold)
        res = fit_classifier(
            ds, np.isin(ds.source, fit_src), np.isin(ds.source, val_src), cfg, progress=False
        )
        model, norm = res.model, res.normalization
    model.eval()
    pre = Preprocessing(64, 3.0, "native", normalization=norm)
    rows = ident[np.isin(ds.source[ident], test_src)]
    centre = predict_halo_scores(model, norm.forward(ds.images[rows] / _identity_scale(ds)))
    names = [str(ds.source_names[s]) for s in ds.source[rows]]
    if arch == "flux":  # the window peak is a 64-px maximum filter of the band: no windows needed
        maps = [flux_map(stacks[n], model, stride) for n in names]
    else:
        maps = [score_map(stacks[n], model, stride, pre).scores for n in names]
    inj = np.zeros((0, 5))
    blanks = np.zeros((0, 2))
    if seed == 0 and inject:
        free = [n for n, s in zip(names, ds.source[rows], strict=False) if ds.source_labels[s] == 0]
        if free:
            per, summ = injection_recovery(
                [stacks[n] for n in free],
                lambda x: predict_halo_scores(model, norm.forward(x)),
                pre,
                CV_INJECTIONS,
                progress=False,
            )
            idx = {n: int(np.flatnonzero(ds.source_names == n)[0]) for n in free}
            inj = np.array(
                [(idx[r["field"]], r["pa_deg"], r["flux_jy_200mhz"], r["size_mpc"], r["score"]) for r in per],
                float,
            )
            fpr = summ.meta["false_positive_rate_0.5"]
        else:
            fpr = np.nan
    else:
        fpr = np.nan
    np.savez_compressed(
        path,
        test=ds.source[rows],
        maps=np.stack(maps).astype(np.float16),
        centre_scores=centre,
        inj=inj,
        blanks=blanks,
        blank_fpr_05=fpr,
        seconds=time.time() - t0,
        stride=stride,
    )
    log(f"{path.name}: {time.time() - t0:.0f} s")
    return path


# -- the report -------------------------------------------------------------------------------------


def _seed_files(out: Path, prefix: str, k: int) -> dict[int, list[Path]]:
    """{seed: its k fold files} of one run name; the name matched whole ("det-cw-res" is not
    "det-cw-res-s6000": a glob took both, and each seed then had 2k files and was dropped)."""
    by_seed: dict[int, list[Path]] = {}
    exact = re.compile(rf"{re.escape(prefix)}-s(\d+)-f(\d+)")
    for p in sorted(out.glob(f"{prefix}-s*-f*.npz")):
        m = exact.fullmatch(p.stem)
        if m:
            by_seed.setdefault(int(m.group(1)), []).append(p)
    return {s: sorted(v) for s, v in by_seed.items() if len(v) == k}


def _completeness(inj: np.ndarray, threshold: float, grid: InjectionGrid) -> dict:
    """{size: [completeness per flux]} and the flux of 50 % completeness per size (None: never)."""
    comp, half = {}, {}
    for size in grid.sizes_mpc:
        c = []
        for flux in grid.fluxes_jy:
            s = inj[(inj[:, 2] == flux) & (inj[:, 3] == size), 4]
            c.append(float(np.mean(s >= threshold)) if len(s) else float("nan"))
        comp[str(size)] = c
        half[str(size)] = _half_flux(np.array(grid.fluxes_jy), np.array(c))
    return {"completeness": comp, "flux_50pc": half, "n": int(len(inj))}


def _half_flux(flux: np.ndarray, comp: np.ndarray) -> float | None:
    """Flux where completeness first reaches 0.5 (log-linear interpolation); None if it never does."""
    above = np.flatnonzero(comp >= 0.5)
    if not len(above):
        return None
    j = above[0]
    if j == 0:
        return -float(flux[0])  # negative: already reached at the lowest flux tried
    f0, f1, c0, c1 = np.log(flux[j - 1]), np.log(flux[j]), comp[j - 1], comp[j]
    return float(np.exp(f0 + (0.5 - c0) / (c1 - c0) * (f1 - f0)))


def _count_regions(m: np.ndarray, threshold: float, nms_px: float) -> int:
    from ..scan.detector import find_regions

    return len(find_regions(m, threshold, nms_px))


def _mean_std(vals) -> dict:
    v = np.asarray(vals, float)
    return {"mean": float(np.nanmean(v)), "std": float(np.nanstd(v)), "n": int(np.isfinite(v).sum())}


def evaluate_method(
    files_by_seed: dict[int, list],
    labels: np.ndarray,
    geometry: dict,
    detector: bool,
    threshold: float,
    inj_grid: InjectionGrid = CV_INJECTIONS,
    stack: dict | None = None,
) -> dict:
    """Source-, field- and injection-level numbers of one method, mean ± std over seeds.

    ``files_by_seed``: per seed, the k fold files (or already loaded dicts, e.g.
    :func:`ensemble_parts`).  ``geometry``: pixel_deg of the maps, map centre (x, y) in map
    pixels, field area (deg²).  Detector scores are calibrated per fold by Platt scaling fitted on
    the *other* folds' held-out centre scores of the same seed (so no fold is calibrated on
    itself).  With ``stack`` (:func:`peak_flux_features`) the calibration is a :class:`Stacker` of
    the detector score and the local peak flux, fitted the same way; it has no injection figures.
    """
    per_seed, inj_all, pooled_cal, pooled_lab, blank_hits = [], [], [], [], []
    pix, (cx, cy), area = geometry["pixel_deg"], geometry["centre"], geometry["area_deg2"]
    r_px = radius_px(pix, CLUSTER_RADIUS_ARCMIN)
    for seed, files in sorted(files_by_seed.items()):
        parts = [np.load(p) if isinstance(p, (str, Path)) else p for p in files]
        raw = np.full(len(labels), np.nan)
        for z in parts:
            raw[z["test"]] = z["centre_scores"]
        src = np.full(len(labels), np.nan)
        peak_ok, pct, pct_lab, false_cands = [], [], [], []
        for _f, z in enumerate(parts):
            test = z["test"]
            cal = None
            if detector:
                other = ~np.isin(np.arange(len(labels)), test) & np.isfinite(raw)
                if stack is None:
                    cal = Calibration.fit(raw[other], labels[other])
                    src[test] = cal(raw[test])
                else:
                    cal = Stacker.fit(raw[other], stack["centre"][other], labels[other])
                    src[test] = cal(raw[test], stack["centre"][test])
            else:
                src[test] = raw[test]
            for j, i in enumerate(test):
                m = z["maps"][j].astype(np.float32)
                m = np.nan_to_num(m, nan=0.0)
                if detector:
                    m = cal(m) if stack is None else cal(m, stack["maps"][int(i)])
                    cs = disc_max_map(m, r_px)
                else:
                    cs = m
                y_, x_ = np.unravel_index(np.argmax(cs if detector else m), m.shape)
                if labels[i] == 1:
                    peak_ok.append(np.hypot(x_ - cx, y_ - cy) * pix * 60 <= PEAK_RADIUS_ARCMIN)
                pct.append(float(np.mean(cs < src[i])))
                pct_lab.append(labels[i])
                if labels[i] == 0:
                    nms = radius_px(pix, 10.0) if detector else 0.0
                    false_cands.append(_count_regions(m, threshold, nms) / area)
            if (
                detector and stack is None and len(z["blanks"])
            ):  # raw network probability, like the injections below
                blank_hits += list(z["blanks"][:, 1] >= 0.5)
            elif not detector and np.isfinite(z["blank_fpr_05"]):
                blank_hits += [float(z["blank_fpr_05"])] * int(np.sum(labels[test] == 0)) * 4
            inj = z["inj"] if stack is None else []
            if len(inj):
                # the detector's injections are judged on its raw per-pixel probability (is there
                # diffuse emission here?); the calibration answers another question (is this real
                # field a halo cluster?) and, fitted on 36 real labels, flattens towards the base rate
                inj_all.append(inj)
        from ..metrics.classification import roc_auc

        met = binary_metrics(labels, src)
        pooled_cal.append(src)
        pooled_lab.append(labels)
        per_seed.append(
            {
                "seed": seed,
                "accuracy": met["accuracy"],
                "f1": met["f1"],
                "roc_auc": met["roc_auc"],
                "peak_within_10arcmin": float(np.mean(peak_ok)),
                "centre_vs_rest_auc": roc_auc(np.array(pct_lab), np.array(pct)),
                "false_candidates_per_deg2": float(np.mean(false_cands)),
                "source_scores": src.tolist(),
            }
        )
    out = {k: _mean_std([r[k] for r in per_seed]) for k in TABLE_METRICS}
    out["seeds"] = [r["seed"] for r in per_seed]
    out["runs"] = per_seed
    if inj_all:
        inj = np.concatenate(inj_all)
        out["injection"] = {"at_0.5": _completeness(inj, 0.5, inj_grid)}
        if threshold != 0.5:
            out["injection"][f"at_{threshold:g}"] = _completeness(inj, threshold, inj_grid)
        out["injection"]["fluxes_jy"] = list(inj_grid.fluxes_jy)
        out["injection"]["n_folds"] = len(inj_all)
        out["injection"]["blank_positions_score_ge_0.5"] = float(np.mean(blank_hits)) if blank_hits else None
    out["pooled_scores"] = np.concatenate(pooled_cal).tolist()
    out["pooled_labels"] = np.concatenate(pooled_lab).astype(int).tolist()
    return out


def ensemble_parts(members: list[dict[int, list[Path]]], fs: FieldSet) -> dict[int, list[dict]]:
    """Per seed and fold, the ensemble of fits trained on the same fold's fields: the mean of the
    members' probability maps, the cluster score read from that mean map at each centre.  The
    injection and blank-position scores are the mean of the members' cluster scores (their maps
    were not kept; the mean of the disc maxima bounds the disc maximum of the mean from above)."""
    r_px = radius_px(fs.spec.pixel_deg, CLUSTER_RADIUS_ARCMIN)
    seeds = set.intersection(*(set(m) for m in members)) if members else set()
    out = {}
    for seed in sorted(seeds):
        folds = []
        for paths in zip(*(m[seed] for m in members), strict=True):
            zs = [np.load(p) for p in paths]
            test = zs[0]["test"]
            assert all(np.array_equal(z["test"], test) for z in zs), "members differ in their folds"
            maps = np.mean([z["maps"].astype(np.float32) for z in zs], axis=0)
            part = {
                "test": test,
                "maps": maps,
                "centre_scores": np.array(
                    [disc_max(m, *fs.centres[i], r_px) for m, i in zip(maps, test, strict=True)]
                ),
            }
            for key in ("inj", "blanks"):
                arrs = [z[key] for z in zs]
                same = all(
                    a.shape == arrs[0].shape and np.array_equal(a[:, :-1], arrs[0][:, :-1]) for a in arrs
                )
                part[key] = arrs[0].copy() if same else np.zeros((0, arrs[0].shape[1]))
                if same and len(part[key]):
                    part[key][:, -1] = np.mean([a[:, -1] for a in arrs], axis=0)
            folds.append(part)
        out[seed] = folds
    return out


#: The peak-flux feature's window on the detector's grid: the baseline's 64-px cut-out of the
#: 72–103 MHz band, whose native pixel is the grid's 56″ (≈ 1°).
PEAK_WINDOW_PX = 64


def peak_flux_features(fs: FieldSet, band: int = 0) -> dict:
    """log10 of the peak flux (Jy/beam, 72–103 MHz) within a 64-px window around each pixel of every
    field's grid, and its value at each field's centre: the peak-flux baseline's feature."""
    from scipy import ndimage

    maps = {}
    for i, f in enumerate(fs.fields):
        peak = ndimage.maximum_filter(f.data[band], size=PEAK_WINDOW_PX, mode="constant", cval=0.0)
        maps[i] = np.log10(np.maximum(peak, 1e-4)).astype(np.float32)
    centre = np.array(
        [maps[i][int(round(cy)), int(round(cx))] for i, (cx, cy) in enumerate(fs.centres)], float
    )
    return {"centre": centre, "maps": maps}


class Stacker:
    """The cluster score stacked with the local peak flux: p' = sigmoid(w₀ + w₁·logit(p) + w₂·log S),
    a logistic model fitted (L2 1e-3 on all three weights, scikit-learn) on held-out scores of
    other folds only."""

    def __init__(self, w):
        self.w = np.asarray(w, float)

    @staticmethod
    def _design(p, logs):
        from ..models.segmenter import _logit

        p = np.asarray(p, np.float64)
        return np.stack([np.ones_like(p), _logit(p), np.broadcast_to(logs, p.shape)], -1)

    @classmethod
    def fit(cls, p, logs, labels, l2: float = 1e-3) -> Stacker:
        """Maximum penalised likelihood: Σ log-loss + l2/2·|w|² (the intercept a design column, so
        it is penalised like the rest)."""
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1 / l2, fit_intercept=False, solver="newton-cholesky", tol=1e-12)
        lr.fit(cls._design(p, logs), np.asarray(labels, int))
        return cls(lr.coef_[0])

    def __call__(self, p, logs):
        from scipy.special import expit

        return expit(self._design(p, logs) @ self.w).astype(np.float32)


def cross_fitted_scores(raw: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Each fold's raw centre scores calibrated (Platt) on the *other* folds' — the held-out
    calibrated score, as :func:`evaluate_method` computes it, from the raw scores alone."""
    raw, labels = np.asarray(raw, float), np.asarray(labels)
    out = np.full(len(labels), np.nan)
    for f in np.unique(folds):
        test = folds == f
        other = ~test & np.isfinite(raw)
        out[test] = Calibration.fit(raw[other], labels[other])(raw[test])
    return out


def reliability(scores, labels, bins: int = 5) -> list[dict]:
    s, y = np.asarray(scores, float), np.asarray(labels, float)
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for a, b in zip(edges[:-1], edges[1:], strict=False):
        sel = (s >= a) & ((s < b) if b < 1 else (s <= b))
        rows.append(
            {
                "lo": float(a),
                "hi": float(b),
                "n": int(sel.sum()),
                "mean_score": float(s[sel].mean()) if sel.any() else None,
                "fraction_halo": float(y[sel].mean()) if sel.any() else None,
            }
        )
    return rows


def plot_reliability(rows: list[dict], path: Path, title: str) -> Path:
    from ..metrics.plots import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 4), dpi=110)
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="perfect")
    pts = [(r["mean_score"], r["fraction_halo"], r["n"]) for r in rows if r["n"]]
    ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label="detector (held-out, calibrated)")
    for x, y, n in pts:
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set(
        xlabel="calibrated cluster score",
        ylabel="fraction of halo fields",
        xlim=(0, 1),
        ylim=(0, 1),
        title=title,
    )
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_injection(results: dict, path: Path, grid: InjectionGrid = CV_INJECTIONS) -> Path:
    from ..metrics.plots import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(
        1, len(grid.sizes_mpc), figsize=(4 * len(grid.sizes_mpc), 3.6), dpi=100, sharey=True
    )
    for ax, size in zip(np.atleast_1d(axes), grid.sizes_mpc, strict=False):
        for name, res in results.items():
            inj = res.get("injection")
            if not inj:
                continue
            ax.plot(
                grid.fluxes_jy, inj["at_0.5"]["completeness"][str(size)], "o-", label=f"{name} (score ≥ 0.5)"
            )
        ax.set(
            xscale="log",
            xlabel="injected flux at 200 MHz (Jy)",
            title=f"{size:g} Mpc halo, z = {grid.redshift}",
            ylim=(-0.02, 1.02),
        )
    np.atleast_1d(axes)[0].set_ylabel("completeness (held-out halo-free fields)")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def table_row(name: str, r: dict, fits: str) -> str:
    def f(k):
        v = r[k]
        return f"{v['mean']:.2f} ± {v['std']:.2f}"

    injr = r.get("injection", {})
    inj = injr.get("at_0.5", {}).get("flux_50pc", {})

    def h(v):
        return "never" if v is None else (f"≤ {-v:.2g}" if v < 0 else f"{v:.2g}")

    half = " / ".join(h(inj.get(s)) for s in ("0.5", "1.0", "1.5")) if inj else "n/a"
    fpr = injr.get("blank_positions_score_ge_0.5")
    half += f" (blank: {fpr:.2f})" if fpr is not None else ""
    return (
        f"| {name} | {f('accuracy')} | {f('f1')} | {f('roc_auc')} | {f('peak_within_10arcmin')} | "
        f"{f('centre_vs_rest_auc')} | {f('false_candidates_per_deg2')} | {half} | {fits} |"
    )


# -- what a class detector adds: naming the kinds, and the impostor fields -------------------------

#: Halo-free TRAIN fields whose centre hosts what a "diffuse emission" detector mistakes for a halo:
#: radio galaxies (3C 136.1, 3C 315, PKS 2014−55), relics and phoenices (A3365, A13, A85, A133) and
#: the three halo-free clusters the one-class detector scored highest (A3164, S0405, A1631).
IMPOSTORS = (
    "3c 136.1",
    "3c 315",
    "pks 2014-55",
    "abell_3365",
    "abell_0013",
    "abell_0085",
    "abell_0133",
    "abell_3164",
    "abell_s0405",
    "abell_1631",
)


def confusion_summary(files_by_seed: dict[int, list]) -> dict | None:
    """The injected-kind × named-class counts summed over every fit, with each kind's share named
    right (None when the fits have no classes)."""
    mats = [
        np.load(p)["confusion"]
        for fl in files_by_seed.values()
        for p in fl
        if "confusion" in np.load(p).files
    ]
    if not mats:
        return None
    total = np.sum(mats, 0)
    right = {
        k: float(total[t, CLASSES.index(k)] / max(total[t].sum(), 1)) for t, k in enumerate(CONFUSION_KINDS)
    }
    return {
        "kinds": list(CONFUSION_KINDS),
        "named_as": list(CLASSES),
        "counts": total.tolist(),
        "named_right": right,
        "mean_named_right": float(np.mean(list(right.values()))),
        "fits": len(mats),
    }


def impostor_table(
    result: dict, files_by_seed: dict[int, list], fs: FieldSet, threshold: float = 0.5
) -> dict:
    """At each :data:`IMPOSTORS` field: the held-out calibrated halo score at its centre (from
    ``result``, :func:`evaluate_method`'s output) and, for a class detector, the any-diffuse map's
    peak within the cluster radius — mean over seeds — and whether the halo score stays below
    ``threshold`` while the any-diffuse map flags the emission (≥ 0.5)."""
    names = fs.names
    r_px = radius_px(fs.spec.pixel_deg, CLUSTER_RADIUS_ARCMIN)
    rows = {}
    for name in IMPOSTORS:
        if name not in names:
            continue
        i = names.index(name)
        halo = [run["source_scores"][i] for run in result["runs"]]
        diffuse = []
        for files in files_by_seed.values():
            for p in files:
                z = np.load(p)
                if "diffuse_maps" in z.files and i in z["test"]:
                    m = z["diffuse_maps"][list(z["test"]).index(i)].astype(np.float32)
                    diffuse.append(disc_max(m, *fs.centres[i], r_px))
        row = {"halo_score": float(np.mean(halo)), "halo_score_std": float(np.std(halo))}
        if diffuse:
            row["diffuse_peak"] = float(np.mean(diffuse))
        row["halo_below_threshold"] = row["halo_score"] < threshold
        row["diffuse_flagged"] = row.get("diffuse_peak", float("nan")) >= 0.5
        rows[name] = row
    return {
        "fields": rows,
        "halo_below_threshold": int(sum(r["halo_below_threshold"] for r in rows.values())),
        "both": int(sum(r["halo_below_threshold"] and r["diffuse_flagged"] for r in rows.values())),
        "n": len(rows),
        "threshold": threshold,
    }


# -- learning from labels: a simulated labeller in the CV ------------------------------------------

LABELLER_KS = (10, 30, 100)


def ranked_peaks(p: np.ndarray, nms_px: float, top: int = 20) -> list[tuple[float, int, int]]:
    """(score, y, x) of a map's local maxima, highest first, none within ``nms_px`` of a higher one."""
    from scipy import ndimage

    size = max(3, int(2 * nms_px) | 1)
    peaks = np.argwhere((p == ndimage.maximum_filter(p, size)) & (p > 0))
    found = sorted(((float(p[y, x]), int(y), int(x)) for y, x in peaks), reverse=True)
    kept: list[tuple[float, int, int]] = []
    for s, y, x in found:
        if all(np.hypot(x - kx, y - ky) > nms_px for _, ky, kx in kept):
            kept.append((s, y, x))
        if len(kept) == top:
            break
    return kept


def field_figures(maps: dict[int, np.ndarray], fs: FieldSet, threshold: float = 0.5) -> dict:
    """Held-out figures of raw halo maps: halo fields whose first (first three) ranked candidate
    lies within 10′ of the cluster, and regions ≥ ``threshold`` per deg² on halo-free fields."""
    pix = fs.spec.pixel_deg
    nms, near = radius_px(pix, 10.0), radius_px(pix, PEAK_RADIUS_ARCMIN)
    top1, top3, false = [], [], []
    for i, m in maps.items():
        if fs.fields[i].label == 1:
            cx, cy = fs.centres[i]
            hits = [np.hypot(x - cx, y - cy) <= near for _, y, x in ranked_peaks(m, nms, 3)]
            top1.append(bool(hits[:1] and hits[0]))
            top3.append(any(hits))
        elif fs.fields[i].label == 0:
            false.append(_count_regions(m, threshold, nms) / fs.fields[i].area_deg2)
    return {
        "halo_in_top1": float(np.mean(top1)) if top1 else None,
        "halo_in_top3": float(np.mean(top3)) if top3 else None,
        "false_candidates_per_deg2": float(np.mean(false)) if false else None,
    }


def simulated_labels(model, fs: FieldSet, train, k: int) -> list[dict]:
    """A "user" who labels the top ``k`` candidates of the training fields (ranked together by
    score) from the truth: halo when the field is a halo field and the candidate within 10′ of its
    cluster, not halo otherwise."""
    pix = fs.spec.pixel_deg
    nms, near = radius_px(pix, 10.0), radius_px(pix, PEAK_RADIUS_ARCMIN)
    pool = []
    for i in train:
        for s, y, x in ranked_peaks(halo_probability(model, fs.fields[i].scaled(model.inputs)), nms, 10):
            pool.append((s, int(i), y, x))
    pool.sort(reverse=True)
    rows = []
    for _, i, y, x in pool[:k]:
        f = fs.fields[i]
        cx, cy = fs.centres[i]
        sky = f.wcs.pixel_to_world(x, y)
        halo = f.label == 1 and np.hypot(x - cx, y - cy) <= near
        rows.append(
            {
                "field": f.name,
                "ra": float(sky.ra.deg),
                "dec": float(sky.dec.deg),
                "label": "halo" if halo else "not halo",
            }
        )
    return rows


def labeller_fold(
    fs: FieldSet,
    seed: int,
    fold: int,
    k: int,
    cfg: SegTrainConfig,
    out: Path,
    tag: str,
    log=print,
    ft_steps=300,
):
    """One fold of the simulated-labeller experiment: fit on the training fields, label their top-k
    candidates from the truth (k in :data:`LABELLER_KS`), fine-tune, re-score the held-out fields."""
    from .from_labels import finetune_config, labelled_maps, spots_from_labels

    path = out / f"lab-{tag}-s{seed}-f{fold}.json"
    if path.exists():
        return path
    torch.set_num_threads(1)
    folds = group_folds(fs.groups, fs.source_labels, k, seed)
    train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
    base = fit_segmenter(fs, train, replace(cfg, seed=seed * 100 + fold))
    res = {"seed": seed, "fold": fold, "test": test.tolist(), "base_cpu_s": base.cpu_seconds}
    res["before"] = field_figures(
        {int(i): halo_probability(base.model, fs.fields[i].scaled(base.model.inputs)) for i in test}, fs
    )
    ft_cfg = replace(finetune_config(cfg, ft_steps), seed=seed * 100 + fold)
    for kk in LABELLER_KS:
        rows = simulated_labels(base.model, fs, train, kk)
        spots, _ = spots_from_labels(fs, rows)
        maps = labelled_maps(fs, ft_cfg, spots, CLUSTER_RADIUS_ARCMIN)
        ft = fit_segmenter(
            fs,
            train,
            ft_cfg,
            labels=maps,
            spots=[(s.field, s.x, s.y) for s in spots],
            init_state=base.model.state_dict(),
        )
        after = field_figures(
            {int(i): halo_probability(ft.model, fs.fields[i].scaled(ft.model.inputs)) for i in test}, fs
        )
        res[f"k{kk}"] = {
            "after": after,
            "n_halo": sum(r["label"] == "halo" for r in rows),
            "n": len(rows),
            "cpu_s": ft.cpu_seconds,
        }
    path.write_text(json.dumps(res, indent=1))
    log(f"{path.name}: before {res['before']}; k=100 after {res['k100']['after']}")
    return path


def labeller_summary(files: list[Path]) -> dict:
    """Mean ± std over seeds (each seed's figures the mean over its folds)."""
    runs = [json.loads(Path(p).read_text()) for p in files]
    by_seed: dict[int, list[dict]] = {}
    for r in runs:
        by_seed.setdefault(r["seed"], []).append(r)
    out: dict = {"seeds": sorted(by_seed), "folds": len(runs)}
    for key in ("before", *(f"k{k}" for k in LABELLER_KS)):
        vals: dict[str, list[float]] = {}
        for rs in by_seed.values():
            for m in ("halo_in_top1", "halo_in_top3", "false_candidates_per_deg2"):
                v = [(r[key] if key == "before" else r[key]["after"])[m] for r in rs]
                v = [x for x in v if x is not None]
                if v:
                    vals.setdefault(m, []).append(float(np.mean(v)))
        out[key] = {m: _mean_std(v) for m, v in vals.items()}
        if key != "before":
            out[key]["labels_halo_share"] = float(
                np.mean([r[key]["n_halo"] / max(r[key]["n"], 1) for r in runs])
            )
    return out
