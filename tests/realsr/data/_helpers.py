"""Shared helpers of the data tests: dataset options (through the real loader) and tiny images."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from realsr.config import DatasetOptions, options_from_dict
from realsr.data.commands import register


def dataset_options(
    type: str, *, phase: str = "train", scale: int = 4, backend: str = "disk", **keys: Any
) -> DatasetOptions:
    """The ``DatasetOptions`` that the options loader makes of one ``datasets`` section.

    ``keys`` are the section's YAML keys (paths may be ``Path``); ``None`` values are written
    as YAML nulls. Validation sets get a placeholder training set beside them.
    """
    section: dict[str, Any] = {"name": "set", "type": type, "io_backend": {"type": backend}}
    section.update({k: str(v) if isinstance(v, Path) else v for k, v in keys.items()})
    if phase == "train":
        datasets = {"train": section}
    else:
        placeholder = {
            "name": "placeholder",
            "type": "PairedImageDataset",
            "dataroot_gt": "unused_gt",
            "dataroot_lq": "unused_lq",
            "gt_size": 4 * scale,
        }
        datasets = {"train": placeholder, "val": section}
    mapping = {
        "name": "data_test",
        "model_type": "SRModel",
        "scale": scale,
        "datasets": datasets,
        "network_g": {"type": "SRVGGNetCompact", "num_feat": 8, "num_conv": 2, "upscale": scale},
        "train": {
            "optim_g": {"type": "Adam", "lr": 1e-4},
            "total_iter": 1,
            "pixel_opt": {"type": "L1Loss"},
        },
    }
    options = options_from_dict(mapping, source="tests/realsr/data")
    return options.datasets["train" if phase == "train" else "val"]


def write_rgb(path: Path, rgb: np.ndarray) -> None:
    """Write an (H, W, 3) RGB (or (H, W) gray) uint8/uint16 array as an image file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    array = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
    assert cv2.imwrite(str(path), array), path


def random_rgb(rng: np.random.Generator, h: int, w: int, dtype: type = np.uint8) -> np.ndarray:
    """Random (h, w, 3) pixels of ``dtype``."""
    peak = 65535 if dtype == np.uint16 else 255
    return rng.integers(0, peak + 1, (h, w, 3)).astype(dtype)


def as_float(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) integer RGB -> (3, H, W) float32 in [0, 1], as the datasets return it."""
    peak = 65535.0 if rgb.dtype == np.uint16 else 255.0
    return np.ascontiguousarray((rgb.astype(np.float32) / np.float32(peak)).transpose(2, 0, 1))


def run_data_command(*argv: str) -> int:
    """Run ``realsr make-lmdb`` / ``extract-subimages`` arguments; returns the exit status."""
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.run(args))
