"""usm_sharp (two 1-D passes per blur) against basicsr's USMSharp (a 51x51 2-D convolution) on
the same 12x3x256x256 batch, with Real-ESRGAN's settings (radius 50, weight 0.5, threshold 10)."""

from __future__ import annotations

import importlib

import torch

from benchmarks._common import Case
from degrade.functional.sharpen import usm_sharp

GROUP = "sharpen"
SHAPE = (12, 3, 256, 256)


def cases() -> list[Case]:
    ref = importlib.import_module("basicsr.utils.img_process_util")
    x = torch.rand(SHAPE, generator=torch.Generator().manual_seed(0))
    usm = ref.USMSharp()
    label = "x".join(map(str, SHAPE))
    return [
        Case(
            GROUP,
            "usm_sharp",
            label,
            ours=lambda: usm_sharp(x),
            reference=lambda: usm(x),
            reference_name="basicsr USMSharp",
        )
    ]
