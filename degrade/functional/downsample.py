"""Downsampling as BSRGAN does it: OpenCV-compatible resizes, nearest and shifted-kernel decimation.

BSRGAN (``degradation_bsrgan`` in KAIR's ``utils/utils_blindsr.py``) resizes float32 images with
``cv2.resize`` (``INTER_LINEAR``, ``INTER_CUBIC`` or ``INTER_AREA``) and also downsamples by
blurring with a Gaussian kernel shifted by ``(sf - 1) / 2`` pixels and keeping every ``sf``-th
pixel. This module provides those three operations on batches:

* :func:`cv2_resize`: ``cv2.resize(img, (w, h), interpolation=...)`` on float images. It differs
  from :func:`degrade.functional.resize.resize` (``F.interpolate``) in two ways that matter:
  OpenCV's ``INTER_AREA`` computes exact fractional-overlap averages when shrinking by a
  non-integer factor (``F.interpolate(mode="area")`` is adaptive average pooling over whole
  pixels) and a bilinear-like blend when enlarging; and OpenCV rounds its interpolation
  coordinates and weights to float32. Bilinear and bicubic (``a = -0.75``, replicated borders)
  use the same coordinate mapping ``(dst + 0.5) * in / out - 0.5`` as ``F.interpolate`` with a
  size, so for them the two agree to float32 rounding.
* :func:`nearest_downsample`: ``img[st::sf, st::sf]``.
* :func:`shifted_gaussian_kernel` and :func:`shifted_kernel_downsample`: BSRGAN's
  ``fspecial('gaussian', 25, sigma)`` shifted by ``shift_pixel(k, sf)`` and normalised, applied
  with ``ndimage.convolve(mode='mirror')`` then decimated, so that LR pixel ``i`` is centred on
  HR position ``sf * i + (sf - 1) / 2`` (the centre of its ``sf x sf`` block).

Every resize is a pair of ``(out, in)`` weight matrices computed in float64 and applied as matrix
products, so each sample's result is independent of its batch.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal

import torch
from torch import Tensor

from degrade.functional._utils import ParamLike, batch_param, check_image
from degrade.functional.filter import filter2d
from degrade.functional.resize import SizeLike, _pair_size

__all__ = [
    "CV2_MODES",
    "cv2_resize",
    "cv2_resize_weights",
    "nearest_downsample",
    "shifted_gaussian_kernel",
    "shifted_kernel_downsample",
]

CV2Mode = Literal["nearest", "linear", "cubic", "area"]
#: Interpolation modes of :func:`cv2_resize`: ``cv2.INTER_NEAREST`` (0), ``INTER_LINEAR`` (1),
#: ``INTER_CUBIC`` (2) and ``INTER_AREA`` (3).
CV2_MODES: tuple[str, ...] = ("nearest", "linear", "cubic", "area")

_CUBIC_A = -0.75


def _f32(value: float) -> float:
    """Round a Python float to the nearest float32 (OpenCV stores coefficients as float)."""
    return float(torch.tensor(value, dtype=torch.float32))


def _cubic_coeffs(fx: float) -> list[float]:
    """OpenCV's ``interpolateCubic`` (a = -0.75), evaluated in float32 like OpenCV."""
    a = _f32(_CUBIC_A)
    x = torch.tensor(fx, dtype=torch.float32)
    one = torch.tensor(1.0, dtype=torch.float32)
    c0 = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a
    c1 = ((a + 2) * x - (a + 3)) * x * x + 1
    c2 = ((a + 2) * (one - x) - (a + 3)) * (one - x) * (one - x) + 1
    c3 = one - c0 - c1 - c2
    return [float(c) for c in (c0, c1, c2, c3)]


def cv2_resize_weights(in_len: int, out_len: int, mode: str, *, shrink_both: bool) -> Tensor:
    """The ``(out_len, in_len)`` float64 matrix of one axis of ``cv2.resize`` on float images.

    Args:
        in_len: input length along the axis.
        out_len: output length.
        mode: one of :data:`CV2_MODES`.
        shrink_both: for ``"area"``: whether neither axis is enlarged (OpenCV then uses its exact
            area-overlap averaging on both axes; otherwise both axes use its bilinear-like
            ``INTER_AREA`` enlargement weights).

    Returns:
        float64 CPU tensor ``(out_len, in_len)``; each row sums to 1 (up to float32 rounding of
        OpenCV's coefficients, which are reproduced).

    Reference: ``cv::resize`` in OpenCV's ``imgproc/src/resize.cpp`` (``resizeNN``,
    ``interpolateCubic``, ``computeResizeAreaTab`` and the ``area_mode`` coefficients).

    Example:
        >>> cv2_resize_weights(4, 2, "area", shrink_both=True).tolist()
        [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
    """
    if mode not in CV2_MODES:
        raise ValueError(f"mode must be one of {CV2_MODES}, got {mode!r}")
    if in_len < 1 or out_len < 1:
        raise ValueError(f"cv2_resize needs non-empty sizes, got {in_len} -> {out_len}")
    w = torch.zeros(out_len, in_len, dtype=torch.float64)
    inv_scale = out_len / in_len
    scale = 1.0 / inv_scale
    if out_len == in_len:
        return torch.eye(in_len, dtype=torch.float64)
    if mode == "nearest":
        for dx in range(out_len):
            w[dx, min(math.floor(dx * scale), in_len - 1)] = 1.0
        return w
    if mode == "area" and shrink_both:
        if abs(scale - round(scale)) < 2.220446049250313e-16:  # OpenCV's fast integer path
            k = round(scale)
            for dx in range(out_len):
                w[dx, dx * k : dx * k + k] = 1.0 / k
            return w
        for dx in range(out_len):
            fsx1 = dx * scale
            fsx2 = fsx1 + scale
            cell = min(scale, in_len - fsx1)
            sx1, sx2 = math.ceil(fsx1), math.floor(fsx2)
            sx2 = min(sx2, in_len - 1)
            sx1 = min(sx1, sx2)
            if sx1 - fsx1 > 1e-3:
                w[dx, sx1 - 1] += _f32((sx1 - fsx1) / cell)
            for sx in range(sx1, sx2):
                w[dx, sx] += _f32(1.0 / cell)
            if fsx2 - sx2 > 1e-3:
                w[dx, sx2] += _f32(min(min(fsx2 - sx2, 1.0), cell) / cell)
        return w
    for dx in range(out_len):
        if mode == "area":
            sx = math.floor(dx * scale)
            fx = _f32((dx + 1) - (sx + 1) * inv_scale)
            fx = 0.0 if fx <= 0 else _f32(fx - math.floor(fx))
        else:
            fx = _f32((dx + 0.5) * scale - 0.5)
            sx = math.floor(fx)
            fx = _f32(fx - sx)
        if mode == "cubic":
            taps = [sx - 1, sx, sx + 1, sx + 2]
            coeffs = _cubic_coeffs(fx)
        else:
            if sx < 0:
                fx, sx = 0.0, 0
            if sx >= in_len - 1:
                fx, sx = 0.0, in_len - 1
            taps = [sx, sx + 1]
            coeffs = [_f32(1.0 - fx), fx]
        for tap, c in zip(taps, coeffs, strict=True):
            w[dx, min(max(tap, 0), in_len - 1)] += c
    return w


@lru_cache(maxsize=64)
def _cached_weights(
    in_len: int, out_len: int, mode: str, shrink_both: bool, device: torch.device
) -> Tensor:
    with torch.inference_mode(False), torch.no_grad():
        return cv2_resize_weights(in_len, out_len, mode, shrink_both=shrink_both).to(device)


def cv2_resize(x: Tensor, size: SizeLike, mode: CV2Mode = "linear") -> Tensor:
    """``cv2.resize`` of float images to ``size = (h, w)``, on a batch.

    Reproduces OpenCV's geometry and coefficients for float32 images (``dsize`` given, no
    ``fx``/``fy``): ``"linear"`` and ``"cubic"`` map output pixel ``d`` to source coordinate
    ``(d + 0.5) * in / out - 0.5`` with replicated borders (cubic with ``a = -0.75``, no clamp
    of the coordinate); ``"area"`` averages the exact fractional overlap of each output cell
    when neither axis is enlarged, and otherwise uses OpenCV's ``INTER_AREA`` enlargement
    weights; ``"nearest"`` takes ``floor(d * in / out)``. An unchanged size returns the input
    values (OpenCV copies). The matrix products run in float64, then cast back, so results
    agree with OpenCV's float32 arithmetic to about 1e-6. Not clamped (cubic overshoots).
    Differentiable w.r.t. ``x``.

    Where it differs from :func:`degrade.functional.resize.resize` (``F.interpolate`` with a
    size): ``"area"`` (exact overlaps vs whole-pixel adaptive pooling, and a different
    enlargement rule) and the float32 rounding of OpenCV's coordinates and weights.

    Args:
        x: float images.
        size: output ``(h, w)`` (an int for a square output); note ``cv2.resize`` takes
            ``(w, h)``.
        mode: ``"nearest"``, ``"linear"``, ``"cubic"`` or ``"area"``.

    Shape:
        x: ``(B, C, H, W)``; returns ``(B, C, h, w)``.

    Returns:
        The resized batch, same dtype and device as ``x``.

    Reference: ``cv2.resize(img, (w, h), interpolation=cv2.INTER_*)`` on float32 HWC images,
    as BSRGAN calls it.

    Example:
        >>> x = torch.arange(36.0).view(1, 1, 6, 6)
        >>> cv2_resize(x, (3, 3), mode="area")[0, 0, 0].tolist()  # cv2 gives the same
        [3.5, 5.5, 7.5]
        >>> [round(v, 4) for v in cv2_resize(x, (4, 4), mode="area")[0, 0, 0].tolist()]
        [2.3333, 3.6667, 5.3333, 6.6667]
    """
    check_image(x)
    if not x.is_floating_point():
        raise TypeError(f"cv2_resize expects a floating-point x, got {x.dtype}")
    if mode not in CV2_MODES:
        raise ValueError(f"mode must be one of {CV2_MODES}, got {mode!r}")
    out_h, out_w = _pair_size(size)
    in_h, in_w = x.shape[-2], x.shape[-1]
    if (out_h, out_w) == (in_h, in_w):
        return x.clone()
    if x.shape[0] == 0:
        return x.new_zeros(0, x.shape[1], out_h, out_w)
    if in_h < 1 or in_w < 1:
        raise ValueError(f"cv2_resize cannot resize an empty image of size {(in_h, in_w)}")
    shrink_both = out_h <= in_h and out_w <= in_w
    wh = _cached_weights(in_h, out_h, mode, shrink_both, x.device)
    ww = _cached_weights(in_w, out_w, mode, shrink_both, x.device)
    v = torch.matmul(wh, x.to(torch.float64))
    v = torch.matmul(v, ww.transpose(0, 1))
    return v.to(x.dtype, memory_format=torch.contiguous_format)


def nearest_downsample(x: Tensor, sf: int, offset: int = 0) -> Tensor:
    """Keep every ``sf``-th pixel, starting at ``offset``: ``x[..., offset::sf, offset::sf]``.

    Args:
        x: images (any dtype).
        sf: integer stride >= 1.
        offset: first kept row and column, in ``[0, sf)``.

    Shape:
        x: ``(B, C, H, W)``; returns ``(B, C, ceil((H - offset) / sf), ceil((W - offset) / sf))``.

    Returns:
        A new contiguous tensor.

    Reference: BSRGAN's ``img[0::sf, 0::sf, ...]`` (``classical_degradation``).

    Example:
        >>> nearest_downsample(torch.arange(25.0).view(1, 1, 5, 5), 2)[0, 0].tolist()
        [[0.0, 2.0, 4.0], [10.0, 12.0, 14.0], [20.0, 22.0, 24.0]]
    """
    check_image(x)
    if isinstance(sf, bool) or not isinstance(sf, int) or sf < 1:
        raise ValueError(f"sf must be a positive int, got {sf!r}")
    if not 0 <= offset < sf:
        raise ValueError(f"offset must be in [0, sf) = [0, {sf}), got {offset!r}")
    return x[..., offset::sf, offset::sf].contiguous()


def shifted_gaussian_kernel(
    sigma: ParamLike,
    sf: int,
    *,
    kernel_size: int = 25,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """BSRGAN's shifted isotropic Gaussian for aligned downsampling, one per sample.

    ``fspecial('gaussian', kernel_size, sigma)`` (entries below ``eps * max`` zeroed, normalised)
    resampled bilinearly at ``(i + s, j + s)`` with ``s = (sf - 1) / 2`` and coordinates clamped
    to the grid (``shift_pixel(k, sf)``: ``interp2d`` linear on the kernel), then normalised. Its
    peak moves from the centre ``c = kernel_size // 2`` to ``c - s``. Used as a *convolution*
    kernel (``ndimage.convolve``), it centres output pixel ``p`` on input ``p + s``.

    Args:
        sigma: Gaussian standard deviation per sample (> 0).
        sf: the integer scale factor whose half-block shift is applied.
        kernel_size: odd kernel size (BSRGAN: 25).
        dtype: output dtype (computed in float64).
        device: output device (default: ``sigma``'s, else CPU).

    Shape:
        sigma: number, ``(1,)`` or ``(B,)``; returns ``(B, K, K)``.

    Returns:
        Kernels summing to 1.

    Reference: KAIR ``utils_blindsr``: ``fspecial('gaussian', 25, s)``, ``shift_pixel(k, sf)``.

    Example:
        >>> k = shifted_gaussian_kernel(torch.tensor([0.3]), 2, kernel_size=5, dtype=torch.float64)
        >>> [round(v, 4) for v in k[0, 1, 1:3].tolist()]
        [0.25, 0.25]
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be a positive odd int, got {kernel_size}")
    if isinstance(sf, bool) or not isinstance(sf, int) or sf < 1:
        raise ValueError(f"sf must be a positive int, got {sf!r}")
    dev = torch.device(device) if device is not None else None
    if dev is None:
        dev = sigma.device if isinstance(sigma, Tensor) else torch.device("cpu")
    batch = sigma.shape[0] if isinstance(sigma, Tensor) and sigma.ndim == 1 else 1
    f64 = torch.float64
    s = batch_param(sigma, batch, device=dev, dtype=f64, name="sigma").view(-1, 1, 1)
    half = (kernel_size - 1) / 2.0
    grid = torch.arange(kernel_size, dtype=f64, device=dev) - half
    r2 = grid.view(1, -1, 1).square() + grid.view(1, 1, -1).square()
    h = torch.exp(-r2 / (2.0 * s * s))
    h = torch.where(h < torch.finfo(f64).eps * h.amax(dim=(1, 2), keepdim=True), 0.0, h)
    h = h / h.sum(dim=(1, 2), keepdim=True)
    # Bilinear resampling at (index + shift), clamped to the grid (interp2d on the kernel).
    shift = (sf - 1) * 0.5
    pos = (torch.arange(kernel_size, dtype=f64, device=dev) + shift).clamp(0, kernel_size - 1)
    i0 = pos.floor().to(torch.int64)
    i1 = (i0 + 1).clamp_max(kernel_size - 1)
    frac = pos - i0.to(f64)
    interp = torch.zeros(kernel_size, kernel_size, dtype=f64, device=dev)
    interp.index_put_((torch.arange(kernel_size, device=dev), i0), 1.0 - frac, accumulate=True)
    interp.index_put_((torch.arange(kernel_size, device=dev), i1), frac, accumulate=True)
    k = interp @ h @ interp.transpose(0, 1)
    k = k / k.sum(dim=(1, 2), keepdim=True)
    return k.to(dtype)


def shifted_kernel_downsample(
    x: Tensor, sigma: ParamLike, sf: int, *, kernel_size: int = 25
) -> Tensor:
    """Blur with BSRGAN's shifted Gaussian (mirror borders) and keep every ``sf``-th pixel.

    ``out = convolve(x, shifted_gaussian_kernel(sigma, sf))[..., ::sf, ::sf]`` with
    ``ndimage.convolve``'s ``mode='mirror'`` borders (reflection without repeating the edge, as
    :func:`degrade.functional.filter.filter2d`). Output pixel ``i`` is a Gaussian average centred
    on input ``sf * i + (sf - 1) / 2``: on a linear ramp away from the borders it returns the
    ramp's value at the block centres. Differentiable w.r.t. ``x``.

    Args:
        x: float images.
        sigma: per-sample Gaussian standard deviation (BSRGAN: U(0.1, 0.6 sf)).
        sf: integer scale factor.
        kernel_size: odd kernel size (25).

    Shape:
        x: ``(B, C, H, W)``; sigma: number, ``(1,)`` or ``(B,)``; returns
        ``(B, C, ceil(H / sf), ceil(W / sf))``.

    Returns:
        The downsampled batch, same dtype and device.

    Reference: KAIR ``degradation_bsrgan`` (downsample2, the shifted-kernel branch).

    Example:
        >>> ramp = torch.arange(16.0).view(1, 1, 1, 16).expand(1, 1, 16, 16)
        >>> shifted_kernel_downsample(ramp, 0.5, 4)[0, 0, 0, 1:3].tolist()
        [5.5, 9.5]
    """
    check_image(x)
    if not x.is_floating_point():
        raise TypeError(f"shifted_kernel_downsample expects a floating-point x, got {x.dtype}")
    b = x.shape[0]
    sigma_t = batch_param(sigma, b, device=x.device, dtype=torch.float64, name="sigma")
    if b == 0:
        h, w = x.shape[-2:]
        return x.new_zeros(0, x.shape[1], -(-h // sf), -(-w // sf))
    work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    k = shifted_gaussian_kernel(sigma_t, sf, kernel_size=kernel_size, dtype=work)
    # convolution = cross-correlation with the flipped kernel
    blurred = filter2d(x.to(work), k.flip(-1, -2))
    return nearest_downsample(blurred, sf).to(x.dtype)
