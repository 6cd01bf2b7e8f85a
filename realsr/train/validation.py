"""Validation during training: metrics on the ``phase: val`` sets and the best value of each.

Scoring follows BasicSR's ``SRModel.nondist_validation``: the task's output and the ground truth
are rounded to 8-bit images first (``tensor2img``), each metric (``calculate_psnr``,
``calculate_ssim``, ``calculate_niqe``) is computed per image with its ``crop_border`` /
``test_y_channel`` options and averaged over the set, and a value equal to the best so far counts
as a new best.

Under DDP rank 0 validates alone (as BasicSR): on other ranks the Validator builds no data set
and :meth:`Validator.run` returns ``{}``. The other ranks wait in their next collective (the
Trainer's barrier), so a validation must finish within the process group's timeout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from degrade.io import write_image
from realsr.config import ConfigError
from realsr.metrics import niqe, psnr, ssim

if TYPE_CHECKING:
    from realsr.config import TrainOptions
    from realsr.train.task import Task


def to_uint8(x: Tensor) -> Tensor:
    """Round images in [0, 1] to 8-bit levels as BasicSR's ``tensor2img`` (clamp, x255, round).

    Shape:
        x: any shape, float; returns the same shape as uint8.

    Example:
        >>> to_uint8(torch.tensor([-0.1, 0.5, 0.999, 2.0])).tolist()
        [0, 128, 255, 255]
    """
    return (x.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8)


MetricFn = Callable[[Tensor, "Tensor | None", Any], Tensor]


def _psnr(sr: Tensor, gt: Tensor | None, m: Any) -> Tensor:
    assert gt is not None
    return psnr(sr, gt, crop_border=int(m.crop_border), y_channel=bool(m.test_y_channel))


def _ssim(sr: Tensor, gt: Tensor | None, m: Any) -> Tensor:
    assert gt is not None
    return ssim(sr, gt, crop_border=int(m.crop_border), y_channel=bool(m.test_y_channel))


def _niqe(sr: Tensor, gt: Tensor | None, m: Any) -> Tensor:
    return niqe(sr, crop_border=int(m.crop_border), convert_to=getattr(m, "convert_to", "y"))


@dataclass(frozen=True)
class MetricKind:
    """A validation metric: its function of 8-bit ``(sr, gt | None, options) -> (B,)`` scores,
    whether it needs the ground truth, and which direction is better by default."""

    fn: MetricFn
    needs_gt: bool
    better: str


METRICS: dict[str, MetricKind] = {
    "calculate_psnr": MetricKind(_psnr, needs_gt=True, better="higher"),
    "calculate_ssim": MetricKind(_ssim, needs_gt=True, better="higher"),
    "calculate_niqe": MetricKind(_niqe, needs_gt=False, better="lower"),
}


@dataclass
class _ValSet:
    name: str
    where: str
    loader: DataLoader[dict[str, Any]]
    has_gt: bool


class Validator:
    """Scores the generator on every validation set and keeps the best value of each metric.

    Args:
        options: the run's options: ``val`` (``metrics``, ``save_img``, ``suffix``, ``pbar``) and
            the ``datasets`` entries with phase ``val`` (built with
            :func:`realsr.data.build_dataset` / :func:`realsr.data.build_dataloader`).
        device: where batches are moved for the task.
        experiment_dir: images go to ``<experiment_dir>/visualization/<set>/``.
        rank: this process's rank (only rank 0 validates).
        world_size: the number of processes.

    Attributes:
        best: ``{set: {metric: (value, iteration)}}`` -- the best averages seen so far.
        improved: the ``(set, metric)`` pairs whose best was reached by the last :meth:`run`.
    """

    def __init__(
        self,
        options: TrainOptions,
        *,
        device: torch.device,
        experiment_dir: Path,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.device = torch.device(device)
        self.experiment_dir = Path(experiment_dir)
        self.rank = rank
        self.world_size = world_size
        self.val = options.val
        self.sets: list[_ValSet] = []
        self.best: dict[str, dict[str, tuple[float, int]]] = {}
        self.improved: list[tuple[str, str]] = []
        self.metrics: dict[str, tuple[MetricKind, Any]] = {}
        if self.val is None:
            return
        for name, m in self.val.metrics.items():
            kind = METRICS.get(m.type)
            if kind is None:
                raise ConfigError(
                    f"val.metrics.{name}.type: unknown metric {m.type!r} "
                    f"(known: {', '.join(sorted(METRICS))})"
                )
            better = getattr(m, "better", None) or kind.better
            if better not in ("higher", "lower"):
                raise ConfigError(
                    f"val.metrics.{name}.better: expected 'higher' or 'lower', got {better!r}"
                )
            self.metrics[name] = (kind, m)
        if rank == 0:
            self._build_sets(options)

    def _build_sets(self, options: TrainOptions) -> None:
        from realsr.data import build_dataloader, build_dataset

        val_sections = [(k, d) for k, d in options.datasets.items() if d.phase == "val"]
        names = [d.name for _, d in val_sections]
        for key, section in val_sections:
            name = section.name if names.count(section.name) == 1 else key
            where = f"datasets.{key}"
            dataset = build_dataset(section, seed=options.manual_seed)
            has_gt = bool(getattr(dataset, "has_gt", True))
            for metric, (kind, _) in self.metrics.items():
                if kind.needs_gt and not has_gt:
                    raise ConfigError(
                        f"val.metrics.{metric}: needs ground truth, but {where} ({section.name}) "
                        "has none"
                    )
            loader = build_dataloader(dataset, section, seed=options.manual_seed)
            self.sets.append(_ValSet(name, where, loader, has_gt))
            self.best[name] = {
                metric: (-math.inf if self._better(metric) == "higher" else math.inf, -1)
                for metric in self.metrics
            }

    @property
    def enabled(self) -> bool:
        """Whether there is anything to validate (a ``val`` section and a validation set)."""
        return self.val is not None and bool(self.sets)

    def _better(self, metric: str) -> str:
        kind, m = self.metrics[metric]
        return str(getattr(m, "better", None) or kind.better)

    def _image_path(self, set_name: str, stem: str, iteration: int) -> Path:
        suffix = f"_{self.val.suffix}" if self.val is not None and self.val.suffix else ""
        return self.experiment_dir / "visualization" / set_name / f"{stem}_{iteration}{suffix}.png"

    @torch.no_grad()
    def run(self, task: Task, generator: nn.Module, iteration: int) -> dict[str, dict[str, float]]:
        """Validate ``generator`` on every set.

        Args:
            task: supplies ``validation_step(batch, generator) -> {"sr", "gt"?}``.
            generator: the network to score (put in eval mode for the run, then restored).
            iteration: the training iteration (for image names and the best table).

        Returns:
            The average of each metric by set name, then metric name (``{}`` on ranks other
            than 0).
        """
        self.improved = []
        results: dict[str, dict[str, float]] = {}
        if not self.enabled:
            return results
        was_training = generator.training
        generator.eval()
        try:
            for val_set in self.sets:
                averages = self._run_set(val_set, task, generator, iteration)
                if averages is not None:
                    results[val_set.name] = averages
        finally:
            generator.train(was_training)
        for set_name, averages in results.items():
            for metric, value in averages.items():
                best_value, _ = self.best[set_name][metric]
                higher = self._better(metric) == "higher"
                if (value >= best_value) if higher else (value <= best_value):
                    self.best[set_name][metric] = (value, iteration)
                    self.improved.append((set_name, metric))
        return results

    def _run_set(
        self, val_set: _ValSet, task: Task, generator: nn.Module, iteration: int
    ) -> dict[str, float] | None:
        assert self.val is not None
        sums = torch.zeros(len(self.metrics) + 1, dtype=torch.float64, device=self.device)
        bar = None
        if self.val.pbar:
            bar = tqdm(total=len(val_set.loader), unit="image", desc=f"Validate {val_set.name}")
        for index, batch in enumerate(val_set.loader):
            batch = {
                k: v.to(self.device, non_blocking=True) if isinstance(v, Tensor) else v
                for k, v in batch.items()
            }
            out = task.validation_step(batch, generator)
            sr = to_uint8(out["sr"])
            gt = to_uint8(out["gt"]) if out.get("gt") is not None else None
            for i, (metric, (kind, m)) in enumerate(self.metrics.items()):
                if kind.needs_gt and gt is None:
                    raise ValueError(
                        f"val.metrics.{metric}: needs ground truth, but the task returned none "
                        f"for {val_set.where} ({val_set.name})"
                    )
                sums[i] += kind.fn(sr, gt, m).to(device=self.device, dtype=torch.float64).sum()
            sums[-1] += sr.shape[0]
            if self.val.save_img:
                paths = batch.get("lq_path") or batch.get("gt_path") or []
                for j in range(sr.shape[0]):
                    stem = Path(paths[j]).stem if j < len(paths) else f"{index:06d}_{j}"
                    write_image(self._image_path(val_set.name, stem, iteration), sr[j])
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        totals = sums.tolist()
        count = totals.pop()
        if count == 0:
            return None
        return {metric: total / count for metric, total in zip(self.metrics, totals, strict=True)}

    def state_dict(self) -> dict[str, Any]:
        """The best table as plain values: ``{"best": {set: {metric: [value, iteration]}}}``."""
        return {
            "best": {
                s: {m: [float(v), int(it)] for m, (v, it) in metrics.items()}
                for s, metrics in self.best.items()
            }
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the best table; entries of sets or metrics no longer configured are dropped."""
        for set_name, metrics in state.get("best", {}).items():
            if set_name not in self.best:
                continue
            for metric, (value, iteration) in metrics.items():
                if metric in self.best[set_name]:
                    self.best[set_name][metric] = (float(value), int(iteration))


__all__ = ["METRICS", "MetricKind", "Validator", "to_uint8"]
