"""``radioviz survey``: the command line over :func:`radioviz.survey.run_survey` (parsing only)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import validate as V
from . import options
from .scan import load_catalog


def register(sub) -> None:
    p = sub.add_parser(
        "survey",
        parents=[
            options.checkpoint(help="classifier or detector checkpoint (.safetensors)"),
            options.device(),
        ],
        help="search many fields, a catalogue of positions or whole mosaics as Dask tasks (resumable)",
        description=(
            "Score every field / position / mosaic tile as a Dask task on an embedded LocalCluster "
            "(or --scheduler).  Finished tasks are recorded as they complete; run the same command "
            "again to resume.  Writes DIR/results.ecsv (one row per field, position or mosaic), "
            "DIR/candidates.ecsv and DIR/maps/*_scoremap.fits."
        ),
    )
    p.add_argument(
        "target",
        metavar="PATH_OR_TABLE",
        help="a folder of fields or mosaics (any layout), a FITS cube, a positions table "
        "(ECSV, CSV, VOTable, FITS table, the PSZ2 CDS file) or 'builtin' (Mishra et al. clusters)",
    )
    p.add_argument("--out", type=Path, required=True, help="output directory (also the resume state)")
    p.add_argument(
        "--stride",
        type=V.int_range(1, V.MAX_STRIDE),
        default=4,
        help="pixels between window centres / map samples",
    )
    p.add_argument(
        "--threshold",
        type=V.unit_interval,
        help="candidate score threshold in [0, 1] (default: the model's own: a detector's calibrated "
        "default_threshold from its card, else 0.95)",
    )
    p.add_argument(
        "--chunk",
        type=V.int_range(*V.CHUNK_RANGE),
        default=1024,
        help="mosaic tile side in pixels (multiple of --stride); each tile is saved as it finishes",
    )
    p.add_argument(
        "--images",
        type=Path,
        nargs="+",
        help="positions mode: local fields / mosaics to cut the positions from",
    )
    p.add_argument(
        "--cutout",
        type=V.int_range(*V.SIDE_RANGE),
        default=128,
        help="positions mode: cut-out side (pixels per band)",
    )
    p.add_argument(
        "--radius",
        type=V.float_range(0.0, V.MAX_RADIUS_ARCMIN, lo_open=True),
        default=5.0,
        help="positions mode: cluster score = peak within this (arcmin)",
    )
    p.add_argument(
        "--skyview",
        action="store_true",
        help="positions mode: fetch uncovered positions from SkyView (cached in DIR/skyview_cache)",
    )
    p.add_argument(
        "--catalog", help="cross-match candidates: a catalogue file, 'builtin' or 'psz2-online' (VizieR)"
    )
    p.add_argument("--limit", type=V.positive_int, help="only the first N fields / positions")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786", help="run on an existing Dask cluster")
    p.add_argument(
        "--workers",
        type=V.int_range(1, V.max_workers),
        help="embedded cluster: worker processes (default: CPU count; at most "
        f"{V.WORKERS_PER_CORE} per core)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the survey in --out after a kill or Ctrl-C: finished fields, positions and mosaic "
        "tiles are kept, only the rest is computed (rerunning the same command does the same)",
    )
    p.add_argument(
        "--simulate-mosaic",
        type=V.int_range(*V.MOSAIC_SIDE_RANGE),
        metavar="SIDE",
        help="first write a simulated 4-band SIDE×SIDE mosaic to PATH (a folder), then survey it",
    )
    p.set_defaults(func=cmd_survey)


def cmd_survey(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from ..survey import run_survey

    if args.resume and not (args.out / "survey.json").exists():
        print(f"nothing to resume in {args.out}: starting the survey")
    if args.simulate_mosaic:
        from ..survey.simulate import simulate_mosaic

        if args.resume and (args.out / "survey.json").exists():  # written once the mosaic was
            print(f"resuming: the simulated mosaic in {args.target} is kept")
        else:
            paths = simulate_mosaic(args.target, args.simulate_mosaic)
            print(f"simulated mosaic: {len(paths)} band files in {args.target}")
    catalog = load_catalog(args.catalog)
    bar = None

    def on_start(s):
        nonlocal bar
        if s.dashboard:
            print(f"Dask dashboard: {s.dashboard}")
        if s.skipped:
            print(f"resuming: {s.skipped} of {s.total} already done in {s.out}")
        if args.threshold is None:
            print(f"threshold {s.threshold:g} (the model's own; --threshold to change it)")
        bar = tqdm(total=s.total, initial=s.skipped, desc="survey", unit="task")  # mosaic tiles count too

    def progress(done, total, row):
        if bar.total != total:
            bar.total = total
        bar.update(1)
        if row["status"] != "ok":
            tqdm.write(f"{row['name']}: {row['status']}: {row['reason']}")

    try:
        s = run_survey(
            args.target,
            args.checkpoint,
            args.out,
            images=args.images,
            stride=args.stride,
            threshold=args.threshold,
            chunk=args.chunk,
            cutout=args.cutout,
            radius_arcmin=args.radius,
            skyview=args.skyview,
            match_catalog=catalog,
            limit=args.limit,
            scheduler=args.scheduler,
            n_workers=args.workers,
            progress=progress,
            on_start=on_start,
            device=args.device,
        )
    finally:
        if bar is not None:
            bar.close()
    print(
        f"{s.total} task(s): {s.ok} ok, {s.failed} failed (bad input), {s.errors} lost (rerun to retry), "
        f"{s.skipped} done earlier; {s.seconds:.1f} s\n-> {s.results}\n-> {s.candidates}"
    )
    return 1 if s.errors else 0
