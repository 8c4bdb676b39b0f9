"""Issue #30's yardsticks together: spatial structure (:mod:`.structure`), source-finder
statistics (:mod:`.sources`) and the classifier two-sample test (:mod:`.two_sample`), each beside
what an ideal generator would score.

- :func:`yardsticks` — all three for two image sets (``radioviz compare``, the Compare tab);
- :func:`measure_structure` — generate from a checkpoint and measure: the entry a generator's
  card keeps under ``quality.structure`` (the Models tab shows it);
- :func:`write_structure` — put that entry into the card, everything else left as it was.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from pathlib import Path

import numpy as np

from ..data.conditions import BEAM_FWHM_PX
from ..data.preprocess import Preprocessing
from ..io.bands import GLEAM_BANDS, GLEAM_PIXEL_DEG
from .sources import source_report
from .structure import FREQ_EDGES, _radial_power, structure_report
from .two_sample import two_sample_test

#: the frequency range (cycles/pixel) of the headline power ratio: beyond the beams' cut-offs
#: (≈ 0.24 cycles/pixel), where beam-smooth emission has almost no power and speckle has much
HIGH_BAND = (0.2, 0.5)


def band_geometry(pre: Preprocessing | None, channels: int) -> dict:
    """Per band of images made with ``pre``: centre frequency (MHz, None when unknown), pixel
    scale (deg, None when unknown) and beam FWHM in the images' pixels.

    The four GLEAM bands: the nominal beam (:func:`radioviz.models.beam.gleam_beam_fwhm_px`) in
    each band's native pixels, or in the finest band's pixels when co-registered.  Anything else
    (single-frequency images): :data:`radioviz.data.conditions.BEAM_FWHM_PX` per band, marked
    as assumed, and no frequencies."""
    from ..models.beam import gleam_beam_fwhm_px

    pre = pre or Preprocessing()
    by_name = {b.name: b for b in GLEAM_BANDS}
    bands = [by_name.get(name) for name in pre.bands]
    if len(bands) == channels and all(bands):
        native = [GLEAM_PIXEL_DEG[b] for b in bands]
        fwhm = gleam_beam_fwhm_px(bands)
        if pre.band_convention == "coregistered":
            fine = min(native)
            fwhm = [round(f * p / fine, 3) for f, p in zip(fwhm, native, strict=True)]
            native = [fine] * channels
        return {
            "names": [b.name for b in bands],
            "freq_mhz": [b.centre for b in bands],
            "pixel_deg": native,
            "beam_fwhm_px": fwhm,
            "beam": "GLEAM nominal (2′ at 200 MHz, ∝ 1/ν)",
        }
    return {
        "names": list(pre.bands)
        if len(pre.bands) == channels
        else [f"band {i + 1}" for i in range(channels)],
        "freq_mhz": None,
        "pixel_deg": None,
        "beam_fwhm_px": [BEAM_FWHM_PX] * channels,
        "beam": f"assumed {BEAM_FWHM_PX} pixels (no GLEAM band geometry)",
    }


def json_safe(v):
    """NaN/∞ → None and NumPy scalars → Python, recursively (strict JSON)."""
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if isinstance(v, np.ndarray):
        return json_safe(v.tolist())
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def _band_spectra(images: np.ndarray) -> np.ndarray:
    """(N, C, bins) each image's normalised radial power (NaN rows for empty band images)."""
    images = np.asarray(images, dtype=np.float64)
    out = np.full((*images.shape[:2], len(FREQ_EDGES) - 1), np.nan)
    for i in range(images.shape[0]):
        for b in range(images.shape[1]):
            if np.any(images[i, b]):
                out[i, b] = _radial_power(images[i, b], FREQ_EDGES)
    return out


def _nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices stay NaN
        return np.nanmedian(a, axis=axis)


def high_power_ratio_ideal(real: np.ndarray, n_gen: int, draws: int = 50, seed: int = 0) -> dict:
    """The ideal generator's 0.2–0.5 cycles/pixel power ratio per band (p10, median, p90), drawn
    as :func:`.structure.ideal_power_ratio` draws (``n_gen`` real images with replacement)."""
    spec = _band_spectra(real)
    ref = _nanmedian(spec, 0)
    hi = (FREQ_EDGES[:-1] >= HIGH_BAND[0]) & (FREQ_EDGES[:-1] < HIGH_BAND[1])
    rng = np.random.default_rng(seed)
    with np.errstate(divide="ignore", invalid="ignore"):  # empty bands: NaN, reported as None
        vals = np.stack(
            [
                _nanmedian((_nanmedian(spec[rng.integers(0, len(real), n_gen)], 0) / ref)[:, hi], 1)
                for _ in range(draws)
            ]
        )
    p10, med, p90 = (np.round(v, 3) for v in _nanpercentile(vals, [10, 50, 90]))
    return {"p10": p10.tolist(), "median": med.tolist(), "p90": p90.tolist()}


def _nanpercentile(vals: np.ndarray, q) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(vals, q, axis=0)


def structure_block(real: np.ndarray, gen: np.ndarray, beam_fwhm_px) -> dict:
    """:func:`.structure.structure_report` (strict JSON) plus the ideal generator's high-band ratio
    and each band's beam cut-off frequency (where the beam passes 1 % of the power)."""
    from ..models.beam import cutoff_frequency

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # empty bands: NaN, reported as None
        rep = structure_report(real, gen, beam_fwhm_px)
    ideal = high_power_ratio_ideal(real, len(gen))
    # float32 images give float32 ratios: round as Python floats (1.674, not 1.6740000247955322)
    rep["peak_ratio"] = [round(float(v), 3) for v in rep["peak_ratio"]]
    rep["power_ratio_high_band"] = list(HIGH_BAND)
    rep["power_ratio_high_ideal_p10"] = ideal["p10"]
    rep["power_ratio_high_ideal_p90"] = ideal["p90"]
    rep["beam_cutoff_cycles_per_px"] = [round(cutoff_frequency(f), 4) for f in beam_fwhm_px]
    return json_safe(rep)


def yardsticks(
    real: np.ndarray,
    gen: np.ndarray,
    geometry: dict,
    model_space=None,
    two_sample: bool = True,
    seed: int = 0,
) -> dict:
    """``structure``, ``sources`` and ``two_sample`` (None when not run) for real and generated
    Jy/beam image sets; ``geometry`` from :func:`band_geometry`; ``model_space`` maps Jy/beam to
    the scale the two-sample network sees (default: asinh in units of the real images' median
    clip level)."""
    out = {
        "structure": structure_block(real, gen, geometry["beam_fwhm_px"]),
        "sources": json_safe(
            source_report(
                real, gen, geometry["beam_fwhm_px"], geometry["freq_mhz"], geometry["pixel_deg"], seed=seed
            )
        ),
        "two_sample": None,
    }
    out["structure"]["bands"] = geometry["names"]
    out["sources"]["beam"] = geometry["beam"]
    if two_sample:
        out["two_sample"] = run_two_sample(real, gen, model_space, seed)
    return out


def default_model_space(real: np.ndarray):
    """asinh(x / s_b) / asinh(1000), s_b the median smallest non-zero |pixel| of the real images'
    band b (their clip level): a stretch that needs no model card."""
    a = np.abs(np.asarray(real, dtype=np.float64))
    s = []
    for b in range(a.shape[1]):
        mins = [float(p[p > 0].min()) for p in a[:, b] if np.any(p > 0)]
        s.append(float(np.median(mins)) if mins else 1.0)
    s = np.asarray(s).reshape(1, -1, 1, 1)
    return lambda x: (np.arcsinh(np.asarray(x, dtype=np.float64) / s) / np.arcsinh(1000.0)).astype(np.float32)


def run_two_sample(real: np.ndarray, gen: np.ndarray, model_space=None, seed: int = 0) -> dict | None:
    """The two-sample test on real against generated, in ``model_space`` (see :func:`yardsticks`)."""
    f = model_space or default_model_space(real)
    return two_sample_test(f(real), f(gen), seed=seed)


def measure_structure(
    checkpoint: str | Path,
    n: int = 64,
    label: str | None = "H",
    guidance: float | None = None,
    seed: int = 0,
    real_root: str | Path | None = None,
    split: str = "TRAIN",
    sampler: str | None = None,
    steps: int | None = None,
    two_sample: bool = True,
    device: str = "cpu",
) -> dict:
    """Generate ``n`` images from ``checkpoint`` and measure the yardsticks against the real
    ``split`` cut-outs of the same class: the mapping for ``card["quality"]["structure"]``.
    The generator runs on ``device``; the two-sample test's small CNN stays on the CPU (its
    seeded accuracy is part of the measurement, and it takes seconds there).

    ``guidance``: None → the guidance the card's quality was measured at, else 2 for a model
    that takes guidance (0 for one that does not); ``real_root``: None → the card's training
    data root."""
    from ..models.quality import default_guidance
    from ..sampling.generate import accepted, generate, load_generator
    from .real import real_cutouts

    mc = load_generator(checkpoint, device)
    card = mc[1]
    if guidance is None:
        takes = accepted(card)["guidance"]
        guidance = (default_guidance(card) or 2.0) if takes else 0.0
    pre = card.preprocessing
    root = real_root or (card.data.get("config") or {}).get("root")
    if root is None:
        from ..errors import InputError

        raise InputError(checkpoint, "its card names no training data root; pass the real data root")
    real = real_cutouts(root, split, pre, label)
    g = generate(
        checkpoint,
        n,
        label=label,
        sampler=sampler,
        steps=steps,
        seed=seed,
        guidance=guidance,
        model_and_card=mc,
    )
    geom = band_geometry(pre, g.physical.shape[1])
    norm = pre.normalization
    model_space = (lambda x: np.clip(norm.forward(x), 0, 1)) if norm is not None else None
    y = yardsticks(real, g.physical, geom, model_space, two_sample, seed)
    s = y["structure"]
    return {
        "date": dt.date.today().isoformat(),
        "sampler": f"{g.meta['sampler']}-{g.meta['steps']}",
        "guidance": g.meta["guidance"],
        "n": n,
        "label": label,
        "seed": seed,
        "real": f"{len(real)} real {split} {label or 'all-label'} cut-outs ({root})",
        "power_ratio_high": s["power_ratio_high_median"],
        "power_ratio_high_ideal_p10": s["power_ratio_high_ideal_p10"],
        "power_ratio_high_ideal_p90": s["power_ratio_high_ideal_p90"],
        "peak_ratio": s["peak_ratio"],
        "two_sample": y["two_sample"],
        "power_spectrum": s,
        "sources": y["sources"],
    }


def write_structure(checkpoint: str | Path, entry: dict) -> Path:
    """Put ``entry`` under the card's ``quality.structure`` (a ``quality`` block is made when the
    card has none); every other field is written back as read.  Returns the card's path."""
    from ..models.checkpoint import ModelCard, card_path, read_card

    card = read_card(checkpoint)
    d = card.to_dict()
    d["quality"] = {**(d.get("quality") or {}), "structure": json_safe(entry)}
    return ModelCard.from_dict(d, card_path(checkpoint)).write(checkpoint)


def _fmt(v, d: int = 2) -> str:
    return "—" if v is None else f"{v:.{d}f}"


def summary_lines(structure: dict | None, sources: dict | None, two_sample: dict | None) -> list[str]:
    """Plain-text lines for the yardsticks (``radioviz compare`` and ``radioviz measure``), each
    number with the ideal generator's beside it."""
    lines = []
    if structure:
        hi, lo10, hi90 = (
            structure.get(k) or []
            for k in ("power_ratio_high_median", "power_ratio_high_ideal_p10", "power_ratio_high_ideal_p90")
        )
        band = "–".join(f"{v:g}" for v in structure.get("power_ratio_high_band", HIGH_BAND))
        lines.append(
            f"power ratio gen/real at {band} cycles/px, per band: "
            + ", ".join(
                f"{_fmt(v)} (ideal {_fmt(a)}–{_fmt(b)})" for v, a, b in zip(hi, lo10, hi90, strict=False)
            )
        )
        lines.append("peak ratio gen/real, per band: " + ", ".join(_fmt(v) for v in structure["peak_ratio"]))
        lines.append(
            "autocorrelation FWHM (px) real / gen, per band: "
            + ", ".join(
                f"{_fmt(a, 1)}/{_fmt(b, 1)}"
                for a, b in zip(structure["acf_fwhm_real"], structure["acf_fwhm_gen"], strict=False)
            )
        )
    if sources:
        for q, words in (
            ("sources_per_image", "sources per image"),
            ("size_beams", "source size (beams)"),
            ("flux_jy", "source flux (Jy)"),
        ):
            e = sources[q]
            lines.append(
                f"{words} median real/gen, KS (ideal): "
                + ", ".join(
                    f"{_fmt(r)}/{_fmt(g)} KS {_fmt(k)} ({_fmt(i)})"
                    for r, g, k, i in zip(
                        e["median_real"], e["median_gen"], e["ks"], e["ks_ideal"], strict=False
                    )
                )
            )
        a = sources.get("spectral_index")
        if a:
            lines.append(
                f"spectral index {a['bands']} median real/gen {_fmt(a['median_real'])}/"
                f"{_fmt(a['median_gen'])}, KS {_fmt(a['ks'])} (ideal {_fmt(a['ks_ideal'])}; "
                f"{a['n_real']}/{a['n_gen']} images)"
            )
    if two_sample:
        lo, hi = two_sample["ci95"]
        lines.append(
            f"two-sample accuracy {two_sample['accuracy']:.2f} (95% {lo:.2f}–{hi:.2f}; folds "
            f"{', '.join(f'{f:.2f}' for f in two_sample['folds'])}; ideal 0.5: a classifier cannot "
            "tell them apart)"
        )
    return lines
