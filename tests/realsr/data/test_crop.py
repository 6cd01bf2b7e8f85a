"""paired_random_crop: batched, keyed, aligned, on the tensors' device."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from degrade.functional import imresize
from realsr.data.crop import paired_random_crop


def _pair(
    device: torch.device, batch: int = 4, size: int = 32, scale: int = 4
) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    gt = torch.rand(batch, 3, size, size + 8, generator=gen).to(device)
    return gt, F.avg_pool2d(gt, scale)


def _corner(gt: torch.Tensor, crop: torch.Tensor) -> tuple[int, int]:
    """Where ``crop`` (C, s, s) sits in ``gt`` (C, H, W) (exactly one place for random data)."""
    size = crop.shape[-1]
    windows = gt.unfold(1, size, 1).unfold(2, size, 1)  # (C, H', W', s, s)
    match = (windows == crop[:, None, None]).all(-1).all(-1).all(0).nonzero()
    assert match.shape[0] == 1
    return int(match[0, 0]), int(match[0, 1])


def test_shapes_bounds_and_per_sample_equals_batched(device: torch.device) -> None:
    gt, lq = _pair(device)
    keys = torch.tensor([5, 17, 2**62, 3], device=device)
    g, q = paired_random_crop(gt, lq, 16, 4, keys, seed=7)
    assert g.shape == (4, 3, 16, 16) and q.shape == (4, 3, 4, 4)
    assert g.device == gt.device and g.dtype == gt.dtype
    for i in range(4):
        gi, qi = paired_random_crop(gt[i : i + 1], lq[i : i + 1], 16, 4, keys[i : i + 1], seed=7)
        assert torch.equal(gi[0], g[i]) and torch.equal(qi[0], q[i])
        top, left = _corner(gt[i], g[i])
        assert top % 4 == 0 and left % 4 == 0
        assert 0 <= top <= 32 - 16 and 0 <= left <= 40 - 16


def test_same_key_same_corner_different_keys_vary(device: torch.device) -> None:
    gt, lq = _pair(device, batch=1, size=64)
    corners = set()
    for key in range(40):
        k = torch.tensor([key], device=device)
        g, _ = paired_random_crop(gt, lq, 8, 4, k, seed=0)
        again, _ = paired_random_crop(gt, lq, 8, 4, k, seed=0)
        assert torch.equal(g, again)
        corners.add(_corner(gt[0], g[0]))
    assert len(corners) >= 30  # 15 x 17 possible LQ corners
    keys = torch.arange(20, device=device)
    with_seed = [
        paired_random_crop(
            gt.expand(20, -1, -1, -1), lq.expand(20, -1, -1, -1), 8, 4, keys, seed=s
        )[0]
        for s in (0, 1)
    ]
    assert not torch.equal(with_seed[0], with_seed[1])


def test_crops_keep_the_pair_aligned(device: torch.device) -> None:
    gt, lq = _pair(device)
    keys = torch.arange(4, device=device)
    g, q = paired_random_crop(gt, lq, 16, 4, keys, seed=3)
    # area downscaling commutes with block-aligned crops: exact correspondence
    torch.testing.assert_close(F.avg_pool2d(g, 4), q, rtol=0, atol=1e-6)


def test_bicubic_pair_stays_aligned_away_from_borders() -> None:
    gen = torch.Generator().manual_seed(1)
    smooth = F.interpolate(torch.rand(3, 3, 12, 12, generator=gen), size=(64, 64), mode="bilinear")
    lq = imresize(smooth, 1 / 4)
    g, q = paired_random_crop(smooth, lq, 32, 4, torch.tensor([1, 2, 3]), seed=0)
    redone = imresize(g, 1 / 4)
    inner = (slice(None), slice(None), slice(2, -2), slice(2, -2))
    torch.testing.assert_close(redone[inner], q[inner], rtol=0, atol=1e-5)
    # a crop one LQ pixel off does not match
    shifted = imresize(torch.roll(g, 4, dims=-1), 1 / 4)
    assert (shifted[inner] - q[inner]).abs().max() > 1e-2


def test_errors() -> None:
    gt, lq = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 4, 4)
    keys = torch.tensor([0, 1])
    with pytest.raises(ValueError, match="not a multiple"):
        paired_random_crop(gt, lq, 10, 4, keys, seed=0)
    with pytest.raises(ValueError, match="not 4 times"):
        paired_random_crop(gt, torch.rand(2, 3, 5, 4), 8, 4, keys, seed=0)
    with pytest.raises(ValueError, match="smaller than"):
        paired_random_crop(gt, lq, 32, 4, keys, seed=0)
    with pytest.raises(ValueError, match="keys"):
        paired_random_crop(gt, lq, 8, 4, torch.tensor([0]), seed=0)
