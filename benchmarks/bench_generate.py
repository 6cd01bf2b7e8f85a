"""Throughput of ``degrade generate``: pairs per second for ``--workers 1`` and ``--workers 2``.

Usage::

    python -m benchmarks.bench_generate                   # 48 pairs of 256x256 crops, 3 rounds
    python -m benchmarks.bench_generate --rounds 1 --device cuda

Inputs are 12 synthetic 384x384 images (smooth colour fields with texture); each run makes 4
random 256x256 GT crops per image with the ``realesrgan_x4plus`` preset into a fresh folder.
A run's time is the whole ``generate_dataset`` call (worker start-up, reading, degradation,
encoding, writing, merging). Rounds alternate the worker counts; we report the median, min and
max pairs/s and check that every worker count wrote byte-identical files. Writes
``benchmarks/results/generate.json``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks._common import write_results
from degrade.generate import generate_dataset


def _make_inputs(folder: Path, count: int, size: int) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for i in range(count):
        base = cv2.resize(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8), (size, size))
        grain = rng.normal(0, 12, (size, size, 3))
        image = np.clip(base.astype(np.float64) + grain, 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"{i:04d}.png"), image)


def _outputs(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for sub in ("gt", "lq")
        for p in sorted((out / sub).iterdir())
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the main process")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    pairs = args.images * args.variants
    times: dict[int, list[float]] = {w: [] for w in args.workers}
    identical = True
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "hr"
        _make_inputs(inputs, args.images, args.crop + args.crop // 2)
        reference: dict[str, bytes] | None = None
        for r in range(args.rounds):
            order = list(args.workers) if r % 2 == 0 else list(reversed(args.workers))
            for workers in order:
                out = Path(tmp) / f"out_{r}_{workers}"
                start = time.perf_counter()
                summary = generate_dataset(
                    inputs,
                    out,
                    preset="realesrgan_x4plus",
                    seed=0,
                    crop=args.crop,
                    variants=args.variants,
                    device=args.device,
                    batch_size=args.batch_size,
                    workers=workers,
                    progress=False,
                )
                seconds = time.perf_counter() - start
                if summary.generated != pairs or summary.failed:
                    raise RuntimeError(f"expected {pairs} pairs, got {summary}")
                times[workers].append(seconds)
                files = _outputs(out)
                if reference is None:
                    reference = files
                identical &= files == reference
                print(
                    f"round {r} workers {workers}: {pairs / seconds:.2f} pairs/s ({seconds:.1f} s)"
                )
    records = []
    for workers, samples in times.items():
        rates = [pairs / s for s in samples]
        records.append(
            {
                "name": f"generate realesrgan_x4plus {args.crop}x{args.crop} workers={workers}",
                "workers": workers,
                "batch_size": args.batch_size,
                "device": args.device,
                "pairs": pairs,
                "pairs_per_s": {
                    "median": statistics.median(rates),
                    "min": min(rates),
                    "max": max(rates),
                },
                "seconds": samples,
            }
        )
        print(
            f"workers={workers}: median {statistics.median(rates):.2f} pairs/s "
            f"[{min(rates):.2f}-{max(rates):.2f}] over {len(rates)} rounds"
        )
    print(f"outputs identical across worker counts: {identical}")
    path = write_results("generate", records, {"outputs_identical": identical})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
