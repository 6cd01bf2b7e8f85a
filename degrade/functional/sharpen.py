"""Unsharp masking (USM) as Real-ESRGAN applies it to the ground truth."""

from __future__ import annotations

import torch
from torch import Tensor

from degrade.functional._utils import ParamLike, batch_param, check_image
from degrade.functional.filter import filter2d_separable
from degrade.functional.kernels import gaussian_kernel1d

__all__ = ["usm_blur", "usm_sharp"]


def _odd_size(radius: int) -> int:
    if radius < 1:
        raise ValueError(f"radius must be >= 1, got {radius}")
    return radius + 1 if radius % 2 == 0 else radius


def usm_blur(x: Tensor, *, radius: int = 50, sigma: float = 0.0) -> Tensor:
    """The Gaussian blur that :func:`usm_sharp` uses, as two 1-D reflect-padded passes.

    Args:
        x: images, float.
        radius: kernel *size* in BasicSR's sense; an even value is rounded up to the next odd
            size (50 -> 51).
        sigma: Gaussian standard deviation; ``<= 0`` uses OpenCV's default for the size
            (``0.3 * ((k - 1) / 2 - 1) + 0.8``, 8.0 for k = 51).

    Shape:
        - x: ``(B, C, H, W)``.
        - output: ``(B, C, H, W)``.

    Returns:
        The blurred images (reflect padding, repeated where an image side is shorter than the
        pad).

    Reference:
        ``filter2D(img, USMSharp(radius, sigma).kernel)`` from ``basicsr.utils.img_process_util``.

    Example:
        >>> usm_blur(torch.full((1, 3, 4, 5), 0.25)).unique().tolist()
        [0.25]
    """
    check_image(x)
    kernel = gaussian_kernel1d(_odd_size(radius), sigma, dtype=x.dtype, device=x.device)
    return filter2d_separable(x, kernel, kernel)


def usm_sharp(
    x: Tensor,
    *,
    weight: ParamLike = 0.5,
    threshold: ParamLike = 10.0,
    radius: int = 50,
    sigma: float = 0.0,
) -> Tensor:
    """Unsharp masking with a thresholded, blurred mask (Real-ESRGAN's ground-truth sharpening).

    With ``blur = usm_blur(x)`` and ``residual = x - blur``:
    ``mask = |residual| * 255 > threshold`` (binary), ``soft = usm_blur(mask)``,
    ``sharp = clip(x + weight * residual, 0, 1)`` and the output is
    ``soft * sharp + (1 - soft) * x``.

    Args:
        x: images, float in [0, 1].
        weight: sharpening strength, a number or per-sample ``(B,)`` tensor.
        threshold: residual threshold on the 0..255 scale, a number or ``(B,)`` tensor.
        radius: Gaussian kernel size (even values round up: 50 -> 51).
        sigma: Gaussian standard deviation; ``<= 0`` means OpenCV's default for the size.

    Shape:
        - x: ``(B, C, H, W)``.
        - weight, threshold: numbers, ``(1,)`` or ``(B,)``.
        - output: ``(B, C, H, W)``.

    Returns:
        The sharpened images, same dtype and device. Differentiable w.r.t. ``x`` and ``weight``
        except where a residual sits exactly on the threshold (the binary mask is piecewise
        constant and carries no gradient).

    Reference:
        ``basicsr.utils.img_process_util.USMSharp`` (``radius=50, sigma=0``; forward with
        ``weight=0.5, threshold=10``), which uses the 51 x 51 kernel as one 2-D convolution.

    Example:
        >>> x = torch.zeros(1, 1, 9, 9)
        >>> x[..., 4:, :] = 0.5
        >>> y = usm_sharp(x)
        >>> y.shape, bool(y[0, 0, 4, 0] > 0.5), bool(y[0, 0, 3, 0] == 0.0)
        (torch.Size([1, 1, 9, 9]), True, True)
    """
    check_image(x)
    b = x.shape[0]
    w = batch_param(weight, b, device=x.device, dtype=x.dtype, name="weight").view(-1, 1, 1, 1)
    t = batch_param(threshold, b, device=x.device, dtype=x.dtype, name="threshold").view(
        -1, 1, 1, 1
    )
    kernel = gaussian_kernel1d(_odd_size(radius), sigma, dtype=x.dtype, device=x.device)
    blur = filter2d_separable(x, kernel, kernel)
    residual = x - blur
    mask = (torch.abs(residual) * 255 > t).to(x.dtype)
    soft = filter2d_separable(mask, kernel, kernel)
    sharp = torch.clip(x + w * residual, 0, 1)
    return soft * sharp + (1 - soft) * x
