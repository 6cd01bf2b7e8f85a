"""``degrade generate``: offline degraded datasets (in progress)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def _run(args: argparse.Namespace) -> int:
    print("degrade generate: not available yet", file=sys.stderr)
    return 2


def register(sub: Any) -> None:
    """Add ``degrade generate`` to the command's subparsers."""
    parser = sub.add_parser("generate", help="generate a degraded dataset offline (in progress)")
    parser.set_defaults(run=_run)
