"""The ``radioviz compare`` report: every generated-vs-real metric as one JSON-ready dict."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..data.dataset import DatasetConfig, build_dataset
from ..data.preprocess import Preprocessing, generator_normalization
from ..errors import InputError
from ..models.checkpoint import read_card
from .evaluate import load_classifier, score_images
from .images import frechet_distance, histogram_comparison, kernel_inception_distance, nearest_neighbour_ssim, spectral_indices, statistics_comparison, zero_fraction

FID_NOTE = "FID/KID use the penultimate (64-d) features of the shipped A classifier, not InceptionV3: Inception weights cannot be downloaded here, so these numbers are not comparable with published Inception FIDs."


def load_samples(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = {"images", "physical", "meta"} - set(z.files)
            if missing:
                raise InputError(path, f"not a radioviz samples file (missing {', '.join(sorted(missing))})")
            return z["images"].astype(np.float32), z["physical"].astype(np.float32), json.loads(str(z["meta"]))
    except (OSError, ValueError) as exc:
        raise InputError(path, f"cannot read samples ({exc})") from None


def compare(real_root: str | Path, split: str, generated: str | Path, classifier: str | Path | None = None, cache_dir: Path | None = None) -> dict:
    images01, physical, meta = load_samples(generated)
    card = None
    if meta.get("checkpoint") and Path(meta["checkpoint"]).exists():
        card = read_card(meta["checkpoint"])
    pre = Preprocessing.from_dict(card["preprocessing"]) if card else Preprocessing()
    ds, _, _ = build_dataset(DatasetConfig(str(real_root), split, pre.band_convention, pre.cutout_size, pre.nsigma, augment=False), cache_dir, progress=False)
    real = ds.images
    label = meta.get("label")
    if label is not None:
        real = real[ds.labels == (0 if label == "non-halo" else 1)]
    if real.shape[1:] != physical.shape[1:]:
        raise InputError(generated, f"generated images {physical.shape[1:]} do not match the real cut-outs {real.shape[1:]}")
    norm = pre.normalization or generator_normalization(real)
    hist = histogram_comparison(real, physical)
    out = {
        "n_real": int(len(real)),
        "n_generated": int(len(physical)),
        "label": label,
        "hist_mean_abs_rel_err": hist["hist_mean_abs_rel_err"],
        "histogram": hist,
        "zero_fraction_real": zero_fraction(real),
        "zero_fraction_gen": zero_fraction(physical),
        "image_statistics": statistics_comparison(real, physical),
    }
    a_real, a_gen = spectral_indices(real), spectral_indices(physical)
    out["spectral_index"] = {"median_real": float(np.median(a_real)) if a_real.size else None, "median_gen": float(np.median(a_gen)) if a_gen.size else None, "n_pixels_real": int(a_real.size), "n_pixels_gen": int(a_gen.size), "bands": "72-103 vs 170-231 MHz"}
    nn = nearest_neighbour_ssim(np.clip(norm.forward(physical), 0, 1), np.clip(norm.forward(real), 0, 1))
    out["nn_ssim_max"] = float(nn.max())
    out["nn_ssim_median"] = float(np.median(nn))
    out["fid_domain"] = out["kid_domain"] = None
    out["classifier_pass_rate_0.5"] = out["classifier_pass_rate_0.95"] = None
    if classifier is not None and Path(classifier).exists():
        model, cpre, ccard = load_classifier(classifier)
        scores = score_images(model, cpre, physical)
        out["classifier_pass_rate_0.5"] = float(np.mean(scores >= 0.5))
        out["classifier_pass_rate_0.95"] = float(np.mean(scores >= 0.95))
        out["classifier"] = str(classifier)
        if ccard["arch"] == "A":
            with torch.no_grad():
                f_real = model.embed(torch.from_numpy(cpre.normalization.forward(real))).numpy()
                f_gen = model.embed(torch.from_numpy(cpre.normalization.forward(physical))).numpy()
            out["fid_domain"] = frechet_distance(f_real, f_gen)
            out["kid_domain"] = kernel_inception_distance(f_real, f_gen)
            out["fid_note"] = FID_NOTE
        else:
            out["fid_note"] = f"FID/KID need the A classifier's features; {Path(classifier).name} is {ccard['arch']}"
    return out
