"""The JPEG approximation of BasicSR's ``DiffJPEG``, for exact recipe parity.

BasicSR's training degradations (Real-ESRGAN) use ``basicsr.utils.diffjpeg.DiffJPEG``, which
differs from libjpeg in several ways: it does not quantise its input to 8 bits, converts
colours in float, pads with zeros to a multiple of 16, subsamples chroma by 2x2 averaging and
upsamples it by pixel repetition, uses a float DCT, scales the Annex K tables by a continuous
quality factor without rounding or clamping, uses the tables transposed (row = horizontal
frequency), and rounds half to even. This module reproduces that arithmetic step by step in
float32 (the precision DiffJPEG computes in), so that the same batch gives the same output to
float rounding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from . import tables
from .surrogate import cubic_round

__all__ = ["basicsr_factor", "jpeg_basicsr"]

_F32 = torch.float32
_RGB2YCC = ((0.299, 0.587, 0.114), (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312))
_YCC2RGB = ((1.0, 0.0, 1.402), (1.0, -0.344136, -0.714136), (1.0, 1.772, 0.0))


def _dct_tensor(inverse: bool) -> Tensor:
    # (64, 64) float32 matrix of products of cosines, indexed [(row, col), (u, v)] for the
    # forward transform and [(u, v), (row, col)] for the inverse, as a 4-way tensor flattened.
    k = torch.arange(8, dtype=torch.float64)
    cos = torch.cos((2 * k.view(8, 1) + 1) * k.view(1, 8) * math.pi / 16)  # [sample, freq]
    t = cos.view(8, 1, 8, 1) * cos.view(1, 8, 1, 8)  # [row, col, u, v]
    if inverse:
        t = t.permute(2, 3, 0, 1)  # [u, v, row, col]
    return t.reshape(64, 64).to(_F32)


def basicsr_factor(quality: float | int | Tensor, batch: int, device: torch.device) -> Tensor:
    """DiffJPEG's continuous table scale ``(5000 / q if q < 50 else 200 - 2 q) / 100``.

    A Python number is evaluated in double precision, a tensor in its own floating dtype
    (integer tensors as float32), as DiffJPEG does. No rounding or clamping of ``quality``.

    Returns:
        ``(B,)`` float32 tensor.

    Example:
        >>> basicsr_factor(torch.tensor([25.0, 75.0]), 2, torch.device("cpu")).tolist()
        [2.0, 0.5]
    """
    if isinstance(quality, Tensor):
        q = quality.to(device)
        if not q.is_floating_point():
            q = q.to(_F32)
        if q.ndim == 0:
            q = q.expand(batch)
        factor = torch.where(q < 50, 5000.0 / q, 200.0 - q * 2) / 100.0
        return factor.to(_F32).expand(batch)
    qf = float(quality)
    value = (5000.0 / qf if qf < 50 else 200.0 - qf * 2) / 100.0
    return torch.full((batch,), value, dtype=_F32, device=device)


def _colour(image: Tensor, matrix: tuple[tuple[float, ...], ...]) -> Tensor:
    # (..., 3) channels-last pixels times a 3x3 colour matrix.
    m = torch.tensor(matrix, dtype=_F32, device=image.device).T
    return (image.reshape(-1, 3) @ m).view(image.shape)


def _split(plane: Tensor) -> Tensor:
    b, h, w = plane.shape
    return plane.view(b, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4).reshape(b, -1, 8, 8)


def _merge(blocks: Tensor, h: int, w: int) -> Tensor:
    b = blocks.shape[0]
    return blocks.view(b, h // 8, w // 8, 8, 8).permute(0, 1, 3, 2, 4).reshape(b, h, w)


def jpeg_basicsr(
    x: Tensor, quality: float | int | Tensor, *, differentiable: bool = False
) -> Tensor:
    """DiffJPEG-compatible JPEG round trip of an RGB batch (float32 arithmetic).

    Args:
        x: ``(B, 3, H, W)`` floating RGB in [0, 1] (not clamped or quantised first).
        quality: number or ``(B,)`` tensor, continuous.
        differentiable: use DiffJPEG's cubic smooth rounding instead of ``torch.round``.

    Returns:
        ``(B, 3, H, W)`` float32 tensor in [0, 1].

    Example:
        >>> jpeg_basicsr(torch.rand(2, 3, 20, 30), torch.tensor([40.0, 80.0])).shape
        torch.Size([2, 3, 20, 30])

    Reference: ``basicsr.utils.diffjpeg.DiffJPEG`` (BasicSR 1.4.2).
    """
    b, _, h, w = x.shape
    dev = x.device
    factor = basicsr_factor(quality, b, dev).view(b, 1, 1, 1)
    rounding = cubic_round if differentiable else torch.round
    img = F.pad(x.to(_F32), (0, (-w) % 16, 0, (-h) % 16))
    shift = torch.tensor([0.0, 128.0, 128.0], dtype=_F32, device=dev)
    ycc = _colour((img * 255).permute(0, 2, 3, 1), _RGB2YCC) + shift
    chroma = F.avg_pool2d(ycc[..., 1:].permute(0, 3, 1, 2), kernel_size=2, stride=2)
    planes = {"y": (ycc[..., 0], 0), "cb": (chroma[:, 0], 1), "cr": (chroma[:, 1], 1)}

    fwd = _dct_tensor(inverse=False).to(dev)
    inv = _dct_tensor(inverse=True).to(dev)
    alpha = torch.tensor([1.0 / math.sqrt(2)] + [1.0] * 7, dtype=torch.float64)
    scale = (torch.outer(alpha, alpha) * 0.25).to(_F32).to(dev)
    alpha2 = torch.outer(alpha, alpha).to(_F32).to(dev)
    base = torch.tensor((tables.LUMA_TABLE, tables.CHROMA_TABLE), dtype=_F32, device=dev)
    decoded = []
    for plane, which in planes.values():
        table = base[which].T.expand(b, 1, 8, 8) * factor
        blocks = _split(plane)
        n = blocks.shape[1]
        coef = scale * ((blocks - 128).reshape(-1, 64) @ fwd).view(b, n, 8, 8)
        coef = rounding(coef.float() / table) * table
        pix = 0.25 * ((coef * alpha2).reshape(-1, 64) @ inv).view(b, n, 8, 8) + 128
        ph, pw = plane.shape[-2:]
        decoded.append(_merge(pix, ph, pw))
    y, cb, cr = decoded
    cb = cb.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
    cr = cr.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
    shift2 = torch.tensor([0.0, -128.0, -128.0], dtype=_F32, device=dev)
    rgb = _colour(torch.stack([y, cb, cr], dim=-1) + shift2, _YCC2RGB)
    rgb = rgb.permute(0, 3, 1, 2).clamp(0.0, 255.0) / 255
    return rgb[:, :, :h, :w]
