"""NIQE, the "completely blind" natural image quality evaluator (lower is better).

The image is scored on Y (BT.601, MATLAB ``rgb2ycbcr``) or gray, on the 0..255 scale, rounded to
integers (as the MATLAB release sees 8-bit input). It is cropped to whole 96x96 blocks; at two
scales (the image, then MATLAB bicubic ``imresize`` by 0.5) each pixel is normalised by its local
mean and deviation (7x7 Gaussian window, replicated borders: ``(I - mu) / (sigma + 1)``), and each
block yields 18 features: the generalised Gaussian shape and spread of the normalised values and
the asymmetric generalised Gaussian parameters of the products of horizontal, vertical and the two
diagonal neighbours (circular shifts within the block), found by the moment-matching grid search
over shapes 0.2..10 in steps of 0.001. A multivariate Gaussian fitted to the blocks' 36 features
(NaN-aware mean; covariance over complete rows) is compared with the pristine model:
``sqrt((mu_p - mu)^T pinv((S_p + S) / 2) (mu_p - mu))``.

Arithmetic: with ``precision="basicsr"`` (the default) the local mean and mean square are
rounded to float32 and the deviation and normalisation are computed in float32, as BasicSR's
``calculate_niqe`` does (its image is float32 and ``scipy.ndimage.convolve`` returns the input's
dtype); everything else is float64. This matters: in flat regions ``E[I^2] - E[I]^2`` cancels
catastrophically in float32, and on some photos the score moves by a few hundredths (e.g. 3.0646
vs 3.1005 on scikit-image's ``astronaut``). ``precision="double"`` keeps every step in float64,
as the authors' MATLAB release computes on ``double`` images. Images are scored one at a time
(NIQE is a per-image statistic with no batch structure); the batch API is a loop.

Reference: A. Mittal, R. Soundararajan, A. C. Bovik, "Making a 'Completely Blind' Image Quality
Analyzer", IEEE Signal Processing Letters 2013, and its MATLAB release; BasicSR
``basicsr/metrics/niqe.py`` (``calculate_niqe``). The pristine model ships in
``realsr/metrics/data/niqe_pris_params.npz`` (see the NOTICE beside it).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from degrade.functional.color import rgb_to_y_bt601
from degrade.functional.imresize import imresize

PARAMS_FILE = Path(__file__).resolve().parent / "data" / "niqe_pris_params.npz"
BLOCK_SIZE = 96
_SHIFTS: tuple[tuple[int, int], ...] = ((0, 1), (1, 0), (1, 1), (1, -1))


@lru_cache(maxsize=1)
def pristine_model() -> tuple[Tensor, Tensor, Tensor]:
    """The published pristine model: ``(mu (36,), cov (36, 36), window (7, 7))``, float64 CPU."""
    if not PARAMS_FILE.is_file():
        raise FileNotFoundError(f"NIQE model parameters missing: {PARAMS_FILE}")
    with np.load(PARAMS_FILE) as data:
        mu = torch.from_numpy(data["mu_pris_param"].astype(np.float64)).reshape(-1)
        cov = torch.from_numpy(data["cov_pris_param"].astype(np.float64))
        window = torch.from_numpy(data["gaussian_window"].astype(np.float64))
    return mu, cov, window


@lru_cache(maxsize=1)
def _aggd_tables() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Shape grid and, per shape g: r(g), sqrt(G(1/g)/G(3/g)) and G(2/g)/G(1/g) (float64 CPU)."""
    grid = np.arange(0.2, 10.001, 0.001)
    r = [math.gamma(2 / g) ** 2 / (math.gamma(1 / g) * math.gamma(3 / g)) for g in grid]
    spread = [math.sqrt(math.gamma(1 / g) / math.gamma(3 / g)) for g in grid]
    mean = [math.gamma(2 / g) / math.gamma(1 / g) for g in grid]
    f64 = torch.float64
    return (
        torch.from_numpy(grid),
        torch.tensor(r, dtype=f64),
        torch.tensor(spread, dtype=f64),
        torch.tensor(mean, dtype=f64),
    )


def _aggd(v: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Asymmetric generalised Gaussian fit per row of ``v`` (N, P).

    Returns ``(alpha, beta_left, beta_right, mean_factor)`` each ``(N,)``, where ``mean_factor`` is
    ``G(2/alpha) / G(1/alpha)``. Rows without negative (or positive) values give NaN spreads and
    the first grid shape, as the reference does.
    """
    grid, r_grid, spread, mean_factor = (t.to(v.device) for t in _aggd_tables())
    sq = v.square()
    neg, pos = (v < 0).to(v.dtype), (v > 0).to(v.dtype)
    left_std = torch.sqrt((sq * neg).sum(1) / neg.sum(1))
    right_std = torch.sqrt((sq * pos).sum(1) / pos.sum(1))
    gammahat = left_std / right_std
    rhat = v.abs().mean(1).square() / sq.mean(1)
    rhatnorm = rhat * (gammahat**3 + 1) * (gammahat + 1) / (gammahat**2 + 1).square()
    idx = (r_grid[None, :] - rhatnorm[:, None]).square().argmin(1)
    idx = torch.where(torch.isnan(rhatnorm), torch.zeros_like(idx), idx)
    return grid[idx], left_std * spread[idx], right_std * spread[idx], mean_factor[idx]


def _filter_replicate(planes: Tensor, window: Tensor) -> Tensor:
    """Correlate ``(P, H, W)`` float64 planes with a small odd window, borders replicated.

    A sum of shifted slices: float64 convolution kernels are slow on CPU for this size.
    """
    kh, kw = window.shape
    ph, pw = kh // 2, kw // 2
    h, w = planes.shape[-2:]
    padded = F.pad(planes[None], (pw, pw, ph, ph), mode="replicate")[0]
    out = torch.zeros_like(planes)
    for i in range(kh):
        for j in range(kw):
            out += window[i, j] * padded[:, i : i + h, j : j + w]
    return out


def _block_features(img: Tensor, window: Tensor, block: int, work: torch.dtype) -> Tensor:
    """The 18 NIQE features of every ``block`` x ``block`` tile of ``img`` (H, W) -> (N, 18).

    ``img`` is float64; the local statistics are rounded to ``work`` (float32 or float64) and the
    normalisation is computed in it; the features are computed in float64.
    """
    img = img.to(work).to(torch.float64)
    planes = torch.stack([img, img.to(work).square().to(torch.float64)])
    local = _filter_replicate(planes, window)
    mu, mu_sq = local[0].to(work), local[1].to(work)
    sigma = torch.sqrt((mu_sq - mu.square()).abs())
    normed = ((img.to(work) - mu) / (sigma + 1)).to(torch.float64)
    h, w = normed.shape
    blocks = normed.reshape(h // block, block, w // block, block).permute(2, 0, 1, 3)
    blocks = blocks.reshape(-1, block, block)
    alpha, beta_l, beta_r, _ = _aggd(blocks.flatten(1))
    feats = [alpha, (beta_l + beta_r) / 2]
    for shift in _SHIFTS:
        prod = blocks * torch.roll(blocks, shifts=shift, dims=(1, 2))
        alpha, beta_l, beta_r, factor = _aggd(prod.flatten(1))
        feats += [alpha, (beta_r - beta_l) * factor, beta_l, beta_r]
    return torch.stack(feats, dim=1)


Precision = Literal["basicsr", "double"]


def _work_dtype(precision: str) -> torch.dtype:
    if precision not in ("basicsr", "double"):
        raise ValueError(f"niqe: precision must be 'basicsr' or 'double', got {precision!r}")
    return torch.float32 if precision == "basicsr" else torch.float64


def niqe_plane(
    img: Tensor, *, block_size: int = BLOCK_SIZE, precision: Precision = "basicsr"
) -> Tensor:
    """NIQE of one gray/Y plane on the 0..255 scale (already rounded as wanted).

    Args:
        img: the plane, any real dtype.
        block_size: block side (96 in the published model).
        precision: ``"basicsr"`` (float32 local statistics) or ``"double"`` (see the module).

    Shape:
        img: ``(H, W)`` with H, W >= ``block_size``; returns a 0-dim float64 tensor.

    Returns:
        The NIQE score (lower is more natural).
    """
    if img.ndim != 2:
        raise ValueError(f"niqe_plane expects an (H, W) plane, got shape {tuple(img.shape)}")
    h, w = img.shape
    nh, nw = h // block_size, w // block_size
    if nh == 0 or nw == 0:
        raise ValueError(f"NIQE needs at least {block_size}x{block_size} pixels, got {h}x{w}")
    if block_size % 2:
        raise ValueError(f"NIQE block_size must be even, got {block_size}")
    work = _work_dtype(precision)
    mu_p, cov_p, window = (t.to(img.device) for t in pristine_model())
    x = img.to(torch.float64)[: nh * block_size, : nw * block_size]
    scale1 = _block_features(x, window, block_size, work)
    half = imresize((x / 255.0)[None, None], scale=0.5)[0, 0] * 255.0
    scale2 = _block_features(half, window, block_size // 2, work)
    feats = torch.cat([scale1, scale2], dim=1)
    mu = torch.nanmean(feats, dim=0)
    complete = feats[~torch.isnan(feats).any(dim=1)]
    if complete.shape[0] < 2:
        return torch.tensor(float("nan"), dtype=torch.float64, device=img.device)
    cov = torch.cov(complete.T)
    inv = torch.linalg.pinv((cov_p + cov) / 2, rtol=1e-15)
    d = mu_p - mu
    return torch.sqrt(d @ inv @ d)


_Y_BGR = (24.966, 128.553, 65.481)
_GRAY_BGR = (0.114, 0.587, 0.299)


def _scored_plane(x: Tensor, convert_to: str, precision: str) -> Tensor:
    """``(B, H, W)`` float64 plane on the 0..255 scale, before cropping and rounding.

    ``"basicsr"`` reproduces BasicSR's float32 steps (``to_y_channel`` returns float32 Y, the gray
    comes from OpenCV's float32 ``cvtColor``) so that 8-bit images round to the same integers;
    ``"double"`` computes in float64.
    """
    if x.shape[1] == 1:
        levels = x[:, 0].to(torch.float64)
        return levels if x.dtype == torch.uint8 else levels * 255.0
    unit32 = x.float() / 255 if x.dtype == torch.uint8 else x.to(torch.float32)
    if precision == "double":
        unit = x.to(torch.float64) / 255 if x.dtype == torch.uint8 else x.to(torch.float64)
        if convert_to == "y":
            return rgb_to_y_bt601(unit)[:, 0] * 255.0
        r, g, b = unit.unbind(1)
        return (_GRAY_BGR[2] * r + _GRAY_BGR[1] * g + _GRAY_BGR[0] * b) * 255.0
    if convert_to == "y":
        r, g, b = unit32.to(torch.float64).unbind(1)
        y = (b * _Y_BGR[0] + g * _Y_BGR[1] + r * _Y_BGR[2] + 16.0) / 255.0
        return (y.to(torch.float32) * 255.0).to(torch.float64)
    bgr = unit32.flip(1).permute(0, 2, 3, 1).cpu().numpy()
    gray = np.stack([cv2.cvtColor(np.ascontiguousarray(im), cv2.COLOR_BGR2GRAY) for im in bgr])
    return (torch.from_numpy(gray) * 255.0).to(device=x.device, dtype=torch.float64)


def niqe(
    x: Tensor,
    *,
    crop_border: int = 0,
    convert_to: Literal["y", "gray"] = "y",
    block_size: int = BLOCK_SIZE,
    precision: Precision = "basicsr",
) -> Tensor:
    """NIQE per image (lower is better), as BasicSR's ``calculate_niqe`` and the MATLAB release.

    A colour image is scored on Y of MATLAB's ``rgb2ycbcr`` (``convert_to="y"``) or on the
    ``0.299 R + 0.587 G + 0.114 B`` gray (``"gray"``); a one-channel image on its channel. The plane
    is taken to the 0..255 scale, ``crop_border`` pixels are removed from every side, and it is
    rounded to integers before scoring. Images are scored one by one.

    Args:
        x: images, float RGB (or gray) in [0, 1], or uint8.
        crop_border: pixels removed from every side.
        convert_to: ``"y"`` or ``"gray"`` for colour images.
        block_size: block side of the model (96).
        precision: ``"basicsr"`` (float32 local statistics, BasicSR's numbers) or ``"double"``
            (float64 throughout, as the MATLAB release); see the module docstring.

    Shape:
        x: ``(B, C, H, W)`` with C = 1 or 3 and at least 96x96 pixels after cropping;
        returns ``(B,)`` float64.

    Returns:
        The NIQE scores.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> niqe(torch.rand(1, 3, 96, 96, generator=g)).shape
        torch.Size([1])
    """
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"niqe expects (B, C, H, W) with C in (1, 3), got {tuple(x.shape)}")
    if convert_to not in ("y", "gray"):
        raise ValueError(f"niqe: convert_to must be 'y' or 'gray', got {convert_to!r}")
    if crop_border < 0:
        raise ValueError(f"niqe: crop_border must be >= 0, got {crop_border}")
    _work_dtype(precision)
    plane = _scored_plane(x.detach(), convert_to, precision)
    if crop_border:
        plane = plane[:, crop_border:-crop_border, crop_border:-crop_border]
    plane = plane.round()
    scores = [niqe_plane(p, block_size=block_size, precision=precision) for p in plane]
    if not scores:
        return torch.empty(0, dtype=torch.float64, device=x.device)
    return torch.stack(scores)
