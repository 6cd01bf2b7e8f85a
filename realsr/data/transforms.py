"""Worker-side image transforms on ``(H, W, C)`` arrays: flips/rotation, padding, crops.

Every random choice comes from an explicit :class:`numpy.random.Generator` that the dataset
seeds from ``(seed, epoch, index)`` (:func:`item_rng`); nothing touches global random state, so an
item does not depend on the worker that loads it or on the order of loading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from degrade.dataset_io import pad_to
from degrade.seeding import derive_seed

_MASK64 = (1 << 64) - 1


def item_rng(seed: int, purpose: str, epoch: int, index: int) -> np.random.Generator:
    """A generator for one purpose (``"augment"``, ``"crop"``) of item ``(epoch, index)``.

    Example:
        >>> a = item_rng(0, "crop", 1, 2).integers(0, 1000)
        >>> bool(a == item_rng(0, "crop", 1, 2).integers(0, 1000))
        True
    """
    return np.random.default_rng(derive_seed(seed, "item", purpose, epoch, index) & _MASK64)


@dataclass(frozen=True)
class Augment:
    """A flip/rotation draw, applied in BasicSR's order: hflip, vflip, then transpose."""

    hflip: bool = False
    vflip: bool = False
    transpose: bool = False

    @classmethod
    def draw(cls, rng: np.random.Generator, *, use_hflip: bool, use_rot: bool) -> Augment:
        """Each flag on with probability 1/2 when enabled (hflip by ``use_hflip``; vflip and
        transpose, which together give the four rotations, by ``use_rot``).

        Three uniforms are always drawn, so disabled flags do not shift the others.
        """
        u = rng.random(3)
        return cls(
            hflip=use_hflip and bool(u[0] < 0.5),
            vflip=use_rot and bool(u[1] < 0.5),
            transpose=use_rot and bool(u[2] < 0.5),
        )

    def __call__(self, array: np.ndarray) -> np.ndarray:
        """Apply to an ``(H, W, C)`` array (returns a view).

        Example:
            >>> a = np.arange(6).reshape(2, 3, 1)
            >>> Augment(hflip=True, transpose=True)(a)[:, :, 0].tolist()
            [[2, 5], [1, 4], [0, 3]]
        """
        if self.hflip:
            array = array[:, ::-1]
        if self.vflip:
            array = array[::-1]
        if self.transpose:
            array = array.transpose(1, 0, 2)
        return array


def random_corner(
    rng: np.random.Generator, size: tuple[int, int], crop: tuple[int, int]
) -> tuple[int, int]:
    """A uniform top-left corner of a ``crop = (h, w)`` window in an image of ``size = (H, W)``.

    Two integers are always drawn (0 when the window fills that dimension).
    """
    (h, w), (ch, cw) = size, crop
    if ch > h or cw > w:
        raise ValueError(f"a {cw}x{ch} crop does not fit in {w}x{h}")
    top, left = rng.integers(0, [h - ch + 1, w - cw + 1])
    return int(top), int(left)


def pad_and_crop(array: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Pad (bottom/right, reflect-101) to at least ``size`` square, then crop ``size`` square at
    a random corner, as Real-ESRGAN's dataset prepares its 400-pixel patches.

    Shape:
        ``(H, W, C)`` in, ``(size, size, C)`` out.

    Example:
        >>> a = np.zeros((5, 30, 3), np.uint8)
        >>> pad_and_crop(a, 8, np.random.default_rng(0)).shape
        (8, 8, 3)
    """
    if array.shape[0] < size or array.shape[1] < size:
        array, _ = pad_to(np.ascontiguousarray(array), size)
    top, left = random_corner(rng, array.shape[:2], (size, size))
    return array[top : top + size, left : left + size]


def modcrop(array: np.ndarray, scale: int) -> np.ndarray:
    """Crop bottom/right so that height and width are multiples of ``scale``.

    Example:
        >>> modcrop(np.zeros((7, 9, 3)), 4).shape
        (4, 8, 3)
    """
    h, w = array.shape[:2]
    return array[: h - h % scale, : w - w % scale]


__all__ = ["Augment", "item_rng", "modcrop", "pad_and_crop", "random_corner"]
