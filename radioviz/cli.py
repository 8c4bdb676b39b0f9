"""The ``radioviz`` command line.  Each subcommand is a thin wrapper over a library function."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli_segmenter import register_train as register_train_segmenter
from .errors import RadioVizError


def _add_simulate(sub):
    p = sub.add_parser(
        "simulate",
        help="make synthetic GLEAM-like fields (and compare them with real ones)",
        description="Simulate GLEAM-like four-band fields with truth masks and catalogues, written in the published layout.",
    )
    p.add_argument(
        "--out", type=Path, help="output directory (published layout: <SPLIT>_DATA_<class>/, truth/)"
    )
    p.add_argument("--n", type=int, default=6, help="number of fields (default 6)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first field; field k uses seed+k")
    p.add_argument(
        "--recipe",
        choices=["sample", "halo", "minihalo", "none"],
        default="sample",
        help="'sample': a mix of halo, mini-halo and empty fields (the bundled sample set); otherwise every field gets that",
    )
    p.add_argument("--split", default="SIM", help="split name used in the folder names (default SIM)")
    p.add_argument(
        "--compare-real",
        type=Path,
        metavar="ROOT",
        help="print simulated-vs-real per-band statistics against this GLEAM-Data root",
    )
    p.add_argument("--compare-split", default="TRAIN")
    p.set_defaults(func=cmd_simulate)


def _add_data(sub):
    p = sub.add_parser("data", help="inspect data and build cached training sets")
    dsub = p.add_subparsers(dest="data_cmd", required=True)
    i = dsub.add_parser(
        "inspect", help="list sources, classes, bands, noise and anomalies in a file or directory"
    )
    i.add_argument("path", type=Path)
    i.set_defaults(func=cmd_inspect)
    b = dsub.add_parser("build", help="build (or reuse) a cached, augmented training set")
    b.add_argument(
        "--data", type=Path, required=True, help="root of the published layout (<SPLIT>_DATA_<class>/)"
    )
    b.add_argument("--split", default="TRAIN")
    b.add_argument(
        "--convention",
        choices=["native", "coregistered"],
        default="native",
        help="band convention (see README)",
    )
    b.add_argument("--size", type=int, default=64)
    b.add_argument("--val-fraction", type=float, default=0.2)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument(
        "--offcentre", type=int, default=0, help="off-centre 'empty space' negatives per halo field"
    )
    b.add_argument("--no-augment", action="store_true")
    b.add_argument("--cache-dir", type=Path)
    b.add_argument("--force", action="store_true", help="rebuild even if cached")
    b.set_defaults(func=cmd_build)


SAMPLE_RECIPE = ("halo", None, "minihalo", "halo", None, "halo")


def cmd_simulate(args) -> int:
    from tqdm.auto import tqdm

    from .simulate import SimConfig, simulate_field, write_field

    fields = []
    for k in tqdm(range(args.n), desc="simulating", disable=args.n < 2):
        kind = (
            SAMPLE_RECIPE[k % len(SAMPLE_RECIPE)]
            if args.recipe == "sample"
            else (None if args.recipe == "none" else args.recipe)
        )
        fld = simulate_field(SimConfig(seed=args.seed + k, halo=kind))
        fields.append(fld)
        if args.out:
            write_field(fld, args.out, args.split)
            halo = fld.catalog[[t in ("halo", "minihalo") for t in fld.catalog["type"]]]
            where = f" {kind} at RA {halo['ra'][0]:.4f} Dec {halo['dec'][0]:.4f}" if len(halo) else " no halo"
            tqdm.write(f"{fld.name}:{where}, {len(fld.catalog)} sources")
    if args.out:
        print(f"wrote {len(fields)} fields to {args.out}")
    if args.compare_real:
        from .io.layout import read_stack, split_sources
        from .simulate.compare import band_stats, compare_table

        real = [
            read_stack(s).images
            for s in tqdm(split_sources(args.compare_real, args.compare_split), desc="reading real")
        ]
        print(compare_table(band_stats([f.images for f in fields]), band_stats(real)))
    if not args.out and not args.compare_real:
        print("nothing to do: give --out DIR and/or --compare-real ROOT", file=sys.stderr)
        return 2
    return 0


def cmd_inspect(args) -> int:
    from .data.inspect import format_report, inspect_path

    report = inspect_path(args.path, progress=sys.stderr.isatty())
    print(format_report(report))
    return 0 if report.ok else 1


def cmd_build(args) -> int:
    from .data.dataset import DatasetConfig, build_dataset

    cfg = DatasetConfig(
        str(args.data),
        args.split,
        args.convention,
        args.size,
        val_fraction=args.val_fraction,
        seed=args.seed,
        augment=not args.no_augment,
        offcentre_per_halo=args.offcentre,
    )
    ds, path, cached = build_dataset(cfg, args.cache_dir, progress=True, force=args.force)
    n_val = int(ds.is_val.sum())
    print(f"{'reused' if cached else 'built'} {path}")
    print(
        f"{len(ds.images)} images {tuple(ds.images.shape[1:])} from {len(ds.source_names)} sources in {len(set(ds.source_group.tolist()))} sky groups; {len(ds.images) - n_val} train / {n_val} validation images"
    )
    return 0


def _add_train(sub):
    p = sub.add_parser("train", help="train models (resumable)")
    tsub = p.add_subparsers(dest="train_cmd", required=True)
    c = tsub.add_parser(
        "classifier", help="train a halo classifier (L, A or D) on a split of the published layout"
    )
    c.add_argument("--arch", choices=["L", "A", "D"], default="A")
    c.add_argument("--data", type=Path, required=True, help="root of the published layout")
    c.add_argument("--split", default="TRAIN")
    c.add_argument("--convention", choices=["native", "coregistered"], default="native")
    c.add_argument(
        "--offcentre", type=int, default=2, help="off-centre 'empty space' negatives per halo field"
    )
    c.add_argument("--val-fraction", type=float, default=0.2)
    c.add_argument("--epochs", type=int, default=20)
    c.add_argument("--batch-size", type=int, default=128)
    c.add_argument("--lr", type=float, default=1e-3)
    c.add_argument("--patience", type=int, default=5)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument(
        "--out",
        type=Path,
        required=True,
        help="checkpoint path (.safetensors; the card is written beside it)",
    )
    c.add_argument(
        "--normalization",
        choices=["image", "dataset", "snr"],
        default="image",
        help="min-max per image and band, over the data set (the paper's), or asinh in noise units",
    )
    c.add_argument(
        "--images-per-epoch",
        type=int,
        default=None,
        help="draw this many training images per epoch (default all)",
    )
    c.add_argument(
        "--generated",
        type=Path,
        nargs="+",
        help="'radioviz sample' .npz files of generated halos to add (diffusion-assisted training)",
    )
    c.add_argument(
        "--ratio",
        type=float,
        default=0.5,
        help="Ng/Nr: generated halos per real training image (with --generated; paper 0.5)",
    )
    c.add_argument(
        "--resume", action="store_true", help="continue from the training state saved beside --out"
    )
    c.add_argument("--cache-dir", type=Path)
    c.set_defaults(func=cmd_train_classifier)
    _add_train_diffusion(
        tsub, "ddpm", "train a class-conditional discrete DDPM (resumable; EMA weights saved)"
    )
    _add_train_wgan(tsub)
    register_train_segmenter(tsub)
    _add_train_diffusion(
        tsub, "edm", "train a continuous-time EDM model with class (and --flux) conditioning (resumable)"
    )


def _add_cv(sub):
    p = sub.add_parser(
        "cv", help="cross-validate a classifier by source over several seeds; writes JSON and plots"
    )
    p.add_argument("--arch", choices=["L", "A", "D"], default="L")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--split", default="TRAIN")
    p.add_argument("--convention", choices=["native", "coregistered"], default="native")
    p.add_argument("--offcentre", type=int, default=2)
    p.add_argument("--k", type=int, default=4, help="folds (by sky group)")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--images-per-epoch", type=int, default=None)
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--normalization", choices=["image", "dataset", "snr"], default="image")
    p.add_argument("--out", type=Path, required=True, help="directory for cv_<arch>.json and the plots")
    p.add_argument("--cache-dir", type=Path)
    p.add_argument(
        "--update-card", type=Path, help="also record the CV summary in this checkpoint's model card"
    )
    p.add_argument(
        "--generated",
        type=Path,
        nargs="+",
        help="'radioviz sample' .npz files of generated halos (diffusion-assisted variant; each fold uses only those nearest its own training sources)",
    )
    p.add_argument("--ratio", type=float, default=0.5, help="Ng/Nr with --generated (paper 0.5)")
    p.set_defaults(func=cmd_cv)


def cmd_cv(args) -> int:
    import json
    import time

    import numpy as np

    from .data.dataset import DatasetConfig, build_dataset
    from .metrics.classification import binary_metrics
    from .metrics.plots import plot_confusion, plot_roc, roc_curve
    from .training.classifier import TrainConfig, load_generated
    from .training.crossval import cross_validate

    ds, _, _ = build_dataset(
        DatasetConfig(str(args.data), args.split, args.convention, offcentre_per_halo=args.offcentre),
        args.cache_dir,
    )
    generated = load_generated(args.generated, ds.images) if args.generated else None
    cfg = TrainConfig(
        args.arch,
        args.epochs,
        patience=args.patience,
        normalization=args.normalization,
        images_per_epoch=args.images_per_epoch,
        generated_ratio=args.ratio if generated is not None else 0.0,
    )
    tag = args.arch + ("_generated" if generated is not None else "")
    t0 = time.time()
    result = cross_validate(ds, cfg, args.k, range(args.seeds), generated=generated)
    if generated is not None:
        result["generated"]["files"] = [str(p) for p in args.generated]
    result["wall_seconds"] = round(time.time() - t0, 1)
    result["command"] = "radioviz " + " ".join(sys.argv[1:])
    result["data_hash"] = ds.meta["data_hash"]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"cv_{tag}.json").write_text(json.dumps(result))
    runs = result["runs"]
    plot_roc(
        [(*roc_curve(result["source_labels"], r["source_scores"]), f"seed {r['seed']}") for r in runs],
        args.out / f"roc_{tag}_per_source.png",
        f"{tag}: per-source ROC, {args.k}-fold x {args.seeds} seeds",
    )
    plot_roc(
        [(*roc_curve(r["image_labels_centre"], r["image_scores_centre"]), f"seed {r['seed']}") for r in runs],
        args.out / f"roc_{tag}_per_image.png",
        f"{tag}: per-image ROC",
    )
    pooled = binary_metrics(
        np.concatenate([result["source_labels"]] * len(runs)),
        np.concatenate([r["source_scores"] for r in runs]),
    )
    plot_confusion(
        pooled["confusion"], args.out / f"confusion_{tag}_per_source.png", f"{tag}: per source, all seeds"
    )
    for level in ("per_image", "per_source"):
        m = result[level]
        print(f"{tag} {level:<10s} " + "  ".join(f"{k} {v['mean']:.4f}±{v['std']:.4f}" for k, v in m.items()))
    print(f"{result['wall_seconds']:.0f} s; wrote {args.out}/cv_{tag}.json and plots")
    if args.update_card:
        attach_cv_to_card(args.update_card, result)
    return 0


def attach_cv_to_card(checkpoint: Path, result: dict) -> None:
    """Record a CV summary (not the per-run scores) under metrics.cv in a checkpoint's card."""
    import json

    from .models.checkpoint import card_path, read_card

    card = read_card(checkpoint)
    card.setdefault("metrics", {})["cv"] = {
        k: result[k]
        for k in ("k", "seeds", "per_image", "per_source", "wall_seconds", "command", "train_config")
    }
    card_path(checkpoint).write_text(json.dumps(card, indent=2, sort_keys=True, default=str))


def _add_generator_training_args(p, save_every: int):
    """What every generator trainer takes: its data, output, resumption and cache."""
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--split", default="TRAIN")
    p.add_argument(
        "--convention",
        choices=["native", "coregistered", "single-frequency"],
        default="native",
        help="'single-frequency': every FITS file under --data is one 1-channel image (Mishra et al.'s WGAN-vs-DDPM set)",
    )
    p.add_argument("--save-every", type=int, default=save_every)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--cache-dir", type=Path)


def _generator_training_set(args):
    from .data.dataset import DatasetConfig, build_dataset

    return build_dataset(
        DatasetConfig(str(args.data), args.split, args.convention, seed=args.seed), args.cache_dir
    )[0]


def _report_trained(args, card: dict, what: str = "parameters") -> int:
    print(
        f"wrote {Path(args.out).with_suffix('.safetensors')}: {card['parameter_count']} {what}, {card['training']['iterations']} iterations, {card['training']['wall_seconds']} s"
    )
    return 0


def _add_train_diffusion(tsub, kind: str, help: str):
    d = tsub.add_parser(kind, help=help)
    _add_generator_training_args(d, save_every=500)
    d.add_argument("--steps", type=int, default=20000)
    d.add_argument("--batch-size", type=int, default=32)
    d.add_argument("--lr", type=float, default=3e-4)
    d.add_argument("--base", type=int, default=16, help="U-Net base width")
    d.add_argument("--unconditional", action="store_true", help="no class label")
    d.add_argument("--flux", action="store_true", help="also condition on peak flux (Box-Cox, standardised)")
    d.add_argument(
        "--mask",
        action="store_true",
        help="also condition on a segmentation mask derived with photutils (RADiff)",
    )
    d.add_argument(
        "--background",
        action="store_true",
        help="also condition on a background reference image (RADiff; dropped 50 %%)",
    )
    d.set_defaults(func=cmd_train_diffusion, kind=kind)


def cmd_train_diffusion(args) -> int:
    from .training.diffusion import DiffusionConfig, train_diffusion

    cfg = DiffusionConfig(
        kind=args.kind,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        base=args.base,
        conditional=not args.unconditional,
        flux=args.flux,
        mask=args.mask,
        background=args.background,
        save_every=args.save_every,
        seed=args.seed,
    )
    return _report_trained(
        args, train_diffusion(_generator_training_set(args), cfg, args.out, resume=args.resume)
    )


def _add_train_wgan(tsub):
    w = tsub.add_parser("wgan", help="train the conditional WGAN-GP (Mishra et al. Tables A1/A2; resumable)")
    _add_generator_training_args(w, save_every=100)
    w.add_argument(
        "--iterations", type=int, default=2000, help="generator steps (each after n_critic = 5 critic steps)"
    )
    w.add_argument("--batch-size", type=int, default=32)
    w.add_argument("--width", type=int, default=128, help="generator width (the paper's is 256)")
    w.add_argument(
        "--head",
        type=int,
        default=16,
        help="channels before the final 3x3 conv (0: one per band, the shipped 4-band model's layout)",
    )
    w.set_defaults(func=cmd_train_wgan)


def cmd_train_wgan(args) -> int:
    from .training.wgan import WGANConfig, train_wgan

    cfg = WGANConfig(
        iterations=args.iterations,
        batch_size=args.batch_size,
        width=args.width,
        head=args.head,
        save_every=args.save_every,
        seed=args.seed,
    )
    card = train_wgan(_generator_training_set(args), cfg, args.out, resume=args.resume)
    if card["output_std_over_samples"] < 1e-4:
        print(
            f"warning: {args.out}: the generator's output no longer depends on its input (collapsed to one image); restart with another --seed or --head",
            file=sys.stderr,
        )
    return _report_trained(args, card, "generator parameters")


def _add_sample(sub):
    p = sub.add_parser("sample", help="generate images from a generator checkpoint (DDPM, EDM, WGAN)")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--label", help="class label (see the model card: non-halo, H, cH, mH)")
    p.add_argument(
        "--sampler",
        choices=["ddpm", "ddim", "heun", "euler", "oneshot"],
        help="default: the model's own (DDPM: ddim, EDM: heun, WGAN: oneshot)",
    )
    p.add_argument("--steps", type=int, help="default: ddpm 1000, ddim 50, heun/euler 25")
    p.add_argument("--eta", type=float, default=0.0)
    p.add_argument(
        "--guidance",
        type=float,
        default=0.0,
        help="classifier-free guidance ω: D = (1+ω)·D_cond − ω·D_uncond",
    )
    p.add_argument("--flux", type=float, help="peak flux in Jy/beam (models trained with --flux)")
    p.add_argument(
        "--mask",
        type=Path,
        help="segmentation mask: .fits or .npy, 64×64 class indices (mask-conditioned models)",
    )
    p.add_argument(
        "--background",
        type=Path,
        help="background reference FITS (one file per band cube, or any band file of a source)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help=".npz with images, physical and meta")
    p.set_defaults(func=cmd_sample)


def cmd_sample(args) -> int:
    from tqdm.auto import tqdm

    from .sampling.generate import generate, save_samples

    bars = []  # created at the first step, so a rejected option prints only its one-line error

    from .data.conditions import read_background, read_mask

    def progress(info):
        if not bars:
            bars.append(tqdm(total=info["n"], desc="sampling", unit="step"))
        bars[0].update(1)

    mask = read_mask(args.mask) if args.mask else None
    background = read_background(args.background) if args.background else None
    g = generate(
        args.checkpoint,
        args.n,
        args.label,
        args.sampler,
        args.steps,
        args.eta,
        args.seed,
        args.guidance,
        progress,
        flux=args.flux,
        mask=mask,
        background=background,
    )
    for b in bars:
        b.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_samples(g, args.out)
    print(
        f"wrote {args.out}: {g.images.shape}, {g.meta['nfe']} network evaluations, {g.meta['wall_seconds']} s"
    )
    return 0


def _add_compose(sub):
    p = sub.add_parser(
        "compose", help="generate sources from masks and place them on a field without overlap (RADiff §5.3)"
    )
    p.add_argument(
        "--masks",
        type=Path,
        nargs="+",
        required=True,
        help="mask files (.npy or .fits, 64×64 class indices: 0 background, 1 compact, 2 extended, 3 diffuse)",
    )
    p.add_argument(
        "--background",
        type=Path,
        required=True,
        help="the field: a band file, a cube or a source directory (4 bands)",
    )
    p.add_argument(
        "--checkpoint",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "checkpoints" / "edm_mask_gleam.safetensors",
        help="a mask-conditioned generator (default: the shipped one)",
    )
    p.add_argument("--label", help="class label for every source (if the model takes one)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--out", type=Path, required=True, help="output FITS (a _truth.ecsv catalogue is written beside it)"
    )
    p.set_defaults(func=cmd_compose)


def cmd_compose(args) -> int:
    from tqdm.auto import tqdm

    from .data.conditions import read_mask
    from .data.preprocess import clip_stack
    from .errors import InputError
    from .io.layout import read_stack, source_of
    from .sampling.compose import compose, write_composition

    masks = [read_mask(m) for m in args.masks]
    source = source_of(args.background)
    field = clip_stack(read_stack(source))
    bar = tqdm(total=len(masks), desc="composing", unit="source")
    try:
        comp = compose(
            field, masks, args.checkpoint, args.seed, args.label, lambda done, total: bar.update(1)
        )
    except ValueError as exc:
        raise InputError(args.background, str(exc)) from None
    finally:
        bar.close()
    fits_path, cat_path = write_composition(
        comp,
        field,
        args.out,
        {
            "checkpoint": args.checkpoint.name,
            "field": source.name,
            "seed": args.seed,
            "n_sources": len(masks),
        },
    )
    print(f"wrote {fits_path} ({len(comp.bands)} bands + MASK) and {cat_path} ({len(comp.catalog)} sources)")
    return 0


def _add_fetch(sub):
    p = sub.add_parser(
        "fetch",
        help="download a GLEAM field (4 bands) from SkyView by cluster name or 'RA, Dec' (needs network + astroquery)",
    )
    p.add_argument(
        "target", help="a cluster name (built-in table or any name SkyView resolves) or 'RA, Dec' in degrees"
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--pixels", type=int, default=300)
    p.set_defaults(func=cmd_fetch)


def cmd_fetch(args) -> int:
    from .io.skyview import fetch_gleam_field

    print(f"wrote {fetch_gleam_field(args.target, args.out, args.pixels)}")
    return 0


def _add_compare(sub):
    p = sub.add_parser(
        "compare",
        help="compare generated images with real ones (histograms, statistics, FID/KID, memorisation, pass rate)",
    )
    p.add_argument("--real", type=Path, required=True, help="published-layout root")
    p.add_argument("--split", default="TRAIN")
    p.add_argument("--generated", type=Path, required=True, help="a 'radioviz sample' .npz")
    p.add_argument(
        "--classifier",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "checkpoints" / "classifier_A.safetensors",
        help="classifier for pass rates and FID/KID features (default: the shipped A)",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--plots",
        type=Path,
        metavar="DIR",
        help="also write a comparison figure (histograms with relative error, statistics, spectral index, nearest neighbours) here",
    )
    p.add_argument("--cache-dir", type=Path)
    p.set_defaults(func=cmd_compare)


def cmd_compare(args) -> int:
    import json

    from .metrics.compare import compare

    r = compare(args.real, args.split, args.generated, args.classifier, args.cache_dir, args.plots)
    if args.json:
        print(json.dumps(r))
        return 0
    for k in (
        "n_real",
        "n_generated",
        "hist_mean_abs_rel_err",
        "zero_fraction_real",
        "zero_fraction_gen",
        "nn_ssim_max",
        "fid_domain",
        "kid_domain",
        "classifier_pass_rate_0.5",
        "classifier_pass_rate_0.95",
    ):
        print(f"{k:<28s} {r[k]}")
    if r.get("fid_note"):
        print(r["fid_note"])
    return 0


def cmd_train_classifier(args) -> int:
    from .data.dataset import DatasetConfig, build_dataset
    from .training.classifier import TrainConfig, load_generated, train_classifier

    dcfg = DatasetConfig(
        str(args.data),
        args.split,
        args.convention,
        val_fraction=args.val_fraction,
        seed=args.seed,
        offcentre_per_halo=args.offcentre,
    )
    ds, _, _ = build_dataset(dcfg, args.cache_dir, progress=True)
    generated = load_generated(args.generated, ds.images) if args.generated else None
    tcfg = TrainConfig(
        args.arch,
        args.epochs,
        args.batch_size,
        args.lr,
        args.patience,
        args.seed,
        args.normalization,
        args.images_per_epoch,
        args.ratio if generated is not None else 0.0,
    )
    extra = (
        {
            "generated": {
                "files": [str(p) for p in args.generated],
                "n": int(len(generated)),
                "ratio": args.ratio,
            }
        }
        if generated is not None
        else None
    )
    _, card = train_classifier(ds, tcfg, args.out, resume=args.resume, generated=generated, extra_card=extra)
    m = card["metrics"]["validation_per_image"]
    print(
        f"wrote {Path(args.out).with_suffix('.safetensors')}: {card['parameter_count']} parameters, validation accuracy {m.get('accuracy', float('nan')):.4f}, F1 {m.get('f1', float('nan')):.4f}"
    )
    return 0


def _add_evaluate(sub):
    p = sub.add_parser(
        "evaluate-classifier", help="evaluate a classifier checkpoint on a split of the published layout"
    )
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True, help="root of the published layout")
    p.add_argument("--split", default="TEST")
    p.add_argument("--json", action="store_true", help="print one JSON object (the stable contract)")
    p.add_argument("--cache-dir", type=Path)
    p.set_defaults(func=cmd_evaluate_classifier)


def _add_scan(sub):
    p = sub.add_parser("scan", help="score map and halo candidates over fields")
    p.add_argument("path", type=Path, help="a FITS cube, a folder of band files, or a published-layout root")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument(
        "--stride", type=int, default=4, help="pixels (of the highest-frequency band) between windows"
    )
    p.add_argument(
        "--threshold", type=float, help="default: the card's calibrated threshold (detector), else 0.95"
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--catalog",
        help="cluster catalogue to cross-match: a file (PSZ2 CDS, VOTable, ECSV, CSV), 'builtin' (Mishra et al. clusters) or 'psz2-online' (VizieR)",
    )
    p.add_argument("--radius", type=float, default=5.0, help="cross-match radius, arcmin")
    p.set_defaults(func=cmd_scan)


def cmd_scan(args) -> int:
    from .io.catalogs import builtin_clusters, fetch_psz2, read_catalog
    from .scan.run import scan_path

    catalog = None
    if args.catalog == "builtin":
        catalog = builtin_clusters()
    elif args.catalog == "psz2-online":
        catalog = fetch_psz2()
    elif args.catalog:
        catalog = read_catalog(args.catalog)
    for r in scan_path(
        args.path, args.checkpoint, args.out, args.stride, args.threshold, catalog, args.radius
    ):
        print(
            f"{r['field']}: {r['n_candidates']} candidate(s) (max score {r['max_score']:.3f}) -> {r['candidates']}, {r['scoremap']}"
        )
    return 0


def _add_inject(sub):
    p = sub.add_parser(
        "inject",
        help="injection-recovery: classifier completeness vs halo flux and size on real non-halo fields",
    )
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument(
        "--data", type=Path, required=True, help="published-layout root; its class-0 fields are used"
    )
    p.add_argument("--split", default="TRAIN")
    p.add_argument("--out", type=Path, required=True, help="directory for the tables and the plot")
    p.add_argument("--redshift", type=float, default=0.15)
    p.set_defaults(func=cmd_inject)


def cmd_inject(args) -> int:
    from .io.layout import read_stack, split_sources
    from .metrics.evaluate import load_classifier, score_images
    from .scan.injection import InjectionGrid, injection_recovery, plot_completeness

    model, pre, card = load_classifier(args.checkpoint)
    fields = [read_stack(s) for s in split_sources(args.data, args.split) if s.label == 0]
    if getattr(model, "is_detector", False):  # a segmenter: whole-field passes, cluster score
        from .scan.detector import detector_injection_recovery

        per, summ = detector_injection_recovery(fields, model, InjectionGrid(redshift=args.redshift))
    else:
        per, summ = injection_recovery(
            fields, lambda x: score_images(model, pre, x), pre, InjectionGrid(redshift=args.redshift)
        )
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"injection_{card['arch']}"
    per.write(args.out / f"{stem}_all.ecsv", overwrite=True)
    summ.write(args.out / f"{stem}.ecsv", overwrite=True)
    plot_completeness(
        summ,
        args.out / f"{stem}.png",
        f"{card['arch']}: injected halos in {len(fields)} real non-halo fields",
    )
    summ.pprint(max_lines=-1, max_width=-1)
    print(
        f"false-positive rate on halo-free positions: {summ.meta['false_positive_rate_0.5']:.3f} (score >= 0.5), {summ.meta['false_positive_rate_0.95']:.3f} (>= 0.95), n = {summ.meta['n_blank']}"
    )
    return 0


def cmd_evaluate_classifier(args) -> int:
    import json

    from .metrics.evaluate import evaluate_classifier

    result = evaluate_classifier(
        args.checkpoint, args.data, args.split, args.cache_dir, progress=not args.json
    )
    if args.json:
        print(json.dumps(result))
        return 0
    for level in ("per_image", "per_source"):
        m = result[level]
        n = m.get("n_images", m.get("n_sources"))
        print(
            f"{level:<10s} n={n:<5d} accuracy {m['accuracy']:.4f}  precision {m['precision']:.4f}  recall {m['recall']:.4f}  F1 {m['f1']:.4f}  ROC AUC {m['roc_auc']:.4f}"
        )
    for name, score in sorted(result["per_source"]["scores"].items()):
        print(f"  {name:<28s} label {result['per_source']['labels'][name]}  score {score:.4f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="radioviz", description="Generative models and halo classifiers for MWA/GLEAM radio images."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_simulate(sub)
    _add_data(sub)
    _add_train(sub)
    _add_cv(sub)
    _add_evaluate(sub)
    _add_scan(sub)
    _add_inject(sub)
    _add_sample(sub)
    _add_compare(sub)
    _add_compose(sub)
    _add_fetch(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RadioVizError as exc:
        print(f"radioviz: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("radioviz: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
