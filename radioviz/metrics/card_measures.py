"""What a generator's model card records about it besides its weights, measured here and written
by ``radioviz measure quality | seed-spread | clip-levels``:

* ``quality`` — class-H samples against the real TRAIN cut-outs (histogram error, zero fraction,
  domain FID/KID on the A classifier's features, A pass rate, nearest-neighbour SSIM) and, for a
  flux-conditioned model, the Spearman ρ between requested and generated peak flux; the Models
  tab, the model pickers and the default-model choice read it (:mod:`radioviz.models.quality`);
* ``quality.over_seeds`` — the spread over seeds of those numbers, so one seed is read with its noise;
* ``dead_band_jy`` — the dead-band clip levels, a property of the training data recomputed
  without retraining (and ``dead_band_source_halo``: which sources are halo sources).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import numpy as np

from ..errors import InputError

#: The settings a seed-spread row must share with the card's own measurement.
SETTING = ("sampler", "guidance", "churn", "label", "n", "flux_requested")


def sampler_options(guidance: float = 0.0, churn: list[float] | None = None) -> dict:
    """generate() keyword arguments for guidance ω and churn (S_churn[, S_tmin, S_tmax, S_noise])."""
    from ..sampling.samplers import Churn

    opts = {"guidance": guidance} if guidance else {}
    if churn and churn[0] > 0:
        opts["churn"] = Churn(*churn)
    return opts


def flux_steering(path, model_and_card, n: int, label: str, seed: int, opts: dict | None = None) -> dict:
    """Spearman ρ between ``n`` peak fluxes requested log-uniformly over the training range and the
    generated samples' peaks."""
    from scipy.stats import spearmanr

    from ..data.flux import peak_flux
    from ..sampling.generate import generate

    card = model_and_card[1]
    card = card.to_dict() if hasattr(card, "to_dict") else card
    lo, hi = card["flux"]["train_range"]
    want = np.geomspace(max(lo, 0.3), hi, n)
    g = generate(
        path, n, label=label, flux=want, seed=seed + 1, model_and_card=model_and_card, **(opts or {})
    )
    got = peak_flux(g.physical)
    return {
        "n": n,
        "requested_range": [float(want[0]), float(want[-1])],
        "spearman_rho": round(float(spearmanr(want, got).statistic), 3),
        "median_ratio_generated_to_requested": round(float(np.median(got / want)), 3),
        "pairs": [[round(float(a), 3), round(float(b), 3)] for a, b in zip(want, got, strict=True)],
    }


def measure_quality(
    path: str | Path,
    n: int = 64,
    sampler: str | None = None,
    steps: int | None = None,
    label: str = "H",
    real_root: str | Path | None = None,
    n_flux: int = 32,
    seed: int = 0,
    opts: dict | None = None,
    flux_from_real: bool = False,
    classifier: str | Path | None = None,
    device: str = "cpu",
) -> dict:
    """The card's ``quality`` entry: ``n`` samples of ``label`` against the real TRAIN cut-outs of
    ``real_root`` (default: the card's training data).  ``opts``: extra generate() arguments
    (guidance, churn); ``flux_from_real``: request each sample's peak flux drawn (seeded) from the
    real cut-outs' peaks; ``classifier``: the checkpoint whose features give the domain FID/KID
    and pass rates (None: not measured)."""
    from ..data.flux import peak_flux
    from ..data.preprocess import Preprocessing
    from ..sampling.generate import generate, load_generator
    from .compare import compare_images
    from .evaluate import load_classifier
    from .real import real_cutouts

    opts = dict(opts or {})
    mc = load_generator(path)
    card = mc[1].to_dict() if hasattr(mc[1], "to_dict") else mc[1]
    pre = Preprocessing.from_dict(card["preprocessing"])
    root = real_root or card["data"]["config"]["root"]
    real = real_cutouts(root, "TRAIN", pre, label)
    clf = load_classifier(classifier, device) if classifier is not None else None
    flux = np.random.default_rng(seed).choice(peak_flux(real), n) if flux_from_real else None
    t0 = time.time()
    g = generate(
        path, n, label=label, sampler=sampler, steps=steps, seed=seed, flux=flux, model_and_card=mc, **opts
    )
    wall = time.time() - t0
    cmp = compare_images(real, g.physical, pre.normalization, classifier_model=clf)
    r = cmp.report

    def rounded(v, d):
        return None if v is None else round(float(v), d)

    q = {
        "date": dt.date.today().isoformat(),
        "sampler": f"{g.meta['sampler']}-{g.meta['steps']}",
        "guidance": g.meta["guidance"],
        "churn": g.meta.get("churn"),
        "flux_requested": "per sample, drawn from the real peaks" if flux_from_real else None,
        "nfe": g.meta["nfe"],  # counts both network calls of a guided step
        "n": n,
        "label": label,
        "seed": seed,
        "real": f"{len(real)} real TRAIN {label} cut-outs ({root})",
        "s_per_sample": round(wall / n, 3),
        "hist_err": round(r["hist_mean_abs_rel_err"], 4),
        # an ideal generator's error against these real images (their own sampling noise)
        "hist_err_floor": {
            k: round(v, 4) if isinstance(v, float) else v for k, v in r["hist_err_floor"].items()
        },
        "zero_fraction_gen": round(r["zero_fraction_gen"], 4),
        "zero_fraction_real": round(r["zero_fraction_real"], 4),
        "nn_ssim_max": round(r["nn_ssim_max"], 4),
        "nn_ssim_median": round(r["nn_ssim_median"], 4),
        "n_nn_ssim_ge_0.95": int((cmp.nn_ssim >= 0.95).sum()),
        "fid_domain": rounded(r["fid_domain"], 3),
        "kid_domain": rounded(r["kid_domain"], 3),
        "pass_0.5": r["classifier_pass_rate_0.5"],
        "pass_0.95": r["classifier_pass_rate_0.95"],
        "negative_fraction_gen": round(float(np.mean(g.physical < 0)), 5),
        "negative_fraction_real": round(float(np.mean(real < 0)), 5),
    }
    if card.get("kwargs", {}).get("flux_cond") and n_flux:
        q["flux_steering"] = flux_steering(path, mc, n_flux, label, seed, opts)
    return q


def _write_card(checkpoint: str | Path, d: dict) -> Path:
    from ..models.checkpoint import ModelCard, card_path

    return ModelCard.from_dict(d, card_path(checkpoint)).write(checkpoint)


def write_quality(checkpoint: str | Path, q: dict) -> Path:
    """Put ``q`` as the card's ``quality`` (its ``structure`` yardsticks, measured apart, kept)."""
    from ..models.checkpoint import read_card

    d = read_card(checkpoint).to_dict()
    kept = {k: v for k, v in (d.get("quality") or {}).items() if k == "structure"}
    d["quality"] = {**q, **kept}
    return _write_card(checkpoint, d)


def seed_spread(quality: dict, rows: list[dict]) -> dict:
    """The spread over seeds of the rows measured with the card's own setting (the last row per seed)."""
    latest = {r["seed"]: r for r in rows if all(r.get(k) == quality.get(k) for k in SETTING)}
    same = [latest[k] for k in sorted(latest)]
    if len(same) < 2:
        raise InputError(None, "fewer than two seeds with the card's setting: nothing to summarise")
    err = np.array([r["hist_err"] for r in same])
    return {
        "seeds": [r["seed"] for r in same],
        "hist_err": err.tolist(),
        "hist_err_mean": round(float(err.mean()), 3),
        "hist_err_sd": round(float(err.std(ddof=1)), 3),
        "zero_fraction_gap": [round(abs(r["zero_fraction_gen"] - r["zero_fraction_real"]), 4) for r in same],
        "fid_domain": [r["fid_domain"] for r in same],
        "nn_ssim_max": max(r["nn_ssim_max"] for r in same),
    }


def record_seed_spread(checkpoint: str | Path, jsonl: str | Path) -> dict:
    """Write ``quality.over_seeds`` from ``measure quality --append`` rows of this checkpoint."""
    from ..models.checkpoint import read_card

    d = read_card(checkpoint).to_dict()
    if not d.get("quality"):
        raise InputError(checkpoint, "the card has no quality measurement to put a spread beside")
    rows = [json.loads(line) for line in Path(jsonl).read_text().splitlines() if line.strip()]
    rows = [r for r in rows if Path(r.get("checkpoint", "")).name == Path(checkpoint).name]
    d["quality"]["over_seeds"] = spread = seed_spread(d["quality"], rows)
    _write_card(checkpoint, d)
    return spread


def refresh_clip_levels(
    checkpoint: str | Path, cache_dir: Path | None = None, classes_only: bool = False
) -> str:
    """Recompute the card's ``dead_band_jy`` from its recorded training data (or, ``classes_only``,
    add which of its ``dead_band_sources`` are halo sources); returns a line saying what changed."""
    from ..data.dataset import DatasetConfig, build_dataset, clip_levels, source_clip_levels, source_is_halo
    from ..models.checkpoint import read_card

    card = read_card(checkpoint)
    ds, _, _ = build_dataset(DatasetConfig(**card.data["config"]), cache_dir, progress=False)
    if ds.meta["data_hash"] != card.data["hash"]:
        raise InputError(checkpoint, "the data no longer match the card's hash")
    name = Path(checkpoint).name
    if classes_only:
        if card.extra.get("dead_band_sources") != source_clip_levels(ds):
            raise InputError(checkpoint, "the card's dead_band_sources are not this data's, in this order")
        card.extra["dead_band_source_halo"] = halo = source_is_halo(ds)
        card.write(checkpoint)
        return f"{name}: {sum(halo)} of {len(halo)} sources are halo"
    old = card.dead_band_jy
    card.dead_band_jy = clip_levels(ds, ds.is_centre)
    card.extra["dead_band_jy_note"] = (
        "recomputed by radioviz measure clip-levels from the training data "
        "(right-angle rotations, intensity scaling undone)"
    )
    card.write(checkpoint)
    return f"{name}: {old} -> {card.dead_band_jy}"
