"""Bicubic baseline on Set5, Set14 and B100 at x2/x3/x4 next to the published table.

The LR is MATLAB bicubic of the modcropped HR on 8-bit data and the baseline upscales it with the
same ``imresize`` (each pass rounded, as MATLAB on ``uint8``); PSNR/SSIM on unrounded Y with
``scale`` pixels cropped (``realsr evaluate --model bicubic``). The published values (EDSR 2017
Table 6, RCAN 2018 Table 3) are rounded to 2 / 4 decimals. A second column pair scores the same
LR upscaled in floating point (rounded once at the end) to show how much the convention matters.

Usage: ``python -m benchmarks.bicubic_baseline [--shared DIR]``; writes
``benchmarks/results/bicubic_baseline.json`` and ``bicubic_baseline.md``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
from torch import Tensor

from benchmarks._common import REPO_ROOT, RESULTS_DIR, write_results
from degrade.functional.imresize import imresize
from degrade.io import write_bytes_atomic
from realsr.evaluate import PUBLISHED_BICUBIC, bicubic_upscale, evaluate

PUBLISHED = PUBLISHED_BICUBIC
"""Published bicubic PSNR (dB) / SSIM, as quoted in ../shared/data/README.md (B100 = BSD100)."""

PSNR_TOLERANCE = 0.02
SSIM_TOLERANCE = 0.001


def default_shared_dir() -> Path:
    """``$REALSR_SHARED_DIR`` or ``../shared`` beside the checkout."""
    return Path(os.environ.get("REALSR_SHARED_DIR", REPO_ROOT.parent / "shared"))


def run_pair(data_dir: Path, scale: int, *, float_upscale: bool = False) -> tuple[float, float]:
    """Mean PSNR / SSIM of the bicubic baseline on one HR folder at one scale."""

    def sr(lr: Tensor) -> Tensor:
        if float_upscale:
            return imresize(lr.double(), scale=scale).clamp(0, 1)
        return bicubic_upscale(lr, scale)

    result = evaluate(sr, [data_dir], scale=scale)
    if result.failed:
        raise RuntimeError(f"{data_dir}: {result.failed} image(s) failed")
    folder = result.folders[0]
    return folder.psnr, folder.ssim


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=default_shared_dir())
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    records = []
    lines = [
        "| set | scale | ours PSNR | published | diff | ours SSIM | published | diff "
        "| float-upscale PSNR / SSIM |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, by_scale in PUBLISHED.items():
        for scale, (pub_psnr, pub_ssim) in by_scale.items():
            folder = args.shared / "data" / name / "HR"
            p, s = run_pair(folder, scale)
            fp, fs = run_pair(folder, scale, float_upscale=True)
            ok = abs(p - pub_psnr) <= PSNR_TOLERANCE and abs(s - pub_ssim) <= SSIM_TOLERANCE
            records.append(
                {
                    "set": name,
                    "scale": scale,
                    "psnr": p,
                    "ssim": s,
                    "published_psnr": pub_psnr,
                    "published_ssim": pub_ssim,
                    "psnr_diff": p - pub_psnr,
                    "ssim_diff": s - pub_ssim,
                    "within_tolerance": ok,
                    "float_upscale_psnr": fp,
                    "float_upscale_ssim": fs,
                }
            )
            lines.append(
                f"| {name} | x{scale} | {p:.4f} | {pub_psnr:.2f} | {p - pub_psnr:+.4f} "
                f"| {s:.5f} | {pub_ssim:.4f} | {s - pub_ssim:+.5f} | {fp:.4f} / {fs:.5f} |"
            )
            print(lines[-1], flush=True)
    table = "\n".join(lines)
    path = write_results(
        "bicubic_baseline",
        records,
        {"tolerance": {"psnr_db": PSNR_TOLERANCE, "ssim": SSIM_TOLERANCE}},
    )
    md = RESULTS_DIR / "bicubic_baseline.md"
    write_bytes_atomic(md, (table + "\n").encode())
    print(f"\n{table}\n\nwritten: {path}, {md}")
    return 0 if all(r["within_tolerance"] for r in records) else 1


if __name__ == "__main__":
    raise SystemExit(main())
