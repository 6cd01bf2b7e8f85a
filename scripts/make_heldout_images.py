"""Generate the held-out images of the training demo (procedural, CC0) into examples/heldout/.

The demo trains on examples/images/ and is scored on these: new draws of the same procedural
generators (scripts/make_demo_images.py) from another seed, so they are different images from the
same distribution, as a validation split would be.

Usage: python scripts/make_heldout_images.py [--out examples/heldout]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_demo_images import city, landscape

SEED = 20261123
"""Seed of the held-out draws (the training images use 20261122)."""

IMAGES = (
    ("city_a", city),
    ("landscape_a", landscape),
    ("city_b", city),
    ("landscape_b", landscape),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "examples" / "heldout"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    for name, make in IMAGES:
        path = args.out / f"{name}.png"
        cv2.imwrite(str(path), make(rng), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
