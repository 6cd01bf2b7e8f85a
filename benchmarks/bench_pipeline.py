"""Pairs per second of our ``realesrgan_x4plus`` pipeline against Real-ESRGAN's own degradation.

Usage::

    python -m benchmarks.bench_pipeline                    # batches 12 and 32, 7 rounds
    python -m benchmarks.bench_pipeline --batches 12 --rounds 3

Both sides degrade the same 256 x 256 HR crops (scikit-image's colour photographs, fixed-seed
crop positions) into 64 x 64 LR images, interleaved round by round in one process with the same
thread count (``benchmarks._common.compare``):

- ours: ``pipe.sample(keys, seed=s)``, ``usm_sharp(hr)`` and ``pipe.apply`` (the whole pair
  synthesis: parameters, USM of the GT, degradation);
- reference: ``benchmarks.reference_realesrgan.ReferenceRealESRGAN.degrade(hr, seed=s)``: the
  ``RealESRGANDataset`` kernels of every sample (NumPy, one sample at a time, as data-loader
  workers compute them) and ``RealESRGANModel.feed_data`` (USM of the GT included, training-pair
  pool disabled).

Every call uses the next seed ``s`` (0, 1, 2, ... on both sides), so the timings average over
draws (the reference draws one resize per batch; a draw that upsamples costs more) rather than
repeating one draw. Pairs/s is ``batch / median time per call``; the spread is reported from the
fastest and slowest rounds.

A per-op breakdown of ours follows: every top-level op of the pipeline is timed on the input the
previous op produced, with the parameters of one sampled batch per round (``apply_images`` with a
``Context(hr_size=(256, 256), scale=4.0)``), together with ``sample`` and ``usm_sharp``. Results go
to ``benchmarks/results/pipeline.json``.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.utils.benchmark as tbench
from torch import Tensor

from benchmarks._common import Case, compare, install_reference_shim, write_results
from degrade.functional.sharpen import usm_sharp
from degrade.ops.base import Context
from degrade.presets import Pipeline, load_pipeline

PRESET = "realesrgan_x4plus"
HR_SIZE = 256
CROP_SEED = 7
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")


def hr_crops(batch: int, size: int = HR_SIZE) -> Tensor:
    """``batch`` HR crops ``(B, 3, size, size)`` float32 in [0, 1] from scikit-image's photos."""
    from skimage import data

    photos = [np.ascontiguousarray(getattr(data, name)()) for name in PHOTOS]
    rng = np.random.default_rng(CROP_SEED)
    crops = []
    for i in range(batch):
        img = photos[i % len(photos)]
        top = int(rng.integers(0, img.shape[0] - size + 1))
        left = int(rng.integers(0, img.shape[1] - size + 1))
        crops.append(torch.from_numpy(img[top : top + size, left : left + size].copy()))
    return torch.stack(crops).permute(0, 3, 1, 2).contiguous().to(torch.float32) / 255.0


def _seeds() -> Callable[[], int]:
    counter = itertools.count()
    return lambda: next(counter)


def ours_fn(pipe: Pipeline, hr: Tensor) -> Callable[[], Tensor]:
    """One call: sample a new seed's parameters, USM the GT, degrade."""
    keys = torch.arange(hr.shape[0], dtype=torch.int64)
    next_seed = _seeds()

    def run() -> Tensor:
        params = pipe.sample(keys, seed=next_seed(), device=hr.device)
        gt = usm_sharp(hr) if pipe.gt_usm else hr
        return pipe.apply(gt, params)

    return run


def reference_fn(hr: Tensor) -> Callable[[], Tensor]:
    """One call: kernels as RealESRGANDataset draws them, then RealESRGANModel.feed_data."""
    from benchmarks.reference_realesrgan import ReferenceRealESRGAN

    ref = ReferenceRealESRGAN(device=hr.device)
    next_seed = _seeds()
    return lambda: ref.degrade(hr, seed=next_seed())[0]


def _time(fn: Callable[[], Any], threads: int, min_run_time: float) -> float:
    timer = tbench.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads)
    return float(timer.blocked_autorange(min_run_time=min_run_time).median)


def breakdown(
    pipe: Pipeline, hr: Tensor, *, rounds: int, threads: int, min_run_time: float = 0.1
) -> list[dict[str, Any]]:
    """Median time of ``sample``, ``usm_sharp`` and every top-level op over ``rounds`` draws."""
    torch.set_num_threads(threads)
    keys = torch.arange(hr.shape[0], dtype=torch.int64)
    ctx = Context(hr_size=(hr.shape[-2], hr.shape[-1]), scale=float(pipe.scale))
    names = ["sample", "usm_sharp"] + [op.name for op in pipe.ops]
    samples: dict[str, list[float]] = {name: [] for name in names}
    for seed in range(rounds):
        params = pipe.sample(keys, seed=seed)
        draw = functools.partial(pipe.sample, keys, seed=seed)
        samples["sample"].append(_time(draw, threads, min_run_time))
        samples["usm_sharp"].append(_time(lambda: usm_sharp(hr), threads, min_run_time))
        x: Any = usm_sharp(hr)
        for op, p in zip(pipe.ops, params.children, strict=True):
            x_in = x

            def run(op: Any = op, p: Any = p, x_in: Any = x_in) -> Any:
                return op.apply_images(x_in, p, ctx)

            samples[op.name].append(_time(run, threads, min_run_time))
            x = run()
    total = sum(statistics.median(v) for v in samples.values())
    rows = []
    for name in names:
        median = statistics.median(samples[name])
        rows.append(
            {
                "op": name,
                "median_s": median,
                "min_s": min(samples[name]),
                "max_s": max(samples[name]),
                "share": median / total,
            }
        )
    return rows


def _pairs_per_s(batch: int, summary: dict[str, float]) -> dict[str, float]:
    return {
        "median": batch / summary["median_s"],
        "slowest_round": batch / summary["max_s"],
        "fastest_round": batch / summary["min_s"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[12, 32])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=HR_SIZE, help="HR crop side")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the per-op breakdown")
    parser.add_argument("--output", default="pipeline", help="result file stem")
    args = parser.parse_args(argv)
    install_reference_shim()
    torch.set_num_threads(args.threads)
    pipe = load_pipeline(PRESET)
    load_before = os.getloadavg()
    records, breakdowns = [], {}
    for batch in args.batches:
        hr = hr_crops(batch, args.size)
        shape = f"{batch}x3x{args.size}x{args.size}"
        case = Case(
            "pipeline",
            f"{PRESET} b{batch}",
            shape,
            ours=ours_fn(pipe, hr),
            reference=reference_fn(hr),
            reference_name="RealESRGANDataset kernels + RealESRGANModel.feed_data",
        )
        record = compare(case, rounds=args.rounds, threads=args.threads)
        record["batch"] = batch
        record["ours_pairs_per_s"] = _pairs_per_s(batch, record["ours"])
        record["reference_pairs_per_s"] = _pairs_per_s(batch, record["reference"])
        records.append(record)
        o, r = record["ours_pairs_per_s"], record["reference_pairs_per_s"]
        print(
            f"batch {batch}: ours {o['median']:.1f} pairs/s [{o['slowest_round']:.1f}-"
            f"{o['fastest_round']:.1f}], reference {r['median']:.2f} pairs/s "
            f"[{r['slowest_round']:.2f}-{r['fastest_round']:.2f}], ratio {record['speedup']:.2f}x",
            flush=True,
        )
        if not args.no_breakdown:
            rows = breakdown(pipe, hr, rounds=args.rounds, threads=args.threads)
            breakdowns[f"b{batch}"] = rows
            total = sum(row["median_s"] for row in rows)
            print(f"  per-op breakdown (sum of medians {total * 1e3:.1f} ms):")
            for row in rows:
                print(
                    f"    {row['op']:<10} {row['median_s'] * 1e3:8.2f} ms "
                    f"[{row['min_s'] * 1e3:.2f}-{row['max_s'] * 1e3:.2f}] {row['share']:6.1%}",
                    flush=True,
                )
    extra = {
        "preset": PRESET,
        "spec_hash": pipe.spec_hash,
        "breakdown": breakdowns,
        # other processes on the machine distort multi-threaded timings: keep the load with them
        "loadavg_1_5_15_min": {"before": list(load_before), "after": list(os.getloadavg())},
    }
    path = write_results(args.output, records, extra)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
