"""Conditioning checks for the shipped generators, written to docs/generators/ (JSON + PNGs).

Run:  python scripts/eval_generators.py --real ../shared/data/GLEAM-Data [--n 16] [--cache-dir DIR]
      python scripts/eval_generators.py --real ../shared/data/GLEAM-Data --skip flux guidance \
          --mask-model runs/edm_mask_gleam.safetensors --out /tmp/masks   # the mask IoU alone

Results are merged into ``OUT/conditioning.json`` (a partial run keeps the other sections).

- flux (EDM, Martinez et al. Fig. 17): Δ+ vs standardised peak flux, real vs generated;
- class + guidance (Table 7): A-classifier accuracy on H / non-halo samples across ω;
- masks (RADiff): IoU of the photutils mask of each sample with the mask it was generated
  from, against the ceiling photutils reaches on simulated fields with known truth masks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from radioviz.data.conditions import derive_mask
from radioviz.data.noise import clip_image
from radioviz.display import stretch_image
from radioviz.metrics.compare import compare_images, real_cutouts
from radioviz.metrics.conditioning import flux_relation, guidance_sweep, mask_fidelity, mask_iou
from radioviz.metrics.evaluate import load_classifier
from radioviz.metrics.plots import pyplot
from radioviz.sampling.generate import load_generator
from radioviz.simulate import SimConfig, simulate_field

OUT = Path("docs/generators")


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


def write_mask_quality(path: Path, m: dict, n: int) -> None:
    """The mask model's quality, measured as it is used (each real cut-out's own mask and
    background as conditions), into its card: the Models tab and pickers read it from there.
    NN SSIM is left out: a sample conditioned on an image's background is meant to resemble it."""
    card_file = path.with_suffix(".json")
    card = json.loads(card_file.read_text())
    card["quality"] = {
        "date": time.strftime("%Y-%m-%d"),
        "sampler": "heun-25, conditioned on each real cut-out's mask + background",
        "n": n,
        "real": "the 36 real TRAIN cut-outs (all classes)",
        "hist_err": round(m["hist_mean_abs_rel_err"], 4),
        "zero_fraction_gen": round(m["zero_fraction_gen"], 4),
        "zero_fraction_real": round(m["zero_fraction_real"], 4),
        "fid_domain": round(m["fid_domain"], 3),
        "mask_iou": round(m["iou_mean"], 3),
        "mask_iou_ratio_to_ceiling": round(m["ratio_to_ceiling"], 3),
        "command": " ".join(["python", "scripts/eval_generators.py", *sys.argv[1:]]),
    }
    card_file.write_text(json.dumps(card, indent=2, sort_keys=True, default=str))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--real", required=True)
    ap.add_argument("--edm", default="checkpoints/edm_gleam.safetensors")
    ap.add_argument("--mask-model", default="checkpoints/edm_mask_gleam.safetensors")
    ap.add_argument("--classifier", default="checkpoints/classifier_A.safetensors")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--omegas", type=float, nargs="+", default=[0.0, 1.0, 2.0, 4.0])
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--skip", nargs="*", default=[], choices=["flux", "guidance", "masks"])
    ap.add_argument("--out", type=Path, default=OUT, help="folder for conditioning.json and the figures")
    ap.add_argument(
        "--write-card",
        action="store_true",
        help="write the mask measurement into the mask model's card (card['quality'])",
    )
    a = ap.parse_args()
    out = a.out
    out.mkdir(parents=True, exist_ok=True)
    plt = pyplot()
    clf = load_classifier(a.classifier)
    result_path = out / "conditioning.json"
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    if "masks" in a.skip or {"flux", "guidance"} - set(a.skip):
        edm = load_generator(a.edm)
    else:  # the mask model alone: its own preprocessing decides the real cut-outs
        edm = load_generator(a.mask_model)
    pre = edm[1].preprocessing
    real = real_cutouts(a.real, "TRAIN", pre, None, a.cache_dir)
    from radioviz.data.dataset import DatasetConfig, build_dataset

    ds, _, _ = build_dataset(
        DatasetConfig(a.real, "TRAIN", pre.band_convention, pre.cutout_size, pre.nsigma, augment=False),
        a.cache_dir,
        progress=False,
    )
    if "flux" not in a.skip:
        t0 = time.time()
        fr = flux_relation(a.edm, edm, real, seed=0)
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
    if "guidance" not in a.skip:
        t0 = time.time()
        gs = guidance_sweep(a.edm, edm, clf, a.omegas, a.n, real=(ds.images, ds.labels))
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
    if "masks" not in a.skip and Path(a.mask_model).exists():
        t0 = time.time()
        mm = load_generator(a.mask_model)
        mf = mask_fidelity(a.mask_model, mm, real)
        gen = mf.pop("generated")
        ceiling = simulated_ceiling()
        cmp = compare_images(real, gen, mm[1].preprocessing.normalization, classifier_model=clf)
        result["masks"] = {
            "checkpoint": str(a.mask_model),
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
        if a.write_card:
            write_mask_quality(Path(a.mask_model), result["masks"], len(real))
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


if __name__ == "__main__":
    main()
