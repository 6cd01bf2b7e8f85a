"""Interpolating resize with ``torch.nn.functional.interpolate`` semantics.

This is the resize of Real-ESRGAN's degradation model (``F.interpolate(x, scale_factor=s,
mode=m)``): when a scale is given, the output size is ``floor(H * scale)`` and the source
coordinate of an output pixel is computed from the scale itself (``src = (dst + 0.5) / scale -
0.5``), not from the ratio of the integer sizes; when a size is given, the ratio of the sizes is
used. Both mappings are kept distinct on purpose: they differ whenever ``H * scale`` is not an
integer, and replaying a Real-ESRGAN degradation needs the scale-based one.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Literal

import torch.nn.functional as F
from torch import Tensor

from degrade.functional._utils import check_image

ResizeMode = Literal["nearest", "area", "bilinear", "bicubic"]
RESIZE_MODES: tuple[str, ...] = ("nearest", "area", "bilinear", "bicubic")

SizeLike = int | Sequence[int]
ScaleLike = float | Sequence[float]


def _pair(value: object, name: str, *, integer: bool) -> tuple[float, float]:
    """Validate a positive number (or int) or a 2-sequence of them; return it as a pair."""
    what = "int" if integer else "number"
    message = f"{name} must be a positive finite {what} or a pair of them, got {value!r}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ValueError(message)
        pair: tuple[object, ...] = tuple(value)
    else:
        pair = (value, value)
    kind = numbers.Integral if integer else numbers.Real
    out: list[float] = []
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, kind):
            raise ValueError(message)
        f = float(v)
        if not math.isfinite(f) or f <= 0:
            raise ValueError(message)
        out.append(f)
    return out[0], out[1]


def _pair_size(size: SizeLike) -> tuple[int, int]:
    """Validate ``size`` (a positive int or an ``(h, w)`` pair of them); return ``(h, w)``."""
    h, w = _pair(size, "size", integer=True)
    return int(h), int(w)


def _pair_scale(scale: ScaleLike) -> tuple[float, float]:
    """Validate ``scale`` (a positive finite number or an ``(sy, sx)`` pair of them)."""
    return _pair(scale, "scale", integer=False)


def resize_output_size(
    in_size: tuple[int, int], size: SizeLike | None = None, scale: ScaleLike | None = None
) -> tuple[int, int]:
    """Output ``(h, w)`` of :func:`resize` for an input of ``in_size`` (``floor(in * scale)``).

    Args:
        in_size: input ``(H, W)``.
        size: target size (int or ``(h, w)``); exclusive with ``scale``.
        scale: scale factor (number or ``(sy, sx)``); exclusive with ``size``.

    Returns:
        ``(h, w)``, each at least 1 (a smaller result raises ``ValueError``).

    Example:
        >>> resize_output_size((10, 7), scale=0.35)
        (3, 2)
    """
    if (size is None) == (scale is None):
        raise ValueError("exactly one of size and scale must be given")
    if size is not None:
        return _pair_size(size)
    assert scale is not None
    sy, sx = _pair_scale(scale)
    h, w = math.floor(in_size[0] * sy), math.floor(in_size[1] * sx)
    if h < 1 or w < 1:
        raise ValueError(
            f"scale {scale!r} maps input size {tuple(in_size)} to an empty output ({h}, {w})"
        )
    return h, w


def resize(
    x: Tensor,
    size: SizeLike | None = None,
    scale: ScaleLike | None = None,
    mode: ResizeMode = "bicubic",
) -> Tensor:
    """Resize a batch with ``F.interpolate`` semantics (``align_corners=False``, no antialiasing).

    Exactly one of ``size`` and ``scale`` is given. With ``scale`` the output size is
    ``floor(H * sy), floor(W * sx)`` and the coordinate mapping uses the scale itself, as
    ``F.interpolate(x, scale_factor=scale, mode=mode)`` does (Real-ESRGAN's degradation resize);
    with ``size`` the mapping uses ``in / out``. ``"area"`` is adaptive average pooling (its mapping
    depends only on the sizes). Values are not clamped: bicubic may overshoot [0, 1]. The result is
    bitwise equal to ``F.interpolate`` and differentiable.

    Args:
        x: float images.
        size: output size, an int or ``(h, w)``.
        scale: scale factor, a positive number or ``(sy, sx)``.
        mode: ``"nearest"``, ``"area"``, ``"bilinear"`` or ``"bicubic"``.

    Shape:
        - x: ``(B, C, H, W)``
        - output: ``(B, C, h, w)``

    Returns:
        The resized batch, same dtype and device as ``x``.

    Example:
        >>> import torch
        >>> x = torch.arange(16.0).view(1, 1, 4, 4) / 15
        >>> resize(x, scale=0.5, mode="bilinear").shape
        torch.Size([1, 1, 2, 2])
        >>> round(resize(x, size=(2, 2), mode="area")[0, 0, 0, 0].item(), 4)
        0.1667

    Reference:
        ``torch.nn.functional.interpolate``, as called by Real-ESRGAN's
        ``RealESRGANModel.feed_data``.
    """
    check_image(x)
    if not x.is_floating_point():
        raise TypeError(
            f"resize expects a floating-point x, got {x.dtype}; convert with x.float() / 255"
        )
    if mode not in RESIZE_MODES:
        raise ValueError(f"mode must be one of {RESIZE_MODES}, got {mode!r}")
    out_size = resize_output_size((x.shape[-2], x.shape[-1]), size=size, scale=scale)
    align = False if mode in ("bilinear", "bicubic") else None
    if scale is not None:
        return F.interpolate(x, scale_factor=_pair_scale(scale), mode=mode, align_corners=align)
    return F.interpolate(x, size=out_size, mode=mode, align_corners=align)
