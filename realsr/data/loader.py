"""DataLoaders of the image sets: batched training items and one-image validation batches.

Workers only read, crop and flip (the datasets' ``__getitem__``); which items a batch holds is
decided in the main process by :class:`~realsr.data.sampler.TrainBatchSampler`. Batches are dicts
whose tensors are stacked (``gt`` (B, 3, H, W), ``lq``, ``key`` (B,) int64) and whose strings are
lists (``gt_path``, ``lq_path``).

``prefetch_mode`` (BasicSR's ``cpu`` / ``cuda`` prefetchers) is accepted and ignored: the
loader's own worker prefetching and ``pin_memory`` do that job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import cv2
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from realsr.data.sampler import TrainBatchSampler

if TYPE_CHECKING:
    from realsr.config import DatasetOptions

PREFETCH_MODES = (None, "cpu", "cuda")


def collate(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack the tensors of a list of items and keep the other values as lists.

    Example:
        >>> batch = collate([{"key": torch.tensor(1), "gt_path": "a"},
        ...                  {"key": torch.tensor(2), "gt_path": "b"}])
        >>> batch["key"].tolist(), batch["gt_path"]
        ([1, 2], ['a', 'b'])
    """
    if not items:
        raise ValueError("cannot collate an empty batch")
    batch: dict[str, Any] = {}
    for name in items[0]:
        values = [item[name] for item in items]
        batch[name] = torch.stack(values) if isinstance(values[0], torch.Tensor) else values
    return batch


def _init_worker(worker_id: int) -> None:
    """One OpenCV / torch thread per worker (the workers are many already)."""
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def build_dataloader(
    dataset: Dataset[dict[str, Any]],
    options: DatasetOptions,
    *,
    sampler: Sampler[list[tuple[int, int]]] | None = None,
    seed: int,
) -> DataLoader[dict[str, Any]]:
    """A DataLoader for one ``datasets.<name>`` section.

    Training sets are loaded through a batch sampler (default: a single-rank
    :class:`TrainBatchSampler` from the options, starting at batch 0) with
    ``num_worker_per_gpu`` workers (spawned, persistent when there are any) and ``pin_memory``;
    validation sets one image per batch, in order, in the main process.

    Args:
        dataset: from :func:`~realsr.data.datasets.build_dataset`.
        options: the same section.
        sampler: the training batch sampler (e.g. for a rank, or resuming at ``start_iter``).
        seed: the run's seed (for the default sampler).
    """
    where = getattr(options, "where", None) or f"datasets.{options.phase}"
    if options.prefetch_mode not in PREFETCH_MODES:
        raise ValueError(
            f"{where}.prefetch_mode: {options.prefetch_mode!r} is not one of cpu, cuda or null"
        )
    # The loader's base seed is drawn from this generator rather than the global RNG; the items
    # use no worker seed (their randomness is a function of (seed, epoch, index)).
    generator = torch.Generator().manual_seed(seed & ((1 << 63) - 1))
    if options.phase != "train":
        return DataLoader(
            dataset, batch_size=1, shuffle=False, collate_fn=collate, generator=generator
        )
    if sampler is None:
        sampler = TrainBatchSampler(
            len(dataset),  # type: ignore[arg-type]
            options.batch_size_per_gpu,
            seed=seed,
            shuffle=options.use_shuffle,
            enlarge_ratio=options.dataset_enlarge_ratio,
        )
    workers = int(options.num_worker_per_gpu)
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=bool(options.pin_memory),
        collate_fn=collate,
        worker_init_fn=_init_worker if workers > 0 else None,
        generator=generator,
        # Workers start from a fresh interpreter: a forked copy of a process whose OpenCV or
        # torch thread pools are running can deadlock (seen with cv2.setNumThreads in a worker).
        multiprocessing_context="spawn" if workers > 0 else None,
    )


__all__ = ["PREFETCH_MODES", "build_dataloader", "collate"]
