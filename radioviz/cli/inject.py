"""``radioviz inject``: injection-recovery completeness of a classifier on real non-halo fields."""

from __future__ import annotations

from pathlib import Path

from .. import validate as V
from . import options


def register(sub) -> None:
    p = sub.add_parser(
        "inject",
        parents=[options.checkpoint(), options.device()],
        help="injection-recovery: classifier completeness vs halo flux and size on real non-halo fields",
    )
    p.add_argument(
        "--data", type=Path, required=True, help="published-layout root; its class-0 fields are used"
    )
    p.add_argument("--split", default="TRAIN")
    p.add_argument("--out", type=Path, required=True, help="directory for the tables and the plot")
    p.add_argument("--redshift", type=V.float_range(0.0, 10.0, lo_open=True), default=0.15)
    p.set_defaults(func=cmd_inject)


def cmd_inject(args) -> int:
    from ..io.layout import read_stack, split_sources
    from ..models.checkpoint import read_card
    from ..scan.injection import InjectionGrid, plot_completeness
    from ..scan.scorer import load_scorer

    scorer, card = load_scorer(args.checkpoint, args.device), read_card(args.checkpoint)
    fields = [read_stack(s) for s in split_sources(args.data, args.split) if s.label == 0]
    per, summ = scorer.injection_recovery(fields, InjectionGrid(redshift=args.redshift))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"injection_{card.arch}"
    per.write(args.out / f"{stem}_all.ecsv", overwrite=True)
    summ.write(args.out / f"{stem}.ecsv", overwrite=True)
    plot_completeness(
        summ,
        args.out / f"{stem}.png",
        f"{card.arch}: injected halos in {len(fields)} real non-halo fields",
    )
    summ.pprint(max_lines=-1, max_width=-1)
    meta = summ.meta
    print(
        f"false-positive rate on halo-free positions: {meta['false_positive_rate_0.5']:.3f} (score >= 0.5), "
        f"{meta['false_positive_rate_0.95']:.3f} (>= 0.95), n = {meta['n_blank']}"
    )
    return 0
