"""File-level helpers of ``degrade generate``: input listing, output names, crops, meta files.

Inputs are either a folder of HR images, listed **recursively** (hidden files and folders are
skipped; files are ordered by their POSIX relative path), or a BasicSR-style meta file (one path
per line, first whitespace-separated token; empty lines and ``#`` comments are skipped; paths are
relative to the meta file's folder or to an explicit root). Every listed file becomes a
:class:`Source`; files that cannot take part (unsupported suffix, listed twice, output name
taken) carry an ``error`` instead of being dropped silently.

Output names flatten the relative path: ``a/b/img 1.png`` -> ``a_b_img_1`` (every character other
than ASCII letters, digits, ``.``, ``-`` and ``_`` becomes ``_``), so BasicSR's and Real-ESRGAN's
meta-file parsers (which split on spaces and on ``", "``) read them back unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from degrade.io import IMAGE_SUFFIXES
from degrade.random import Draws
from degrade.seeding import derive_seeds

BASICSR_META = "meta_info_basicsr.txt"
"""Meta file for BasicSR ``PairedImageDataset`` (``meta_info_file``; ``dataroot_gt: OUT/gt``,
``dataroot_lq: OUT/lq``, ``filename_tmpl: '{}'``): one line ``<name>.<ext> (h,w,c)`` per pair."""

REALESRGAN_META = "meta_info_realesrgan.txt"
"""Meta file for Real-ESRGAN ``RealESRGANPairedDataset`` (``meta_info``; ``dataroot_gt`` and
``dataroot_lq`` both ``OUT``): one line ``gt/<file>, lq/<file>`` per pair."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Source:
    """One listed input file.

    Attributes:
        relpath: the path as listed (POSIX, relative to the folder or the meta root); it names
            the image in keys and records.
        path: where the file is read from.
        stem: the flattened output name (without variant or suffix).
        error: why the file takes no part, or ``None``.
    """

    relpath: str
    path: Path
    stem: str
    error: str | None = None


def output_stem(relpath: str) -> str:
    """The flattened output name of a relative path (suffix dropped).

    Example:
        >>> output_stem("sub dir/0001.png")
        'sub_dir_0001'
    """
    without_suffix = str(Path(relpath).with_suffix("")) if Path(relpath).suffix else relpath
    return _UNSAFE.sub("_", without_suffix.replace("\\", "/").replace("/", "_")) or "_"


def _walk(folder: Path, exclude: Path | None) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and (exclude is None or (root_path / d).resolve() != exclude)
        )
        for name in files:
            if not name.startswith("."):
                path = root_path / name
                found.append((path.relative_to(folder).as_posix(), path))
    return sorted(found)


def _read_meta(meta: Path, root: Path) -> list[tuple[str, Path]]:
    try:
        text = meta.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{meta}: cannot read the meta file ({exc})") from None
    listed = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        token = line.split()[0]
        relpath = Path(token).as_posix()
        listed.append((relpath, root / token))
    return listed


def list_sources(
    input_path: str | os.PathLike[str],
    *,
    input_root: str | os.PathLike[str] | None = None,
    exclude: str | os.PathLike[str] | None = None,
) -> list[Source]:
    """List the input images of a dataset.

    Args:
        input_path: a folder of images (walked recursively) or a meta file.
        input_root: the folder that meta-file paths are relative to (default: the meta file's
            folder); not allowed with a folder input.
        exclude: a folder to leave out of a recursive walk (the output folder).

    Returns:
        Folder inputs in relative-path order, meta-file inputs in file order. Sources with an
        unsupported suffix, a duplicate listing or an output name already taken by an earlier
        source carry an ``error``.

    Raises:
        ValueError: the input does not exist, is an image file, or the meta file is unreadable.
    """
    path = Path(input_path)
    if path.is_dir():
        if input_root is not None:
            raise ValueError(f"--input-root is for meta-file inputs; {path} is a folder")
        excluded = Path(exclude).resolve() if exclude is not None else None
        listed = _walk(path, excluded)
    elif path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            raise ValueError(f"{path}: an image, not a folder or a meta file")
        root = Path(input_root) if input_root is not None else path.parent
        if not root.is_dir():
            raise ValueError(f"{root}: --input-root is not a folder")
        listed = _read_meta(path, root)
    else:
        raise ValueError(f"{path}: no such folder or meta file")

    sources: list[Source] = []
    seen_paths: set[str] = set()
    stems: dict[str, str] = {}
    for relpath, file_path in listed:
        stem = output_stem(relpath)
        error: str | None = None
        if relpath in seen_paths:
            error = "listed twice"
        elif Path(relpath).suffix.lower() not in IMAGE_SUFFIXES:
            error = f"unsupported file type {Path(relpath).suffix or '(no suffix)'!r}"
        elif stem in stems:
            error = f"output name {stem!r} is already taken by {stems[stem]}"
        else:
            stems[stem] = relpath
        seen_paths.add(relpath)
        sources.append(Source(relpath, file_path, stem, error))
    return sources


def crop_origin(seed: int, key: int, size: tuple[int, int], crop: int) -> tuple[int, int]:
    """The top-left corner of a ``crop x crop`` window in an image of ``size = (h, w)``.

    Drawn from ``(seed, key, "crop")`` alone (:class:`degrade.random.Draws`), uniform over every
    position that fits (after padding, ``h, w >= crop``).

    Example:
        >>> crop_origin(0, 5, (100, 80), 64) == crop_origin(0, 5, (100, 80), 64)
        True
        >>> top, left = crop_origin(0, 5, (100, 80), 64)
        >>> 0 <= top <= 36 and 0 <= left <= 16
        True
    """
    h, w = size
    if h < crop or w < crop:
        raise ValueError(f"a {crop}x{crop} crop does not fit in {w}x{h}")
    d = Draws(derive_seeds(seed, torch.tensor([key], dtype=torch.int64), "crop"))
    top = int(d.randint(0, h - crop + 1)[0])
    left = int(d.randint(0, w - crop + 1)[0])
    return top, left


def pad_to(array: np.ndarray, size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Pad an ``(H, W, C)`` image at the bottom and right to at least ``size x size``.

    Reflect-101 padding (``cv2.BORDER_REFLECT_101``, repeated as often as needed), as Real-ESRGAN's
    dataset pads images smaller than its crop.

    Returns:
        The padded image and the ``(bottom, right)`` padding added.

    Example:
        >>> a = np.arange(6, dtype=np.uint8).reshape(2, 3, 1)
        >>> padded, pad = pad_to(a, 4)
        >>> padded[:, :, 0].tolist(), pad
        ([[0, 1, 2, 1], [3, 4, 5, 4], [0, 1, 2, 1], [3, 4, 5, 4]], (2, 1))
    """
    h, w = array.shape[:2]
    pad_h, pad_w = max(0, size - h), max(0, size - w)
    if pad_h or pad_w:
        padded = cv2.copyMakeBorder(array, 0, pad_h, 0, pad_w, cv2.BORDER_REFLECT_101)
        array = padded.reshape(h + pad_h, w + pad_w, array.shape[2])
    return array, (pad_h, pad_w)


def temp_path(path: Path) -> Path:
    """The fixed temporary name beside ``path`` that :func:`write_atomic` writes first."""
    return path.with_name(f".{path.name}.tmp")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to :func:`temp_path` of ``path``, fsync it, then rename it over ``path``.

    The temporary name is fixed (not random), so a rerun after a crash overwrites the leftover
    instead of adding another; only one writer may own a given ``path`` at a time.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def encode_image(array: np.ndarray, suffix: str, params: Sequence[int] = ()) -> bytes:
    """Encode an ``(H, W, 3)`` RGB uint8 array with OpenCV (format from ``suffix``)."""
    ok, encoded = cv2.imencode(suffix, cv2.cvtColor(array, cv2.COLOR_RGB2BGR), list(params))
    if not ok:
        raise OSError(f"OpenCV could not encode {suffix!r}")
    return bytes(encoded.tobytes())


def meta_lines(pairs: Iterable[tuple[str, tuple[int, int]]]) -> tuple[str, str]:
    """The two meta files' text for ``(file name, (gt h, gt w))`` pairs, in the given order.

    Returns:
        ``(basicsr_text, realesrgan_text)``: BasicSR ``<file> (h,w,3)`` lines (its loader takes
        the first space-separated token as the GT name and looks for the same name under the LQ
        root) and Real-ESRGAN ``gt/<file>, lq/<file>`` lines (split on ``", "``).

    Example:
        >>> meta_lines([("a_v0.png", (64, 48))])
        ('a_v0.png (64,48,3)\\n', 'gt/a_v0.png, lq/a_v0.png\\n')
    """
    basicsr, realesrgan = [], []
    for name, (h, w) in pairs:
        basicsr.append(f"{name} ({h},{w},3)\n")
        realesrgan.append(f"gt/{name}, lq/{name}\n")
    return "".join(basicsr), "".join(realesrgan)


__all__ = [
    "BASICSR_META",
    "REALESRGAN_META",
    "Source",
    "crop_origin",
    "encode_image",
    "list_sources",
    "meta_lines",
    "output_stem",
    "pad_to",
    "temp_path",
    "write_atomic",
]
