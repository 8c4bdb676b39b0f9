"""``radioviz fetch``: a GLEAM field (4 bands) from SkyView (needs network and astroquery)."""

from __future__ import annotations

from pathlib import Path

from .. import validate as V


def register(sub) -> None:
    p = sub.add_parser(
        "fetch",
        help="download a GLEAM field (4 bands) from SkyView by cluster name or 'RA, Dec' "
        "(needs network + astroquery)",
    )
    p.add_argument(
        "target", help="a cluster name (built-in table or any name SkyView resolves) or 'RA, Dec' in degrees"
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--pixels", type=V.int_range(*V.SIDE_RANGE), default=300)
    p.set_defaults(func=cmd_fetch)


def cmd_fetch(args) -> int:
    from ..io.skyview import fetch_gleam_field

    print(f"wrote {fetch_gleam_field(args.target, args.out, args.pixels)}")
    return 0
