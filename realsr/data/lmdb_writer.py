"""``realsr make-lmdb``: pack a folder of images into an LMDB database in BasicSR's layout.

::

    OUTPUT.lmdb/
        data.mdb, lock.mdb     the LMDB environment: key = the image's path relative to
                               INPUT_DIR without its suffix (e.g. ``0001_s001``, ``sub/0002``),
                               value = the image re-encoded as PNG at --compress-level
        meta_info.txt          one line per image, in key order: ``<key>.png (h,w,c) <level>``

Images keep their depth (8/16 bit) and channels (gray stays one channel). BasicSR's readers
take the key as the meta line's text before its first ``.``, so keys must be ASCII without
``.``; such names are reported before anything is written. The database is built in
``OUTPUT.lmdb.tmp`` and renamed when complete; an existing ``OUTPUT.lmdb`` is an error.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from realsr.data.readers import LMDB_META, ImageDataError, import_lmdb, list_image_files

_INITIAL_MAP = 64 << 20


def lmdb_key(relpath: str) -> str:
    """The LMDB key of a relative image path: the path without its suffix.

    Raises:
        ValueError: the key is not ASCII, contains ``.`` or whitespace.

    Example:
        >>> lmdb_key("sub/0001_s001.png")
        'sub/0001_s001'
    """
    key = relpath.rsplit(".", 1)[0] if "." in Path(relpath).name else relpath
    if not key.isascii() or "." in key or any(ch.isspace() for ch in key):
        raise ValueError(
            f"{relpath}: key {key!r} must be ASCII without '.' or spaces (BasicSR's meta_info.txt "
            "parsing); rename the file"
        )
    return key


def encode_png(path: Path, compress_level: int) -> tuple[bytes, tuple[int, int, int]]:
    """Read ``path`` as stored (depth, channels) and encode it as PNG; returns bytes and (h,w,c)."""
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ImageDataError(f"{path}: not a readable image (unsupported format or corrupt data)")
    if image.dtype not in (np.uint8, np.uint16):
        raise ImageDataError(f"{path}: unsupported sample type {image.dtype}")
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, int(compress_level)])
    if not ok:
        raise ImageDataError(f"{path}: OpenCV could not encode it as PNG")
    h, w = image.shape[:2]
    c = 1 if image.ndim == 2 else int(image.shape[2])
    return encoded.tobytes(), (h, w, c)


class _Writer:
    """Puts values in batches of transactions, growing the map before it can fill up."""

    def __init__(self, path: Path, batch: int) -> None:
        self.env: Any = import_lmdb().open(str(path), map_size=_INITIAL_MAP)
        self.page = int(self.env.stat()["psize"])
        self.batch = batch
        self.txn: Any = None
        self.pending = 0  # puts in the open transaction
        self.pending_bytes = 0  # their estimated size in bytes of pages

    def put(self, key: str, value: bytes) -> None:
        need = (len(value) // self.page + 2) * self.page + len(key)
        info = self.env.info()
        used = (int(info["last_pgno"]) + 1) * self.page
        if used + 2 * (self.pending_bytes + need) + (1 << 20) > int(info["map_size"]):
            self.commit()  # set_mapsize needs no open transaction
            used = (int(self.env.info()["last_pgno"]) + 1) * self.page
            self.env.set_mapsize(max(2 * int(info["map_size"]), 2 * (used + need) + (1 << 20)))
        if self.txn is None:
            self.txn = self.env.begin(write=True)
        self.txn.put(key.encode("ascii"), value)
        self.pending += 1
        self.pending_bytes += need
        if self.pending >= self.batch:
            self.commit()

    def commit(self) -> None:
        if self.txn is not None:
            self.txn.commit()
        self.txn = None
        self.pending = self.pending_bytes = 0

    def close(self) -> None:
        self.commit()
        self.env.sync(True)
        self.env.close()


def make_lmdb(
    input_dir: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    compress_level: int = 1,
    batch: int = 5000,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> int:
    """Write every image under ``input_dir`` (recursively) into the LMDB database ``output``.

    Args:
        input_dir: folder of images.
        output: the database folder to create; must end in ``.lmdb`` and not exist.
        compress_level: PNG compression level 0..9 of the stored values.
        batch: images per committed transaction.
        progress: show a tqdm bar on stderr.
        log: receives a one-line summary (default: ignored).

    Returns:
        The number of images written.

    Raises:
        ValueError: a bad output name, an existing output, an invalid key, or no images.
        ImageDataError: an unreadable image (naming it); nothing is left behind.
    """
    source, target = Path(input_dir), Path(output)
    if not str(target).rstrip("/").endswith(".lmdb"):
        raise ValueError(f"{target}: the output must end in '.lmdb'")
    if target.exists():
        raise ValueError(f"{target}: already exists; remove it or choose another name")
    if not 0 <= compress_level <= 9 or batch < 1:
        raise ValueError(
            f"compress level must be 0..9 and batch >= 1, got {compress_level}, {batch}"
        )
    names = list_image_files(source)
    if not names:
        raise ValueError(f"{source}: no images found")
    keys: dict[str, str] = {}
    for name in names:
        key = lmdb_key(name)
        if key in keys:
            raise ValueError(f"{source / name} and {source / keys[key]} share the key {key!r}")
        keys[key] = name
    tmp = target.with_name(target.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)  # the leftover of an interrupted run of this command
    tmp.mkdir(parents=True)
    writer: _Writer | None = None
    try:
        writer = _Writer(tmp, batch)
        lines = []
        for key in tqdm(sorted(keys), unit="image", disable=not progress, desc="make-lmdb"):
            value, (h, w, c) = encode_png(source / keys[key], compress_level)
            writer.put(key, value)
            lines.append(f"{key}.png ({h},{w},{c}) {compress_level}\n")
        writer.close()
        with (tmp / LMDB_META).open("w", encoding="utf-8") as handle:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        if writer is not None:
            writer.env.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if log is not None:
        log(f"wrote {len(lines)} images to {target}")
    return len(lines)


__all__ = ["encode_png", "lmdb_key", "make_lmdb"]
