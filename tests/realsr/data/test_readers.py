"""Image decoding and listing of the training sets."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from realsr.data.readers import (
    DiskReader,
    ImageDataError,
    decode_image,
    list_image_files,
    meta_info_names,
    read_array,
    to_float,
)
from tests.realsr.data._helpers import random_rgb, write_rgb


def _encode(array: np.ndarray, suffix: str = ".png") -> bytes:
    ok, data = cv2.imencode(suffix, array)
    assert ok
    return data.tobytes()


def test_decode_colour_8_and_16_bit_as_rgb() -> None:
    rng = np.random.default_rng(0)
    for dtype in (np.uint8, np.uint16):
        rgb = random_rgb(rng, 5, 7, dtype)
        decoded = decode_image(_encode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)), "x.png")
        assert decoded.dtype == dtype
        np.testing.assert_array_equal(decoded, rgb)


def test_gray_is_replicated_and_alpha_dropped() -> None:
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 65536, (4, 6)).astype(np.uint16)
    decoded = decode_image(_encode(gray), "g.png")
    assert decoded.shape == (4, 6, 3)
    for c in range(3):
        np.testing.assert_array_equal(decoded[:, :, c], gray)
    bgra = rng.integers(0, 256, (4, 6, 4)).astype(np.uint8)
    decoded = decode_image(_encode(bgra), "a.png")
    np.testing.assert_array_equal(decoded, bgra[:, :, 2::-1])


def test_to_float_scales_by_depth() -> None:
    a8 = np.array([[[0, 51, 255]]], np.uint8)
    a16 = np.array([[[0, 13107, 65535]]], np.uint16)
    np.testing.assert_allclose(to_float(a8), [[[0.0, 0.2, 1.0]]], rtol=1e-6)
    np.testing.assert_allclose(to_float(a16), [[[0.0, 0.2, 1.0]]], rtol=1e-6)
    assert to_float(a8).dtype == np.float32


def test_unreadable_image_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    reader = DiskReader(tmp_path)
    for name in ("bad.png", "empty.png", "missing.png"):
        with pytest.raises(ImageDataError, match=name):
            read_array(reader, name)


def test_folder_listing_is_recursive_sorted_and_filtered(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    for name in ["b.png", "a.JPG", "sub/c.webp", "sub/deeper/d.tif", ".hidden/e.png", ".f.png"]:
        suffix = Path(name).suffix.lower()
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_encode(random_rgb(rng, 4, 4), suffix if suffix != ".jpg" else ".jpg"))
    (tmp_path / "notes.txt").write_text("x")
    assert list_image_files(tmp_path) == ["a.JPG", "b.png", "sub/c.webp", "sub/deeper/d.tif"]
    with pytest.raises(ImageDataError, match="no such folder"):
        list_image_files(tmp_path / "nope")


def test_meta_info_first_token_per_line(tmp_path: Path) -> None:
    meta = tmp_path / "meta.txt"
    meta.write_text("0001_s001.png (480,480,3)\n\n  sub/0002.png 1\n# comment\n")
    assert meta_info_names(meta) == ["0001_s001.png", "sub/0002.png"]
    with pytest.raises(ImageDataError, match="missing.txt"):
        meta_info_names(tmp_path / "missing.txt")


def test_disk_reader_reads_bytes(tmp_path: Path) -> None:
    rgb = random_rgb(np.random.default_rng(3), 3, 3)
    write_rgb(tmp_path / "x.png", rgb)
    np.testing.assert_array_equal(read_array(DiskReader(tmp_path), "x.png"), rgb)
