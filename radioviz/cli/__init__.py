"""The ``radioviz`` command line: one module per command group, each a thin layer over the library.

To add a subcommand, write a module here with ``register(subparsers)`` that adds its parser(s)
and sets ``func=<handler>`` (a function ``args -> exit code``), then add the module's name to
``COMMANDS``.  Shared options (``--data/--split/--convention/--cache-dir``, ``--seed``,
``--checkpoint``, ``--device`` …) come from :mod:`radioviz.cli.options` as argparse parents; a
command that runs a network takes ``options.device()`` (tests/models/test_device.py holds every command
to it).  Handlers raise :class:`radioviz.errors.RadioVizError` for bad input; :func:`main` prints
it (and OS, encoding and memory errors, see :func:`radioviz.errors.error_line`) as one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import error_line

#: Command modules, in the order ``radioviz --help`` lists them.
COMMANDS = (
    "simulate",
    "data",
    "train",
    "cv",
    "evaluate",
    "scan",
    "survey",
    "similar",
    "inject",
    "sample",
    "compare",
    "measure",
    "compose",
    "fetch",
)


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's one-line errors: a bad option value (``--n 0``, ``--threshold nan``:
    the ``type=`` functions of :mod:`radioviz.validate`) is ``radioviz: error: argument --n: …``,
    like every other refusal, instead of a usage block.  Subcommand parsers inherit the class."""

    def error(self, message: str):
        from ..errors import printable

        self.exit(2, f"radioviz: error: {printable(message)} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="radioviz", description="Generative models and halo classifiers for MWA/GLEAM radio images."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # non-UTF-8 file names print as escapes, never crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "device", None) == "cuda":  # refused before any data is read or model built
            from ..models.device import resolve_device

            resolve_device(args.device)
        return args.func(args)
    except KeyboardInterrupt:
        print("radioviz: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - user-caused errors become one line; bugs re-raise
        line = error_line(exc)  # ours, OS, encoding and memory errors: radioviz: error: <path>: ...
        if line is None:
            raise
        print(line, file=sys.stderr)
        return 2
