from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from degrade.io import ImageReadError, list_images, read_image, write_image


def test_png_round_trip_is_exact_at_8_bits(tmp_path):
    x = torch.rand(1, 3, 17, 23)
    path = tmp_path / "a.png"
    write_image(path, x)
    y = read_image(path)
    assert y.shape == x.shape and y.dtype == torch.float32
    assert torch.equal((y * 255).round(), (x * 255).round())


def test_reads_rgb_order_16_bit_gray_and_rgba(tmp_path):
    bgr = np.zeros((4, 5, 3), np.uint8)
    bgr[..., 2] = 200  # red in OpenCV's BGR order
    cv2.imwrite(str(tmp_path / "red.png"), bgr)
    red = read_image(tmp_path / "red.png")
    assert torch.allclose(red[0, 0], torch.full((4, 5), 200 / 255)) and red[0, 1:].abs().max() == 0

    deep = (np.arange(20, dtype=np.uint16).reshape(4, 5) * 3000).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    gray = read_image(tmp_path / "deep.png")
    assert gray.shape == (1, 1, 4, 5)
    assert torch.allclose(gray[0, 0], torch.from_numpy(deep.astype(np.float32) / 65535))

    rgba = np.full((3, 3, 4), 90, np.uint8)
    cv2.imwrite(str(tmp_path / "alpha.png"), rgba)
    assert read_image(tmp_path / "alpha.png").shape == (1, 3, 3, 3)


def test_missing_and_corrupt_files_name_the_path(tmp_path):
    with pytest.raises(ImageReadError, match="nope.png: no such file"):
        read_image(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(ImageReadError, match="bad.png: not a readable image"):
        read_image(bad)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty.jpg"):
        read_image(empty)


def test_write_leaves_no_temporary_files_and_fails_cleanly(tmp_path):
    write_image(
        tmp_path / "sub" / "x.jpg", torch.rand(3, 8, 8), params=[cv2.IMWRITE_JPEG_QUALITY, 90]
    )
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["x.jpg"]
    with pytest.raises((OSError, cv2.error)):
        write_image(tmp_path / "y.unknownext", torch.rand(3, 8, 8))
    assert not any(p.name.startswith(".y") or p.name.startswith("y") for p in tmp_path.iterdir())


def test_list_images_filters_and_sorts(tmp_path):
    for name in ("b.png", "a.JPG", "notes.txt", "c.webp"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["a.JPG", "b.png", "c.webp"]
    with pytest.raises(NotADirectoryError):
        list_images(tmp_path / "b.png")
