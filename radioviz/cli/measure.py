"""``radioviz measure``: what a generator's model card records about it, measured and written.

* ``structure`` — spatial-structure yardsticks (issue #30): power spectrum ratio, peak ratio,
  source statistics, the classifier two-sample test (``quality.structure``;
  :func:`radioviz.metrics.yardsticks.measure_structure`);
* ``quality`` — samples against the real cut-outs (``quality``;
  :func:`radioviz.metrics.card_measures.measure_quality`);
* ``seed-spread`` — the spread over seeds of ``quality --append`` rows (``quality.over_seeds``);
* ``clip-levels`` — the dead-band clip levels recomputed from the training data (``dead_band_jy``);
* ``conditioning`` — flux relation, guidance sweep and mask IoU of the conditioned generators
  (JSON + figures; with ``--write-card`` the mask model's ``quality``;
  :mod:`radioviz.metrics.conditioning_report`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import options


def register(sub) -> None:
    p = sub.add_parser("measure", help="measure a generator and record it in its model card")
    what = p.add_subparsers(dest="what", required=True)
    s = what.add_parser(
        "structure",
        parents=[options.checkpoint(), options.seed(), options.device()],
        help="power spectra, peaks, source statistics and a two-sample test of generated vs real images",
    )
    s.add_argument("--n", type=int, default=64, help="images to generate (default 64)")
    s.add_argument("--label", default="H", help="class to generate and compare with (default H)")
    s.add_argument(
        "--guidance",
        type=float,
        help="classifier-free guidance ω (default: the card's measured one, else 2; 0 for models without)",
    )
    s.add_argument("--real", type=Path, help="real data root (default: the card's training data root)")
    s.add_argument("--split", default="TRAIN")
    s.add_argument("--sampler")
    s.add_argument("--steps", type=int)
    s.add_argument("--no-two-sample", action="store_true", help="skip the classifier two-sample test")
    s.add_argument(
        "--write",
        action="store_true",
        help="write the result into the card (quality.structure; every other field kept)",
    )
    s.add_argument("--json", action="store_true", help="print the entry as one JSON object")
    s.set_defaults(func=cmd_measure_structure)
    _register_quality(what)
    sp = what.add_parser(
        "seed-spread",
        help="the spread over seeds of 'measure quality --append' rows, into the card (quality.over_seeds)",
    )
    sp.add_argument("checkpoint", type=Path)
    sp.add_argument("jsonl", type=Path, help="rows written by 'radioviz measure quality --append'")
    sp.set_defaults(func=cmd_seed_spread)
    cl = what.add_parser(
        "clip-levels", help="recompute generator cards' dead-band clip levels from their training data"
    )
    cl.add_argument("checkpoints", nargs="+", type=Path)
    cl.add_argument("--cache-dir", type=Path)
    cl.add_argument("--classes", action="store_true", help="only add which sources are halo sources")
    cl.set_defaults(func=cmd_clip_levels)
    _register_conditioning(what)


def _register_conditioning(what) -> None:
    c = what.add_parser(
        "conditioning",
        parents=[options.device()],
        help="flux relation, guidance sweep and mask IoU of the conditioned generators",
    )
    c.add_argument("--real", type=Path, required=True, help="real data root")
    c.add_argument("--edm", type=Path, default=options.CHECKPOINTS / "edm_gleam.safetensors")
    c.add_argument("--mask-model", type=Path, default=options.CHECKPOINTS / "edm_mask_gleam.safetensors")
    c.add_argument("--classifier", type=Path, default=options.CHECKPOINTS / "classifier_A.safetensors")
    c.add_argument("--n", type=int, default=16, help="samples per class and ω in the guidance sweep")
    c.add_argument("--omegas", type=float, nargs="+", default=[0.0, 1.0, 2.0, 4.0])
    c.add_argument("--cache-dir", type=Path)
    c.add_argument("--skip", nargs="*", default=[], choices=["flux", "guidance", "masks"])
    c.add_argument("--out", type=Path, default=Path("docs/generators"), help="folder for conditioning.json")
    c.add_argument(
        "--write-card", action="store_true", help="write the mask measurement into the mask model's card"
    )
    c.set_defaults(func=cmd_conditioning)


def _register_quality(what) -> None:
    q = what.add_parser(
        "quality",
        parents=[options.seed(), options.device()],
        help="generated vs real cut-outs (histograms, zeros, FID/KID, pass rate, NN SSIM), into the card",
    )
    q.add_argument("checkpoints", nargs="+", type=Path)
    q.add_argument("--n", type=int, default=64, help="images to generate (default 64)")
    q.add_argument("--sampler")
    q.add_argument("--steps", type=int)
    q.add_argument("--label", default="H")
    q.add_argument("--real", type=Path, help="real data root (default: the card's training data root)")
    q.add_argument("--n-flux", type=int, default=32, help="samples for a flux-conditioned model's ρ")
    q.add_argument("--guidance", type=float, default=0.0, help="classifier-free guidance ω")
    q.add_argument(
        "--churn",
        type=float,
        nargs="+",
        metavar="S",
        help="Heun churn: S_churn [S_tmin [S_tmax [S_noise]]] (Karras et al. Algorithm 2)",
    )
    q.add_argument(
        "--flux-from-real", action="store_true", help="request peak fluxes drawn from the real cut-outs'"
    )
    q.add_argument(
        "--classifier",
        default=str(options.CHECKPOINTS / "classifier_A.safetensors"),
        help="classifier for the domain FID/KID and pass rates ('none': not measured)",
    )
    q.add_argument("--dry-run", action="store_true", help="print, do not write the card")
    q.add_argument("--append", type=Path, help="also append each result as one JSON line to this file")
    q.set_defaults(func=cmd_measure_quality)


def command_line(args) -> str:
    """The command that reproduces the measurement (recorded in the entry)."""
    parts = ["radioviz measure structure", f"--checkpoint {args.checkpoint}", f"--n {args.n}"]
    parts += [f"--label {args.label}", f"--seed {args.seed}"]
    for opt in ("guidance", "real", "sampler", "steps"):
        if getattr(args, opt) is not None:
            parts.append(f"--{opt} {getattr(args, opt)}")
    if args.split != "TRAIN":
        parts.append(f"--split {args.split}")
    if args.no_two_sample:
        parts.append("--no-two-sample")
    return " ".join(parts)


def cmd_measure_structure(args) -> int:
    import json

    from ..errors import InputError
    from ..metrics.yardsticks import measure_structure, summary_lines, write_structure

    if args.n < 2:
        raise InputError(args.checkpoint, f"--n must be at least 2, not {args.n}")
    entry = measure_structure(
        args.checkpoint,
        n=args.n,
        label=None if args.label in ("", "none") else args.label,
        guidance=args.guidance,
        seed=args.seed,
        real_root=args.real,
        split=args.split,
        sampler=args.sampler,
        steps=args.steps,
        two_sample=not args.no_two_sample,
        device=args.device,
    )
    entry["command"] = command_line(args)
    if args.json:
        print(json.dumps(entry))
    else:
        how = f"{entry['sampler']}, ω = {entry['guidance']:g}"
        print(f"{args.checkpoint}: {entry['n']} × {entry['label']} ({how}) vs {entry['real']}")
        for line in summary_lines(entry["power_spectrum"], entry["sources"], entry["two_sample"]):
            print("  " + line)
    if args.write:
        path = write_structure(args.checkpoint, entry)
        print(f"written to {path} (quality.structure)", file=sys.stderr if args.json else sys.stdout)
    return 0


def quality_command(args, path: Path) -> str:
    """The command that reproduces one checkpoint's quality measurement (recorded in the entry)."""
    parts = ["radioviz measure quality", str(path), f"--n {args.n}", f"--label {args.label}"]
    parts += [f"--seed {args.seed}", f"--n-flux {args.n_flux}"]
    for opt in ("sampler", "steps", "real"):
        if getattr(args, opt) is not None:
            parts.append(f"--{opt} {getattr(args, opt)}")
    if args.guidance:
        parts.append(f"--guidance {args.guidance:g}")
    if args.churn:
        parts.append("--churn " + " ".join(f"{c:g}" for c in args.churn))
    if args.flux_from_real:
        parts.append("--flux-from-real")
    if args.classifier != str(options.CHECKPOINTS / "classifier_A.safetensors"):
        parts.append(f"--classifier {args.classifier}")
    return " ".join(parts)


def cmd_measure_quality(args) -> int:
    import json

    from ..metrics.card_measures import measure_quality, sampler_options, write_quality

    opts = sampler_options(args.guidance, args.churn)
    classifier = None if args.classifier in ("", "none") else Path(args.classifier)
    for path in args.checkpoints:
        q = measure_quality(
            path,
            args.n,
            args.sampler,
            args.steps,
            args.label,
            args.real,
            args.n_flux,
            args.seed,
            opts,
            args.flux_from_real,
            classifier,
            args.device,
        )
        q["command"] = quality_command(args, path)
        print(path, json.dumps({k: v for k, v in q.items() if k != "flux_steering"}))
        if "flux_steering" in q:
            print("  flux:", {k: v for k, v in q["flux_steering"].items() if k != "pairs"})
        if args.append:
            with open(args.append, "a") as f:
                f.write(json.dumps({"checkpoint": str(path), **q}) + "\n")
        if not args.dry_run:
            write_quality(path, q)
    return 0


def cmd_seed_spread(args) -> int:
    import json

    from ..metrics.card_measures import record_seed_spread

    print(json.dumps(record_seed_spread(args.checkpoint, args.jsonl)))
    return 0


def cmd_clip_levels(args) -> int:
    from ..metrics.card_measures import refresh_clip_levels

    for ck in args.checkpoints:
        print(refresh_clip_levels(ck, args.cache_dir, args.classes))
    return 0


def cmd_conditioning(args) -> int:
    from ..metrics.conditioning_report import conditioning_report

    command = (
        f"radioviz measure conditioning --real {args.real} --edm {args.edm} --mask-model {args.mask_model} "
        f"--classifier {args.classifier} --n {args.n} --omegas {' '.join(f'{w:g}' for w in args.omegas)}"
        + (f" --skip {' '.join(args.skip)}" if args.skip else "")
        + " --write-card"
    )
    conditioning_report(
        args.real,
        args.edm,
        args.mask_model,
        args.classifier,
        args.out,
        args.n,
        args.omegas,
        args.cache_dir,
        args.skip,
        args.write_card,
        command,
        device=args.device,
    )
    print(f"wrote {args.out / 'conditioning.json'}")
    return 0
