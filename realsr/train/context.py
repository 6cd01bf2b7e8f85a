"""The Trainer's :class:`~realsr.train.task.StepContext`: mixed precision, clipping, NaN guard.

``train.mixed_precision``: ``"fp16"`` runs forwards under ``torch.autocast(float16)`` with one
``torch.amp.GradScaler`` shared by every optimizer (``scaler.update()`` once per iteration, in
:meth:`TrainStepContext.end_iteration`); ``"bf16"`` uses ``torch.autocast(bfloat16)`` and no
scaler; ``"no"`` runs in float32. Both work on CPU and CUDA.

The guard: a step is *bad* when its loss is not finite, or (with ``train.grad_clip``, outside
fp16) when the gradient norm is not finite. A bad step is skipped on every rank (the ranks agree
through one all-reduce) and counted. Under fp16 an overflow of the scaled gradients with a finite
loss is the scaler's ordinary business (it skips the step and lowers the scale) and is not counted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch import Tensor

from .distributed import DistInfo, all_ranks_true
from .task import GradientStep

PRECISIONS: dict[str, torch.dtype | None] = {
    "no": None,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
}


class TrainStepContext:
    """What a Task sees during ``training_step`` (implements ``StepContext``).

    Args:
        optimizers: Optimizer per network name.
        device: The training device.
        seed: The run's ``manual_seed``.
        mixed_precision: ``"no"``, ``"fp16"`` or ``"bf16"``.
        grad_clip: Max gradient norm (``None``: no clipping).
        dist_info: The run's `DistInfo` (to agree on skipping across ranks).

    Attributes:
        iteration: The iteration being run (set by the Trainer).
        skipped: ``(iteration, name, reason)`` of every bad step so far.
        scaler: The fp16 grad scaler, or ``None``.
    """

    def __init__(
        self,
        optimizers: Mapping[str, torch.optim.Optimizer],
        *,
        device: torch.device,
        seed: int,
        mixed_precision: str = "no",
        grad_clip: float | None = None,
        dist_info: DistInfo | None = None,
    ) -> None:
        if mixed_precision not in PRECISIONS:
            raise ValueError(
                f"train.mixed_precision: {mixed_precision!r} is not one of {', '.join(PRECISIONS)}"
            )
        self.optimizers = dict(optimizers)
        self.device = device
        self.seed = seed
        self.iteration = 0
        self.amp_dtype = PRECISIONS[mixed_precision]
        self.grad_clip = grad_clip
        self.dist_info = dist_info or DistInfo()
        self.scaler = torch.amp.GradScaler(device.type) if mixed_precision == "fp16" else None
        self.skipped: list[tuple[int, str, str]] = []
        self._scaled_this_iteration = False

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Mixed-precision context for forward passes (a no-op when AMP is off)."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _params(self, name: str) -> list[Tensor]:
        return [
            p
            for group in self.optimizers[name].param_groups
            for p in group["params"]
            if p.requires_grad
        ]

    def optimize(self, name: str, loss: Tensor) -> bool:
        """Backward ``loss`` and step optimizer ``name`` unless the step is bad.

        Always runs the backward pass (under DDP every rank must take part in the gradient
        all-reduce), then decides on every rank together. One host synchronisation per call.

        Returns:
            Whether the step was applied (under fp16 the scaler may still skip an overflow).
        """
        with self.optimizing(name) as step:
            step.backward(loss)
        return step.applied

    @contextlib.contextmanager
    def optimizing(self, name: str) -> Iterator[GradientStep]:
        """One step of optimizer ``name`` over the losses backwarded in the block (see
        :meth:`realsr.train.task.StepContext.optimizing`); decided as :meth:`optimize`."""
        if name not in self.optimizers:
            raise KeyError(f"no optimizer {name!r} (known: {', '.join(sorted(self.optimizers))})")
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        step = GradientStep(None if self.scaler is None else self.scaler.scale)
        yield step
        step.applied = self._apply(name, optimizer, step.require_loss(name))

    def _apply(self, name: str, optimizer: torch.optim.Optimizer, ok: Tensor) -> bool:
        """Clip, agree across ranks, and step (or skip and count a bad step)."""
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)  # records overflow for this optimizer's step
            self._scaled_this_iteration = True
        reason = "non-finite loss"
        if self.grad_clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(self._params(name), self.grad_clip)
            if self.scaler is None:
                ok = ok & torch.isfinite(norm)
                reason = "non-finite loss or gradient norm"
        ok = all_ranks_true(ok.to(self.device), self.dist_info)
        if not bool(ok):
            optimizer.zero_grad(set_to_none=True)
            self.skipped.append((self.iteration, name, reason))
            return False
        if self.scaler is not None:
            self.scaler.step(optimizer)
        else:
            optimizer.step()
        return True

    def end_iteration(self) -> None:
        """Update the fp16 scale once per iteration (after all of the iteration's steps)."""
        if self.scaler is not None and self._scaled_this_iteration:
            self.scaler.update()
        self._scaled_this_iteration = False


def to_device(
    batch: Mapping[str, Any], device: torch.device, *, channels_last: bool = False
) -> dict[str, Any]:
    """Move a batch's tensors to ``device`` (non-blocking); image batches (4-d floating tensors)
    in channels-last memory format when asked. Other entries (path lists) are kept as they are.
    """
    out: dict[str, Any] = {}
    for key, value in batch.items():
        if isinstance(value, Tensor):
            if channels_last and value.dim() == 4 and value.is_floating_point():
                value = value.to(device, non_blocking=True, memory_format=torch.channels_last)
            else:
                value = value.to(device, non_blocking=True)
        out[key] = value
    return out


__all__ = ["PRECISIONS", "TrainStepContext", "to_device"]
