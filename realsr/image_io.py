"""Image files for inference: 8/16-bit, gray, alpha and EXIF orientation kept track of.

:func:`load_image` returns the colour (or gray) planes and, separately, the alpha plane as float
arrays in [0, 1], plus the file's bit depth; :func:`save_image` writes such planes back at a chosen
depth and format, atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from degrade.io import write_bytes_atomic

#: EXIF orientation tag value -> operations to make the pixels upright (cv2 rotate codes / flips).
_EXIF_ORIENTATION = 0x0112


class ImageFileError(OSError):
    """An image could not be read or written; the message names the file."""


@dataclass
class LoadedImage:
    """A decoded image: ``color`` (H, W, 3) RGB or (H, W, 1) gray, ``alpha`` (H, W) or None,
    float32 in [0, 1]; ``bit_depth`` 8 or 16."""

    color: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int


def _exif_orientation(path: Path) -> int:
    try:
        from PIL import Image

        with Image.open(path) as image:
            return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # not an EXIF-capable format, or PIL cannot parse it: no rotation
        return 1


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Make pixels upright for EXIF orientations 2..8 (1 = as stored)."""
    if orientation == 2:
        return array[:, ::-1]
    if orientation == 3:
        return array[::-1, ::-1]
    if orientation == 4:
        return array[::-1]
    if orientation == 5:
        return np.swapaxes(array, 0, 1)
    if orientation == 6:
        return np.rot90(array, k=-1)
    if orientation == 7:
        return np.rot90(np.swapaxes(array, 0, 1), k=2)
    if orientation == 8:
        return np.rot90(array, k=1)
    return array


def load_image(path: str | os.PathLike[str]) -> LoadedImage:
    """Decode an image file (PNG, JPEG, WebP, TIFF, BMP: whatever OpenCV reads).

    Gray stays one channel, alpha is split off, 16-bit files keep their depth, and the EXIF
    orientation is applied.

    Raises:
        ImageFileError: missing, empty, undecodable or of an unsupported sample type.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageFileError(f"{path}: no such file")
    data = np.fromfile(str(path), dtype=np.uint8)
    array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if array is None:
        raise ImageFileError(f"{path}: not a readable image (unsupported format or corrupt data)")
    if array.dtype == np.uint8:
        depth, peak = 8, 255.0
    elif array.dtype == np.uint16:
        depth, peak = 16, 65535.0
    else:
        raise ImageFileError(f"{path}: unsupported sample type {array.dtype}")
    array = _apply_orientation(array, _exif_orientation(path))
    if array.ndim == 2:
        array = array[:, :, None]
    alpha = None
    if array.shape[2] == 4:
        alpha = array[:, :, 3].astype(np.float32) / peak
        array = cv2.cvtColor(np.ascontiguousarray(array[:, :, :3]), cv2.COLOR_BGR2RGB)
    elif array.shape[2] == 3:
        array = cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_BGR2RGB)
    elif array.shape[2] == 2:  # gray + alpha
        alpha = array[:, :, 1].astype(np.float32) / peak
        array = array[:, :, :1]
    if array.ndim == 2:
        array = array[:, :, None]
    return LoadedImage(np.ascontiguousarray(array.astype(np.float32) / peak), alpha, depth)


def save_image(
    path: str | os.PathLike[str],
    color: np.ndarray,
    alpha: np.ndarray | None = None,
    *,
    bit_depth: int = 8,
    quality: int = 95,
) -> None:
    """Write float planes in [0, 1] to ``path`` (format from the suffix), atomically.

    Args:
        path: output file (.png, .jpg/.jpeg, .webp, .tif/.tiff).
        color: ``(H, W, 3)`` RGB or ``(H, W, 1)`` gray.
        alpha: ``(H, W)`` or None (dropped for JPEG, which has no alpha).
        bit_depth: 8 or 16 (16 only for PNG and TIFF; other formats fall back to 8).
        quality: JPEG/WebP quality.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".jpg", ".jpeg", ".webp") or suffix not in (".png", ".tif", ".tiff"):
        bit_depth = 8
    peak, dtype = (65535.0, np.uint16) if bit_depth == 16 else (255.0, np.uint8)
    planes = (
        color if color.shape[2] == 1 else cv2.cvtColor(color.astype(np.float32), cv2.COLOR_RGB2BGR)
    )
    if planes.ndim == 2:
        planes = planes[:, :, None]
    if alpha is not None and suffix not in (".jpg", ".jpeg"):
        if planes.shape[2] == 1:
            planes = np.repeat(planes, 3, axis=2)
        planes = np.concatenate([planes, alpha[:, :, None]], axis=2)
    out = (np.clip(planes, 0, 1) * peak).round().astype(dtype)
    if out.shape[2] == 1:
        out = out[:, :, 0]
    ok, encoded = cv2.imencode(suffix or ".png", out, _encode_params(suffix, quality))
    if not ok:
        raise ImageFileError(f"{path}: OpenCV cannot encode {suffix!r}")
    write_bytes_atomic(path, encoded.tobytes())


def _encode_params(suffix: str, quality: int) -> list[int]:
    if suffix in (".jpg", ".jpeg"):
        return [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    if suffix == ".webp":
        return [cv2.IMWRITE_WEBP_QUALITY, int(quality)]
    return []
