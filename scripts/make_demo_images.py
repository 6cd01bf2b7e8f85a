"""Generate the project's bundled demo images (procedural, CC0) into examples/images/.

The images are made, not photographed, so they carry no third-party licence. They mix the
structures super-resolution cares about: straight edges, fine periodic detail, text, smooth
gradients and stochastic texture.

Usage: python scripts/make_demo_images.py [--out examples/images]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

SIZE = 384


def fbm(
    rng: np.random.Generator, size: int, octaves: int = 6, persistence: float = 0.55
) -> np.ndarray:
    """Fractal Brownian motion in [0, 1]: sum of upsampled random grids."""
    total = np.zeros((size, size), np.float64)
    amplitude, norm = 1.0, 0.0
    for octave in range(octaves):
        cells = 2 ** (octave + 2)
        grid = rng.random((cells + 1, cells + 1))
        total += amplitude * cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
        norm += amplitude
        amplitude *= persistence
    total /= norm
    return (total - total.min()) / (total.max() - total.min())


def city(rng: np.random.Generator) -> np.ndarray:
    """Skyline with windows, a street sign and a gradient sky."""
    img = np.zeros((SIZE, SIZE, 3), np.float64)
    sky = np.linspace(0.95, 0.55, SIZE)[:, None]
    img[..., 0] = sky * 0.85  # B (OpenCV order)
    img[..., 1] = sky * 0.75
    img[..., 2] = sky * 0.55
    x = 0
    while x < SIZE:
        w = int(rng.integers(40, 90))
        h = int(rng.integers(120, 320))
        color = rng.uniform(0.2, 0.7, 3)
        img[SIZE - h :, x : x + w] = color
        for wy in range(SIZE - h + 10, SIZE - 10, 14):
            for wx in range(x + 6, x + w - 8, 11):
                lit = rng.random() < 0.5
                img[wy : wy + 8, wx : wx + 6] = (0.35, 0.85, 0.95) if lit else color * 0.4
        x += w + int(rng.integers(2, 10))
    img = (img * 255).clip(0, 255).astype(np.uint8)
    cv2.rectangle(img, (30, 40), (230, 100), (40, 120, 40), -1)
    cv2.rectangle(img, (30, 40), (230, 100), (240, 240, 240), 3)
    cv2.putText(
        img, "REAL SR 42", (42, 84), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (255, 255, 255), 2, cv2.LINE_AA
    )
    cv2.putText(
        img,
        "fine print: 0123456789",
        (40, 125),
        cv2.FONT_HERSHEY_PLAIN,
        0.9,
        (20, 20, 20),
        1,
        cv2.LINE_AA,
    )
    return img


def landscape(rng: np.random.Generator) -> np.ndarray:
    """Mountains over a lake with grass texture: stochastic, multi-scale detail."""
    height = fbm(rng, SIZE)
    ridge = (0.35 + 0.25 * fbm(rng, SIZE, octaves=5)[0]) * SIZE
    yy = np.arange(SIZE)[:, None]
    img = np.zeros((SIZE, SIZE, 3), np.float64)
    sky = yy < ridge[None, :]
    img[..., 0] = np.where(sky, 0.9 - yy / SIZE * 0.5, 0.25 + 0.35 * height)
    img[..., 1] = np.where(sky, 0.75 - yy / SIZE * 0.3, 0.35 + 0.45 * height)
    img[..., 2] = np.where(sky, 0.55, 0.2 + 0.3 * height)
    lake = yy > SIZE * 0.72
    ripples = 0.08 * np.sin(yy * 0.9 + 6 * fbm(rng, SIZE, octaves=3))
    img[..., 0] = np.where(lake, 0.7 + ripples, img[..., 0])
    img[..., 1] = np.where(lake, 0.45 + ripples, img[..., 1])
    img[..., 2] = np.where(lake, 0.25 + ripples, img[..., 2])
    grass = rng.random((SIZE, SIZE)) < 0.04
    img[grass & ~sky & ~lake] *= 0.5
    return (img * 255).clip(0, 255).astype(np.uint8)


def patterns(rng: np.random.Generator) -> np.ndarray:
    """Zone plate, stripes, a checkerboard and circles: aliasing and ringing stress."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    r2 = ((xx - SIZE / 2) ** 2 + (yy - SIZE / 2) ** 2) / SIZE
    zone = 0.5 + 0.5 * np.cos(np.pi * r2 * 0.9)
    img = np.stack([zone * 0.9, zone * 0.6 + 0.2, 1.0 - zone * 0.7], axis=-1)
    img[:96, :] = np.where((xx[:96] // 4) % 2 == 0, 0.9, 0.15)[..., None] * np.array(
        [0.3, 0.8, 1.0]
    )
    checker = ((xx // 16 + yy // 16) % 2).astype(np.float64)
    img[SIZE - 96 :, :] = checker[SIZE - 96 :, :, None] * np.array([0.9, 0.9, 0.2]) + 0.05
    img = (img * 255).clip(0, 255).astype(np.uint8)
    for _ in range(6):
        c = (int(rng.integers(40, SIZE - 40)), int(rng.integers(120, SIZE - 120)))
        color = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.circle(img, c, int(rng.integers(8, 30)), color, 2, cv2.LINE_AA)
    return img


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "examples" / "images"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261122)
    for name, make in (("city", city), ("landscape", landscape), ("patterns", patterns)):
        path = args.out / f"{name}.png"
        cv2.imwrite(str(path), make(rng), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
