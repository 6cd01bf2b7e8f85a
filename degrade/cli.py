"""The ``degrade`` command line.

Each subcommand lives in the module of its feature, which exposes ``register(subparsers)``; the
parser stores the function to call in ``args.run`` (it returns the exit status).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: tuple[str, ...] = ("generate", "preview")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``degrade`` command."""
    parser = argparse.ArgumentParser(
        prog="degrade", description="Real-world degradation synthesis."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"degrade.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``degrade`` command."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
