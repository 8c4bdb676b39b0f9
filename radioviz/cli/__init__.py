"""The ``radioviz`` command line: one module per command group, each a thin layer over the library.

To add a subcommand, write a module here with ``register(subparsers)`` that adds its parser(s)
and sets ``func=<handler>`` (a function ``args -> exit code``), then add the module's name to
``COMMANDS``.  Shared options (``--data/--split/--convention/--cache-dir``, ``--seed``,
``--checkpoint`` …) come from :mod:`radioviz.cli.options` as argparse parents.  Handlers raise
:class:`radioviz.errors.RadioVizError` for bad input; :func:`main` prints it as one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import RadioVizError

#: Command modules, in the order ``radioviz --help`` lists them.
COMMANDS = (
    "simulate",
    "data",
    "train",
    "cv",
    "evaluate",
    "scan",
    "inject",
    "sample",
    "compare",
    "compose",
    "fetch",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="radioviz", description="Generative models and halo classifiers for MWA/GLEAM radio images."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RadioVizError as exc:
        print(f"radioviz: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("radioviz: interrupted", file=sys.stderr)
        return 130
