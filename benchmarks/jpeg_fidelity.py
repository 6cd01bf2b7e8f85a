"""JPEG fidelity against OpenCV / libjpeg-turbo: how many 8-bit values each implementation gets wrong.

For every quality 1..100 on a few scikit-image photos (full size), compares with
``cv2.imdecode(cv2.imencode('.jpg', img, [IMWRITE_JPEG_QUALITY, q]))``:

* ``jpeg`` exact mode (default);
* ``jpeg(..., differentiable=True)`` (forward of the straight-through mode, input requiring grad);
* basicsr's ``DiffJPEG(differentiable=False)`` (output rounded to 8 bits);

and, for recipe parity, ``jpeg(..., compat="basicsr")`` against ``DiffJPEG`` itself.
Writes ``benchmarks/results/jpeg_fidelity.json`` and prints markdown tables.

Usage::

    python -m benchmarks.jpeg_fidelity
"""

from __future__ import annotations

import importlib
from typing import Any

import cv2
import numpy as np
import torch

from benchmarks._common import install_reference_shim, write_results
from degrade.functional.jpeg import jpeg

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket"]
QUALITIES = list(range(1, 101))
SHOWN = [10, 30, 50, 75, 95]
CHUNK = 10


def _cv2_jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1].copy(), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)[..., ::-1]


def _to_u8(y: torch.Tensor) -> np.ndarray:
    return (y.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _stats(ours: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    d = np.abs(ours.astype(np.int64) - ref.astype(np.int64))
    return {
        "differing": int((d > 0).sum()),
        "total": int(d.size),
        "max_abs": int(d.max()),
        "sum_abs": int(d.sum()),
    }


def _merge(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {
        "differing": a["differing"] + b["differing"],
        "total": a["total"] + b["total"],
        "max_abs": max(a["max_abs"], b["max_abs"]),
        "sum_abs": a["sum_abs"] + b["sum_abs"],
    }


def main() -> None:
    torch.set_num_threads(2)
    install_reference_shim()
    data = importlib.import_module("skimage.data")
    diffjpeg = importlib.import_module("basicsr.utils.diffjpeg").DiffJPEG(differentiable=False)
    modes = ["exact", "differentiable", "basicsr DiffJPEG"]
    per_q: dict[str, dict[int, dict[str, float]]] = {m: {} for m in modes}
    compat_max: dict[int, float] = {}
    for name in PHOTOS:
        img = np.ascontiguousarray(getattr(data, name)()[..., :3])
        x1 = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
        for start in range(0, len(QUALITIES), CHUNK):
            qs = QUALITIES[start : start + CHUNK]
            x = x1.expand(len(qs), -1, -1, -1).contiguous()
            q = torch.tensor(qs, dtype=torch.float32)
            refs = np.stack([_cv2_jpeg(img, qi) for qi in qs])
            xg = x.clone().requires_grad_(True)
            straight_through = jpeg(xg, q, differentiable=True)
            with torch.no_grad():
                dj = diffjpeg(x, quality=q.clone())  # DiffJPEG overwrites its quality tensor
                compat = jpeg(x, q, compat="basicsr")
                outs = {
                    "exact": _to_u8(jpeg(x, q)),
                    "differentiable": _to_u8(straight_through),
                    "basicsr DiffJPEG": _to_u8(dj),
                }
            for i, qi in enumerate(qs):
                for m in modes:
                    s = _stats(outs[m][i], refs[i])
                    per_q[m][qi] = _merge(per_q[m][qi], s) if qi in per_q[m] else s
                err = float((compat[i] - dj[i]).abs().max())
                compat_max[qi] = max(compat_max.get(qi, 0.0), err)
        print(f"{name}: done", flush=True)

    records: list[dict[str, Any]] = []
    for m in modes:
        total = None
        for qi in QUALITIES:
            s = per_q[m][qi]
            records.append({"mode": m, "quality": qi, **s})
            total = s if total is None else _merge(total, s)
        assert total is not None
        records.append({"mode": m, "quality": "1..100", **total})
    write_results(
        "jpeg_fidelity",
        records,
        extra={
            "photos": PHOTOS,
            "reference": "cv2.imencode/imdecode (libjpeg-turbo) " + cv2.__version__,
            "compat_vs_diffjpeg_max_abs": {str(k): v for k, v in compat_max.items()},
        },
    )

    lines = [
        "| mode | quality | differing 8-bit values | share | max abs diff | mean abs diff |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        if r["quality"] in SHOWN or r["quality"] == "1..100":
            lines.append(
                f"| {r['mode']} | {r['quality']} | {r['differing']:,} / {r['total']:,} "
                f"| {r['differing'] / r['total']:.2%} | {r['max_abs']} "
                f"| {r['sum_abs'] / r['total']:.3f} |"
            )
    print("\n".join(lines))
    worst = max(compat_max.values())
    print(
        f"\njpeg(compat='basicsr') vs DiffJPEG(differentiable=False): max abs diff {worst:.2e} (qualities 1..100)"
    )


if __name__ == "__main__":
    main()
