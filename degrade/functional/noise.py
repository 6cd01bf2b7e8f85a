"""Additive Gaussian and Poisson (shot) noise with per-sample parameters and per-sample seeds.

Sample ``i``'s noise is a function of ``seeds[i]``, its own parameters and its own image only:
it does not change with the batch size, the batch mates or the sample's position (except under
``compat="basicsr"``, which reproduces basicsr's batch-shared draws on purpose). With the default
``rng="torch"`` the ``(B,)`` seeds (and the ``gray`` flags, in the same transfer) are read to the
host once per call, and each sample draws from its own ``torch.Generator`` on the input's device
(see :mod:`degrade.functional._random`).

The noise is not differentiable w.r.t. anything random; for fixed seeds the output is
``x + noise`` with gradient 1 w.r.t. ``x`` (with ``clip=False`` and ``round_to_8bit=False``) and
the gradient w.r.t. ``sigma`` / ``scale`` is the unit noise. The Poisson noise is computed from the
8-bit-rounded image and is treated as a constant w.r.t. ``x``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from degrade.functional._random import hashed_normal, per_sample_normal, per_sample_poisson
from degrade.functional._utils import ParamLike, batch_param, check_image
from degrade.functional.color import rgb_to_gray

__all__ = ["add_gaussian_noise", "add_poisson_noise", "poisson_levels"]

# next power of two >= n for n = 0..256 (n = 0, an empty image, maps to 1)
_POW2 = [1 << max(n - 1, 0).bit_length() for n in range(257)]


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    return dtype if dtype in (torch.float32, torch.float64) else torch.float32


def _check_float_image(x: Tensor) -> None:
    check_image(x)
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating tensor in [0, 1], got {x.dtype}")


def _finish(out: Tensor, clip: bool, round_to_8bit: bool) -> Tensor:
    """Clip to [0, 1] and/or round to 8-bit levels, in basicsr's order of operations."""
    if clip and round_to_8bit:
        return torch.clamp((out * 255.0).round(), 0, 255) / 255.0
    if clip:
        return torch.clamp(out, 0, 1)
    if round_to_8bit:
        return (out * 255.0).round() / 255.0
    return out


def _read_seeds_and_gray(seeds: Tensor, gray: Tensor) -> tuple[list[int], list[bool]]:
    """The one host read of a call: seeds and gray flags in a single transfer."""
    both = torch.stack([seeds, gray.to(seeds.dtype)]).tolist()
    return [int(s) for s in both[0]], [bool(g) for g in both[1]]


def _quantize_8bit(x: Tensor) -> Tensor:
    return torch.clamp((x * 255.0).round(), 0, 255) / 255.0


def poisson_levels(x: Tensor) -> Tensor:
    """Number of distinct 8-bit levels in each image (all channels together), batched.

    The image is rounded to 8 bits (``clamp(round(255 x), 0, 255)``), its values are scattered
    into 256 bins per sample, and the non-empty bins are counted: the same count as basicsr's
    ``len(torch.unique(img[i]))`` on the rounded image, without a per-image loop or host read.
    :func:`add_poisson_noise` uses ``2 ** ceil(log2(levels))`` as the photon scale; for gray noise
    it counts the levels of the gray image.

    Args:
        x: images in [0, 1], float.

    Shape:
        x: ``(B, C, H, W)``; returns ``(B,)`` int64.

    Returns:
        The level counts, in 0..256 (0 only for an empty image).

    Reference: basicsr ``generate_poisson_noise_pt`` (its per-image ``torch.unique`` count).

    Example:
        >>> x = torch.tensor([0.0, 0.5, 0.5, 1.0]).view(1, 1, 2, 2)
        >>> poisson_levels(torch.cat([x, torch.zeros_like(x)])).tolist()
        [3, 1]
    """
    _check_float_image(x)
    b = x.shape[0]
    levels = torch.clamp((x.detach() * 255.0).round(), 0, 255).to(torch.int64).reshape(b, -1)
    bins = torch.zeros(b, 256, dtype=torch.int32, device=x.device)
    bins.scatter_(1, levels, 1)
    return bins.sum(dim=1, dtype=torch.int64)


def _poisson_noise(img: Tensor, seeds: list[int]) -> Tensor:
    """basicsr's shot noise of ``img`` (any channel count), per-sample generators."""
    img = _quantize_8bit(img)
    table = torch.tensor(_POW2, dtype=img.dtype, device=img.device)
    vals = table[poisson_levels(img)].view(-1, 1, 1, 1)
    out = per_sample_poisson(seeds, img * vals) / vals
    return out - img


def add_gaussian_noise(
    x: Tensor,
    sigma: ParamLike,
    *,
    gray: ParamLike,
    seeds: ParamLike,
    clip: bool = True,
    round_to_8bit: bool = False,
    compat: Literal["basicsr"] | None = None,
    rng: Literal["torch", "hash"] = "torch",
) -> Tensor:
    """Add Gaussian noise of per-sample standard deviation ``sigma / 255``.

    ``out = x + N(0, 1) * sigma / 255``, then optionally clipped to [0, 1] and/or rounded to
    8-bit levels (``round(255 out) / 255``, clipped first when ``clip``), as Real-ESRGAN's
    ``noise_range`` (sigma in 8-bit units). A gray sample gets one ``(H, W)`` field shared by
    its channels; a colour sample independent fields per channel (for ``C = 1`` both are the same).

    Randomness (``rng``):

    * ``"torch"`` (default): sample ``i`` draws from ``torch.Generator`` seeded ``seeds[i]`` on
      ``x``'s device: a ``(C, H, W)`` field, or a ``(1, H, W)`` field for a gray sample, in the
      input dtype (float32 for half types). For one sample this is exactly what basicsr draws
      after ``torch.manual_seed(seeds[0])``. One host read of ``seeds`` and ``gray`` per call.
    * ``"hash"``: a counter-based hash of ``(seeds[i], element index)``
      (:func:`~degrade.functional._random.hashed_normal`), with no host read; a gray sample
      uses its first channel's field for every channel.

    ``compat="basicsr"`` reproduces basicsr's ``add_gaussian_noise_pt`` bit for bit: one
    generator seeded with ``seeds[0]`` draws, when any sample is gray, a single ``(H, W)`` gray
    field (shared by the whole batch, scaled per sample) and then a ``(B, C, H, W)`` colour field,
    so that torch.manual_seed(s) followed by basicsr's function equals this with ``seeds = s``.
    It breaks per-sample independence: a sample's noise depends on its batch and position.

    Args:
        x: images in [0, 1], float.
        sigma: noise standard deviation in 8-bit units, per sample.
        gray: per-sample bool (or 0/1) flags for gray noise.
        seeds: per-sample int64 seeds (a single seed is used for every sample).
        clip: clamp the result to [0, 1].
        round_to_8bit: round the result to multiples of 1/255 (basicsr's ``rounds``).
        compat: ``"basicsr"`` for basicsr's batch-shared draws (see above), or None.
        rng: ``"torch"`` or ``"hash"`` (see above); ``compat`` needs ``"torch"``.

    Shape:
        x: ``(B, C, H, W)``; sigma, gray, seeds: ``(B,)``, ``(1,)`` or scalars; returns
        ``(B, C, H, W)`` with x's dtype and device.

    Returns:
        The noisy images.

    Reference: basicsr ``add_gaussian_noise_pt`` / ``random_add_gaussian_noise_pt``
    (Real-ESRGAN's ``gaussian_noise_prob`` / ``noise_range`` / ``gray_noise_prob``).

    Example:
        >>> x = torch.full((2, 3, 4, 4), 0.5)
        >>> y = add_gaussian_noise(x, torch.tensor([0.0, 10.0]), gray=False, seeds=torch.tensor([1, 2]))
        >>> y.shape, torch.equal(y[0], x[0]), torch.equal(y[1], x[1])
        (torch.Size([2, 3, 4, 4]), True, False)
    """
    _check_float_image(x)
    if compat not in (None, "basicsr"):
        raise ValueError(f"compat must be None or 'basicsr', got {compat!r}")
    if rng not in ("torch", "hash"):
        raise ValueError(f"rng must be 'torch' or 'hash', got {rng!r}")
    if compat is not None and rng != "torch":
        raise ValueError("compat='basicsr' needs rng='torch'")
    B, C, H, W = x.shape
    wd = _work_dtype(x.dtype)
    dev = x.device
    work = x.to(wd)
    sigma_t = batch_param(sigma, B, device=dev, dtype=wd, name="sigma")
    gray_t = batch_param(gray, B, device=dev, dtype=torch.bool, name="gray")
    seeds_t = batch_param(seeds, B, device=dev, dtype=torch.int64, name="seeds")
    if B == 0:
        return x.clone()

    if rng == "hash":
        z = hashed_normal(seeds_t, (C, H, W), dtype=wd)
        if C > 1:
            z = torch.where(gray_t.view(B, 1, 1, 1), z[:, :1], z)
        noise = z * sigma_t.view(B, 1, 1, 1) / 255.0
    elif compat == "basicsr":
        seed_list, gray_list = _read_seeds_and_gray(seeds_t, gray_t)
        gen = torch.Generator(device=dev)
        gen.manual_seed(seed_list[0])
        s = sigma_t.view(B, 1, 1, 1)
        noise_gray = None
        if any(gray_list):
            noise_gray = torch.randn(H, W, generator=gen, dtype=wd, device=dev) * s / 255.0
        noise = torch.randn(B, C, H, W, generator=gen, dtype=wd, device=dev) * s / 255.0
        if noise_gray is not None:
            noise = torch.where(gray_t.view(B, 1, 1, 1), noise_gray, noise)
    else:
        seed_list, gray_list = _read_seeds_and_gray(seeds_t, gray_t)
        gray_idx = [i for i in range(B) if gray_list[i] and C > 1]
        if not gray_idx:
            z = per_sample_normal(seed_list, (C, H, W), dtype=wd, device=dev)
        else:
            colour_idx = [i for i in range(B) if not (gray_list[i] and C > 1)]
            z = torch.empty(B, C, H, W, dtype=wd, device=dev)
            z[gray_idx] = per_sample_normal(
                [seed_list[i] for i in gray_idx], (1, H, W), dtype=wd, device=dev
            )
            if colour_idx:
                z[colour_idx] = per_sample_normal(
                    [seed_list[i] for i in colour_idx], (C, H, W), dtype=wd, device=dev
                )
        noise = z * sigma_t.view(B, 1, 1, 1) / 255.0
    return _finish(work + noise, clip, round_to_8bit).to(x.dtype)


def add_poisson_noise(
    x: Tensor,
    scale: ParamLike,
    *,
    gray: ParamLike,
    seeds: ParamLike,
    clip: bool = True,
    round_to_8bit: bool = False,
) -> Tensor:
    """Add Poisson (shot) noise scaled per sample, as basicsr's ``add_poisson_noise_pt``.

    For each sample the image ("the image" is all its channels together; for a gray sample, its
    gray version ``rgb_to_gray(x, weights="torchvision")``, i.e. ``0.2989 R + 0.587 G + 0.114 B``
    as basicsr gets it from torchvision) is rounded to 8 bits,
    ``vals = 2 ** ceil(log2(levels))`` with ``levels`` its number of distinct 8-bit values
    (:func:`poisson_levels`), and ``noise = (Poisson(img * vals) / vals - img) * scale``; gray
    noise is shared by the channels. ``out = x + noise``, then optionally clipped and/or rounded
    to 8-bit levels as in :func:`add_gaussian_noise`.

    Sample ``i`` draws from a ``torch.Generator`` seeded ``seeds[i]`` on ``x``'s device (one host
    read of ``seeds`` and ``gray`` per call); for one sample this equals basicsr's draw after
    ``torch.manual_seed(seeds[0])``. For a batch basicsr draws both a gray and a colour field
    from the global generator; the per-sample draws here differ from it by design.

    Args:
        x: images in [0, 1], float.
        scale: noise scale per sample (Real-ESRGAN's ``poisson_scale_range``).
        gray: per-sample bool (or 0/1) flags for gray noise.
        seeds: per-sample int64 seeds (a single seed is used for every sample).
        clip: clamp the result to [0, 1].
        round_to_8bit: round the result to multiples of 1/255 (basicsr's ``rounds``).

    Shape:
        x: ``(B, C, H, W)``; scale, gray, seeds: ``(B,)``, ``(1,)`` or scalars; returns
        ``(B, C, H, W)`` with x's dtype and device.

    Returns:
        The noisy images.

    Reference: basicsr ``add_poisson_noise_pt`` / ``generate_poisson_noise_pt``.

    Example:
        >>> x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> y = add_poisson_noise(x, torch.tensor([0.0, 1.0]), gray=True, seeds=torch.tensor([3, 4]))
        >>> y.shape, torch.equal(y[0], x[0]), torch.equal(y[1], x[1])
        (torch.Size([2, 3, 8, 8]), True, False)
    """
    _check_float_image(x)
    B, C, _, _ = x.shape
    wd = _work_dtype(x.dtype)
    dev = x.device
    work = x.to(wd)
    scale_t = batch_param(scale, B, device=dev, dtype=wd, name="scale")
    gray_t = batch_param(gray, B, device=dev, dtype=torch.bool, name="gray")
    seeds_t = batch_param(seeds, B, device=dev, dtype=torch.int64, name="seeds")
    if B == 0:
        return x.clone()
    seed_list, gray_list = _read_seeds_and_gray(seeds_t, gray_t)
    gray_idx = [i for i in range(B) if gray_list[i] and C > 1]
    with torch.no_grad():
        img = work.detach()
        if not gray_idx:
            noise = _poisson_noise(img, seed_list)
        else:
            colour_idx = [i for i in range(B) if not (gray_list[i] and C > 1)]
            noise = torch.empty_like(img)
            noise[gray_idx] = _poisson_noise(
                rgb_to_gray(img[gray_idx], weights="torchvision"), [seed_list[i] for i in gray_idx]
            )
            if colour_idx:
                noise[colour_idx] = _poisson_noise(
                    img[colour_idx], [seed_list[i] for i in colour_idx]
                )
    out = work + noise * scale_t.view(B, 1, 1, 1)
    return _finish(out, clip, round_to_8bit).to(x.dtype)
