"""Degradation previews: the stages of a degradation chain for one HR image, and contact sheets.

:func:`demo_stages` runs a fixed demonstration chain of the functional core (blur with a random
kernel family, random downscale, Gaussian or Poisson noise, JPEG, final resize to HR/scale), each
choice drawn from ``(seed, key, stage)`` alone. :func:`contact_sheet` lays stages out in rows, each
stage shown at HR size with nearest-neighbour scaling and labelled with its parameters.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from degrade.functional.filter import filter2d
from degrade.functional.imresize import imresize
from degrade.functional.jpeg import jpeg
from degrade.functional.kernels import (
    bivariate_gaussian_kernel,
    generalized_gaussian_kernel,
    plateau_kernel,
    sinc_kernel,
)
from degrade.functional.noise import add_gaussian_noise, add_poisson_noise
from degrade.functional.resize import resize
from degrade.io import ImageReadError, read_image, to_uint8_array, write_bytes_atomic
from degrade.seeding import derive_seed


@dataclass(frozen=True)
class Stage:
    """One step of a previewed degradation: its output image and a short parameter label."""

    name: str
    image: Tensor  # (C, H, W), float in [0, 1]
    label: str


def _generator(seed: int, key: int, stage: str) -> torch.Generator:
    return torch.Generator().manual_seed(derive_seed(seed, key, stage))


def _uniform(g: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=g, dtype=torch.float64))


def _choice(g: torch.Generator, options: list[str]) -> str:
    return options[int(torch.randint(len(options), (), generator=g))]


def _random_kernel(g: torch.Generator) -> tuple[Tensor, str]:
    family = _choice(g, ["iso", "aniso", "generalized", "plateau", "sinc"])
    size = 2 * int(torch.randint(3, 11, (), generator=g)) + 1  # 7..21
    if family == "sinc":
        cutoff = _uniform(g, math.pi / 3, math.pi)
        return sinc_kernel(size, cutoff, pad_to=21), f"sinc k{size} wc={cutoff:.2f}"
    sx = _uniform(g, 0.2, 3.0)
    sy = sx if family == "iso" else _uniform(g, 0.2, 3.0)
    theta = _uniform(g, -math.pi, math.pi) if family != "iso" else 0.0
    if family in ("iso", "aniso"):
        kernel = bivariate_gaussian_kernel(size, sx, sy, theta, pad_to=21)
        return kernel, f"{family} k{size} s={sx:.1f},{sy:.1f}"
    beta = _uniform(g, 0.5, 4.0) if family == "generalized" else _uniform(g, 1.0, 2.0)
    make = generalized_gaussian_kernel if family == "generalized" else plateau_kernel
    return make(size, sx, sy, theta, beta, pad_to=21), f"{family[:4]} k{size} b={beta:.1f}"


def demo_stages(hr: Tensor, *, seed: int, key: int, scale: int = 4) -> list[Stage]:
    """Run the demonstration chain on one HR image and return every stage.

    Args:
        hr: one RGB image, float in [0, 1].
        seed: base seed.
        key: the image's key (e.g. its index in a folder times the number of samples + sample).
        scale: the final downscale factor.

    Shape:
        hr: ``(1, 3, H, W)``; stage images are ``(3, h, w)``, the last one ``(3, H/scale, W/scale)``.

    Returns:
        ``[HR, blur, resize, noise, jpeg, final]`` stages.
    """
    if hr.ndim != 4 or hr.shape[0] != 1:
        raise ValueError(f"hr must have shape (1, C, H, W), got {tuple(hr.shape)}")
    h, w = hr.shape[-2:]
    stages = [Stage("HR", hr[0], f"HR {w}x{h} key={key}")]

    kernel, label = _random_kernel(_generator(seed, key, "blur"))
    x = filter2d(hr, kernel.to(hr))
    stages.append(Stage("blur", x[0], label))

    g = _generator(seed, key, "resize")
    factor = _uniform(g, 0.3, 1.0)
    mode = _choice(g, ["area", "bilinear", "bicubic"])
    x = resize(x, scale=factor, mode=mode).clamp(0, 1)
    stages.append(Stage("resize", x[0], f"{mode} x{factor:.2f}"))

    g = _generator(seed, key, "noise")
    gray = bool(torch.rand((), generator=g) < 0.4)
    noise_seed = torch.tensor([derive_seed(seed, key, "noise", "field")])
    if torch.rand((), generator=g) < 0.5:
        sigma = _uniform(g, 1.0, 25.0)
        x = add_gaussian_noise(x, sigma, gray=gray, seeds=noise_seed)
        label = f"gauss s={sigma:.1f}{' gray' if gray else ''}"
    else:
        amount = _uniform(g, 0.05, 2.5)
        x = add_poisson_noise(x, amount, gray=gray, seeds=noise_seed)
        label = f"poisson {amount:.2f}{' gray' if gray else ''}"
    stages.append(Stage("noise", x[0], label))

    quality = round(_uniform(_generator(seed, key, "jpeg"), 30.0, 95.0))
    x = jpeg(x, quality)
    stages.append(Stage("jpeg", x[0], f"jpeg q={quality}"))

    x = imresize(x, size=(h // scale, w // scale)).clamp(0, 1)
    stages.append(Stage("final", x[0], f"imresize {w // scale}x{h // scale}"))
    return stages


def _cell(image: Tensor, height: int, width: int, label: str) -> np.ndarray:
    x = image.detach().float().cpu().unsqueeze(0)
    if x.shape[1] == 1:
        x = x.expand(1, 3, *x.shape[-2:])
    x = F.interpolate(x, size=(height, width), mode="nearest")
    cell = cv2.cvtColor(to_uint8_array(x), cv2.COLOR_RGB2BGR)
    band = 18
    cell = np.concatenate([np.full((band, width, 3), 24, np.uint8), cell], axis=0)
    cv2.putText(
        cell,
        label[: max(4, width // 7)],
        (3, 13),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.4,
        (235, 235, 235),
        1,
        cv2.LINE_AA,
    )
    return cell


def contact_sheet(rows: list[list[Stage]], *, cell_size: int = 192, gap: int = 4) -> np.ndarray:
    """Lay out rows of stages as one BGR uint8 image (for ``cv2.imwrite``).

    Every stage is scaled to the size of its row's first stage (nearest neighbour), then to a
    ``cell_size`` wide cell, and labelled above.

    Returns:
        ``(H, W, 3)`` uint8 array in BGR order.
    """
    if not rows:
        raise ValueError("contact_sheet needs at least one row")
    lines = []
    columns = max(len(r) for r in rows)
    for row in rows:
        ref_h, ref_w = row[0].image.shape[-2:]
        height = max(1, round(cell_size * ref_h / ref_w))
        cells = [_cell(s.image, height, cell_size, s.label) for s in row]
        blank = np.zeros_like(cells[0])
        cells += [blank] * (columns - len(cells))
        spacer = np.full((cells[0].shape[0], gap, 3), 255, np.uint8)
        parts = [cells[0]]
        for c in cells[1:]:
            parts += [spacer, c]
        lines.append(np.concatenate(parts, axis=1))
    width = lines[0].shape[1]
    rows_out = [lines[0]]
    for row in lines[1:]:
        rows_out += [np.full((gap, width, 3), 255, np.uint8), row]
    return np.concatenate(rows_out, axis=0)


def _center_crop(x: Tensor, size: int | None) -> Tensor:
    if size is None:
        return x
    h, w = x.shape[-2:]
    if h < size or w < size:
        raise ValueError(f"image of {w}x{h} is smaller than --crop {size}")
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top : top + size, left : left + size]


def _preview(args: argparse.Namespace) -> int:
    if args.samples < 1:
        print("degrade preview: --samples must be >= 1", file=sys.stderr)
        return 2
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


def register(sub: Any) -> None:
    """Add ``degrade preview`` to the command's subparsers."""
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
