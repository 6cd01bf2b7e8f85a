"""Batched paired random crops on the training device, one corner per sample from its key.

After the degradation pipeline has turned a batch of HR patches into LR/HR pairs on the device,
:func:`paired_random_crop` cuts the ``gt_size`` training crops (BasicSR's ``paired_random_crop``,
but batched and keyed): sample ``i``'s LQ corner is drawn from
``derive_seed(seed, "pair_crop", keys[i])`` and its GT corner is that corner times the scale, so
the pair stays aligned and a sample's crop does not depend on its batch. No host synchronisation.
"""

from __future__ import annotations

import torch
from torch import Tensor

from degrade.random import Draws
from degrade.seeding import derive_seed, splitmix64_tensor


def pair_crop_seeds(seed: int, keys: Tensor) -> Tensor:
    """Per-sample seeds ``derive_seed(seed, "pair_crop", keys[i])`` on the keys' device.

    Shape:
        keys: ``(B,)`` int64; returns ``(B,)`` int64.

    Example:
        >>> keys = torch.tensor([3, 9])
        >>> pair_crop_seeds(1, keys).tolist() == [derive_seed(1, "pair_crop", k) for k in (3, 9)]
        True
    """
    if keys.dtype != torch.int64 or keys.ndim != 1:
        raise ValueError(f"keys must be a (B,) int64 tensor, got {keys.dtype} {tuple(keys.shape)}")
    return splitmix64_tensor(torch.full_like(keys, derive_seed(seed, "pair_crop")) ^ keys)


def _gather(x: Tensor, top: Tensor, left: Tensor, size: int) -> Tensor:
    """Crop ``size x size`` at per-sample corners: ``(B, C, H, W)`` -> ``(B, C, size, size)``."""
    offsets = torch.arange(size, device=x.device)
    rows = (top[:, None] + offsets)[:, :, None]  # (B, size, 1)
    cols = (left[:, None] + offsets)[:, None, :]  # (B, 1, size)
    batch = torch.arange(x.shape[0], device=x.device)[:, None, None]
    return x[batch, :, rows, cols].permute(0, 3, 1, 2).contiguous()  # (B, size, size, C) first


def paired_random_crop(
    gt: Tensor, lq: Tensor, gt_size: int, scale: int, keys: Tensor, seed: int
) -> tuple[Tensor, Tensor]:
    """Crop aligned ``gt_size`` GT and ``gt_size / scale`` LQ patches, a corner per sample.

    Args:
        gt: HR batch.
        lq: LR batch, exactly ``scale`` times smaller.
        gt_size: GT crop size (a multiple of ``scale``).
        scale: the upscaling factor.
        keys: per-sample degradation keys (``batch['key']``).
        seed: the run's seed.

    Shape:
        gt: ``(B, C, H, W)``; lq: ``(B, C', H / scale, W / scale)``; keys: ``(B,)`` int64.
        Returns ``(B, C, gt_size, gt_size)`` and ``(B, C', gt_size / scale, gt_size / scale)``.

    Raises:
        ValueError: sizes that do not match the scale, or an LQ smaller than the crop.

    Example:
        >>> gt, lq = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 4, 4)
        >>> g, q = paired_random_crop(gt, lq, 8, 4, torch.tensor([0, 1]), seed=0)
        >>> tuple(g.shape), tuple(q.shape)
        ((2, 3, 8, 8), (2, 3, 2, 2))
    """
    if gt_size % scale:
        raise ValueError(f"gt_size {gt_size} is not a multiple of scale {scale}")
    if gt.ndim != 4 or lq.ndim != 4 or gt.shape[0] != lq.shape[0] or keys.shape != gt.shape[:1]:
        raise ValueError(
            f"expected (B, C, H, W) gt and lq and (B,) keys, got {tuple(gt.shape)}, "
            f"{tuple(lq.shape)} and {tuple(keys.shape)}"
        )
    (gh, gw), (h, w) = gt.shape[-2:], lq.shape[-2:]
    if gh != h * scale or gw != w * scale:
        raise ValueError(f"GT {gw}x{gh} is not {scale} times LQ {w}x{h}")
    size = gt_size // scale
    if h < size or w < size:
        raise ValueError(f"LQ {w}x{h} is smaller than the {size}x{size} crop")
    draws = Draws(pair_crop_seeds(seed, keys.to(lq.device)))
    top = draws.randint(0, h - size + 1)
    left = draws.randint(0, w - size + 1)
    return _gather(gt, top * scale, left * scale, gt_size), _gather(lq, top, left, size)


__all__ = ["pair_crop_seeds", "paired_random_crop"]
