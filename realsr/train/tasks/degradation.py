"""Turning a training batch into an (LR, HR) pair on the training device.

A batch holds clean HR crops ``gt`` with a degradation ``key`` per sample, and ``lq`` for paired
data. :class:`PairMaker` either takes the batch's ``lq`` as it is, or degrades ``gt`` with a
:class:`degrade.Pipeline` whose every draw is a function of ``(seed, key)``, then crops a
``gt_size`` patch at a per-sample corner drawn from the same key, and optionally exchanges the
pair with Real-ESRGAN's training-pair pool. Everything runs on the batch's device without host
synchronisation per sample.

Unsharp masking (Real-ESRGAN's USM of the ground truth) comes in two flavours:

* ``usm_gt`` (RealESRNetModel's ``gt_usm``): the ground truth is sharpened first; the LR is made
  from it and it is the target.
* ``usm_source`` (RealESRGANModel): the LR is made from USM(GT) while ``gt`` stays as it is;
  ``keep_gt_usm`` also returns USM of the final (cropped, pooled) ``gt`` as ``gt_usm``, as
  realesrgan_model.py sharpens again after its pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor

from degrade import Pipeline, load_pipeline
from degrade.functional import usm_sharp
from degrade.pool import PairPool
from degrade.seeding import derive_seed
from realsr.data.crop import paired_random_crop

if TYPE_CHECKING:
    from realsr.config import TrainOptions

LqMode = Literal["auto", "always", "never"]


@dataclass(frozen=True)
class TrainingPair:
    """One training batch on the device.

    Attributes:
        lq: LR inputs ``(B, 3, h, w)``.
        gt: targets ``(B, 3, h * s, w * s)``.
        gt_usm: USM-sharpened targets (RealESRGANModel's loss targets), or None.
    """

    lq: Tensor
    gt: Tensor
    gt_usm: Tensor | None = None


class PairMaker:
    """Make training pairs from batches and LR inputs for validation.

    Args:
        pipeline: the degradation pipeline (None: batches must carry ``lq``).
        scale: the SR factor.
        gt_size: HR patch size cropped after degradation (None: no crop).
        lq: ``"auto"`` uses a batch's ``lq`` when present and degrades ``gt`` otherwise;
            ``"always"`` requires ``lq``; ``"never"`` always degrades (Real-ESRGAN's
            ``high_order_degradation``).
        usm_gt: sharpen ``gt`` before degrading it; the sharpened image is the target.
        usm_source: degrade USM(``gt``) but keep ``gt`` as the target.
        keep_gt_usm: also return USM of the final ``gt`` (``TrainingPair.gt_usm``).
        pool: Real-ESRGAN's training-pair pool, applied to degraded pairs only.
        owner: the task name, for messages.
    """

    def __init__(
        self,
        pipeline: Pipeline | None,
        *,
        scale: int,
        gt_size: int | None = None,
        lq: LqMode = "auto",
        usm_gt: bool = False,
        usm_source: bool = False,
        keep_gt_usm: bool = False,
        pool: PairPool | None = None,
        owner: str = "task",
    ) -> None:
        if lq != "always" and pipeline is None:
            raise ValueError(f"{owner}: a degradation pipeline is needed unless lq='always'")
        self.pipeline = pipeline
        self.scale = int(scale)
        self.gt_size = gt_size
        self.lq_mode = lq
        self.usm_gt = usm_gt
        self.usm_source = usm_source
        self.keep_gt_usm = keep_gt_usm
        self.pool = pool
        self.owner = owner

    def _degrade(self, source: Tensor, keys: Tensor, seed: int) -> Tensor:
        assert self.pipeline is not None
        params = self.pipeline.sample(keys, seed=seed, device=source.device)
        return self.pipeline.apply(source, params)

    @torch.no_grad()
    def __call__(self, batch: Mapping[str, Any], *, seed: int) -> TrainingPair:
        """The training pair of ``batch`` (no gradients).

        HR images to degrade are first cropped to a multiple of the scale (top-left).

        Args:
            batch: ``gt`` (B, 3, H, W) in [0, 1], ``key`` (B,) int64, optionally ``lq``.
            seed: the run's degradation seed (``manual_seed``).

        Returns:
            A :class:`TrainingPair` on the batch's device.
        """
        gt = _tensor(batch, "gt", self.owner)
        use_lq = self.lq_mode == "always" or (self.lq_mode == "auto" and "lq" in batch)
        if use_lq:
            if "lq" not in batch:
                raise ValueError(
                    f"{self.owner}: the training batch has no 'lq' (paired data is required: "
                    "degradation.high_order_degradation is false)"
                )
            lq = _tensor(batch, "lq", self.owner)
            return TrainingPair(lq, gt, usm_sharp(gt) if self.keep_gt_usm else None)
        keys = _tensor(batch, "key", self.owner)
        gt = _modcrop(gt, self.scale)
        if self.usm_gt:
            gt = usm_sharp(gt)
        source = usm_sharp(gt) if self.usm_source else gt
        lq = self._degrade(source, keys, seed)
        if self.gt_size is not None and (
            gt.shape[-1] != self.gt_size or gt.shape[-2] != self.gt_size
        ):
            gt, lq = paired_random_crop(gt, lq, self.gt_size, self.scale, keys, seed)
        if self.pool is not None:
            lq, gt = self.pool.exchange(lq, gt)
        gt_usm = usm_sharp(gt) if self.keep_gt_usm else None
        return TrainingPair(lq.contiguous(), gt, gt_usm)

    @torch.no_grad()
    def validation_input(
        self, batch: Mapping[str, Any], *, seed: int
    ) -> tuple[Tensor, Tensor | None]:
        """LR input and ground truth of a validation batch.

        Paired batches give their ``lq``. HR-only batches are cropped to a multiple of the scale
        and degraded with the pipeline (no sharpening, no random crop, no pool) at ``seed`` with
        the batch's ``key`` (derived from ``gt_path`` when absent), so every validation image
        gets the same LR at every validation.

        Returns:
            ``(lq, gt)``; ``gt`` is None when the batch has none.
        """
        gt = batch.get("gt")
        if "lq" in batch:
            return _tensor(batch, "lq", self.owner), gt
        if gt is None:
            raise ValueError(f"{self.owner}: a validation batch needs 'lq' or 'gt'")
        if self.pipeline is None:
            raise ValueError(
                f"{self.owner}: HR-only validation needs a degradation pipeline; use a paired "
                "validation set"
            )
        gt = _modcrop(gt, self.scale)
        return self._degrade(gt, validation_keys(batch, gt), seed), gt


def validation_keys(batch: Mapping[str, Any], gt: Tensor) -> Tensor:
    """The batch's ``key``; else keys derived from its ``gt_path`` strings (else from 0..B-1)."""
    if "key" in batch:
        keys = batch["key"]
        assert isinstance(keys, Tensor)
        return keys.reshape(-1).to(device=gt.device, dtype=torch.int64)
    paths = batch.get("gt_path")
    if isinstance(paths, str):
        paths = [paths]
    names = list(paths) if paths is not None else [str(i) for i in range(gt.shape[0])]
    values = [derive_seed(0, "validation", str(n)) for n in names]
    return torch.tensor(values, dtype=torch.int64, device=gt.device)


def _modcrop(x: Tensor, scale: int) -> Tensor:
    """The top-left part of ``x`` whose height and width are multiples of ``scale``."""
    h, w = x.shape[-2] // scale * scale, x.shape[-1] // scale * scale
    return x if (h, w) == tuple(x.shape[-2:]) else x[..., :h, :w]


def _tensor(batch: Mapping[str, Any], name: str, owner: str) -> Tensor:
    value = batch.get(name)
    if not isinstance(value, Tensor):
        raise ValueError(f"{owner}: the batch has no tensor {name!r} (keys: {sorted(batch)})")
    return value


def pipeline_from_options(options: TrainOptions, *, default: str | None) -> Pipeline | None:
    """The degradation pipeline of ``options.degradation.spec`` at ``options.scale``.

    Args:
        options: the run's options.
        default: a preset name used when the spec is None (None: no pipeline).
    """
    spec = options.degradation.spec
    source: Any = spec if spec is not None else default
    if source is None:
        return None
    return load_pipeline(source, scale=options.scale)


def gt_size_from_options(options: TrainOptions) -> int | None:
    """``degradation.gt_size`` (Real-ESRGAN's top-level key), else ``datasets.train.gt_size``."""
    if options.degradation.gt_size is not None:
        return int(options.degradation.gt_size)
    train = options.datasets.get("train")
    size = getattr(train, "gt_size", None)
    return int(size) if size is not None else None


def pool_from_options(options: TrainOptions) -> PairPool | None:
    """Real-ESRGAN's pair pool when ``degradation.use_pair_pool`` and ``queue_size`` are set."""
    deg = options.degradation
    if not deg.use_pair_pool:
        return None
    if not deg.queue_size:
        raise ValueError("degradation.queue_size: required when use_pair_pool is true")
    return PairPool(int(deg.queue_size), seed=derive_seed(options.manual_seed, "pair_pool"))


__all__ = [
    "PairMaker",
    "TrainingPair",
    "gt_size_from_options",
    "pipeline_from_options",
    "pool_from_options",
    "validation_keys",
]
