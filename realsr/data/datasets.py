"""Training and validation image sets: clean HR crops, LR/HR pairs, LR-only sets.

Datasets only read, crop, flip and rotate; degradation happens later, batched, on the training
device. Items are indexed by ``(epoch, index)`` (a plain ``int`` means epoch 0), and every random
choice of an item (flips, rotation, crop corner) comes from generators seeded by
``(seed, epoch, index)`` alone, so an item is the same whatever the worker count or the order of
loading. Each item carries its degradation key ``derive_seed(seed, "degrade", epoch, index)``
(63 bits, as a 0-d int64 tensor).

=========================  ==============================================================
type                       reads
=========================  ==============================================================
RealESRGANDataset          HR images (``dataroot_gt``): ``gt`` only. Train: flip/rotate,
                           pad (bottom/right, reflect-101) to ``crop_pad_size`` (else
                           ``gt_size + 16``) and crop that square. Val: whole image,
                           modcropped to a multiple of ``scale``.
PairedImageDataset         GT/LQ pairs: ``gt``, ``lq``. Train: a ``gt_size`` crop at the
                           same place in both (LQ ``gt_size / scale``), same flips. Val:
                           whole images, GT cropped to LQ size times ``scale``.
RealESRGANPairedDataset    the same; its ``meta_info`` lines read ``gt_rel, lq_rel``.
SingleImageDataset         LQ images (``dataroot_lq``): ``lq`` only; validation only.
=========================  ==============================================================

Lists: with ``io_backend.type: lmdb`` the roots are ``.lmdb`` databases (keys from their
``meta_info.txt``); otherwise a meta file when given (``meta_info`` for the Real-ESRGAN types,
``meta_info_file`` for the BasicSR ones; first whitespace-separated token of a line, relative to
the root), else every image under the root, recursively and sorted. For pairs found by scanning
or through ``meta_info_file``, the LQ of ``dir/stem.ext`` is ``dir/<filename_tmpl with
stem>.ext`` under ``dataroot_lq``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from degrade.seeding import derive_seed
from realsr.data.readers import (
    DiskReader,
    ImageDataError,
    LmdbReader,
    Reader,
    is_lmdb_path,
    list_image_files,
    lmdb_keys,
    meta_info_names,
    read_array,
    read_lines,
    to_float,
)
from realsr.data.transforms import Augment, item_rng, modcrop, pad_and_crop, random_corner
from realsr.registry import Registry, RegistryError

if TYPE_CHECKING:
    from realsr.config import DatasetOptions

_MASK63 = (1 << 63) - 1
CROP_MARGIN = 16
"""Extra pixels around ``gt_size`` of HR-only training patches when ``crop_pad_size`` is unset."""

Item = tuple[int, int]


def degradation_key(seed: int, epoch: int, index: int) -> int:
    """The degradation key of item ``(epoch, index)``: ``derive_seed(seed, "degrade", epoch,
    index)`` masked to 63 bits (non-negative).

    Example:
        >>> 0 <= degradation_key(0, 1, 2) < 2**63
        True
    """
    return derive_seed(seed, "degrade", epoch, index) & _MASK63


def _where(options: DatasetOptions, key: str) -> str:
    """The dotted option key for messages: ``datasets.train.<key>``, or for a validation set
    (whose ``datasets`` key the options do not keep) ``datasets.<val set 'NAME'>.<key>``."""
    prefix = getattr(options, "where", None)
    if not prefix:
        prefix = (
            "datasets.train" if options.phase == "train" else f"datasets.<val set {options.name!r}>"
        )
    return f"{prefix}.{key}"


def _to_tensor(array: np.ndarray) -> Tensor:
    """``(H, W, 3)`` uint8/uint16 -> ``(3, H, W)`` float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(to_float(array).transpose(2, 0, 1)))


def _lq_name(gt_name: str, template: str) -> str:
    """``dir/stem.ext`` -> ``dir/<template.format(stem)>.ext``."""
    head, _, base = gt_name.rpartition("/")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    name = template.format(stem) + (f".{ext}" if dot else "")
    return f"{head}/{name}" if head else name


class ImageSet(Dataset[dict[str, Any]]):
    """Base of the image sets: options, seed, item indexing and keys.

    Args:
        options: the set's options (``datasets.<name>``).
        seed: the run's seed (``manual_seed``).
    """

    has_gt: ClassVar[bool] = True
    has_lq: ClassVar[bool] = False

    def __init__(self, options: DatasetOptions, *, seed: int) -> None:
        self.options = options
        self.seed = int(seed)
        self.scale = int(options.scale)
        self.train = options.phase == "train"
        self.backend = options.io_backend.type
        if self.backend not in ("disk", "lmdb"):
            raise ValueError(
                f"{_where(options, 'io_backend.type')}: {self.backend!r} is not 'disk' or 'lmdb'"
            )

    def __len__(self) -> int:
        raise NotImplementedError

    def _split(self, item: Item | int) -> tuple[int, int]:
        epoch, index = (0, item) if isinstance(item, (int, np.integer)) else item
        epoch, index = int(epoch), int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        return epoch, index

    def key(self, epoch: int, index: int) -> Tensor:
        """The item's degradation key as a 0-d int64 tensor."""
        return torch.tensor(degradation_key(self.seed, epoch, index), dtype=torch.int64)

    def augment(self, epoch: int, index: int) -> Augment:
        """The item's flip/rotation draw (identity outside training)."""
        if not self.train:
            return Augment()
        rng = item_rng(self.seed, "augment", epoch, index)
        return Augment.draw(rng, use_hflip=self.options.use_hflip, use_rot=self.options.use_rot)

    def _root(self, key: str) -> str:
        value = getattr(self.options, key)
        if not value:
            raise ValueError(f"{_where(self.options, key)}: required by {self.options.type}")
        root = str(value)
        if (self.backend == "lmdb") != is_lmdb_path(root):
            want = "end" if self.backend == "lmdb" else "not end"
            raise ValueError(
                f"{_where(self.options, key)}: {root} must {want} in '.lmdb' with "
                f"io_backend.type {self.backend!r}"
            )
        return root

    def _reader(self, root: str) -> Reader:
        return LmdbReader(root) if self.backend == "lmdb" else DiskReader(root)

    def _meta_file(self, own: str) -> str | None:
        """The meta file this type reads (``own``); the other spelling is an error."""
        other = "meta_info_file" if own == "meta_info" else "meta_info"
        if getattr(self.options, other, None) and not getattr(self.options, own, None):
            raise ValueError(
                f"{_where(self.options, other)}: {self.options.type} reads '{own}', not '{other}'"
            )
        value = getattr(self.options, own, None)
        return str(value) if value else None

    def _names(self, root: str, meta_key: str) -> list[str]:
        """Image names of one root: LMDB keys, the meta file's names, or a folder scan."""
        if self.backend == "lmdb":
            names = lmdb_keys(root)
            source = f"{root}/meta_info.txt"
        elif (meta := self._meta_file(meta_key)) is not None:
            names, source = meta_info_names(meta), meta
        else:
            names, source = list_image_files(root), root
        if not names:
            raise ImageDataError(f"{source}: lists no images")
        return names


class HRImageDataset(ImageSet):
    """HR images only (``RealESRGANDataset``): 400-pixel training patches or whole val images."""

    def __init__(self, options: DatasetOptions, *, seed: int) -> None:
        super().__init__(options, seed=seed)
        root = self._root("dataroot_gt")
        self.reader = self._reader(root)
        self.names = self._names(root, "meta_info")
        self.patch = 0
        if self.train:
            if options.crop_pad_size:
                self.patch = int(options.crop_pad_size)
            elif options.gt_size:
                self.patch = int(options.gt_size) + CROP_MARGIN
            else:
                raise ValueError(
                    f"{_where(options, 'gt_size')}: required for training on HR images"
                )
            if options.gt_size and self.patch < int(options.gt_size):
                raise ValueError(
                    f"{_where(options, 'crop_pad_size')}: {self.patch} is smaller than gt_size "
                    f"{options.gt_size}"
                )

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, item: Item | int) -> dict[str, Any]:
        epoch, index = self._split(item)
        name = self.names[index]
        gt = read_array(self.reader, name)
        if self.train:
            gt = self.augment(epoch, index)(gt)
            gt = pad_and_crop(gt, self.patch, item_rng(self.seed, "crop", epoch, index))
        else:
            gt = modcrop(gt, self.scale)
            if gt.size == 0:
                raise ImageDataError(f"{self.reader.path(name)}: smaller than the scale")
        return {
            "gt": _to_tensor(gt),
            "key": self.key(epoch, index),
            "gt_path": self.reader.path(name),
        }


class PairedImageDataset(ImageSet):
    """GT/LQ pairs (BasicSR ``PairedImageDataset``; ``meta_info_file`` lists GT names)."""

    has_lq = True
    meta_key: ClassVar[str] = "meta_info_file"

    def __init__(self, options: DatasetOptions, *, seed: int) -> None:
        super().__init__(options, seed=seed)
        gt_root, lq_root = self._root("dataroot_gt"), self._root("dataroot_lq")
        self.gt_reader, self.lq_reader = self._reader(gt_root), self._reader(lq_root)
        self.pairs = self._pairs(gt_root, lq_root)
        if not self.pairs:
            raise ImageDataError(f"{gt_root}: lists no images")
        self.gt_size = 0
        if self.train:
            gt_size = options.gt_size
            if not gt_size:
                raise ValueError(f"{_where(options, 'gt_size')}: required for paired training")
            if gt_size % self.scale:
                raise ValueError(
                    f"{_where(options, 'gt_size')}: {gt_size} is not a multiple of scale "
                    f"{self.scale}"
                )
            self.gt_size = int(gt_size)

    def _pairs(self, gt_root: str, lq_root: str) -> list[tuple[str, str]]:
        template = self.options.filename_tmpl or "{}"
        if self.backend == "lmdb":
            gt_keys, lq_keys = set(lmdb_keys(gt_root)), set(lmdb_keys(lq_root))
            if gt_keys != lq_keys:
                odd = sorted(gt_keys ^ lq_keys)[:3]
                raise ImageDataError(
                    f"{gt_root} and {lq_root} hold different keys (e.g. {', '.join(odd)})"
                )
            return [(k, k) for k in sorted(gt_keys)]
        meta = self._meta_file(self.meta_key)
        if meta is not None:
            return [(name, _lq_name(name, template)) for name in meta_info_names(meta)]
        lq_files = set(list_image_files(lq_root))
        pairs = []
        for name in list_image_files(gt_root):
            lq = _lq_name(name, template)
            if lq not in lq_files:
                raise ImageDataError(
                    f"{DiskReader(gt_root).path(name)}: no LQ {DiskReader(lq_root).path(lq)} "
                    f"(filename_tmpl {template!r})"
                )
            pairs.append((name, lq))
        return pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, item: Item | int) -> dict[str, Any]:
        epoch, index = self._split(item)
        gt_name, lq_name = self.pairs[index]
        gt_path, lq_path = self.gt_reader.path(gt_name), self.lq_reader.path(lq_name)
        gt, lq = read_array(self.gt_reader, gt_name), read_array(self.lq_reader, lq_name)
        s = self.scale
        (gh, gw), (h, w) = gt.shape[:2], lq.shape[:2]
        if self.train:
            if gh != h * s or gw != w * s:
                raise ImageDataError(f"{gt_path} ({gw}x{gh}) is not {s} times {lq_path} ({w}x{h})")
            size = self.gt_size // s
            if h < size or w < size:
                raise ImageDataError(
                    f"{lq_path} ({w}x{h}) is smaller than the {size}x{size} LQ crop (GT {gt_path})"
                )
            top, left = random_corner(
                item_rng(self.seed, "crop", epoch, index), (h, w), (size, size)
            )
            lq = lq[top : top + size, left : left + size]
            gt = gt[top * s : (top + size) * s, left * s : (left + size) * s]
            flips = self.augment(epoch, index)
            gt, lq = flips(gt), flips(lq)
        else:
            if gh < h * s or gw < w * s:
                raise ImageDataError(
                    f"{gt_path} ({gw}x{gh}) is smaller than {s} times {lq_path} ({w}x{h})"
                )
            gt = gt[: h * s, : w * s]
        return {
            "gt": _to_tensor(gt),
            "lq": _to_tensor(lq),
            "key": self.key(epoch, index),
            "gt_path": gt_path,
            "lq_path": lq_path,
        }


class RealESRGANPairedDataset(PairedImageDataset):
    """GT/LQ pairs (Real-ESRGAN ``RealESRGANPairedDataset``): ``meta_info`` lines
    ``gt_rel, lq_rel`` relative to ``dataroot_gt`` and ``dataroot_lq``."""

    meta_key = "meta_info"

    def _pairs(self, gt_root: str, lq_root: str) -> list[tuple[str, str]]:
        meta = None if self.backend == "lmdb" else self._meta_file("meta_info")
        if meta is None:
            return super()._pairs(gt_root, lq_root)
        pairs = []
        for number, line in enumerate(read_lines(meta), start=1):
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 2 or not all(parts):
                raise ImageDataError(
                    f"{meta}, line {number}: expected 'gt_path, lq_path', got {line!r}"
                )
            pairs.append((parts[0], parts[1]))
        return pairs


class SingleImageDataset(ImageSet):
    """LQ images only (``dataroot_lq``; ``meta_info_file`` lists them); for validation."""

    has_gt = False
    has_lq = True

    def __init__(self, options: DatasetOptions, *, seed: int) -> None:
        super().__init__(options, seed=seed)
        if self.train:
            raise ValueError(
                f"{_where(options, 'type')}: SingleImageDataset has no ground truth to train on"
            )
        root = self._root("dataroot_lq")
        self.reader = self._reader(root)
        self.names = self._names(root, "meta_info_file")

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, item: Item | int) -> dict[str, Any]:
        epoch, index = self._split(item)
        name = self.names[index]
        return {
            "lq": _to_tensor(read_array(self.reader, name)),
            "key": self.key(epoch, index),
            "lq_path": self.reader.path(name),
        }


DATASETS: Registry[type[ImageSet]] = Registry("dataset type")
DATASETS.register(HRImageDataset, name="RealESRGANDataset")
DATASETS.register(PairedImageDataset)
DATASETS.register(RealESRGANPairedDataset)
DATASETS.register(SingleImageDataset)


def build_dataset(options: DatasetOptions, *, seed: int) -> ImageSet:
    """Build the image set that ``options.type`` names.

    Args:
        options: one ``datasets.<name>`` section.
        seed: the run's seed; items' crops, flips and keys derive from it.

    Raises:
        ValueError: an unknown type or a missing / inconsistent option (naming the option).
        ImageDataError: a root, list or meta file cannot be read (naming the file).
    """
    try:
        cls = DATASETS.get(options.type)
    except RegistryError as exc:
        raise ValueError(f"{_where(options, 'type')}: {exc}") from None
    return cls(options, seed=seed)


__all__ = [
    "CROP_MARGIN",
    "DATASETS",
    "HRImageDataset",
    "ImageSet",
    "PairedImageDataset",
    "RealESRGANPairedDataset",
    "SingleImageDataset",
    "build_dataset",
    "degradation_key",
]
