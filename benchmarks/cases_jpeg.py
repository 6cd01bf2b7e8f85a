"""JPEG round trips against basicsr's ``DiffJPEG`` on the same batches.

Qualities are drawn per sample from Real-ESRGAN's range [30, 95]. ``exact`` is the libjpeg-turbo
bit-exact mode; ``straight-through`` and ``DiffJPEG(differentiable=True)`` are timed forward plus
backward (their training use); ``compat=basicsr`` reproduces DiffJPEG's own arithmetic.
"""

from __future__ import annotations

import importlib

import torch

from benchmarks._common import Case
from degrade.functional.jpeg import jpeg

GROUP = "jpeg"
SHAPES = [(12, 3, 256, 256), (32, 3, 64, 64)]


def cases() -> list[Case]:
    diffjpeg = importlib.import_module("basicsr.utils.diffjpeg")
    hard = diffjpeg.DiffJPEG(differentiable=False)
    soft = diffjpeg.DiffJPEG(differentiable=True)
    out: list[Case] = []
    for shape in SHAPES:
        g = torch.Generator().manual_seed(0)
        x = torch.rand(shape, generator=g)
        q = torch.rand(shape[0], generator=g) * 65 + 30
        grad = torch.randn(shape, generator=g)
        label = "x".join(map(str, shape))

        def ref_hard(x=x, q=q):
            return hard(x, quality=q.clone())  # DiffJPEG overwrites its quality tensor

        def ref_soft(x=x, q=q, grad=grad):
            xr = x.clone().requires_grad_(True)
            soft(xr, quality=q.clone()).backward(grad)
            return xr.grad

        def ours_st(x=x, q=q, grad=grad):
            xr = x.clone().requires_grad_(True)
            jpeg(xr, q, differentiable=True).backward(grad)
            return xr.grad

        def ours_compat_soft(x=x, q=q, grad=grad):
            xr = x.clone().requires_grad_(True)
            jpeg(xr, q, differentiable=True, compat="basicsr").backward(grad)
            return xr.grad

        out += [
            Case(
                GROUP,
                "jpeg[exact]",
                label,
                ours=lambda x=x, q=q: jpeg(x, q),
                reference=ref_hard,
                reference_name="basicsr DiffJPEG(differentiable=False)",
            ),
            Case(
                GROUP,
                "jpeg[compat=basicsr]",
                label,
                ours=lambda x=x, q=q: jpeg(x, q, compat="basicsr"),
                reference=ref_hard,
                reference_name="basicsr DiffJPEG(differentiable=False)",
            ),
            Case(
                GROUP,
                "jpeg[straight-through] fwd+bwd",
                label,
                ours=ours_st,
                reference=ref_soft,
                reference_name="basicsr DiffJPEG(differentiable=True) fwd+bwd",
            ),
            Case(
                GROUP,
                "jpeg[compat=basicsr, differentiable] fwd+bwd",
                label,
                ours=ours_compat_soft,
                reference=ref_soft,
                reference_name="basicsr DiffJPEG(differentiable=True) fwd+bwd",
            ),
        ]
    return out
