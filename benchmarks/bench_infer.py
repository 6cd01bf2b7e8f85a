"""Inference: throughput against Real-ESRGAN's ``RealESRGANer`` and peak memory of a large upscale.

1. Throughput, side by side on the same random-init RRDBNet x4plus weights and the same 256x256
   image: ours with bf16 autocast and ours in fp32 against ``RealESRGANer(tile=0, pre_pad=10,
   half=False)`` (fp32), interleaved rounds, median and spread; and the PSNR of our bf16 output
   against our own fp32 output. The image is the centre 256x256 crop of the bundled
   ``examples/images/city.png``.
2. Peak RSS (including imports) of a 1024x1024 -> 4096x4096 x4 upscale with the same architecture,
   tile 256, fp32 on the CPU, measured in a fresh subprocess.

Usage::

    python -m benchmarks.bench_infer [--rounds 3] [--threads 2] [--skip-rss] [--skip-throughput]

Writes ``benchmarks/results/infer.json``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._common import install_reference_shim, write_results

RSS_SCRIPT = r"""
import resource, sys, numpy as np, torch
torch.set_num_threads({threads})
from realsr.archs import build_model
from realsr.infer import Upscaler
torch.manual_seed(0)
model = build_model("RealESRGAN_x4plus")
image = torch.rand(1024, 1024, 3, generator=torch.Generator().manual_seed(0)).numpy()
out = Upscaler(model, 4, tile={tile}, tile_overlap=16, tile_pad=16, pre_pad=0).upscale_planes(image, out_dtype=np.uint8)
assert out.shape == (4096, 4096, 3)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def throughput(rounds: int, threads: int) -> dict:
    """Seconds per 256x256 image for ours (bf16, fp32) and RealESRGANer (fp32), interleaved."""
    install_reference_shim()
    from realesrgan import RealESRGANer  # reference peer

    from realsr.archs import build_model
    from realsr.checkpoint import save_checkpoint
    from realsr.infer import Upscaler

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model("RealESRGAN_x4plus")
    import cv2

    city = cv2.imread(str(Path(__file__).resolve().parents[1] / "examples" / "images" / "city.png"))
    top, left = (city.shape[0] - 256) // 2, (city.shape[1] - 256) // 2
    image = np.ascontiguousarray(city[top : top + 256, left : left + 256])  # BGR uint8
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x4plus.pth"
        torch.save({"params_ema": model.state_dict()}, path)
        save_checkpoint(Path(tmp) / "ours.pth", model)
        from basicsr.archs.rrdbnet_arch import RRDBNet

        ref_net = RRDBNet(
            num_in_ch=3, num_out_ch=3, num_feat=64, num_block=23, num_grow_ch=32, scale=4
        )
        reference = RealESRGANer(
            scale=4,
            model_path=str(path),
            model=ref_net,
            tile=0,
            pre_pad=10,
            half=False,
            device=torch.device("cpu"),
        )
    planes = (
        image[:, :, ::-1].astype(np.float32) / 255
    )  # RGB for ours; RealESRGANer takes BGR uint8
    ours_fp32 = Upscaler(model, 4, pre_pad=10)
    ours_bf16 = Upscaler(model, 4, pre_pad=10, precision="bf16")
    runs = {
        "ours_bf16": lambda: ours_bf16.upscale_planes(planes),
        "ours_fp32": lambda: ours_fp32.upscale_planes(planes),
        "realesrganer_fp32": lambda: reference.enhance(image, outscale=4)[0],
    }
    outputs = {name: fn() for name, fn in runs.items()}  # warm-up, and the outputs to compare
    times: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(rounds):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))
        for name in order:
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    ref_rgb = outputs["realesrganer_fp32"][:, :, ::-1].astype(np.float32) / 255
    summary = {
        name: {"median_s": statistics.median(t), "min_s": min(t), "max_s": max(t), "rounds": len(t)}
        for name, t in times.items()
    }
    ref_median = summary["realesrganer_fp32"]["median_s"]
    return {
        "image": "examples/images/city.png centre 256x256, RRDBNet x4plus random init",
        "threads": threads,
        "timings": summary,
        "speedup_bf16_vs_reference": ref_median / summary["ours_bf16"]["median_s"],
        "speedup_fp32_vs_reference": ref_median / summary["ours_fp32"]["median_s"],
        "psnr_bf16_vs_our_fp32_db": _psnr(outputs["ours_bf16"], outputs["ours_fp32"]),
        "psnr_our_fp32_vs_reference_8bit_db": _psnr(outputs["ours_fp32"], ref_rgb),
    }


def peak_rss(threads: int, tile: int = 256) -> dict:
    """Peak resident memory of a 1024x1024 x4 tiled upscale in a fresh process."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT.format(threads=threads, tile=tile)],
        capture_output=True,
        text=True,
        check=True,
    )
    kib = int(result.stdout.strip().splitlines()[-1])
    return {
        "case": "1024x1024 -> 4096x4096, RRDBNet x4plus, tile 256, fp32, CPU",
        "peak_rss_mib": kib / 1024,
        "seconds": time.perf_counter() - start,
        "threads": threads,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args(argv)
    records = []
    if not args.skip_throughput:
        records.append({"benchmark": "throughput", **throughput(args.rounds, args.threads)})
        print(records[-1])
    if not args.skip_rss:
        records.append({"benchmark": "peak_rss", **peak_rss(args.threads)})
        print(records[-1])
    print(f"wrote {write_results('infer', records)}")


if __name__ == "__main__":
    main()
