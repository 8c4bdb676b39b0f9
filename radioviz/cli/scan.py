"""``radioviz scan``: score maps and halo candidates over fields, optionally cross-matched."""

from __future__ import annotations

from pathlib import Path

from .. import validate as V
from . import options


def register(sub) -> None:
    p = sub.add_parser(
        "scan",
        parents=[options.checkpoint(), options.device()],
        help="score map and halo candidates over fields",
    )
    p.add_argument("path", type=Path, help="a FITS cube, a folder of band files, or a published-layout root")
    p.add_argument(
        "--stride",
        type=V.int_range(1, V.MAX_STRIDE),
        default=4,
        help="pixels (of the highest-frequency band) between windows",
    )
    p.add_argument(
        "--threshold",
        type=V.unit_interval,
        help="default: the card's calibrated threshold (detector), else 0.95",
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--catalog",
        help="cluster catalogue to cross-match: a file (PSZ2 CDS, VOTable, ECSV, CSV), "
        "'builtin' (Mishra et al. clusters) or 'psz2-online' (VizieR)",
    )
    p.add_argument(
        "--radius",
        type=V.float_range(0.0, V.MAX_RADIUS_ARCMIN, lo_open=True),
        default=10.0,  # radioviz.io.catalogs.MATCH_RADIUS_ARCMIN (not imported: the CLI starts lazily)
        help="cross-match radius, arcmin: a candidate is named after a catalogue cluster only within it",
    )
    p.set_defaults(func=cmd_scan)


def load_catalog(spec: str | None):
    """The cluster table a ``--catalog`` names: 'builtin', 'psz2-online' or a file; None for none."""
    from ..io.catalogs import builtin_clusters, fetch_psz2, read_catalog

    if not spec:
        return None
    if spec == "builtin":
        return builtin_clusters()
    if spec == "psz2-online":
        return fetch_psz2()
    table = read_catalog(spec)
    for bad in table.meta.get("skipped") or []:  # reported and left out; the rest is used
        print(f"{spec}: {bad['name']}: skipped ({bad['problem']})")
    return table


def cmd_scan(args) -> int:
    from ..scan.run import scan_path

    catalog = load_catalog(args.catalog)
    for r in scan_path(
        args.path,
        args.checkpoint,
        args.out,
        args.stride,
        args.threshold,
        catalog,
        args.radius,
        device=args.device,
    ):
        print(
            f"{r['field']}: {r['n_candidates']} candidate(s) (max score {r['max_score']:.3f}) "
            f"-> {r['candidates']}, {r['scoremap']}"
        )
    return 0
