"""Colour-space helpers with distinct names for the two YCbCr conventions in use.

* **BT.601 studio range** (``*_bt601``), as MATLAB's ``rgb2ycbcr`` / ``ycbcr2rgb`` for double
  images: the convention of super-resolution metrics (PSNR/SSIM on Y). With RGB in [0, 1]::

      Y  = (16  +  65.481 R + 128.553 G +  24.966 B) / 255      in [16/255, 235/255]
      Cb = (128 -  37.797 R -  74.203 G + 112.0   B) / 255      in [16/255, 240/255]
      Cr = (128 + 112.0   R -  93.786 G -  18.214 B) / 255      in [16/255, 240/255]

  The inverse uses the exact float64 inverse of that matrix (as MATLAB computes it), not the
  rounded 8-digit coefficients some ports hard-code.
* **JFIF full range** (``*_jfif``), as the JPEG codec (libjpeg): ``Y = 0.299 R + 0.587 G +
  0.114 B``, ``Cb = c + (B - Y) / 1.772``, ``Cr = c + (R - Y) / 1.402`` with the chroma offset
  ``c = 128/255``, so that ``255 *`` the result is exactly libjpeg's 8-bit-scale YCbCr (before its
  fixed-point rounding). All three channels span [0, 1] up to the offset.
* :func:`rgb_to_gray`: ITU-R 601 luma ``0.299 R + 0.587 G + 0.114 B``, or torchvision's
  ``rgb_to_grayscale`` weights (0.2989 for R) on request.

Every op works in the input's floating dtype with per-pixel arithmetic only (no matmul), so a
batch gives bitwise the same result as its samples one by one, and is differentiable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor

from degrade.functional._utils import check_image

__all__ = [
    "rgb_to_gray",
    "rgb_to_y_bt601",
    "rgb_to_ycbcr_bt601",
    "rgb_to_ycbcr_jfif",
    "ycbcr_bt601_to_rgb",
    "ycbcr_jfif_to_rgb",
]

Matrix = tuple[tuple[float, ...], ...]

# MATLAB rgb2ycbcr: 8-bit-scale output per unit of [0, 1] input, plus the 8-bit offsets.
_BT601: Matrix = (
    (65.481, 128.553, 24.966),
    (-37.797, -74.203, 112.0),
    (112.0, -93.786, -18.214),
)
_BT601_OFFSET = (16.0, 128.0, 128.0)

_KR, _KB = 0.299, 0.114
_GRAY_WEIGHTS = {"bt601": (0.299, 0.587, 0.114), "torchvision": (0.2989, 0.587, 0.114)}
_KG = 1.0 - _KR - _KB
_JFIF_C = 128.0 / 255.0


def _inverse3(m: Matrix) -> Matrix:
    """Inverse of a 3x3 matrix in float64 (cofactors; the matrices here are well conditioned)."""
    (a, b, c), (d, e, f), (g, h, i) = m
    co = (
        (e * i - f * h, c * h - b * i, b * f - c * e),
        (f * g - d * i, a * i - c * g, c * d - a * f),
        (d * h - e * g, b * g - a * h, a * e - b * d),
    )
    det = a * co[0][0] + b * co[1][0] + c * co[2][0]
    return tuple(tuple(v / det for v in row) for row in co)


# rgb = inv(_BT601) @ (255 * ycc - offset) = (255 * inv) @ ycc - inv @ offset
_BT601_INV = _inverse3(_BT601)
_BT601_INV_SCALED: Matrix = tuple(tuple(255.0 * v for v in row) for row in _BT601_INV)
_BT601_INV_BIAS = tuple(
    -sum(v * o for v, o in zip(row, _BT601_OFFSET, strict=True)) for row in _BT601_INV
)

# JFIF forward (Cb, Cr rows without the offset) and its inverse.
_JFIF: Matrix = (
    (_KR, _KG, _KB),
    (-_KR / (2 * (1 - _KB)), -_KG / (2 * (1 - _KB)), 0.5),
    (0.5, -_KG / (2 * (1 - _KR)), -_KB / (2 * (1 - _KR))),
)
_JFIF_INV = _inverse3(_JFIF)


def _check_rgb(x: Tensor, name: str = "x") -> None:
    check_image(x, name)
    if x.shape[1] != 3:
        raise ValueError(f"{name} must have 3 channels, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor, got {x.dtype}")


def _affine(x: Tensor, m: Matrix, bias: Sequence[float]) -> Tensor:
    """``out[:, i] = sum_j m[i][j] * x[:, j] + bias[i]`` with elementwise arithmetic."""
    c0, c1, c2 = x.unbind(1)
    rows = [r[0] * c0 + r[1] * c1 + r[2] * c2 + o for r, o in zip(m, bias, strict=True)]
    return torch.stack(rows, dim=1)


def rgb_to_gray(x: Tensor, *, weights: Literal["bt601", "torchvision"] = "bt601") -> Tensor:
    """ITU-R 601 luma ``0.299 R + 0.587 G + 0.114 B`` (a 1-channel input is returned as is).

    ``weights="torchvision"`` uses torchvision's ``rgb_to_grayscale`` weights instead,
    ``0.2989 R + 0.587 G + 0.114 B`` (they sum to 0.9999), evaluated with the same expression, so
    that its result (and basicsr's gray Poisson noise, which calls it) is matched bit for bit.

    Args:
        x: RGB or gray images, float.
        weights: ``"bt601"`` (default) or ``"torchvision"``.

    Shape:
        x: ``(B, 3, H, W)`` or ``(B, 1, H, W)``; returns ``(B, 1, H, W)``.

    Returns:
        The gray images; for ``C = 1`` the input tensor itself (no copy).

    Reference: ITU-R BT.601 luma as OpenCV's ``cvtColor(RGB2GRAY)`` on float images and Pillow's
    ``convert("L")``; ``weights="torchvision"``: ``torchvision.transforms.functional.
    rgb_to_grayscale(x, 1)``, bit for bit.

    Example:
        >>> rgb_to_gray(torch.ones(1, 3, 2, 2)).shape
        torch.Size([1, 1, 2, 2])
        >>> red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
        >>> round(rgb_to_gray(red).item(), 4), round(rgb_to_gray(red, weights="torchvision").item(), 4)
        (0.299, 0.2989)
    """
    check_image(x)
    if weights not in _GRAY_WEIGHTS:
        raise ValueError(f"weights must be one of {sorted(_GRAY_WEIGHTS)}, got {weights!r}")
    if x.shape[1] == 1:
        return x
    wr, wg, wb = _GRAY_WEIGHTS[weights]
    r, g, b = x.unbind(1)
    return (wr * r + wg * g + wb * b).unsqueeze(1)


def rgb_to_y_bt601(x: Tensor) -> Tensor:
    """Luma of MATLAB's ``rgb2ycbcr`` (BT.601 studio range) for RGB in [0, 1].

    ``Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255``, in [16/255, 235/255] for RGB in
    [0, 1]. Not rounded (PSNR/SSIM on Y use the unrounded value).

    Args:
        x: RGB images in [0, 1], float.

    Shape:
        x: ``(B, 3, H, W)``; returns ``(B, 1, H, W)``.

    Returns:
        Y in [0, 1] units.

    Reference: MATLAB ``rgb2ycbcr``; basicsr ``rgb2ycbcr_pt(x, y_only=True)``.

    Example:
        >>> y = rgb_to_y_bt601(torch.ones(1, 3, 2, 2))
        >>> y.shape, round(y[0, 0, 0, 0].item() * 255, 4)
        (torch.Size([1, 1, 2, 2]), 235.0)
    """
    _check_rgb(x)
    r, g, b = x.unbind(1)
    m = _BT601[0]
    return ((m[0] * r + m[1] * g + m[2] * b + _BT601_OFFSET[0]) / 255.0).unsqueeze(1)


def rgb_to_ycbcr_bt601(x: Tensor) -> Tensor:
    """MATLAB's ``rgb2ycbcr`` (BT.601 studio range) for RGB in [0, 1]; YCbCr in [0, 1] units.

    See the module docstring for the formulas; Y spans [16/255, 235/255], Cb and Cr
    [16/255, 240/255] for RGB in [0, 1].

    Args:
        x: RGB images in [0, 1], float.

    Shape:
        x: ``(B, 3, H, W)``; returns ``(B, 3, H, W)`` ordered Y, Cb, Cr.

    Returns:
        YCbCr images.

    Reference: MATLAB ``rgb2ycbcr``; basicsr ``rgb2ycbcr_pt`` / ``rgb2ycbcr``.

    Example:
        >>> ycc = rgb_to_ycbcr_bt601(torch.zeros(1, 3, 1, 1))
        >>> [round(v * 255, 4) for v in ycc.flatten().tolist()]
        [16.0, 128.0, 128.0]
    """
    _check_rgb(x)
    return _affine(x, _BT601, _BT601_OFFSET) / 255.0


def ycbcr_bt601_to_rgb(y: Tensor) -> Tensor:
    """MATLAB's ``ycbcr2rgb`` (BT.601 studio range), the inverse of :func:`rgb_to_ycbcr_bt601`.

    Uses the exact float64 inverse of the forward matrix. Values outside the studio range map
    outside [0, 1]; nothing is clipped.

    Args:
        y: YCbCr images (Y, Cb, Cr) in [0, 1] units, float.

    Shape:
        y: ``(B, 3, H, W)``; returns ``(B, 3, H, W)`` RGB.

    Returns:
        RGB images.

    Reference: MATLAB ``ycbcr2rgb``; basicsr ``ycbcr2rgb`` (which hard-codes the inverse rounded
    to 8 digits; the two agree to about 1e-6).

    Example:
        >>> x = torch.tensor([0.2, 0.5, 0.9]).view(1, 3, 1, 1)
        >>> bool(torch.allclose(ycbcr_bt601_to_rgb(rgb_to_ycbcr_bt601(x)), x, atol=1e-6))
        True
    """
    _check_rgb(y, "y")
    return _affine(y, _BT601_INV_SCALED, _BT601_INV_BIAS)


def rgb_to_ycbcr_jfif(x: Tensor) -> Tensor:
    """JFIF / JPEG full-range YCbCr for RGB in [0, 1], chroma offset 128/255.

    ``Y = 0.299 R + 0.587 G + 0.114 B``, ``Cb = 128/255 + (B - Y) / 1.772``,
    ``Cr = 128/255 + (R - Y) / 1.402`` (so ``Cb = 128/255 - 0.168736 R - 0.331264 G + 0.5 B``
    and ``Cr = 128/255 + 0.5 R - 0.418688 G - 0.081312 B``). Multiplied by 255 this is libjpeg's
    conversion of 8-bit samples before rounding.

    Args:
        x: RGB images in [0, 1], float.

    Shape:
        x: ``(B, 3, H, W)``; returns ``(B, 3, H, W)`` ordered Y, Cb, Cr.

    Returns:
        YCbCr images.

    Reference: JFIF 1.02 / ITU-T T.871 colour conversion; libjpeg ``jccolor.c`` (via Pillow).

    Example:
        >>> ycc = rgb_to_ycbcr_jfif(torch.ones(1, 3, 1, 1))
        >>> [round(v * 255, 4) for v in ycc.flatten().tolist()]
        [255.0, 128.0, 128.0]
    """
    _check_rgb(x)
    return _affine(x, _JFIF, (0.0, _JFIF_C, _JFIF_C))


def ycbcr_jfif_to_rgb(y: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_ycbcr_jfif`: ``R = Y + 1.402 (Cr - c)``, ``B = Y + 1.772 (Cb - c)``,
    ``G = Y - 0.344136 (Cb - c) - 0.714136 (Cr - c)`` with ``c = 128/255``; nothing is clipped.

    Args:
        y: YCbCr images (Y, Cb, Cr) in [0, 1] units, float.

    Shape:
        y: ``(B, 3, H, W)``; returns ``(B, 3, H, W)`` RGB.

    Returns:
        RGB images.

    Reference: JFIF 1.02 / ITU-T T.871; libjpeg ``jdcolor.c`` (via Pillow).

    Example:
        >>> x = torch.tensor([0.2, 0.5, 0.9]).view(1, 3, 1, 1)
        >>> bool(torch.allclose(ycbcr_jfif_to_rgb(rgb_to_ycbcr_jfif(x)), x, atol=1e-6))
        True
    """
    _check_rgb(y, "y")
    centred = y - torch.tensor([0.0, _JFIF_C, _JFIF_C], dtype=y.dtype, device=y.device).view(
        1, 3, 1, 1
    )
    return _affine(centred, _JFIF_INV, (0.0, 0.0, 0.0))
