"""Timing and result-writing helpers shared by the benchmark scripts.

Every comparison times our op and the reference peer's op on the same tensors in the same
process, interleaved round by round (so machine-load drift hits both), each round a
``torch.utils.benchmark`` blocked autorange; we report the median over rounds and the spread
(min, max, IQR), and the ratio reference / ours of the medians.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.utils.benchmark as tbench

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def install_reference_shim() -> None:
    """Make ``import basicsr`` work on current torchvision (benchmarks only, never the package)."""
    try:
        import torchvision.transforms.functional as tvf

        sys.modules.setdefault("torchvision.transforms.functional_tensor", tvf)
    except ImportError:
        pass


@dataclass
class Case:
    """One side-by-side timing: our callable against the reference's on the same inputs."""

    group: str
    name: str
    shape: str
    ours: Callable[[], Any]
    reference: Callable[[], Any] | None = None
    reference_name: str = ""


def _time_once(fn: Callable[[], Any], threads: int, min_run_time: float) -> float:
    timer = tbench.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads)
    return float(timer.blocked_autorange(min_run_time=min_run_time).median)


def summarize(samples: list[float]) -> dict[str, float]:
    """Median, min, max and interquartile range (seconds) of timing samples."""
    q = statistics.quantiles(samples, n=4) if len(samples) > 1 else [samples[0]] * 3
    return {
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "iqr_s": q[2] - q[0],
        "rounds": len(samples),
    }


def compare(case: Case, *, rounds: int = 7, threads: int = 2, min_run_time: float = 0.2) -> dict:
    """Time ``case.ours`` and ``case.reference`` interleaved; return a JSON-ready record."""
    torch.set_num_threads(threads)
    case.ours()  # warm-up (allocations, lazy init)
    if case.reference is not None:
        case.reference()
    ours: list[float] = []
    ref: list[float] = []
    for r in range(rounds):
        order = [("ours", case.ours), ("ref", case.reference)]
        if r % 2:
            order.reverse()
        for tag, fn in order:
            if fn is None:
                continue
            t = _time_once(fn, threads, min_run_time)
            (ours if tag == "ours" else ref).append(t)
    record: dict[str, Any] = {
        "group": case.group,
        "name": case.name,
        "shape": case.shape,
        "ours": summarize(ours),
    }
    if ref:
        record["reference_name"] = case.reference_name
        record["reference"] = summarize(ref)
        record["speedup"] = record["reference"]["median_s"] / record["ours"]["median_s"]
    return record


def environment() -> dict[str, Any]:
    """Commit, versions and machine, stored with every result file."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
    }


def write_results(name: str, records: list[dict], extra: dict | None = None) -> Path:
    """Write ``benchmarks/results/<name>.json`` atomically and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {"environment": environment(), "results": records, **(extra or {})}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)
    return path


def markdown_table(records: list[dict]) -> str:
    """A markdown table of timing records (ms, median [min-max], speedup)."""
    lines = [
        "| group | case | shape | ours ms (median [min-max]) | reference | reference ms | speedup |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in records:
        o = r["ours"]
        ours = f"{o['median_s'] * 1e3:.2f} [{o['min_s'] * 1e3:.2f}-{o['max_s'] * 1e3:.2f}]"
        if "reference" in r:
            f = r["reference"]
            refs = f"{f['median_s'] * 1e3:.2f} [{f['min_s'] * 1e3:.2f}-{f['max_s'] * 1e3:.2f}]"
            lines.append(
                f"| {r['group']} | {r['name']} | {r['shape']} | {ours} | {r['reference_name']} "
                f"| {refs} | {r['speedup']:.2f}x |"
            )
        else:
            lines.append(f"| {r['group']} | {r['name']} | {r['shape']} | {ours} | - | - | - |")
    return "\n".join(lines)
