"""``radioviz cv``: cross-validate a classifier by source over seeds (library: training.crossval)."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import validate as V
from . import options


def register(sub) -> None:
    p = sub.add_parser(
        "cv",
        parents=[options.dataset(), options.classifier_training(), options.device()],
        help="cross-validate a classifier by source over several seeds; writes JSON and plots",
    )
    p.set_defaults(arch="L", epochs=15)
    p.add_argument("--k", type=V.int_range(2, 100), default=4, help="folds (by sky group)")
    p.add_argument("--seeds", type=V.int_range(1, 1000), default=10)
    p.add_argument("--out", type=Path, required=True, help="directory for cv_<arch>.json and the plots")
    p.add_argument(
        "--update-card", type=Path, help="also record the CV summary in this checkpoint's model card"
    )
    p.set_defaults(func=cmd_cv)


def cmd_cv(args) -> int:
    import time

    from ..data.dataset import DatasetConfig, build_dataset
    from ..training.classifier import TrainConfig, load_generated
    from ..training.crossval import attach_cv_to_card, cross_validate, cv_tag, write_cv_report

    ds, _, _ = build_dataset(
        DatasetConfig(str(args.data), args.split, args.convention, offcentre_per_halo=args.offcentre),
        args.cache_dir,
    )
    generated = load_generated(args.generated, ds.images) if args.generated else None
    cfg = options.config_from(TrainConfig, args, generated_ratio=args.ratio if generated is not None else 0.0)
    tag = cv_tag(args.arch, generated is not None)
    t0 = time.time()
    result = cross_validate(ds, cfg, args.k, range(args.seeds), generated=generated)
    if generated is not None:
        result["generated"]["files"] = [str(p) for p in args.generated]
    result["wall_seconds"] = round(time.time() - t0, 1)
    result["command"] = "radioviz " + " ".join(sys.argv[1:])
    result["data_hash"] = ds.meta["data_hash"]
    path = write_cv_report(result, args.out, tag)
    for level in ("per_image", "per_source"):
        m = result[level]
        print(f"{tag} {level:<10s} " + "  ".join(f"{k} {v['mean']:.4f}±{v['std']:.4f}" for k, v in m.items()))
    print(f"{result['wall_seconds']:.0f} s; wrote {path} and plots")
    if args.update_card:
        attach_cv_to_card(args.update_card, result)
    return 0
