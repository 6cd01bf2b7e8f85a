"""Benchmarks for resize (vs F.interpolate) and MATLAB imresize (vs basicsr's imresize)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks._common import Case, install_reference_shim
from degrade.functional.imresize import imresize
from degrade.functional.resize import resize


def _batch(b: int, c: int, h: int, w: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.rand(b, c, h, w, generator=g)


def cases() -> list[Case]:
    install_reference_shim()
    from basicsr.utils.matlab_functions import imresize as basicsr_imresize

    x = _batch(12, 3, 256, 256)
    shape = "12x3x256x256 f32"
    images_hwc = [img.permute(1, 2, 0).contiguous().numpy() for img in x]
    images_chw = [img.contiguous() for img in x]

    def basicsr_numpy_loop() -> list:
        return [basicsr_imresize(img, 0.25) for img in images_hwc]

    def basicsr_tensor_loop() -> list:
        return [basicsr_imresize(img, 0.25) for img in images_chw]

    return [
        Case(
            "resize",
            "imresize x1/4 (vs basicsr numpy, per image)",
            shape,
            ours=lambda: imresize(x, 0.25),
            reference=basicsr_numpy_loop,
            reference_name="basicsr matlab_functions.imresize (numpy HWC, loop)",
        ),
        Case(
            "resize",
            "imresize x1/4 (vs basicsr tensor, per image)",
            shape,
            ours=lambda: imresize(x, 0.25),
            reference=basicsr_tensor_loop,
            reference_name="basicsr matlab_functions.imresize (tensor CHW, loop)",
        ),
        Case(
            "resize",
            "imresize x1/4 round_each_pass",
            shape,
            ours=lambda: imresize(x, 0.25, round_each_pass=True),
        ),
        Case(
            "resize",
            "resize bicubic x1/4 (sanity)",
            shape,
            ours=lambda: resize(x, scale=0.25, mode="bicubic"),
            reference=lambda: F.interpolate(x, scale_factor=0.25, mode="bicubic"),
            reference_name="F.interpolate bicubic",
        ),
        Case(
            "resize",
            "resize bilinear x0.37 (sanity)",
            shape,
            ours=lambda: resize(x, scale=0.37, mode="bilinear"),
            reference=lambda: F.interpolate(x, scale_factor=0.37, mode="bilinear"),
            reference_name="F.interpolate bilinear",
        ),
    ]
