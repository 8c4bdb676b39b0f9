"""``radioviz data inspect|build``: look at data, build cached training sets."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import validate as V
from . import options


def register(sub) -> None:
    p = sub.add_parser("data", help="inspect data and build cached training sets")
    dsub = p.add_subparsers(dest="data_cmd", required=True)
    i = dsub.add_parser(
        "inspect", help="list sources, classes, bands, noise and anomalies in a file or directory"
    )
    i.add_argument("path", type=Path)
    i.set_defaults(func=cmd_inspect)
    b = dsub.add_parser(
        "build",
        parents=[options.dataset(), options.seed()],
        help="build (or reuse) a cached, augmented training set",
    )
    b.add_argument("--size", type=V.int_range(8, 1024), default=64, help="cut-out side (pixels)")
    b.add_argument("--val-fraction", type=V.open_unit_interval, default=0.2)
    b.add_argument(
        "--offcentre",
        type=V.int_range(0, 100),
        default=0,
        help="off-centre 'empty space' negatives per halo field",
    )
    b.add_argument("--no-augment", action="store_true")
    b.add_argument("--force", action="store_true", help="rebuild even if cached")
    b.set_defaults(func=cmd_build)


def cmd_inspect(args) -> int:
    from ..data.inspect import format_report, inspect_path
    from ..errors import error_line

    report = inspect_path(args.path, progress=sys.stderr.isatty())
    print(format_report(report, errors=False))
    for e in report.errors:  # one "radioviz: error: <path>: <problem>" line each, as every command
        print(error_line(e), file=sys.stderr)
    return 0 if report.ok else 1


def cmd_build(args) -> int:
    from ..data.dataset import DatasetConfig, build_dataset

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
        f"{len(ds.images)} images {tuple(ds.images.shape[1:])} from {len(ds.source_names)} sources "
        f"in {len(set(ds.source_group.tolist()))} sky groups; "
        f"{len(ds.images) - n_val} train / {n_val} validation images"
    )
    return 0
