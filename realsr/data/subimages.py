"""``realsr extract-subimages``: cut large images into overlapping square sub-images.

The windows are those of BasicSR's ``extract_subimages.py``: along each axis the corners are
``0, step, 2 * step, ...`` while a whole ``crop`` fits, plus one window aligned to the far
border when the pixels left over exceed ``thresh``; the windows of an image are numbered row by
row from 1. Images smaller than the crop yield nothing (reported).

Every image under INPUT_DIR (recursively) gives ``<stem>_s001.png``, ``<stem>_s002.png``, ... in
the same sub-folder of OUTPUT_DIR, written atomically as PNG at ``--compress-level`` with the
source's depth and channels (pixels bit-exact). A DIV2K-style scale suffix at the end of the stem
(``0001x4``) is dropped, as BasicSR does, so LR sub-images get the names of their HR ones.

Outputs are never overwritten: OUTPUT_DIR must be empty (or absent) unless ``skip_existing``,
which keeps the files already there and writes only the missing ones (to finish an interrupted
run with the same settings). An unreadable image is reported and the others go on.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from degrade.io import write_bytes_atomic
from realsr.data.readers import list_image_files

_SCALE_SUFFIX = re.compile(r"x[2348]$")


@dataclass(frozen=True)
class SubimageSummary:
    """What one :func:`extract_subimages` run did.

    Attributes:
        images: input images found.
        written: sub-images written.
        skipped: sub-images that already existed (``skip_existing``).
        too_small: inputs smaller than the crop (nothing written).
        failures: one ``"<path>: <reason>"`` line per unreadable input.
    """

    images: int
    written: int
    skipped: int
    too_small: tuple[str, ...]
    failures: tuple[str, ...]


def crop_positions(length: int, crop: int, step: int, thresh: int) -> list[int]:
    """Window starts along one axis of ``length`` pixels.

    Example:
        >>> crop_positions(40, 16, 8, 0)
        [0, 8, 16, 24]
        >>> crop_positions(43, 16, 8, 0)
        [0, 8, 16, 24, 27]
        >>> crop_positions(43, 16, 8, 3)
        [0, 8, 16, 24]
        >>> crop_positions(10, 16, 8, 0)
        []
    """
    if length < crop:
        return []
    starts = list(range(0, length - crop + 1, step))
    if length - (starts[-1] + crop) > thresh:
        starts.append(length - crop)
    return starts


def output_stem(relpath: str) -> str:
    """The output stem of an input path (folder kept, suffix and DIV2K scale suffix dropped).

    Example:
        >>> output_stem("LR/0001x4.png"), output_stem("a.jpg")
        ('LR/0001', 'a')
    """
    path = Path(relpath)
    stem = _SCALE_SUFFIX.sub("", path.stem) or path.stem
    return (path.parent / stem).as_posix()


def _windows(
    shape: tuple[int, ...], crop: int, step: int, thresh: int
) -> Iterator[tuple[int, int]]:
    for top in crop_positions(shape[0], crop, step, thresh):
        for left in crop_positions(shape[1], crop, step, thresh):
            yield top, left


@dataclass(frozen=True)
class _Job:
    source: str
    target_stem: str
    crop: int
    step: int
    thresh: int
    compress_level: int


def _extract_one(job: _Job) -> tuple[int, int, str | None, str | None]:
    """Cut one image; returns (written, skipped, too-small line, failure line)."""
    data = np.fromfile(job.source, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        return 0, 0, None, f"{job.source}: not a readable image"
    h, w = image.shape[:2]
    if h < job.crop or w < job.crop:
        return 0, 0, f"{job.source}: {w}x{h} is smaller than the {job.crop} crop", None
    written = skipped = 0
    flags = [cv2.IMWRITE_PNG_COMPRESSION, job.compress_level]
    for number, (top, left) in enumerate(_windows(image.shape, job.crop, job.step, job.thresh), 1):
        target = Path(f"{job.target_stem}_s{number:03d}.png")
        if target.exists():
            skipped += 1
            continue
        window = np.ascontiguousarray(image[top : top + job.crop, left : left + job.crop])
        ok, encoded = cv2.imencode(".png", window, flags)
        if not ok:
            return written, skipped, None, f"{job.source}: OpenCV could not encode a PNG"
        write_bytes_atomic(target, encoded.tobytes())
        written += 1
    return written, skipped, None, None


def _init_worker() -> None:
    cv2.setNumThreads(1)


def extract_subimages(
    input_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    crop: int = 400,
    step: int = 200,
    thresh: int = 0,
    compress_level: int = 3,
    workers: int = 0,
    skip_existing: bool = False,
    progress: bool = True,
    report: Callable[[str], None] | None = None,
) -> SubimageSummary:
    """Cut every image under ``input_dir`` into ``crop``-square sub-images in ``output_dir``.

    Args:
        input_dir: folder of images (walked recursively).
        output_dir: where the sub-images go (same sub-folders).
        crop: sub-image size.
        step: distance between window corners.
        thresh: leftover pixels at the far border above which a border-aligned window is added.
        compress_level: PNG compression level 0..9.
        workers: worker processes (0: none).
        skip_existing: keep sub-images already in ``output_dir`` instead of refusing to start.
        progress: show a tqdm bar on stderr.
        report: receives one line per too-small or unreadable input (default: ignored).

    Raises:
        ValueError: bad settings, no images, two inputs with the same output name, or a
            non-empty ``output_dir`` without ``skip_existing``.
    """
    source, target = Path(input_dir), Path(output_dir)
    if crop < 1 or step < 1 or thresh < 0 or not 0 <= compress_level <= 9 or workers < 0:
        raise ValueError(
            "need crop >= 1, step >= 1, thresh >= 0, compress level 0..9 and workers >= 0; got "
            f"{crop}, {step}, {thresh}, {compress_level}, {workers}"
        )
    names = list_image_files(source)
    if not names:
        raise ValueError(f"{source}: no images found")
    if target.exists() and any(target.iterdir()) and not skip_existing:
        raise ValueError(
            f"{target}: not empty; pass --skip-existing to keep its files and write only the "
            "missing sub-images"
        )
    stems: dict[str, str] = {}
    for name in names:
        stem = output_stem(name)
        if stem in stems:
            raise ValueError(
                f"{source / name} and {source / stems[stem]} give the same names {stem}_s*"
            )
        stems[stem] = name
    jobs = [
        _Job(str(source / name), str(target / stem), crop, step, thresh, compress_level)
        for stem, name in stems.items()
    ]
    target.mkdir(parents=True, exist_ok=True)
    written = skipped = 0
    too_small: list[str] = []
    failures: list[str] = []
    bar = tqdm(total=len(jobs), unit="image", disable=not progress, desc="extract-subimages")

    def collect(results: Iterator[tuple[int, int, str | None, str | None]]) -> None:
        nonlocal written, skipped
        for done_written, done_skipped, small, failure in results:
            written, skipped = written + done_written, skipped + done_skipped
            for line, bucket in ((small, too_small), (failure, failures)):
                if line is not None:
                    bucket.append(line)
                    if report is not None:
                        report(line)
            bar.update(1)

    try:
        if workers:
            context = multiprocessing.get_context("spawn")
            with cf.ProcessPoolExecutor(
                workers, mp_context=context, initializer=_init_worker
            ) as pool:
                collect(pool.map(_extract_one, jobs))
        else:
            collect(map(_extract_one, jobs))
    finally:
        bar.close()
    return SubimageSummary(len(jobs), written, skipped, tuple(too_small), tuple(failures))


__all__ = ["SubimageSummary", "crop_positions", "extract_subimages", "output_stem"]
