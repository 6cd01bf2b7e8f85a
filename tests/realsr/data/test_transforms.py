"""Worker transforms against BasicSR's augment and OpenCV's reflect-101 padding."""

from __future__ import annotations

import random

import cv2
import numpy as np

from realsr.data.transforms import Augment, item_rng, modcrop, pad_and_crop
from tests._reference import import_reference


def test_augment_matches_basicsr_for_every_flag_combination() -> None:
    transforms = import_reference("basicsr.data.transforms")
    image = np.random.default_rng(0).random((5, 7, 3)).astype(np.float32)
    seen = set()
    random.seed(0)
    for _ in range(64):
        theirs, (h, v, t) = transforms.augment(image.copy(), True, True, return_status=True)
        seen.add((h, v, t))
        np.testing.assert_array_equal(Augment(hflip=h, vflip=v, transpose=t)(image), theirs)
    assert len(seen) == 8


def test_augment_draws_are_balanced_and_respect_the_switches() -> None:
    draws = [
        Augment.draw(item_rng(0, "augment", 0, i), use_hflip=True, use_rot=True)
        for i in range(4000)
    ]
    for flag in ("hflip", "vflip", "transpose"):
        assert abs(np.mean([getattr(d, flag) for d in draws]) - 0.5) < 0.04
    off = [
        Augment.draw(item_rng(0, "augment", 0, i), use_hflip=False, use_rot=False)
        for i in range(50)
    ]
    assert all(d == Augment() for d in off)
    only_h = [
        Augment.draw(item_rng(0, "augment", 0, i), use_hflip=True, use_rot=False) for i in range(50)
    ]
    assert [d.hflip for d in only_h] == [d.hflip for d in draws[:50]]  # same draw, other flags off
    assert not any(d.vflip or d.transpose for d in only_h)


def test_pad_and_crop_is_reflect_101_then_a_window() -> None:
    image = np.random.default_rng(1).integers(0, 256, (9, 14, 3), dtype=np.uint8)
    out = pad_and_crop(image, 12, item_rng(0, "crop", 0, 0))
    padded = cv2.copyMakeBorder(image, 0, 3, 0, 0, cv2.BORDER_REFLECT_101)  # 12 x 14
    windows = [padded[:, left : left + 12] for left in range(3)]
    assert any(np.array_equal(out, w) for w in windows)
    lefts = set()
    for i in range(30):
        crop = pad_and_crop(image, 12, item_rng(0, "crop", 0, i))
        lefts.add(next(left for left, w in enumerate(windows) if np.array_equal(crop, w)))
    assert lefts == {0, 1, 2}  # every corner that fits is used
    assert modcrop(image, 4).shape == (8, 12, 3)
