"""Float surrogate of the libjpeg codec, for straight-through and smooth-rounding gradients.

The surrogate runs the same stages as :mod:`.exact` in floating point, without any rounding
or clamping: ideal colour conversion with libjpeg's coefficients, the same edge padding, 2x2
average chroma downsampling, the orthonormal 8x8 DCT, quantise / dequantise with the same
per-sample tables, the triangular chroma upsampling (or pixel replication where libjpeg-turbo
uses it) and the inverse colour conversion. Without a rounding function the quantise /
dequantise pair is the identity, and so is DCT followed by IDCT; that block stage is then
skipped and the surrogate is a fixed linear map (colour conversion plus chroma smoothing).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from . import tables
from .exact import _ceil_div, _pad_replicate

__all__ = ["cubic_round", "surrogate_float"]

_YCC = ((0.299, 0.587, 0.114), (-0.16874, -0.33126, 0.5), (0.5, -0.41869, -0.08131))
_R_CR, _G_CB, _G_CR, _B_CB = 1.402, 0.34414, 0.71414, 1.772


def cubic_round(x: Tensor) -> Tensor:
    """Smooth rounding ``round(x) + (x - round(x)) ** 3`` (the approximation DiffJPEG uses).

    Example:
        >>> cubic_round(torch.tensor([0.25, 1.5, -0.75])).tolist()
        [0.015625, 1.875, -0.984375]
    """
    r = torch.round(x).detach()
    return r + (x - r) ** 3


def _blocks(planes: Tensor, qtable: Tensor, rounding: Callable[[Tensor], Tensor]) -> Tensor:
    # planes: (B, P, H, W) level-shifted, multiples of 8; qtable: (B, 8, 8).
    b, p, h, w = planes.shape
    d = torch.from_numpy(tables.dct_matrix()).to(device=planes.device, dtype=planes.dtype)
    q = qtable.to(planes.dtype).view(b, 1, 1, 8, 1, 8)
    x = planes.reshape(b, p, h // 8, 8, w // 8, 8)
    coef = torch.einsum("kr,bpyrxc,lc->bpykxl", d, x, d)
    coef = rounding(coef / q) * q
    x = torch.einsum("kr,bpykxl,lc->bpyrxc", d, coef, d)
    return x.reshape(b, p, h, w)


def _upsample(c: Tensor, height: int, width: int) -> Tensor:
    b, p, h, w = c.shape
    if w <= 2:
        up = c.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
        return up[..., :height, :width]
    above = torch.cat([c[:, :, :1], c[:, :, :-1]], dim=2)
    below = torch.cat([c[:, :, 1:], c[:, :, -1:]], dim=2)
    cs = torch.stack([0.75 * c + 0.25 * above, 0.75 * c + 0.25 * below], dim=3)
    cs = cs.reshape(b, p, 2 * h, w)
    left = torch.cat([cs[..., :1], cs[..., :-1]], dim=-1)
    right = torch.cat([cs[..., 1:], cs[..., -1:]], dim=-1)
    up = torch.stack([0.75 * cs + 0.25 * left, 0.75 * cs + 0.25 * right], dim=-1)
    return up.reshape(b, p, 2 * h, 2 * w)[..., :height, :width]


def surrogate_float(
    x: Tensor, quality: Tensor, rounding: Callable[[Tensor], Tensor] | None = None
) -> Tensor:
    """The float surrogate on a validated batch.

    Args:
        x: ``(B, C, H, W)`` floating tensor (values nominally in [0, 1]).
        quality: ``(B,)`` int64 qualities in 1..100.
        rounding: rounding applied to ``coefficient / table``; None for the identity.

    Returns:
        ``(B, C, H, W)`` tensor of the same dtype.

    Example:
        >>> x = torch.full((1, 3, 4, 6), 0.5, dtype=torch.float64)
        >>> round(float(surrogate_float(x, torch.tensor([50])).max()), 6)
        0.5
    """
    b, ch, h, w = x.shape
    tabs = tables.quant_tables(quality)
    hb, wb = 8 * _ceil_div(h, 8), 8 * _ceil_div(w, 8)
    v = x * 255.0
    if ch == 1:
        planes = _pad_replicate(v, hb, wb) - 128.0
        if rounding is not None:
            planes = _blocks(planes, tabs[:, 0], rounding)
        return (planes[..., :h, :w] + 128.0) / 255.0

    wc = 16 * _ceil_div(w, 16)
    m = torch.tensor(_YCC, dtype=x.dtype, device=x.device)
    ycc = torch.einsum("kc,bchw->bkhw", m, _pad_replicate(v, hb, wc))
    y = ycc[:, :1, :, :wb]
    h2 = h + h % 2
    c = ycc[:, 1:, :h2]
    c = c.reshape(b, 2, h2 // 2, 2, wc // 2, 2).mean(dim=(3, 5))
    c = _pad_replicate(c, 8 * _ceil_div(h, 16), wc // 2)
    if rounding is not None:
        y = _blocks(y - 128.0, tabs[:, 0], rounding) + 128.0
        c = _blocks(c, tabs[:, 1], rounding)
    c = _upsample(c[..., : _ceil_div(h, 2), : _ceil_div(w, 2)], h, w)
    y = y[:, 0, :h, :w]
    cb, cr = c.unbind(1)
    rgb = torch.stack([y + _R_CR * cr, y - _G_CB * cb - _G_CR * cr, y + _B_CB * cb], dim=1)
    return rgb / 255.0
