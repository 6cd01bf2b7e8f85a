"""``realsr make-lmdb`` and ``realsr extract-subimages``: training-data preparation commands.

::

    realsr make-lmdb INPUT_DIR OUTPUT.lmdb [--compress-level 1] [--batch 5000]
    realsr extract-subimages INPUT_DIR OUTPUT_DIR [--crop 400 --step 200 --thresh 0
                             --compress-level 3 --workers N --skip-existing]

See :mod:`realsr.data.lmdb_writer` and :mod:`realsr.data.subimages` for the layouts.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from realsr.data.lmdb_writer import make_lmdb
from realsr.data.subimages import extract_subimages


def _error(command: str, exc: BaseException) -> int:
    print(f"realsr {command}: {exc}", file=sys.stderr)
    return 2


def run_make_lmdb(args: argparse.Namespace) -> int:
    """Run ``realsr make-lmdb``; returns the exit status."""
    try:
        make_lmdb(
            args.input,
            args.output,
            compress_level=args.compress_level,
            batch=args.batch,
            progress=not args.quiet,
            log=print,
        )
    except (OSError, ValueError, ImportError) as exc:
        return _error("make-lmdb", exc)
    return 0


def run_extract_subimages(args: argparse.Namespace) -> int:
    """Run ``realsr extract-subimages``; returns the exit status (1 when an input failed)."""
    try:
        summary = extract_subimages(
            args.input,
            args.output,
            crop=args.crop,
            step=args.step,
            thresh=args.thresh,
            compress_level=args.compress_level,
            workers=args.workers,
            skip_existing=args.skip_existing,
            progress=not args.quiet,
            report=lambda line: print(line, file=sys.stderr),
        )
    except (OSError, ValueError) as exc:
        return _error("extract-subimages", exc)
    print(
        f"{summary.images} images: {summary.written} sub-images written, {summary.skipped} "
        f"already there, {len(summary.too_small)} too small, {len(summary.failures)} failed"
    )
    return 1 if summary.failures else 0


def register(sub: Any) -> None:
    """Add ``realsr make-lmdb`` and ``realsr extract-subimages`` to the command's subparsers."""
    p = sub.add_parser(
        "make-lmdb",
        help="pack a folder of images into an LMDB database (BasicSR layout)",
        description=(
            "Write every image under INPUT_DIR (recursively) into OUTPUT.lmdb: keys are the "
            "relative paths without suffix, values PNG bytes, meta_info.txt lines "
            "'<key>.png (h,w,c) <level>'. Built in OUTPUT.lmdb.tmp, then renamed."
        ),
    )
    p.add_argument("input", metavar="INPUT_DIR", help="folder of images")
    p.add_argument("output", metavar="OUTPUT.lmdb", help="database folder to create")
    p.add_argument("--compress-level", type=int, default=1, help="PNG compression 0..9")
    p.add_argument("--batch", type=int, default=5000, help="images per transaction")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_make_lmdb)

    p = sub.add_parser(
        "extract-subimages",
        help="cut images into overlapping square sub-images (BasicSR positions)",
        description=(
            "Cut every image under INPUT_DIR into CROP-square PNG sub-images <stem>_s001.png, ... "
            "at corners 0, STEP, 2*STEP, ... plus one aligned to the border when more than "
            "THRESH pixels are left. OUTPUT_DIR must be empty unless --skip-existing."
        ),
    )
    p.add_argument("input", metavar="INPUT_DIR", help="folder of images")
    p.add_argument("output", metavar="OUTPUT_DIR", help="folder of sub-images")
    p.add_argument("--crop", type=int, default=400, help="sub-image size")
    p.add_argument("--step", type=int, default=200, help="distance between windows")
    p.add_argument("--thresh", type=int, default=0, help="leftover that adds a border window")
    p.add_argument("--compress-level", type=int, default=3, help="PNG compression 0..9")
    p.add_argument("--workers", type=int, default=0, help="worker processes (0: none)")
    p.add_argument(
        "--skip-existing",
        action="store_true",
        help="keep sub-images already in OUTPUT_DIR and write only the missing ones",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_extract_subimages)


__all__ = ["register", "run_extract_subimages", "run_make_lmdb"]
