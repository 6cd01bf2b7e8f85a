"""An infinite, resumable, distributed batch sampler of ``(epoch, index)`` items.

Batch ``k`` (0-based, the batch of iteration ``k + 1``) is a pure function of ``k`` and the
sampler's arguments, so resuming after ``K`` iterations is constructing the sampler with
``start_iter=K``; no sampler state goes into checkpoints.

An epoch covers the dataset ``enlarge_ratio`` times (BasicSR's enlarged epoch): positions
``0 .. length * enlarge_ratio - 1``, ordered by a permutation drawn from
``derive_seed(seed, "sampler", epoch)`` (identity without shuffling), padded by wrapping around
to a multiple of ``num_replicas`` and dealt to the ranks like ``DistributedSampler``
(``rank, rank + num_replicas, ...``); each rank drops its incomplete last batch. Position ``p`` of
epoch ``e`` is the item ``(e * enlarge_ratio + p // length, p % length)``: each pass over the
images has its own item epoch, so an image repeated within an enlarged epoch gets a fresh crop,
flip and degradation key every time.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler

from degrade.seeding import derive_seed

_MASK64 = (1 << 64) - 1


class TrainBatchSampler(Sampler[list[tuple[int, int]]]):
    """Yields lists of ``batch_size`` items ``(epoch, index)`` forever.

    Args:
        length: number of images in the dataset.
        batch_size: items per batch (per rank).
        seed: the run's seed.
        shuffle: permute each epoch (else the dataset order).
        enlarge_ratio: passes over the dataset per epoch.
        num_replicas: number of ranks.
        rank: this rank.
        start_iter: the first batch yielded (iterations already done).

    Example:
        >>> s = TrainBatchSampler(5, 2, seed=0, start_iter=3)
        >>> s.iters_per_epoch
        2
        >>> batch = next(iter(s))
        >>> [epoch for epoch, _ in batch], batch == s.batch(3)
        ([1, 1], True)
    """

    def __init__(
        self,
        length: int,
        batch_size: int,
        *,
        seed: int,
        shuffle: bool = True,
        enlarge_ratio: int = 1,
        num_replicas: int = 1,
        rank: int = 0,
        start_iter: int = 0,
    ) -> None:
        if length < 1 or batch_size < 1 or enlarge_ratio < 1 or num_replicas < 1:
            raise ValueError(
                "length, batch_size, enlarge_ratio and num_replicas must be positive, got "
                f"{length}, {batch_size}, {enlarge_ratio}, {num_replicas}"
            )
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} is not in [0, {num_replicas})")
        if start_iter < 0:
            raise ValueError(f"start_iter must be >= 0, got {start_iter}")
        self.length = int(length)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.enlarge_ratio = int(enlarge_ratio)
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.start_iter = int(start_iter)
        self.epoch_size = self.length * self.enlarge_ratio
        self.samples_per_rank = -(-self.epoch_size // self.num_replicas)
        if self.samples_per_rank < self.batch_size:
            raise ValueError(
                f"{self.length} images x enlarge ratio {self.enlarge_ratio} over "
                f"{self.num_replicas} rank(s) give {self.samples_per_rank} per epoch, fewer than "
                f"the batch size {self.batch_size}"
            )
        self._cached: tuple[int, np.ndarray] | None = None

    @property
    def iters_per_epoch(self) -> int:
        """Batches per epoch on each rank."""
        return self.samples_per_rank // self.batch_size

    def positions(self, epoch: int) -> np.ndarray:
        """This rank's positions of ``epoch`` in order (``samples_per_rank`` of them)."""
        if self._cached is not None and self._cached[0] == epoch:
            return self._cached[1]
        if self.shuffle:
            rng = np.random.default_rng(derive_seed(self.seed, "sampler", epoch) & _MASK64)
            order = rng.permutation(self.epoch_size)
        else:
            order = np.arange(self.epoch_size)
        total = self.samples_per_rank * self.num_replicas
        order = np.resize(order, total)  # wraps around, as DistributedSampler pads
        mine = order[self.rank : total : self.num_replicas]
        self._cached = (epoch, mine)
        return mine

    def batch(self, k: int) -> list[tuple[int, int]]:
        """Batch ``k`` (0-based) of this rank."""
        epoch, j = divmod(k, self.iters_per_epoch)
        chosen = self.positions(epoch)[j * self.batch_size : (j + 1) * self.batch_size]
        base = epoch * self.enlarge_ratio
        return [(base + int(p) // self.length, int(p) % self.length) for p in chosen]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        k = self.start_iter
        while True:
            yield self.batch(k)
            k += 1


__all__ = ["TrainBatchSampler"]
