"""ZSSR on Set5 x2: PSNR (Y, border 2) next to the paper's numbers, and the time per image.

LR images are made from the modcropped HR with MATLAB bicubic (8-bit rounding after each pass,
as the classic benchmark files). The paper reports 37.37 dB for ZSSR and 33.66 dB for bicubic
(Shocher et al., CVPR 2018, Table 1, Set5 x2). Each image is one ZSSR run (training included),
timed once with a wall clock; ZSSR's early stop makes the time depend on the image.

Usage::

    python -m benchmarks.bench_zssr                      # full run, writes results/zssr.json
    python -m benchmarks.bench_zssr --images baby --iterations 20 --name zssr_smoke
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from benchmarks._common import REPO_ROOT, write_results
from degrade.functional import imresize
from degrade.io import list_images, read_image
from realsr.metrics import modcrop, psnr
from realsr.zssr import zssr_run

PAPER = {"zssr_psnr": 37.37, "bicubic_psnr": 33.66, "source": "Shocher et al. CVPR 2018, Table 1"}
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "Set5" / "HR"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Set5 HR folder")
    parser.add_argument("--images", default="", help="comma-separated image stems (default: all)")
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--min-iterations", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="zssr", help="results file stem (default: zssr)")
    args = parser.parse_args(argv)

    if not args.data.is_dir():
        parser.error(f"--data: no such folder: {args.data}")
    torch.set_num_threads(args.threads)
    wanted = {s for s in args.images.split(",") if s}
    files = [p for p in list_images(args.data) if not wanted or p.stem in wanted]
    if not files:
        parser.error(f"no images selected in {args.data}")
    scale = 2
    records = []
    for path in files:
        hr = modcrop(read_image(path), scale)
        lr = imresize(hr, 1 / scale, round_each_pass=True)
        bicubic = imresize(lr, float(scale)).clamp(0, 1)
        start = time.perf_counter()
        result = zssr_run(
            lr,
            scale,
            iterations=args.iterations,
            min_iterations=args.min_iterations,
            device=args.device,
            seed=args.seed,
            progress=True,
        )
        seconds = time.perf_counter() - start
        step = result.steps[0]
        record = {
            "image": path.stem,
            "lr_size": list(lr.shape[-2:]),
            "psnr_y": psnr(result.image, hr, crop_border=scale).item(),
            "bicubic_psnr_y": psnr(bicubic, hr, crop_border=scale).item(),
            "seconds": seconds,
            "iterations": step.iterations,
            "converged": step.converged,
            "lr_drops": step.lr_drops,
        }
        records.append(record)
        print(
            f"{path.stem:10s} ZSSR {record['psnr_y']:.2f} dB  bicubic "
            f"{record['bicubic_psnr_y']:.2f} dB  {seconds:.1f} s  {step.iterations} it"
        )
    mean = {
        "psnr_y": sum(r["psnr_y"] for r in records) / len(records),
        "bicubic_psnr_y": sum(r["bicubic_psnr_y"] for r in records) / len(records),
        "seconds_per_image": sum(r["seconds"] for r in records) / len(records),
    }
    print(
        f"mean: ZSSR {mean['psnr_y']:.2f} dB (paper {PAPER['zssr_psnr']}), bicubic "
        f"{mean['bicubic_psnr_y']:.2f} dB (paper {PAPER['bicubic_psnr']}), "
        f"{mean['seconds_per_image']:.1f} s/image"
    )
    settings = {
        "scale": scale,
        "iterations": args.iterations,
        "min_iterations": args.min_iterations,
        "threads": args.threads,
        "device": args.device,
        "seed": args.seed,
        "ensemble": "median of x8, back-projection 10",
        "complete": len(files) == 5 and args.iterations == 3000,
    }
    out = write_results(args.name, records, {"mean": mean, "paper": PAPER, "settings": settings})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
