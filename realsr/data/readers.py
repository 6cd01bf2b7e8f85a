"""Image sources of the training sets: folders, BasicSR meta files and LMDB databases.

A reader maps an image *name* to encoded bytes: a path relative to its root for a folder
(:class:`DiskReader`), a key for an LMDB database (:class:`LmdbReader`). :func:`decode_image`
turns the bytes into an ``(H, W, 3)`` RGB array of the file's own depth (uint8 or uint16), which
the datasets crop and flip before :func:`to_float` converts only the pixels they keep.

LMDB databases use BasicSR's layout: a folder ``NAME.lmdb`` with ``data.mdb``, ``lock.mdb`` and
``meta_info.txt``, whose lines read ``<key>.png (h,w,c) <compression level>``; the values are
encoded images and the key is the name before its first ``.``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from degrade.io import IMAGE_SUFFIXES

LMDB_META = "meta_info.txt"
"""The name of an LMDB database's meta file (BasicSR's layout)."""


class ImageDataError(OSError):
    """An image or a list of images cannot be read; the message names the file."""


def import_lmdb() -> Any:
    """The ``lmdb`` module (the ``train`` extra), or a one-line error saying how to install it."""
    try:
        return importlib.import_module("lmdb")
    except ImportError:
        raise ImportError(
            "LMDB datasets need the 'lmdb' package: pip install 'realsr[train]'"
        ) from None


def decode_image(data: bytes | memoryview | None, name: str) -> np.ndarray:
    """Decode encoded image bytes to an RGB array of the stored depth.

    Gray images are replicated to three channels and an alpha channel is dropped. Orientation
    tags (EXIF) are not applied: pixels are used as stored, as BasicSR reads LMDB values.

    Args:
        data: the encoded file (PNG, JPEG, WebP, TIFF, BMP); ``None`` for a missing LMDB key.
        name: the file or key, for error messages.

    Returns:
        ``(H, W, 3)`` uint8 or uint16 array.

    Raises:
        ImageDataError: missing, empty or undecodable data, or another sample type.

    Example:
        >>> import cv2, numpy as np
        >>> ok, png = cv2.imencode(".png", np.full((2, 3), 7, np.uint8))
        >>> decode_image(png.tobytes(), "x.png").shape
        (2, 3, 3)
    """
    if data is None:
        raise ImageDataError(f"{name}: no such image")
    buffer = np.frombuffer(data, dtype=np.uint8)
    array = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED) if buffer.size else None
    if array is None:
        raise ImageDataError(f"{name}: not a readable image (unsupported format or corrupt data)")
    if array.dtype not in (np.uint8, np.uint16):
        raise ImageDataError(f"{name}: unsupported sample type {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    channels = array.shape[2]
    if channels in (1, 2):  # gray (+ alpha)
        return np.repeat(array[:, :, :1], 3, axis=2)
    code = cv2.COLOR_BGRA2RGB if channels == 4 else cv2.COLOR_BGR2RGB
    return np.asarray(cv2.cvtColor(array, code))


def to_float(array: np.ndarray) -> np.ndarray:
    """uint8 / uint16 pixels to float32 in [0, 1] (a contiguous copy).

    Example:
        >>> to_float(np.array([[[0, 255, 51]]], np.uint8)).tolist()
        [[[0.0, 1.0, 0.2...]]]
    """
    peak = 65535.0 if array.dtype == np.uint16 else 255.0
    return np.ascontiguousarray(array, dtype=np.float32) / np.float32(peak)


def is_lmdb_path(path: str | os.PathLike[str]) -> bool:
    """Whether a data root names an LMDB database (BasicSR's rule: it ends in ``.lmdb``)."""
    return str(path).rstrip("/\\").endswith(".lmdb")


def list_image_files(folder: str | os.PathLike[str]) -> list[str]:
    """Image files under ``folder``, recursively, as sorted POSIX paths relative to it.

    Hidden files and folders are skipped; images are recognised by suffix (png, jpg, jpeg, webp,
    bmp, tif, tiff; any case).

    Raises:
        ImageDataError: ``folder`` is not a folder.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ImageDataError(f"{root}: no such folder")
    found = []
    for current, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES:
                found.append((Path(current) / name).relative_to(root).as_posix())
    return sorted(found)


def read_lines(path: str | os.PathLike[str]) -> list[str]:
    """The non-empty, stripped lines of a text file (``#`` comment lines skipped).

    Raises:
        ImageDataError: the file cannot be read.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImageDataError(f"{path}: cannot read the list ({exc})") from None
    stripped = (line.strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def meta_info_names(path: str | os.PathLike[str]) -> list[str]:
    """Names listed by a BasicSR meta file: the first whitespace-separated token of each line.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "meta.txt"
        >>> _ = p.write_text("a/0001.png (480,480,3)\\n\\nb.png\\n")
        >>> meta_info_names(p)
        ['a/0001.png', 'b.png']
    """
    return [line.split()[0] for line in read_lines(path)]


def lmdb_keys(path: str | os.PathLike[str]) -> list[str]:
    """The keys of an LMDB database in its ``meta_info.txt`` order (name before the first ``.``).

    Raises:
        ImageDataError: not a database folder, or no readable meta file.
    """
    root = Path(path)
    if not (root / "data.mdb").is_file():
        raise ImageDataError(f"{root}: not an LMDB database (no data.mdb)")
    return [line.split(".")[0] for line in read_lines(root / LMDB_META)]


class DiskReader:
    """Reads files under a root folder.

    Args:
        root: the folder that names are relative to.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, name: str) -> str:
        """The file's path (as items report it)."""
        return str(self.root / name)

    def get(self, name: str) -> bytes:
        """The bytes of file ``name``."""
        path = self.root / name
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ImageDataError(f"{path}: cannot read ({exc.strerror or exc})") from None


_ENVS: dict[str, tuple[int, tuple[int, int], Any]] = {}
"""Open read-only environments by real path: (process id, data file identity, environment)."""


def open_lmdb(root: str | os.PathLike[str]) -> Any:
    """The process's read-only environment of the database ``root``, opened once.

    LMDB allows one open environment per database and process, so datasets sharing a database
    share it. One inherited through ``fork`` (a DataLoader worker) is closed and reopened, and so
    is one whose database was replaced since.

    Raises:
        ImageDataError: not a database, or LMDB cannot open it.
    """
    lmdb = import_lmdb()
    path = os.path.realpath(root)
    try:
        stat = os.stat(os.path.join(path, "data.mdb"))
    except OSError:
        raise ImageDataError(f"{root}: not an LMDB database (no data.mdb)") from None
    identity = (stat.st_dev, stat.st_ino)
    cached = _ENVS.pop(path, None)
    if cached is not None:
        pid, old_identity, env = cached
        if pid == os.getpid() and old_identity == identity:
            _ENVS[path] = cached
            return env
        env.close()
    try:
        env = lmdb.open(path, readonly=True, lock=False, readahead=False, meminit=False)
    except lmdb.Error as exc:
        raise ImageDataError(f"{root}: cannot open the LMDB database ({exc})") from None
    _ENVS[path] = (os.getpid(), identity, env)
    return env


class LmdbReader:
    """Reads values of an LMDB database through :func:`open_lmdb` (lazily, in each process).

    Args:
        root: the ``.lmdb`` folder.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._env: Any = None
        self._pid = -1

    def path(self, name: str) -> str:
        """The key's display path (``<root>/<key>``)."""
        return f"{self.root}/{name}"

    def get(self, name: str) -> bytes | None:
        """The value of key ``name`` (``None`` when absent)."""
        if self._env is None or self._pid != os.getpid():
            self._env, self._pid = open_lmdb(self.root), os.getpid()
        with self._env.begin(write=False, buffers=False) as txn:
            value = txn.get(name.encode("utf-8"))
        return None if value is None else bytes(value)

    def __getstate__(self) -> dict[str, Any]:
        return {"root": self.root, "_env": None, "_pid": -1}


Reader = DiskReader | LmdbReader


def read_array(reader: Reader, name: str) -> np.ndarray:
    """Read and decode image ``name`` of ``reader`` (errors name the file or key)."""
    return decode_image(reader.get(name), reader.path(name))


__all__ = [
    "LMDB_META",
    "DiskReader",
    "ImageDataError",
    "LmdbReader",
    "Reader",
    "decode_image",
    "import_lmdb",
    "is_lmdb_path",
    "list_image_files",
    "lmdb_keys",
    "meta_info_names",
    "open_lmdb",
    "read_array",
    "read_lines",
    "to_float",
]
