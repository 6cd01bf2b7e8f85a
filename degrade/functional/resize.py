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
from collections.abc import Sequence
from typing import Literal

import torch.nn.functional as F
from torch import Tensor

from degrade.functional._utils import check_image

ResizeMode = Literal["nearest", "area", "bilinear", "bicubic"]
RESIZE_MODES: tuple[str, ...] = ("nearest", "area", "bilinear", "bicubic")

SizeLike = int | Sequence[int]
ScaleLike = float | Sequence[float]


def _pair_size(size: SizeLike) -> tuple[int, int]:
    """Validate ``size`` (an int or an ``(h, w)`` pair of positive ints) and return ``(h, w)``."""
    if isinstance(size, bool):
        raise ValueError(
            f"size must be a positive int or an (h, w) pair of positive ints, got {size!r}"
        )
    if isinstance(size, int):
        pair: tuple[object, ...] = (size, size)
    elif isinstance(size, Sequence) and not isinstance(size, str) and len(size) == 2:
        pair = tuple(size)
    else:
        raise ValueError(
            f"size must be a positive int or an (h, w) pair of positive ints, got {size!r}"
        )
    out: list[int] = []
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(
                f"size must be a positive int or an (h, w) pair of positive ints, got {size!r}"
            )
        out.append(int(v))
    return out[0], out[1]


def _pair_scale(scale: ScaleLike) -> tuple[float, float]:
    """Validate ``scale`` (a number or an ``(sy, sx)`` pair of positive finite numbers)."""
    if isinstance(scale, bool):
        raise ValueError(f"scale must be a positive number or an (sy, sx) pair, got {scale!r}")
    if isinstance(scale, int | float):
        pair: tuple[object, ...] = (scale, scale)
    elif isinstance(scale, Sequence) and not isinstance(scale, str) and len(scale) == 2:
        pair = tuple(scale)
    else:
        raise ValueError(f"scale must be a positive number or an (sy, sx) pair, got {scale!r}")
    out: list[float] = []
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"scale must be a positive number or an (sy, sx) pair, got {scale!r}")
        f = float(v)
        if not math.isfinite(f) or f <= 0:
            raise ValueError(f"scale must be positive and finite, got {scale!r}")
        out.append(f)
    return out[0], out[1]


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
