"""JPEG compression round trip: libjpeg-turbo bit-exact, straight-through, or BasicSR-compatible.

Public functions:

* :func:`jpeg` -- encode + decode, bit-exact with OpenCV's ``imencode`` / ``imdecode``
  (libjpeg-turbo, islow DCT, 4:2:0), optionally with straight-through gradients, or BasicSR's
  ``DiffJPEG`` arithmetic with ``compat="basicsr"``;
* :func:`jpeg_surrogate` -- the float surrogate whose gradient the differentiable mode uses;
* :func:`jpeg_quant_tables` -- the per-sample quantisation tables libjpeg derives from quality.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from .._utils import ParamLike, batch_param, check_image
from .basicsr_compat import jpeg_basicsr
from .exact import jpeg_exact
from .surrogate import cubic_round, surrogate_float
from .tables import quant_tables

__all__ = ["jpeg", "jpeg_quant_tables", "jpeg_surrogate"]

Rounding = Callable[[Tensor], Tensor] | Literal["cubic"] | None


def _check(x: Tensor) -> None:
    check_image(x)
    if x.dtype != torch.uint8 and not x.is_floating_point():
        raise TypeError(f"x must be a floating or uint8 tensor, got {x.dtype}")
    if x.shape[-2] == 0 or x.shape[-1] == 0:
        raise ValueError(f"x must have a non-empty image size, got {tuple(x.shape)}")


def _quality(quality: ParamLike, batch: int, device: torch.device) -> Tensor:
    """Libjpeg's integer quality per sample: rounded (half to even), clamped to 1..100."""
    if isinstance(quality, Tensor) and quality.is_complex():
        raise TypeError("quality must be real")
    q = batch_param(quality, batch, device=device, dtype=torch.float64, name="quality")
    if bool(torch.isnan(q).any()):  # one host read per batch
        raise ValueError("quality must not be NaN")
    return q.round().clamp(1, 100).to(torch.int64)


def jpeg_quant_tables(
    quality: ParamLike, batch: int = 1, device: torch.device | None = None
) -> Tensor:
    """Quantisation tables that libjpeg's ``jpeg_set_quality(cinfo, q, TRUE)`` builds.

    Args:
        quality: number or ``(B,)`` tensor; rounded to the nearest integer, clamped to 1..100.
        batch: batch size B when ``quality`` is a number.
        device: device of the result (default: the device of ``quality``, else CPU).

    Shape:
        quality: ``(B,)`` or scalar; returns ``(B, 2, 8, 8)``.

    Returns:
        int64 tensor; ``[:, 0]`` luminance, ``[:, 1]`` chrominance, natural order
        (row = vertical frequency), entries in 1..255.

    Example:
        >>> jpeg_quant_tables(50)[0, 0, 0].tolist()
        [16, 11, 10, 16, 24, 40, 51, 61]
        >>> jpeg_quant_tables(torch.tensor([10.0, 95.0]))[:, 1, 7, 7].tolist()
        [255, 10]

    Reference: ``jpeg_quality_scaling`` and ``jpeg_add_quant_table`` in libjpeg's jcparam.c.
    """
    if device is None:
        device = quality.device if isinstance(quality, Tensor) else torch.device("cpu")
    if isinstance(quality, Tensor) and quality.ndim == 1:
        batch = quality.shape[0]
    return quant_tables(_quality(quality, batch, device))


def jpeg(
    x: Tensor,
    quality: ParamLike,
    *,
    differentiable: bool = False,
    compat: Literal["basicsr"] | None = None,
) -> Tensor:
    """JPEG-compress and decompress a batch, bit-exact with OpenCV / libjpeg-turbo.

    The default mode quantises ``x`` to 8 bits (``round(clamp(x, 0, 1) * 255)``) and emulates,
    in batched integer arithmetic, ``cv2.imdecode(cv2.imencode('.jpg', img,
    [cv2.IMWRITE_JPEG_QUALITY, q])[1], cv2.IMREAD_UNCHANGED)`` with OpenCV's default settings
    (libjpeg-turbo, islow DCT, 4:2:0 chroma subsampling, fancy upsampling): 0 differing values.
    Three channels are RGB (a colour JPEG); one channel gives a grayscale JPEG.

    Args:
        x: images, float in [0, 1] or uint8.
        quality: JPEG quality, a number or one per sample; rounded to the nearest integer (half
            to even) and clamped to 1..100 as libjpeg takes an integer. NaN is an error.
        differentiable: if True, the forward output is unchanged (bitwise) and the backward pass
            is the gradient of :func:`jpeg_surrogate` (rounding and clamping treated as the
            identity: a straight-through estimator). Ignored for uint8 input.
        compat: ``"basicsr"`` reproduces BasicSR's ``DiffJPEG`` instead (float arithmetic,
            continuous quality, no 8-bit input quantisation; with ``differentiable=True`` its
            cubic smooth rounding); RGB only.

    Shape:
        x: ``(B, C, H, W)`` with C = 1 or 3; quality: scalar, ``(1,)`` or ``(B,)``;
        returns ``(B, C, H, W)``.

    Returns:
        The decoded batch: same dtype as ``x`` (float values are multiples of 1/255 except in
        the BasicSR mode) and same device.

    Example:
        >>> x = torch.linspace(0, 1, 3 * 9 * 11).view(1, 3, 9, 11)
        >>> y = jpeg(x, torch.tensor([30.0]))
        >>> y.shape, y.dtype
        (torch.Size([1, 3, 9, 11]), torch.float32)
        >>> bool(((y * 255).round() == y * 255).all())
        True
        >>> jpeg(torch.full((1, 1, 8, 8), 100, dtype=torch.uint8), 75).unique().tolist()
        [100]

    Reference: libjpeg-turbo 3.1 as bundled with OpenCV (jccolor.c, jcsample.c, jfdctint.c,
    jcdctmgr.c, jidctint.c, jdsample.c, jdcolor.c); ``basicsr.utils.diffjpeg.DiffJPEG`` for
    ``compat="basicsr"``.
    """
    _check(x)
    if compat not in (None, "basicsr"):
        raise ValueError(f"compat must be None or 'basicsr', got {compat!r}")
    is_uint8 = x.dtype == torch.uint8
    b = x.shape[0]
    if compat == "basicsr":
        if x.shape[1] != 3:
            raise ValueError(f"compat='basicsr' needs RGB input (C=3), got C={x.shape[1]}")
        xf = x.to(torch.float32) / 255 if is_uint8 else x
        if b == 0:
            return x.clone()
        out = jpeg_basicsr(xf, quality, differentiable=differentiable and not is_uint8)
        if is_uint8:
            return (out * 255).round().to(torch.uint8)
        return out.to(x.dtype)

    q = _quality(quality, b, x.device)
    if b == 0:
        return x.clone()
    if is_uint8:
        return jpeg_exact(x, q).to(torch.uint8)
    x8 = (x.detach().clamp(0, 1) * 255).round_()
    out = torch.div(jpeg_exact(x8, q), 255, out=torch.empty_like(x))
    if differentiable and torch.is_grad_enabled() and x.requires_grad:
        sur = surrogate_float(x, q)
        out = out + (sur - sur.detach())
    return out


def jpeg_surrogate(x: Tensor, quality: ParamLike, *, rounding: Rounding = None) -> Tensor:
    """Float surrogate of :func:`jpeg`: the same stages without rounding or clamping.

    Colour conversion with libjpeg's coefficients, the codec's edge padding, 2x2 average
    chroma downsampling, the orthonormal 8x8 DCT, quantise / dequantise with the per-sample
    tables, triangular chroma upsampling and the inverse colour conversion, all in the dtype of
    ``x``. With ``rounding=None`` quantise / dequantise is the identity (straight-through), so
    the block stage is skipped; ``"cubic"`` uses ``round(v) + (v - round(v)) ** 3`` (DiffJPEG's
    smooth rounding) and any callable is applied to ``coefficient / table``.

    Args:
        x: float images (nominally in [0, 1]; not clamped).
        quality: number or per-sample tensor, rounded and clamped to 1..100 like :func:`jpeg`.
        rounding: None, ``"cubic"`` or a callable.

    Shape:
        x: ``(B, C, H, W)``, C = 1 or 3; returns ``(B, C, H, W)``.

    Returns:
        Tensor of the dtype and device of ``x``, differentiable w.r.t. ``x``.

    Example:
        >>> x = torch.rand(2, 3, 8, 8, dtype=torch.float64)
        >>> y = jpeg_surrogate(x, 50)
        >>> y.shape
        torch.Size([2, 3, 8, 8])
        >>> round(float((jpeg_surrogate(x[:, :1], 50) - x[:, :1]).abs().max()), 6)
        0.0

    Reference: the float model of the stages of libjpeg's codec (see :func:`jpeg`).
    """
    _check(x)
    if not x.is_floating_point():
        raise TypeError(f"jpeg_surrogate needs a floating tensor, got {x.dtype}")
    q = _quality(quality, x.shape[0], x.device)
    fn: Callable[[Tensor], Tensor] | None
    if isinstance(rounding, str):
        if rounding != "cubic":
            raise ValueError(f"rounding must be None, 'cubic' or a callable, got {rounding!r}")
        fn = cubic_round
    else:
        fn = rounding
    if x.shape[0] == 0:
        return x.clone()
    return surrogate_float(x, q, fn)
