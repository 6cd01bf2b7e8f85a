# ruff: noqa: NPY002  (the reference draws from the global NumPy state, as Real-ESRGAN does)
"""Real-ESRGAN's own second-order degradation, run on given ground-truth tensors.

This is the reference that ``tests/degrade/test_distribution.py`` and
``benchmarks/bench_pipeline.py`` compare our ``realesrgan_x4plus`` preset against. Nothing here is
re-implemented:

- the three kernels of a sample are drawn the way ``RealESRGANDataset.__getitem__`` draws them
  (``realesrgan/data/realesrgan_dataset.py``): a size uniform over 7, 9, ..., 21, a
  ``circular_lowpass_kernel`` with probability ``sinc_prob`` (cutoff U(pi/3, pi) below size 13,
  else U(pi/5, pi)), otherwise ``random_mixed_kernels``; zero-padded to 21 x 21; the final sinc
  kernel with probability ``final_sinc_prob`` (size 7..21, cutoff U(pi/3, pi), padded to 21),
  otherwise the 21 x 21 pulse. The calls go to basicsr's own functions, in the dataset's order,
  on the global ``random`` / ``numpy.random`` state.
- the degradation itself is ``realesrgan.models.realesrgan_model.RealESRGANModel.feed_data``,
  called unmodified on a light stand-in object that has the attributes it reads (``is_train``,
  ``opt``, ``device``, ``usm_sharpener = USMSharp()``, ``jpeger = DiffJPEG(differentiable=False)``,
  ``queue_size``) and whose ``_dequeue_and_enqueue`` (the training-pair pool) does nothing. So no
  ``.cuda()`` is called, and the device is the GT's.

Two adaptations, both in this runner only:

- ``DiffJPEG`` returns its output with channels-last strides, which the reflect padding of
  basicsr's ``filter2D`` keeps, and whose ``.view(1, B * C, h, w)`` then fails on current torch
  for B > 1; while :meth:`ReferenceRealESRGAN.degrade` runs, ``feed_data`` sees a ``filter2D``
  that makes its inputs contiguous first (same values);
- ``gt_size`` (the size of ``feed_data``'s final paired random crop) is set to the GT's own size,
  so the crop keeps the whole image; GT crops must therefore be square with a side divisible by
  the scale.

The options are read from Real-ESRGAN's ``options/train_realesrgan_x4plus.yml``
(``../shared/reference/realesrgan_options/``) when present; otherwise the same numbers, embedded
below, are used.

Example::

    from benchmarks.reference_realesrgan import ReferenceRealESRGAN

    ref = ReferenceRealESRGAN()
    lq, gt_usm = ref.degrade(gt, seed=0)  # gt: (B, 3, 256, 256) float in [0, 1]
"""

from __future__ import annotations

import contextlib
import math
import random
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import Tensor

from benchmarks._common import REPO_ROOT, install_reference_shim

OPTIONS_FILE = (
    REPO_ROOT.parent / "shared" / "reference" / "realesrgan_options" / "train_realesrgan_x4plus.yml"
)

# The numbers of Real-ESRGAN's options/train_realesrgan_x4plus.yml, used when the file is absent.
# Model-level keys (read by RealESRGANModel.feed_data):
_MODEL_OPTIONS: dict[str, Any] = {
    "scale": 4,
    "resize_prob": [0.2, 0.7, 0.1],
    "resize_range": [0.15, 1.5],
    "gaussian_noise_prob": 0.5,
    "noise_range": [1, 30],
    "poisson_scale_range": [0.05, 3],
    "gray_noise_prob": 0.4,
    "jpeg_range": [30, 95],
    "second_blur_prob": 0.8,
    "resize_prob2": [0.3, 0.4, 0.3],
    "resize_range2": [0.3, 1.2],
    "gaussian_noise_prob2": 0.5,
    "noise_range2": [1, 25],
    "poisson_scale_range2": [0.05, 2.5],
    "gray_noise_prob2": 0.4,
    "jpeg_range2": [30, 95],
    "gt_size": 256,
    "queue_size": 180,
}
# Dataset-level keys (datasets.train, read by RealESRGANDataset):
_KERNEL_LIST = [
    "iso",
    "aniso",
    "generalized_iso",
    "generalized_aniso",
    "plateau_iso",
    "plateau_aniso",
]
_KERNEL_PROB = [0.45, 0.25, 0.12, 0.03, 0.12, 0.03]
_DATASET_OPTIONS: dict[str, Any] = {
    "blur_kernel_size": 21,
    "kernel_list": _KERNEL_LIST,
    "kernel_prob": _KERNEL_PROB,
    "sinc_prob": 0.1,
    "blur_sigma": [0.2, 3],
    "betag_range": [0.5, 4],
    "betap_range": [1, 2],
    "blur_kernel_size2": 21,
    "kernel_list2": _KERNEL_LIST,
    "kernel_prob2": _KERNEL_PROB,
    "sinc_prob2": 0.1,
    "blur_sigma2": [0.2, 1.5],
    "betag_range2": [0.5, 4],
    "betap_range2": [1, 2],
    "final_sinc_prob": 0.8,
}

# RealESRGANDataset's hard-coded constants.
KERNEL_SIZES = [2 * v + 1 for v in range(3, 11)]  # 7, 9, ..., 21
PADDED_SIZE = 21


def load_options(path: str | Path | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Real-ESRGAN's x4plus options: ``(model options, datasets.train options)``.

    Args:
        path: an options YAML (Real-ESRGAN's schema); default :data:`OPTIONS_FILE` when it
            exists, else the embedded copy of its numbers.

    Returns:
        The top-level options (what ``RealESRGANModel.feed_data`` reads from ``self.opt``) and
        the ``datasets.train`` section (what ``RealESRGANDataset`` reads).
    """
    if path is None and not OPTIONS_FILE.is_file():
        return dict(_MODEL_OPTIONS), dict(_DATASET_OPTIONS)
    path = Path(path) if path is not None else OPTIONS_FILE
    options = yaml.safe_load(path.read_text())
    if not isinstance(options, dict):
        raise ValueError(f"{path}: not a mapping")
    try:
        train = options["datasets"]["train"]
    except (KeyError, TypeError):
        raise ValueError(f"{path}: no datasets.train section") from None
    missing = [k for k in _MODEL_OPTIONS if k not in options and k != "queue_size"]
    missing += [f"datasets.train.{k}" for k in _DATASET_OPTIONS if k not in train]
    if missing:
        raise ValueError(f"{path}: missing option(s) {', '.join(missing)}")
    return dict(options), dict(train)


def seed_everything(seed: int) -> None:
    """Seed the three generators the reference draws from (``random``, NumPy, torch)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class _FeedDataHost:
    """The attributes ``RealESRGANModel.feed_data`` reads, without the model around them."""

    def __init__(self, opt: dict[str, Any], device: torch.device, usm: Any, jpeger: Any) -> None:
        self.is_train = True
        self.opt = opt
        self.device = device
        self.usm_sharpener = usm
        self.jpeger = jpeger
        self.queue_size = opt.get("queue_size", 180)
        self.lq: Tensor
        self.gt: Tensor
        self.gt_usm: Tensor

    def _dequeue_and_enqueue(self) -> None:
        """The training-pair pool, disabled: every pair comes out as it was degraded."""


class ReferenceRealESRGAN:
    """Real-ESRGAN's degradation (dataset kernels + ``RealESRGANModel.feed_data``) on GT tensors.

    Args:
        options: ``(model options, dataset options)`` as from :func:`load_options` (default:
            :func:`load_options()`).
        device: where the USM kernel and the JPEG tables live (the GT must be there too).
    """

    def __init__(
        self,
        options: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
        *,
        device: torch.device | str = "cpu",
    ) -> None:
        install_reference_shim()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from basicsr.data import degradations
            from basicsr.utils import DiffJPEG, USMSharp, img_process_util
            from realesrgan.models import realesrgan_model

        self._degradations = degradations
        self._filter2d = img_process_util.filter2D
        self._model_module = realesrgan_model
        model_opt, dataset_opt = options if options is not None else load_options()
        self.model_opt = dict(model_opt)
        self.dataset_opt = dict(dataset_opt)
        self.device = torch.device(device)
        self.scale = int(self.model_opt["scale"])
        self._host = _FeedDataHost(
            dict(self.model_opt),
            self.device,
            USMSharp().to(self.device),
            DiffJPEG(differentiable=False).to(self.device),
        )
        self._pulse = torch.zeros(PADDED_SIZE, PADDED_SIZE)
        self._pulse[PADDED_SIZE // 2, PADDED_SIZE // 2] = 1

    # -- RealESRGANDataset's kernels -------------------------------------------------------- #
    def _sinc(self, cutoff: float, size: int, pad_to: int) -> np.ndarray:
        # circular_lowpass_kernel divides 0 by 0 at the centre before overwriting it.
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(
                self._degradations.circular_lowpass_kernel(cutoff, size, pad_to=pad_to)
            )

    def _blur_kernel(self, suffix: str) -> np.ndarray:
        o = self.dataset_opt
        size = random.choice(KERNEL_SIZES)
        if np.random.uniform() < o[f"sinc_prob{suffix}"]:
            low = np.pi / 3 if size < 13 else np.pi / 5
            kernel = self._sinc(np.random.uniform(low, np.pi), size, 0)
        else:
            sigma = o[f"blur_sigma{suffix}"]
            kernel = self._degradations.random_mixed_kernels(
                o[f"kernel_list{suffix}"],
                o[f"kernel_prob{suffix}"],
                size,
                sigma,
                sigma,
                [-math.pi, math.pi],
                o[f"betag_range{suffix}"],
                o[f"betap_range{suffix}"],
                noise_range=None,
            )
        pad = (PADDED_SIZE - size) // 2
        return np.pad(kernel, ((pad, pad), (pad, pad)))

    def kernels(self) -> dict[str, Tensor]:
        """One sample's ``kernel1``, ``kernel2`` and ``sinc_kernel`` (each 21 x 21, float32).

        Draws from the global ``random`` and ``numpy.random`` states in the order of
        ``RealESRGANDataset.__getitem__``.
        """
        kernel1 = self._blur_kernel("")
        kernel2 = self._blur_kernel("2")
        sinc: Tensor
        if np.random.uniform() < self.dataset_opt["final_sinc_prob"]:
            size = random.choice(KERNEL_SIZES)
            sinc = torch.FloatTensor(self._sinc(np.random.uniform(np.pi / 3, np.pi), size, 21))
        else:
            sinc = self._pulse
        return {
            "kernel1": torch.FloatTensor(kernel1),
            "kernel2": torch.FloatTensor(kernel2),
            "sinc_kernel": sinc,
        }

    def batch_kernels(self, batch: int) -> dict[str, Tensor]:
        """``batch`` samples' kernels, stacked as a data loader collates them: ``(B, 21, 21)``."""
        samples = [self.kernels() for _ in range(batch)]
        return {k: torch.stack([s[k] for s in samples]) for k in samples[0]} if samples else {}

    # -- RealESRGANModel.feed_data ---------------------------------------------------------- #
    @contextlib.contextmanager
    def _contiguous_filter2d(self) -> Iterator[None]:
        module = self._model_module
        original = module.filter2D
        filter2d = self._filter2d

        def contiguous_filter2d(img: Tensor, kernel: Tensor) -> Tensor:
            return filter2d(img.contiguous(), kernel.contiguous())

        module.filter2D = contiguous_filter2d
        try:
            yield
        finally:
            module.filter2D = original

    def degrade(self, gt: Tensor, *, seed: int | None = None) -> tuple[Tensor, Tensor]:
        """Degrade a GT batch: kernels for every sample, then ``feed_data``.

        Args:
            gt: ground truth, float32 in [0, 1], square, side divisible by the scale.
            seed: when given, ``random``, NumPy and torch are seeded with it first (one seed for
                the whole batch: use a batch of 1 for per-pair seeds).

        Shape:
            gt: ``(B, 3, S, S)``; returns ``lq`` ``(B, 3, S / scale, S / scale)`` and the
            USM-sharpened GT ``(B, 3, S, S)``.

        Returns:
            ``(lq, gt_usm)``; ``lq`` is rounded to 8-bit levels, as Real-ESRGAN trains on it.
        """
        if gt.ndim != 4 or gt.shape[1] != 3:
            raise ValueError(f"gt must be (B, 3, S, S), got {tuple(gt.shape)}")
        h, w = gt.shape[-2:]
        if h != w or h % self.scale:
            raise ValueError(
                f"gt must be square with a side divisible by {self.scale}, got {h}x{w}"
            )
        if seed is not None:
            seed_everything(seed)
        data = {"gt": gt, **self.batch_kernels(gt.shape[0])}
        host = self._host
        host.opt["gt_size"] = int(h)
        with self._contiguous_filter2d():
            self._model_module.RealESRGANModel.feed_data(host, data)
        return host.lq, host.gt_usm

    def __call__(self, gt: Tensor, *, seed: int | None = None) -> Tensor:
        """The LR batch only (see :meth:`degrade`)."""
        return self.degrade(gt, seed=seed)[0]


__all__ = [
    "KERNEL_SIZES",
    "OPTIONS_FILE",
    "ReferenceRealESRGAN",
    "load_options",
    "seed_everything",
]
