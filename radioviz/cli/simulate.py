"""``radioviz simulate``: synthetic GLEAM-like fields with truth, optionally compared with real ones."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import validate as V
from . import options

#: The bundled sample set's mix: field k gets SAMPLE_RECIPE[k % 6] (None: no halo).
SAMPLE_RECIPE = ("halo", None, "minihalo", "halo", None, "halo")


def register(sub) -> None:
    p = sub.add_parser(
        "simulate",
        parents=[options.seed("seed of the first field; field k uses seed+k")],
        help="make synthetic GLEAM-like fields (and compare them with real ones)",
        description="Simulate GLEAM-like four-band fields with truth masks and catalogues, "
        "written in the published layout.",
    )
    p.add_argument(
        "--out", type=Path, help="output directory (published layout: <SPLIT>_DATA_<class>/, truth/)"
    )
    p.add_argument(
        "--n",
        type=V.int_range(1, V.MAX_SIM_FIELDS),
        default=6,
        help=f"number of fields (default 6, at most {V.MAX_SIM_FIELDS})",
    )
    p.add_argument(
        "--recipe",
        choices=["sample", "halo", "minihalo", "none"],
        default="sample",
        help="'sample': a mix of halo, mini-halo and empty fields (the bundled sample set); "
        "otherwise every field gets that",
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


def recipe_kind(recipe: str, k: int) -> str | None:
    """The halo kind of field ``k`` under a ``--recipe``."""
    if recipe == "sample":
        return SAMPLE_RECIPE[k % len(SAMPLE_RECIPE)]
    return None if recipe == "none" else recipe


def cmd_simulate(args) -> int:
    from tqdm.auto import tqdm

    from ..simulate import SimConfig, simulate_field, write_field

    if not args.out and not args.compare_real:
        print("nothing to do: give --out DIR and/or --compare-real ROOT", file=sys.stderr)
        return 2
    fields = []
    for k in tqdm(range(args.n), desc="simulating", disable=args.n < 2):
        kind = recipe_kind(args.recipe, k)
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
        from ..io.layout import read_stack, split_sources
        from ..simulate.compare import band_stats, compare_table

        real = [
            read_stack(s).images
            for s in tqdm(split_sources(args.compare_real, args.compare_split), desc="reading real")
        ]
        print(compare_table(band_stats([f.images for f in fields]), band_stats(real)))
    return 0
