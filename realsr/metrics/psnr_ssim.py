"""PSNR and SSIM as the super-resolution literature computes them (MATLAB-compatible).

Protocol (EDSR/RCAN evaluation code, Wang et al. 2004):

* images are 8-bit: float inputs in [0, 1] are rounded to the nearest of 256 levels first, as
  BasicSR's validation does (``tensor2img``) — pass ``quantize=False`` to score raw floats;
* with ``y_channel=True`` a colour image is scored on Y of MATLAB's ``rgb2ycbcr`` (BT.601 studio
  range), ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255`` for 8-bit R, G, B, computed in
  floating point and **not rounded** (``round_y=True`` gives EDSR's rounded Y); a 1-channel image is
  scored on its own channel; otherwise every channel is scored and the results averaged;
* ``crop_border`` pixels are removed from every side (the scale, by convention);
* PSNR = 10 log10(255^2 / MSE) on 0..255 values;
* SSIM: 11x11 Gaussian window with sigma 1.5 (normalised), K = (0.01, 0.03), L = 255, the map over
  valid positions only (no padding), no automatic downsampling; its mean.

Everything is computed in float64 and batched: ``(B, C, H, W)`` in, ``(B,)`` out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from degrade.functional.color import rgb_to_y_bt601


def _check_pair(pred: Tensor, target: Tensor) -> None:
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}"
        )
    if pred.ndim != 4 or pred.shape[1] not in (1, 3):
        raise ValueError(f"expected (B, C, H, W) with C in (1, 3), got {tuple(pred.shape)}")


def _to_levels(x: Tensor, quantize: bool) -> Tensor:
    """float64 values on the 0..255 scale."""
    if x.dtype == torch.uint8:
        return x.to(torch.float64)
    x = x.detach().to(torch.float64) * 255.0
    return x.clamp(0, 255).round() if quantize else x


def _scored_channels(x255: Tensor, y_channel: bool, round_y: bool) -> Tensor:
    if y_channel and x255.shape[1] == 3:
        y = rgb_to_y_bt601(x255 / 255.0) * 255.0
        return y.round() if round_y else y
    return x255


def _crop(x: Tensor, border: int) -> Tensor:
    if border < 0:
        raise ValueError(f"crop_border must be >= 0, got {border}")
    if border == 0:
        return x
    if x.shape[-2] <= 2 * border or x.shape[-1] <= 2 * border:
        raise ValueError(
            f"crop_border {border} leaves nothing of a {x.shape[-2]}x{x.shape[-1]} image"
        )
    return x[..., border:-border, border:-border]


def prepare(
    x: Tensor, *, crop_border: int, y_channel: bool, round_y: bool, quantize: bool
) -> Tensor:
    """The float64 0..255 planes that PSNR/SSIM score (Y or channels, border cropped)."""
    return _crop(_scored_channels(_to_levels(x, quantize), y_channel, round_y), crop_border)


def psnr(
    pred: Tensor,
    target: Tensor,
    *,
    crop_border: int = 0,
    y_channel: bool = True,
    round_y: bool = False,
    quantize: bool = True,
) -> Tensor:
    """Peak signal-to-noise ratio in dB, per image.

    Args:
        pred: restored images, float in [0, 1] or uint8.
        target: ground truth, same shape.
        crop_border: pixels removed from every side before scoring.
        y_channel: score colour images on BT.601 Y (unrounded unless ``round_y``).
        round_y: round Y to integers (EDSR's convention).
        quantize: round float inputs to 8-bit levels first.

    Shape:
        pred, target: ``(B, C, H, W)`` with C = 1 or 3; returns ``(B,)`` float64 (``inf`` where
        the images are equal).

    Example:
        >>> gt = torch.full((1, 3, 8, 8), 100 / 255)
        >>> round(psnr(gt + 2 / 255, gt, y_channel=False).item(), 4)  # every value off by 2 levels
        42.1102
    """
    _check_pair(pred, target)
    a, b = (
        prepare(t, crop_border=crop_border, y_channel=y_channel, round_y=round_y, quantize=quantize)
        for t in (pred, target)
    )
    mse = (a - b).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(255.0**2 / mse)


def gaussian_window(
    size: int = 11, sigma: float = 1.5, *, device: torch.device | None = None
) -> Tensor:
    """MATLAB's ``fspecial('gaussian', size, sigma)``: a normalised ``(size, size)`` float64 window."""
    coords = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    window = g[:, None] * g[None, :]
    return window / window.sum()


def ssim(
    pred: Tensor,
    target: Tensor,
    *,
    crop_border: int = 0,
    y_channel: bool = True,
    round_y: bool = False,
    quantize: bool = True,
) -> Tensor:
    """Structural similarity (Wang et al. 2004), per image, averaged over scored channels.

    Args: as :func:`psnr`.

    Shape:
        pred, target: ``(B, C, H, W)`` with C = 1 or 3 and H, W >= 11 after cropping;
        returns ``(B,)`` float64.

    Example:
        >>> gt = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
        >>> ssim(gt, gt).tolist()
        [1.0, 1.0]
    """
    _check_pair(pred, target)
    a, b = (
        prepare(t, crop_border=crop_border, y_channel=y_channel, round_y=round_y, quantize=quantize)
        for t in (pred, target)
    )
    if a.shape[-1] < 11 or a.shape[-2] < 11:
        raise ValueError(
            f"SSIM needs at least 11x11 pixels after cropping, got {tuple(a.shape[-2:])}"
        )
    batch, channels = a.shape[:2]
    window = gaussian_window(device=a.device).expand(channels, 1, 11, 11)

    def blur(x: Tensor) -> Tensor:
        return F.conv2d(x, window, groups=channels)

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return ssim_map.reshape(batch, channels, -1).mean(-1).mean(-1)


def modcrop(x: Tensor, scale: int) -> Tensor:
    """Crop the bottom/right so H and W are multiples of ``scale`` (MATLAB ``modcrop``).

    Shape:
        x: ``(..., H, W)``; returns ``(..., H - H % scale, W - W % scale)``.
    """
    h, w = x.shape[-2:]
    return x[..., : h - h % scale, : w - w % scale]
