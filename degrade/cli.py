"""The ``degrade`` command line: ``degrade preview`` (contact sheets of degradations)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
from torch import Tensor
from tqdm import tqdm

from degrade.io import ImageReadError, read_image, write_bytes_atomic
from degrade.preview import Stage, contact_sheet, demo_stages


def _center_crop(x: Tensor, size: int | None) -> Tensor:
    if size is None:
        return x
    h, w = x.shape[-2:]
    if h < size or w < size:
        raise ValueError(f"image of {w}x{h} is smaller than --crop {size}")
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top : top + size, left : left + size]


def _preview(args: argparse.Namespace) -> int:
    rows: list[list[Stage]] = []
    failures = 0
    jobs = [(i, Path(p), s) for i, p in enumerate(args.images) for s in range(args.samples)]
    for image_index, path, sample in tqdm(jobs, desc="preview", unit="sample", disable=args.quiet):
        try:
            hr = read_image(path)
            if hr.shape[1] == 1:
                hr = hr.expand(1, 3, *hr.shape[-2:])
            hr = _center_crop(hr, args.crop)
            h, w = hr.shape[-2:]
            hr = hr[..., : h - h % args.scale, : w - w % args.scale]
            key = image_index * args.samples + sample
            rows.append(demo_stages(hr, seed=args.seed, key=key, scale=args.scale))
        except (ImageReadError, ValueError) as exc:
            if sample == 0:
                print(f"degrade preview: skipped {path}: {exc}", file=sys.stderr)
                failures += 1
    if not rows:
        print("degrade preview: no image could be previewed", file=sys.stderr)
        return 1
    sheet = contact_sheet(rows, cell_size=args.cell_size)
    ok, encoded = cv2.imencode(args.out.suffix or ".png", sheet)
    if not ok:
        print(f"degrade preview: cannot encode {args.out}", file=sys.stderr)
        return 1
    write_bytes_atomic(args.out, encoded.tobytes())
    print(f"wrote {args.out} ({len(rows)} rows)")
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``degrade`` command."""
    parser = argparse.ArgumentParser(
        prog="degrade", description="Real-world degradation synthesis."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    preview = sub.add_parser("preview", help="write a contact sheet of degraded samples")
    preview.add_argument("images", nargs="+", help="input image files")
    preview.add_argument("--out", type=Path, required=True, help="output sheet (PNG/JPEG/WebP)")
    preview.add_argument("--samples", type=int, default=4, help="degraded samples per image")
    preview.add_argument("--seed", type=int, default=0)
    preview.add_argument("--scale", type=int, default=4, help="final downscale factor")
    preview.add_argument("--crop", type=int, default=None, help="centre crop size (default: whole)")
    preview.add_argument("--cell-size", type=int, default=192, help="width of one cell in pixels")
    preview.add_argument("--quiet", action="store_true", help="no progress bar")
    preview.set_defaults(run=_preview)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``degrade`` command."""
    args = build_parser().parse_args(argv)
    if getattr(args, "samples", 1) < 1:
        print("degrade: --samples must be >= 1", file=sys.stderr)
        return 2
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
