"""An opt-in training-pair pool, for exact parity with Real-ESRGAN's recipe (``queue_size``).

Real-ESRGAN draws its resize, noise kind, second blur and final order once per batch, and mixes
batches through a pool of ``queue_size`` pairs to restore diversity. Our pipelines draw every choice
per sample, so no pool is needed; this one exists only to reproduce the published training recipe
when asked. It behaves as Real-ESRGAN's: the first ``size / B`` batches fill the pool and pass through
unchanged; once full, each call shuffles the pool, hands out its first ``B`` pairs and stores the
incoming batch in their place. The shuffles come from the pool's own seeded generator, and the state
(contents, fill level, generator) can be saved and restored for exact resume.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


class PairPool:
    """A pool of ``size`` (LQ, GT) pairs that exchanges a batch for earlier pairs once full.

    Args:
        size: number of pairs held (a multiple of the batch size).
        seed: seed of the pool's shuffles.

    Example:
        >>> pool = PairPool(4, seed=0)
        >>> lq, gt = torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 16, 16)
        >>> out_lq, out_gt = pool.exchange(lq, gt)  # filling: passes through
        >>> out_lq is lq
        True
    """

    def __init__(self, size: int, *, seed: int = 0) -> None:
        if size < 1:
            raise ValueError(f"queue_size must be >= 1, got {size}")
        self.size = size
        self.generator = torch.Generator().manual_seed(seed)
        self.lq: Tensor | None = None
        self.gt: Tensor | None = None
        self.filled = 0

    def exchange(self, lq: Tensor, gt: Tensor) -> tuple[Tensor, Tensor]:
        """Store the batch; return it while the pool fills, else ``B`` shuffled earlier pairs.

        Shape:
            lq: ``(B, C, h, w)``; gt: ``(B, C, H, W)``; returns tensors of the same shapes.
        """
        batch = lq.shape[0]
        if gt.shape[0] != batch:
            raise ValueError(f"lq and gt batch sizes differ: {batch} vs {gt.shape[0]}")
        if self.size % batch:
            raise ValueError(f"queue_size {self.size} must be a multiple of the batch size {batch}")
        if self.lq is None or self.gt is None:
            self.lq = lq.new_zeros(self.size, *lq.shape[1:])
            self.gt = gt.new_zeros(self.size, *gt.shape[1:])
        if self.lq.shape[1:] != lq.shape[1:] or self.gt.shape[1:] != gt.shape[1:]:
            raise ValueError("every batch given to the pool must have the same image sizes")
        if self.filled < self.size:
            self.lq[self.filled : self.filled + batch] = lq
            self.gt[self.filled : self.filled + batch] = gt
            self.filled += batch
            return lq, gt
        order = torch.randperm(self.size, generator=self.generator).to(self.lq.device)
        self.lq, self.gt = self.lq[order], self.gt[order]
        out_lq, out_gt = self.lq[:batch].clone(), self.gt[:batch].clone()
        self.lq[:batch] = lq
        self.gt[:batch] = gt
        return out_lq, out_gt

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly (tensors only, loadable with ``weights_only``)."""
        return {
            "size": self.size,
            "filled": self.filled,
            "generator": self.generator.get_state(),
            "lq": self.lq,
            "gt": self.gt,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        if int(state["size"]) != self.size:
            raise ValueError(f"pool state has size {state['size']}, this pool {self.size}")
        self.filled = int(state["filled"])
        self.generator.set_state(state["generator"])
        self.lq, self.gt = state["lq"], state["gt"]
