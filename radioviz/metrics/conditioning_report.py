"""The conditioning checks of the shipped generators (``radioviz measure conditioning``): JSON and
figures in ``out``, merged into ``out/conditioning.json`` (a partial run keeps the other sections);
with ``write_card`` the mask model's measurement goes into its card's ``quality``.

- flux (EDM, Martinez et al. Fig. 17): Δ+ vs standardised peak flux, real vs generated;
- class + guidance (Table 7): the classifier's accuracy on H / non-halo samples across ω;
- masks (RADiff): IoU of the photutils mask of each sample with the mask it was generated from,
  against the ceiling photutils reaches on simulated fields with known truth masks.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..data.conditions import derive_mask
from ..data.dataset import DatasetConfig, build_dataset
from ..data.noise import clip_image
from ..display import stretch_image
from ..sampling.generate import load_generator
from ..simulate import SimConfig, simulate_field
from .compare import compare_images
from .conditioning import flux_relation, guidance_sweep, mask_fidelity, mask_iou
from .evaluate import load_classifier
from .plots import pyplot
from .real import real_cutouts

SECTIONS = ("flux", "guidance", "masks")


def simulated_ceiling(n: int = 12) -> dict:
    """Source-pixel IoU of photutils masks against the simulator's truth (72–103 MHz, central 64×64)."""
    ious = []
    for seed in range(300, 300 + n):
        f = simulate_field(SimConfig(seed=seed, halo=("halo", "minihalo", None)[seed % 3]))
        c = f.images[0].data.shape[0] // 2
        sl = slice(c - 32, c + 32)
        img = np.stack([clip_image(im.data)[0][sl, sl] for im in f.images])
        ious.append(mask_iou(f.masks[0][sl, sl], derive_mask(img)))
    return {"iou": ious, "iou_mean": float(np.mean(ious)), "n_fields": n}


def write_mask_quality(path: Path, m: dict, n: int, command: str = "") -> Path:
    """The mask model's quality, measured as it is used (each real cut-out's own mask and
    background as conditions), into its card (``structure`` kept): the Models tab and pickers
    read it there.  NN SSIM is left out: a sample conditioned on an image's background is meant
    to resemble it."""
    from .card_measures import write_quality

    q = {
        "date": time.strftime("%Y-%m-%d"),
        "sampler": "heun-25, conditioned on each real cut-out's mask + background",
        "n": n,
        "real": f"the {n} real TRAIN cut-outs (all classes)",
        "hist_err": round(m["hist_mean_abs_rel_err"], 4),
        "zero_fraction_gen": round(m["zero_fraction_gen"], 4),
        "zero_fraction_real": round(m["zero_fraction_real"], 4),
        "fid_domain": None if m["fid_domain"] is None else round(m["fid_domain"], 3),
        "mask_iou": round(m["iou_mean"], 3),
        "mask_iou_ratio_to_ceiling": round(m["ratio_to_ceiling"], 3),
        "command": command,
    }
    return write_quality(path, q)


def conditioning_report(
    real_root: str | Path,
    edm_path: str | Path,
    mask_model: str | Path,
    classifier: str | Path | None,
    out: str | Path,
    n: int = 16,
    omegas=(0.0, 1.0, 2.0, 4.0),
    cache_dir: Path | None = None,
    skip=(),
    write_card: bool = False,
    command: str = "",
    device: str = "cpu",
) -> dict:
    """Run the checks not in ``skip`` and write ``out/conditioning.json`` and the figures; the
    networks run on ``device``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plt = pyplot()
    skip = set(skip)
    clf = load_classifier(classifier, device) if classifier else None
    result_path = out / "conditioning.json"
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    if "masks" in skip or {"flux", "guidance"} - set(skip):
        edm = load_generator(edm_path, device)
    else:  # the mask model alone: its own preprocessing decides the real cut-outs
        edm = load_generator(mask_model, device)
    pre = edm[1].preprocessing
    real = real_cutouts(real_root, "TRAIN", pre, None, cache_dir)
    ds, _, _ = build_dataset(
        DatasetConfig(
            str(real_root), "TRAIN", pre.band_convention, pre.cutout_size, pre.nsigma, augment=False
        ),
        cache_dir,
        progress=False,
    )
    if "flux" not in skip:
        t0 = time.time()
        fr = flux_relation(edm_path, edm, real, seed=0)
        fr["seconds"] = round(time.time() - t0, 1)
        result["flux"] = {k: v for k, v in fr.items()}
        fig, ax = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
        ax[0].scatter(
            fr["scaled_peak_flux"],
            fr["delta_plus_real"],
            c="k",
            s=14,
            label=f"real (ρ = {fr['spearman_real']:.2f})",
        )
        ax[0].scatter(
            fr["scaled_peak_flux"],
            fr["delta_plus_gen"],
            c="C1",
            s=14,
            label=f"generated (ρ = {fr['spearman_gen']:.2f})",
        )
        ax[0].set(
            xlabel="standardised Box-Cox peak flux",
            ylabel="Δ+ (positive emission outside sources / peak)",
            yscale="log",
            title="Flux conditioning (cf. Martinez et al. Fig. 17)",
        )
        ax[0].legend(fontsize=8)
        ax[1].loglog(fr["peak_requested"], fr["peak_gen"], "o", ms=4)
        lim = [min(fr["peak_requested"]), max(fr["peak_requested"])]
        ax[1].plot(lim, lim, "k--", lw=0.8)
        ax[1].set(
            xlabel="requested peak flux (Jy/beam)",
            ylabel="generated peak (Jy/beam)",
            title=f"Spearman ρ = {fr['spearman_peak_requested_vs_generated']:.2f}",
        )
        fig.tight_layout()
        fig.savefig(out / "flux_relation.png")
        plt.close(fig)
        print("flux", {k: v for k, v in fr.items() if not isinstance(v, list)}, flush=True)
    if "guidance" not in skip:
        t0 = time.time()
        gs = guidance_sweep(edm_path, edm, clf, omegas, n, real=(ds.images, ds.labels))
        gs["seconds"] = round(time.time() - t0, 1)
        result["guidance"] = gs
        fig, ax = plt.subplots(figsize=(5, 4), dpi=110)
        om = [r["omega"] for r in gs["rows"]]
        ax.plot(om, [r["accuracy"] for r in gs["rows"]], "o-", label="accuracy on samples")
        ax.plot(om, [r["halo_pass_0.5"] for r in gs["rows"]], "s--", label="H samples scored ≥ 0.5")
        ax.plot(om, [r["nonhalo_rejected"] for r in gs["rows"]], "^--", label="non-halo samples scored < 0.5")
        ax.axhline(gs["real_accuracy"], color="k", ls=":", label=f"real images ({gs['real_accuracy']:.2f})")
        ax.set(
            xlabel="guidance ω",
            ylabel="fraction",
            ylim=(0, 1.05),
            title="Class conditioning vs ω (A classifier; cf. Table 7)",
        )
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "guidance_sweep.png")
        plt.close(fig)
        print("guidance", gs, flush=True)
    if "masks" not in skip and Path(mask_model).exists():
        t0 = time.time()
        mm = load_generator(mask_model, device)
        mf = mask_fidelity(mask_model, mm, real)
        gen = mf.pop("generated")
        ceiling = simulated_ceiling()
        cmp = compare_images(real, gen, mm[1].preprocessing.normalization, classifier_model=clf)
        result["masks"] = {
            "checkpoint": str(mask_model),
            "iterations": mm[1].to_dict().get("training", {}).get("iterations"),
            "normalization": "asinh" if mm[1].preprocessing.normalization.asinh_soft else "log",
            **mf,
            "ceiling_simulated": ceiling,
            "ratio_to_ceiling": mf["iou_mean"] / ceiling["iou_mean"],
            "fid_domain": cmp.report["fid_domain"],
            "kid_domain": cmp.report["kid_domain"],
            "hist_mean_abs_rel_err": cmp.report["hist_mean_abs_rel_err"],
            "zero_fraction_gen": cmp.report["zero_fraction_gen"],
            "zero_fraction_real": cmp.report["zero_fraction_real"],
            "seconds": round(time.time() - t0, 1),
        }
        if write_card:
            write_mask_quality(Path(mask_model), result["masks"], len(real), command)
        order = np.argsort(-np.asarray(mf["iou"]))[[0, len(real) // 2, -1]]
        fig, axes = plt.subplots(3, 4, figsize=(9, 7), dpi=100)
        for row, i in zip(axes, order, strict=True):
            m = derive_mask(real[i])
            for axx, (img, title) in zip(
                row,
                (
                    (stretch_image(real[i, 0]), "real"),
                    (m, "mask given"),
                    (stretch_image(gen[i, 0]), "generated"),
                    (derive_mask(gen[i]), f"mask found, IoU {mf['iou'][i]:.2f}"),
                ),
                strict=True,
            ):
                axx.imshow(
                    img,
                    origin="lower",
                    cmap="inferno" if "mask" not in title else "viridis",
                    vmin=0,
                    vmax=(3 if "mask" in title else 1),
                )
                axx.set_title(title, fontsize=8)
                axx.axis("off")
        fig.suptitle(
            f"Mask-conditioned EDM: mean IoU {mf['iou_mean']:.2f} vs photutils ceiling "
            f"{ceiling['iou_mean']:.2f} (simulated truth)"
        )
        fig.tight_layout()
        fig.savefig(out / "mask_examples.png")
        plt.close(fig)
        print("masks", {k: v for k, v in result["masks"].items() if not isinstance(v, list)}, flush=True)
    result_path.write_text(json.dumps(result, indent=1, default=float))
    return result
