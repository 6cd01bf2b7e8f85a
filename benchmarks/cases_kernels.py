"""Blur kernel generation for a batch of 32: ours batched (one call) against basicsr's numpy
functions called once per kernel and zero-padded to 21, as Real-ESRGAN's dataset does.

Both sides return a ``(32, 21, 21)`` float32 tensor with per-sample sizes 7..21.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import torch

from benchmarks._common import Case
from degrade.functional.kernels import (
    bivariate_gaussian_kernel,
    generalized_gaussian_kernel,
    plateau_kernel,
    sinc_kernel,
)

GROUP = "kernels"
BATCH = 32
PAD_TO = 21


def cases() -> list[Case]:
    deg = importlib.import_module("basicsr.data.degradations")
    g = torch.Generator().manual_seed(0)
    sizes = 2 * torch.randint(3, 11, (BATCH,), generator=g) + 1
    sx = 0.2 + 2.8 * torch.rand(BATCH, generator=g, dtype=torch.float64)
    sy = 0.2 + 2.8 * torch.rand(BATCH, generator=g, dtype=torch.float64)
    theta = (2 * torch.rand(BATCH, generator=g, dtype=torch.float64) - 1) * math.pi
    beta = 0.5 + 3.5 * torch.rand(BATCH, generator=g, dtype=torch.float64)
    cutoff = math.pi / 3 + 2 * math.pi / 3 * torch.rand(BATCH, generator=g, dtype=torch.float64)
    rows = list(
        zip(
            sizes.tolist(),
            sx.tolist(),
            sy.tolist(),
            theta.tolist(),
            beta.tolist(),
            cutoff.tolist(),
            strict=True,
        )
    )
    label = f"{BATCH}x{PAD_TO}x{PAD_TO}"

    def padded(kernel: np.ndarray) -> np.ndarray:
        p = (PAD_TO - kernel.shape[0]) // 2
        return np.pad(kernel, ((p, p), (p, p)))

    def stack(kernels: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(kernels)).float()

    def ref_gaussian() -> torch.Tensor:
        return stack(
            [
                padded(deg.bivariate_Gaussian(k, a, b, t, isotropic=False))
                for k, a, b, t, _, _ in rows
            ]
        )

    def ref_generalized() -> torch.Tensor:
        return stack(
            [
                padded(deg.bivariate_generalized_Gaussian(k, a, b, t, be, isotropic=False))
                for k, a, b, t, be, _ in rows
            ]
        )

    def ref_plateau() -> torch.Tensor:
        return stack(
            [
                padded(deg.bivariate_plateau(k, a, b, t, be, isotropic=False))
                for k, a, b, t, be, _ in rows
            ]
        )

    def ref_sinc() -> torch.Tensor:
        return stack([deg.circular_lowpass_kernel(c, k, pad_to=PAD_TO) for k, *_, c in rows])

    return [
        Case(
            GROUP,
            "bivariate_gaussian_kernel",
            label,
            ours=lambda: bivariate_gaussian_kernel(sizes, sx, sy, theta, pad_to=PAD_TO),
            reference=ref_gaussian,
            reference_name="basicsr bivariate_Gaussian (loop)",
        ),
        Case(
            GROUP,
            "generalized_gaussian_kernel",
            label,
            ours=lambda: generalized_gaussian_kernel(sizes, sx, sy, theta, beta, pad_to=PAD_TO),
            reference=ref_generalized,
            reference_name="basicsr bivariate_generalized_Gaussian (loop)",
        ),
        Case(
            GROUP,
            "plateau_kernel",
            label,
            ours=lambda: plateau_kernel(sizes, sx, sy, theta, beta, pad_to=PAD_TO),
            reference=ref_plateau,
            reference_name="basicsr bivariate_plateau (loop)",
        ),
        Case(
            GROUP,
            "sinc_kernel",
            label,
            ours=lambda: sinc_kernel(sizes, cutoff, pad_to=PAD_TO),
            reference=ref_sinc,
            reference_name="basicsr circular_lowpass_kernel (loop)",
        ),
    ]
