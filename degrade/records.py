"""Parameter records: one JSON object per degraded image, so any LR can be replayed exactly.

A record holds the image key, the base seed, everything the pipeline drew for the image (op names
and values, see :meth:`degrade.presets.Pipeline.records`), the preset name and spec hash, the
package and torch versions and the device, plus whatever the caller adds (source file, crop
position, variant index). Content-dependent values (the Poisson level count) are not stored:
``apply`` recomputes them from the image. Replaying a record on its HR image reproduces the LR
exactly on the same device and dtype.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

import degrade
from degrade.pipeline import SequentialParams
from degrade.presets import Pipeline

RECORD_VERSION = 1


def make_records(
    pipeline: Pipeline,
    params: SequentialParams,
    *,
    keys: Tensor,
    seed: int,
    extra: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One JSON-ready record per sample.

    Args:
        pipeline: the pipeline that drew ``params``.
        params: its parameters for the batch.
        keys: the ``(B,)`` image keys the parameters were drawn for.
        seed: the base seed.
        extra: per-sample fields to add (e.g. ``{"source": ..., "crop": [top, left], "variant": 0}``).

    Example:
        >>> from degrade.presets import load_pipeline
        >>> pipe = load_pipeline("realesrgan_x4plus")
        >>> keys = torch.tensor([7])
        >>> rec = make_records(pipe, pipe.sample(keys, seed=1), keys=keys, seed=1)[0]
        >>> rec["key"], rec["seed"], rec["preset"]
        (7, 1, 'realesrgan_x4plus')
    """
    per_sample = pipeline.records(params)
    key_list = keys.tolist()
    if len(key_list) != len(per_sample):
        raise ValueError(f"{len(key_list)} keys for {len(per_sample)} parameter records")
    device = str(keys.device)
    common = {
        "record_version": RECORD_VERSION,
        "preset": pipeline.name,
        "preset_hash": pipeline.spec_hash,
        "degrade_version": degrade.__version__,
        "torch_version": torch.__version__,
        "device": device,
    }
    out = []
    for i, (key, values) in enumerate(zip(key_list, per_sample, strict=True)):
        record = {"key": key, "seed": seed, **common}
        if extra is not None:
            record.update(extra[i])
        record["params"] = values
        out.append(record)
    return out


def params_from_records(
    pipeline: Pipeline,
    records: Sequence[Mapping[str, Any]],
    *,
    device: torch.device | str = "cpu",
    check_hash: bool = True,
) -> tuple[Tensor, SequentialParams]:
    """The keys and parameters that :func:`make_records` described, ready for ``pipeline.apply``.

    Raises:
        ValueError: when a record was made by a different recipe (its ``preset_hash`` differs)
            and ``check_hash`` is set, or when a record lacks a field.
    """
    for i, record in enumerate(records):
        if check_hash and record.get("preset_hash") != pipeline.spec_hash:
            raise ValueError(
                f"record {i} (key {record.get('key')}) was made by recipe {record.get('preset')!r} "
                f"hash {record.get('preset_hash')}, not {pipeline.name!r} hash {pipeline.spec_hash}"
            )
        if "params" not in record or "key" not in record:
            raise ValueError(f"record {i} has no 'params' or 'key' field")
    keys = torch.tensor([int(r["key"]) for r in records], dtype=torch.int64, device=device)
    params = pipeline.params_from_records([r["params"] for r in records], device=device)
    return keys, params


def write_jsonl(
    path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]], *, append: bool = True
) -> None:
    """Append (or write) records to a JSON-lines file, one object per line, flushed and fsynced."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, separators=(",", ":")) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a JSON-lines file; a truncated last line (an interrupted append) is ignored."""
    records = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break  # a partial line from an interrupted write
            raise ValueError(f"{path}:{number}: not a JSON object") from None
    return records
