"""Does the conditioning work?  Checks after Martinez et al. (flux: Fig. 17; class and guidance:
Table 7) and RADiff (masks: IoU of the mask found on the generated image with the one given).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from ..data.conditions import derive_mask
from ..data.flux import FluxTransform, peak_flux
from ..sampling.generate import generate
from .evaluate import score_images
from .images import ssim


def positive_background_residual(images: np.ndarray, band: int = 0) -> np.ndarray:
    """Δ+ per image: the summed positive emission outside the photutils source segments, on the
    image scaled to its peak (Martinez et al. §5.2 use the PyBDSF model; the segments stand in
    for it).  Fainter sources show relatively more background: Δ+ falls with peak flux."""
    out = []
    for im in images:
        x = np.nan_to_num(im[band]) / max(float(np.nanmax(im[band])), 1e-12)
        m = derive_mask(im, band=band)
        out.append(float(np.clip(x[m == 0], 0, None).sum()))
    return np.asarray(out)


def flux_relation(
    checkpoint,
    model_and_card,
    real: np.ndarray,
    seed: int = 0,
    sampler: str = "heun",
    steps: int = 25,
    label: str | None = None,
) -> dict:
    """Generate one image per real image at that image's peak flux; Δ+ vs standardised peak flux
    for both, with Spearman correlations (Fig. 17)."""
    card = model_and_card[1]
    tf = FluxTransform.from_dict(card.flux)
    peaks = peak_flux(real)
    g = generate(
        checkpoint,
        len(real),
        label=label,
        sampler=sampler,
        steps=steps,
        seed=seed,
        flux=peaks,
        model_and_card=model_and_card,
    )
    d_real, d_gen = positive_background_residual(real), positive_background_residual(g.physical)
    z = tf.to_model(peaks)
    return {
        "scaled_peak_flux": z.tolist(),
        "delta_plus_real": d_real.tolist(),
        "delta_plus_gen": d_gen.tolist(),
        "peak_gen": peak_flux(g.physical).tolist(),
        "peak_requested": peaks.tolist(),
        "spearman_real": float(spearmanr(z, d_real).statistic),
        "spearman_gen": float(spearmanr(z, d_gen).statistic),
        "spearman_peak_requested_vs_generated": float(spearmanr(peaks, peak_flux(g.physical)).statistic),
    }


def guidance_sweep(
    checkpoint,
    model_and_card,
    classifier,
    omegas=(0.0, 1.0, 2.0, 4.0),
    n: int = 16,
    seed: int = 0,
    sampler: str = "heun",
    steps: int = 25,
    real: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """A-classifier accuracy on class-conditioned samples (n halo 'H', n 'non-halo') per ω, and
    on real images for reference (Table 7)."""
    model, pre, _ = classifier
    rows = []
    for w in omegas:
        run = {"sampler": sampler, "steps": steps, "guidance": w, "model_and_card": model_and_card}
        halo = generate(checkpoint, n, label="H", seed=seed, **run).physical
        non = generate(checkpoint, n, label="non-halo", seed=seed + 1, **run).physical
        s_h, s_n = score_images(model, pre, halo), score_images(model, pre, non)
        rows.append(
            {
                "omega": w,
                "accuracy": float((np.sum(s_h >= 0.5) + np.sum(s_n < 0.5)) / (2 * n)),
                "halo_pass_0.5": float(np.mean(s_h >= 0.5)),
                "nonhalo_rejected": float(np.mean(s_n < 0.5)),
                "mean_score_H": float(s_h.mean()),
                "mean_score_nonhalo": float(s_n.mean()),
            }
        )
    out = {"rows": rows, "n_per_class": n, "sampler": sampler, "steps": steps}
    if real is not None:
        images, labels = real
        s = score_images(model, pre, images)
        out["real_accuracy"] = float(np.mean((s >= 0.5) == (labels == 1)))
    return out


def mask_iou(given: np.ndarray, found: np.ndarray) -> float:
    """IoU of the source pixels (class > 0) of two masks; 1.0 when both are empty."""
    a, b = given > 0, found > 0
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def mask_fidelity(
    checkpoint,
    model_and_card,
    real: np.ndarray,
    seed: int = 0,
    sampler: str = "heun",
    steps: int = 25,
    with_background: bool = True,
) -> dict:
    """For each real cut-out: derive its mask, generate from that mask (and the image as the
    background reference), derive the mask of the sample and compare (IoU), plus SSIM to the
    real image in the generator's [0, 1] space."""
    card = model_and_card[1]
    norm = card.preprocessing.normalization
    ious, ssims, gens = [], [], []
    for i, im in enumerate(real):
        m = derive_mask(im)
        g = generate(
            checkpoint,
            1,
            sampler=sampler,
            steps=steps,
            seed=seed + i,
            mask=m,
            background=im if with_background else None,
            model_and_card=model_and_card,
        )
        ious.append(mask_iou(m, derive_mask(g.physical[0])))
        ssims.append(
            ssim(np.clip(norm.forward(g.physical[:1]), 0, 1)[0], np.clip(norm.forward(im[None]), 0, 1)[0])
        )
        gens.append(g.physical[0])
    return {
        "iou": ious,
        "iou_mean": float(np.mean(ious)),
        "ssim": ssims,
        "ssim_mean": float(np.mean(ssims)),
        "generated": np.stack(gens),
    }
