"""``radioviz measure structure``: a generator's spatial-structure yardsticks (issue #30) — power
spectrum ratio, peak ratio, source statistics and the classifier two-sample test — against the
real cut-outs, optionally written into its model card under ``quality.structure``
(library: :func:`radioviz.metrics.yardsticks.measure_structure`)."""

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
