"""Image files <-> ``(1, C, H, W)`` float tensors in [0, 1], RGB channel order.

Reading goes through OpenCV (8- and 16-bit PNG, JPEG, WebP, TIFF, BMP); grayscale stays one channel,
an alpha channel is dropped. Writing is atomic: the image goes to a temporary name in the target
folder, then is renamed, so an interrupted job never leaves a truncated file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def _read_umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


_UMASK = _read_umask()  # read once at import: os.umask is process-wide and not thread-safe


class ImageReadError(OSError):
    """An image file could not be read or decoded."""


def read_image(path: str | os.PathLike[str]) -> Tensor:
    """Read an image file as a float32 RGB (or gray) tensor in [0, 1].

    Args:
        path: the image file.

    Shape:
        Returns ``(1, C, H, W)`` with C = 3 for colour images (alpha dropped) and C = 1 for gray.

    Raises:
        ImageReadError: one-line message naming the file when it is missing or not decodable.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.png"
        >>> write_image(p, torch.full((1, 3, 4, 5), 0.5))
        >>> read_image(p).shape
        torch.Size([1, 3, 4, 5])
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    data = np.fromfile(str(path), dtype=np.uint8)
    array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if array is None:
        raise ImageReadError(f"{path}: not a readable image (unsupported format or corrupt data)")
    if array.dtype == np.uint8:
        scale = 255.0
    elif array.dtype == np.uint16:
        scale = 65535.0
    else:
        raise ImageReadError(f"{path}: unsupported sample type {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    elif array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_BGRA2RGB)
    else:
        array = cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    tensor = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))).float() / scale
    return tensor.unsqueeze(0)


def to_uint8_array(x: Tensor) -> np.ndarray:
    """Convert one image ``(C, H, W)`` or ``(1, C, H, W)`` in [0, 1] to an ``(H, W, C)`` uint8 array.

    Values are clamped to [0, 1] and rounded to the nearest 8-bit level.
    """
    if x.ndim == 4:
        if x.shape[0] != 1:
            raise ValueError(f"expected a single image, got a batch of {x.shape[0]}")
        x = x[0]
    if x.ndim != 3:
        raise ValueError(f"expected (C, H, W), got shape {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        array = x.cpu().numpy()
    else:
        array = (x.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    return np.ascontiguousarray(array.transpose(1, 2, 0))


def write_image(
    path: str | os.PathLike[str], x: Tensor, *, params: list[int] | None = None
) -> None:
    """Write one image tensor to ``path`` atomically (8-bit; format from the suffix).

    Args:
        path: target file; parent folders are created.
        x: ``(C, H, W)`` or ``(1, C, H, W)``, float in [0, 1] or uint8, RGB or gray.
        params: OpenCV ``imwrite`` flags (e.g. ``[cv2.IMWRITE_JPEG_QUALITY, 95]``).
    """
    path = Path(path)
    array = to_uint8_array(x)
    if array.shape[2] == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(path.suffix or ".png", array, params or [])
    if not ok:
        raise OSError(f"{path}: OpenCV could not encode {path.suffix!r}")
    write_bytes_atomic(path, encoded.tobytes())


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp_name, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the usual file mode
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def list_images(folder: str | os.PathLike[str]) -> list[Path]:
    """Image files directly inside ``folder`` (by suffix), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
