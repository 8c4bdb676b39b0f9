"""The ``radioviz compare`` report: every generated-vs-real metric as one JSON-ready dict, plus
the arrays behind it (for plots in the docs and the app's Compare tab)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..data.preprocess import Normalization, Preprocessing, generator_normalization
from ..errors import InputError
from ..models.checkpoint import read_card
from .evaluate import load_classifier, score_images
from .images import (
    dihedral,
    frechet_distance,
    histogram_comparison,
    histogram_error_floor,
    image_statistics,
    kernel_inception_distance,
    nearest_neighbours,
    spectral_indices,
    statistics_comparison,
    zero_fraction,
)
from .real import real_cutouts
from .yardsticks import band_geometry, run_two_sample, yardsticks

FID_NOTE = (
    "FID/KID use the penultimate (64-d) features of the shipped A classifier, not InceptionV3: "
    "Inception weights cannot be downloaded here, so these numbers are not comparable with "
    "published Inception FIDs."
)


@dataclass
class Comparison:
    """A compare report and the arrays it was computed from (Jy/beam images)."""

    report: dict
    real: np.ndarray
    gen: np.ndarray
    stats_real: dict = field(default_factory=dict)
    stats_gen: dict = field(default_factory=dict)
    alpha_real: np.ndarray = field(default_factory=lambda: np.zeros(0))
    alpha_gen: np.ndarray = field(default_factory=lambda: np.zeros(0))
    nn_ssim: np.ndarray = field(default_factory=lambda: np.zeros(0))
    nn_images: np.ndarray = field(
        default_factory=lambda: np.zeros(0)
    )  # nearest training image per generated one
    scores: np.ndarray | None = None
    norm: Normalization | None = None  # the model-space scale (the two-sample test's input)


def model_space(norm: Normalization | None):
    """Jy/beam → the generators' model space clipped to [0, 1] (as the NN SSIM sees images)."""
    return None if norm is None else (lambda x: np.clip(norm.forward(x), 0, 1))


def add_two_sample(cmp: Comparison, seed: int = 0) -> dict | None:
    """Run the classifier two-sample test on a comparison's images; kept in its report."""
    cmp.report["two_sample"] = run_two_sample(cmp.real, cmp.gen, model_space(cmp.norm), seed)
    return cmp.report["two_sample"]


def load_samples(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict]:
    import zipfile

    path = Path(path)
    if path.is_file() and not zipfile.is_zipfile(path):
        raise InputError(path, "not a NumPy .npz file: cannot read it as generated samples")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = {"images", "physical", "meta"} - set(z.files)
            if missing:
                raise InputError(path, f"not a radioviz samples file (missing {', '.join(sorted(missing))})")
            return (
                z["images"].astype(np.float32),
                z["physical"].astype(np.float32),
                json.loads(str(z["meta"])),
            )
    except ValueError as exc:
        if "pickle" in str(exc):
            raise InputError(path, "holds Python objects (pickles), which are never loaded") from None
        raise InputError(path, f"cannot read samples ({exc})") from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(path, f"cannot read samples ({exc})") from None


def domain_fid_kid(model, pre: Preprocessing, real: np.ndarray, gen: np.ndarray) -> tuple[float, float]:
    """FID and KID between the A classifier's penultimate features of two Jy/beam image sets."""
    from ..models.device import model_device

    device = model_device(model)
    with torch.no_grad():
        f_real = model.embed(torch.from_numpy(pre.normalization.forward(real)).to(device)).cpu().numpy()
        f_gen = model.embed(torch.from_numpy(pre.normalization.forward(gen)).to(device)).cpu().numpy()
    return frechet_distance(f_real, f_gen), kernel_inception_distance(f_real, f_gen)


def compare_images(
    real: np.ndarray,
    physical: np.ndarray,
    norm: Normalization,
    classifier: str | Path | None = None,
    classifier_model=None,
    preprocessing: Preprocessing | None = None,
    two_sample: bool = False,
    device: str = "cpu",
) -> Comparison:
    """All metrics for generated ``physical`` against ``real`` (both (N, C, H, W) Jy/beam).

    ``preprocessing`` (the generator's) gives the bands, grid and beam of the structure and
    source yardsticks (default: the four GLEAM bands, native); ``two_sample`` also runs the
    classifier two-sample test (seconds; else ``report["two_sample"]`` is None); a ``classifier``
    path is loaded onto ``device``."""
    hist = histogram_comparison(real, physical)
    rep = {
        "n_real": int(len(real)),
        "n_generated": int(len(physical)),
        "hist_mean_abs_rel_err": hist["hist_mean_abs_rel_err"],
        # the error an ideal generator would have against these real images (their own noise)
        "hist_err_floor": histogram_error_floor(real, len(physical)),
        "histogram": hist,
        "zero_fraction_real": zero_fraction(real),
        "zero_fraction_gen": zero_fraction(physical),
        "image_statistics": statistics_comparison(real, physical),
    }
    a_real, a_gen = spectral_indices(real), spectral_indices(physical)
    rep["spectral_index"] = {
        "median_real": float(np.median(a_real)) if a_real.size else None,
        "median_gen": float(np.median(a_gen)) if a_gen.size else None,
        "n_pixels_real": int(a_real.size),
        "n_pixels_gen": int(a_gen.size),
        "bands": "72-103 vs 170-231 MHz" if real.shape[1] > 1 else "none: single-frequency images",
    }
    # an empty real cut-out is not a source a generator could memorise, and any empty sample
    # would match it with SSIM 1: only cut-outs with emission are references
    has_emission = real.reshape(len(real), -1).max(axis=1) > 0
    train = dihedral(real[has_emission] if has_emission.any() else real)
    nn, idx = nearest_neighbours(np.clip(norm.forward(physical), 0, 1), np.clip(norm.forward(train), 0, 1))
    rep["nn_ssim_max"] = float(nn.max())
    rep["nn_ssim_median"] = float(np.median(nn))
    rep["nn_reference"] = (
        f"{int(has_emission.sum())} real central cut-outs with emission × 8 orientations "
        f"({int((~has_emission).sum())} empty ones left out)"
    )
    rep["fid_domain"] = rep["kid_domain"] = None
    rep["classifier_pass_rate_0.5"] = rep["classifier_pass_rate_0.95"] = None
    # issue #30: spatial structure, source-finder statistics, classifier two-sample test
    rep.update(
        yardsticks(
            real,
            physical,
            band_geometry(preprocessing, real.shape[1]),
            model_space(norm),
            two_sample,
        )
    )
    cmp = Comparison(
        rep,
        real,
        physical,
        image_statistics(real),
        image_statistics(physical),
        a_real,
        a_gen,
        nn,
        train[idx],
        norm=norm,
    )
    if classifier_model is None and classifier is not None and Path(classifier).exists():
        classifier_model = load_classifier(classifier, device)
    if classifier_model is not None and physical.shape[1] == 1 and len(classifier_model[1].bands) > 1:
        # a single-frequency generator: the 4-band classifier cannot judge it, but its features
        # still give a domain FID/KID with the one band copied into every input band (as
        # InceptionV3 FIDs copy a grey image into R, G and B)
        model, cpre, ccard = classifier_model
        c = len(cpre.bands)
        rep["fid_domain"], rep["kid_domain"] = domain_fid_kid(
            model, cpre, np.repeat(real, c, 1), np.repeat(physical, c, 1)
        )
        rep["fid_note"] = (
            FID_NOTE + f" Single-frequency images: the one band is copied into all {c} classifier bands; "
            f"no pass rates (the classifier judges {c}-band images)."
        )
    elif classifier_model is not None:
        model, cpre, ccard = classifier_model
        scores = score_images(model, cpre, physical)
        cmp.scores = scores
        rep["classifier_pass_rate_0.5"] = float(np.mean(scores >= 0.5))
        rep["classifier_pass_rate_0.95"] = float(np.mean(scores >= 0.95))
        rep["classifier"] = str(classifier) if classifier else ccard.arch
        if ccard.arch == "A":
            rep["fid_domain"], rep["kid_domain"] = domain_fid_kid(model, cpre, real, physical)
            rep["fid_note"] = FID_NOTE
        else:
            rep["fid_note"] = f"FID/KID need the A classifier's features; this classifier is {ccard.arch}"
    return cmp


def compare(
    real_root: str | Path,
    split: str,
    generated: str | Path,
    classifier: str | Path | None = None,
    cache_dir: Path | None = None,
    plots_dir: Path | None = None,
    two_sample: bool = True,
    device: str = "cpu",
) -> dict:
    """``radioviz compare``'s report (the classifier run on ``device``; the two-sample test's
    small CNN stays on the CPU, where its seeded result is reproducible)."""
    images01, physical, meta = load_samples(generated)
    card = (
        read_card(meta["checkpoint"])
        if meta.get("checkpoint") and Path(meta["checkpoint"]).exists()
        else None
    )
    pre = (card.preprocessing if card else None) or Preprocessing()
    real = real_cutouts(real_root, split, pre, meta.get("label"), cache_dir)
    if real.shape[1:] != physical.shape[1:]:
        raise InputError(
            generated,
            f"generated images {physical.shape[1:]} do not match the real cut-outs {real.shape[1:]}",
        )
    cmp = compare_images(
        real,
        physical,
        pre.normalization or generator_normalization(real),
        classifier,
        preprocessing=pre,
        two_sample=two_sample,
        device=device,
    )
    cmp.report["label"] = meta.get("label")
    if plots_dir is not None:
        from .compare_plots import plot_comparison

        cmp.report["plot"] = str(
            plot_comparison(
                cmp,
                Path(plots_dir) / f"{Path(generated).stem}_compare.png",
                title=f"{Path(generated).name}: {meta.get('sampler')} {meta.get('label') or ''}",
            )
        )
    return cmp.report
