"""filter2d against basicsr's filter2D on the same tensors (12x3x256x256, per-sample 21x21
kernels), plus the separable path against a 2-D convolution with the outer-product kernel."""

from __future__ import annotations

import importlib

import torch

from benchmarks._common import Case
from degrade.functional.filter import filter2d, filter2d_separable
from degrade.functional.kernels import bivariate_gaussian_kernel, gaussian_kernel1d

GROUP = "filter"
SHAPE = (12, 3, 256, 256)


def cases() -> list[Case]:
    ref = importlib.import_module("basicsr.utils.img_process_util")
    g = torch.Generator().manual_seed(0)
    b = SHAPE[0]
    x = torch.rand(SHAPE, generator=g)
    kernels = bivariate_gaussian_kernel(
        21, 0.2 + 2.8 * torch.rand(b, generator=g), 0.2 + 2.8 * torch.rand(b, generator=g), 0.5
    )
    g1 = gaussian_kernel1d(21, 2.0, dtype=torch.float32)
    outer = (g1[:, None] * g1[None, :]).unsqueeze(0)
    label = "x".join(map(str, SHAPE))
    return [
        Case(
            GROUP,
            "filter2d[per-sample 21x21]",
            label,
            ours=lambda: filter2d(x, kernels),
            reference=lambda: ref.filter2D(x, kernels),
            reference_name="basicsr filter2D",
        ),
        Case(
            GROUP,
            "filter2d_separable[shared 21+21]",
            label,
            ours=lambda: filter2d_separable(x, g1, g1),
            reference=lambda: ref.filter2D(x, outer),
            reference_name="basicsr filter2D (21x21 outer product)",
        ),
    ]
