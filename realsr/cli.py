"""The ``realsr`` command line.

Each subcommand lives in the module of its feature, which exposes ``register(subparsers)``; the
parser stores the function to call in ``args.run`` (it returns the exit status). A new subcommand
is one more name in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from realsr import __version__

COMMANDS: tuple[str, ...] = ("train.cli", "infer", "evaluate", "zssr", "export", "data.commands")
"""Feature modules of ``realsr`` (``realsr.<name>``) that register a subcommand, in help order."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``realsr`` command."""
    parser = argparse.ArgumentParser(
        prog="realsr",
        description="Blind super-resolution: training, inference, evaluation and export.",
    )
    parser.add_argument("--version", action="version", version=f"realsr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"realsr.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``realsr`` command."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
