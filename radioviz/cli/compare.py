"""``radioviz compare``: generated images against real ones (library: metrics.compare)."""

from __future__ import annotations

from pathlib import Path

from . import options

#: The summary lines printed without ``--json``.
SUMMARY_KEYS = (
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
)


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        parents=[options.device()],
        help="compare generated images with real ones (histograms, statistics, FID/KID, "
        "memorisation, pass rate, power spectra, source statistics, two-sample test)",
    )
    p.add_argument("--real", type=Path, required=True, help="published-layout root")
    p.add_argument("--split", default="TRAIN")
    p.add_argument("--generated", type=Path, required=True, help="a 'radioviz sample' .npz")
    p.add_argument(
        "--classifier",
        type=Path,
        default=options.CHECKPOINTS / "classifier_A.safetensors",
        help="classifier for pass rates and FID/KID features (default: the shipped A)",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--plots",
        type=Path,
        metavar="DIR",
        help="also write a comparison figure (histograms with relative error, statistics, "
        "spectral index, nearest neighbours) here",
    )
    p.add_argument("--cache-dir", type=Path)
    p.add_argument(
        "--no-two-sample",
        action="store_true",
        help="skip the classifier two-sample test (a small CNN trained on CPU: seconds to a minute)",
    )
    p.set_defaults(func=cmd_compare)


def cmd_compare(args) -> int:
    import json

    from ..metrics.compare import compare
    from ..metrics.yardsticks import summary_lines

    r = compare(
        args.real,
        args.split,
        args.generated,
        args.classifier,
        args.cache_dir,
        args.plots,
        two_sample=not args.no_two_sample,
        device=args.device,
    )
    if args.json:
        print(json.dumps(r))
        return 0
    for k in SUMMARY_KEYS:
        print(f"{k:<28s} {r[k]}")
        if k == "hist_mean_abs_rel_err" and r["hist_err_floor"]["median"] is not None:
            f = r["hist_err_floor"]
            band = f"p10–p90 {f['p10']:.3f}–{f['p90']:.3f}"
            print(f"{'  ideal generator (floor)':<28s} {f['median']:.3f} ({band})")
    for line in summary_lines(r.get("structure"), r.get("sources"), r.get("two_sample")):
        print(line)
    if r.get("fid_note"):
        print(r["fid_note"])
    return 0
