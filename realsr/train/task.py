"""The contract between the generic :class:`~realsr.train.trainer.Trainer` and a training Task.

A Task owns what is specific to one kind of model (its networks, losses, the degradation pipeline,
how a batch becomes an LR/HR pair and which optimizer steps run in which order). The Trainer owns
everything generic: the loop, data loading, optimizers and schedulers (built from the options'
``train.optim_<name>`` / ``train.scheduler``), mixed precision, the NaN/Inf guard, EMA of
``net_g``, checkpoints and resume, validation metrics, logging and DDP.

Lifecycle::

    task = TASKS.get(options.model_type)(options, device=device)   # builds nets (and loads
                                                                   # pretrained weights), losses, pipeline
    nets = task.networks()            # {"g": net_g, "d": net_d}; the Trainer may wrap values in DDP
    task.set_networks(wrapped)        # ... and hands the wrapped modules back
    for each iteration:
        logs = task.training_step(batch, ctx)      # calls ctx.optimize("g", loss_g) etc.
    for each validation batch:
        sr = task.validation_step(batch, generator)   # generator = EMA copy of net_g if any

Batches are dicts of tensors (already on ``ctx.device``) and lists of strings, as the datasets of
:mod:`realsr.data` return them: ``gt`` (B, 3, H, W) float in [0, 1], ``key`` (B,) int64 (the
degradation key of each sample), optionally ``lq`` (B, 3, H/s, W/s), and ``gt_path`` /
``lq_path`` lists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from realsr.config import TrainOptions


class StepContext(Protocol):
    """What a Task may use inside ``training_step``; implemented by the Trainer."""

    device: torch.device
    iteration: int
    """The iteration being run, 1-based (BasicSR's ``current_iter``)."""
    seed: int
    """The run's ``manual_seed``: degradation draws are ``(seed, batch['key'])`` functions."""

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Mixed-precision context for forward passes (a no-op when AMP is off)."""
        ...

    def optimize(self, name: str, loss: Tensor) -> bool:
        """Backward ``loss`` and step optimizer ``name`` ("g" or "d").

        Zeroes that optimizer's gradients first, scales the loss under fp16, clips gradients when
        configured, and applies the step only when the loss and gradients are finite (under DDP
        all ranks agree first). Returns whether the step was applied.
        """
        ...


class Task:
    """Base class of training tasks (see the module docstring for the contract)."""

    model_type: ClassVar[str] = ""
    """The ``model_type`` value of the options files this task runs (BasicSR's class name)."""

    def __init__(self, options: TrainOptions, *, device: torch.device) -> None:
        self.options = options
        self.device = device

    def networks(self) -> dict[str, nn.Module]:
        """The trained networks by optimizer name: ``{"g": net_g}`` or ``{"g": ..., "d": ...}``."""
        raise NotImplementedError

    def set_networks(self, nets: Mapping[str, nn.Module]) -> None:
        """Replace the networks by (DDP-)wrapped versions of themselves; same keys."""
        raise NotImplementedError

    def training_step(self, batch: dict[str, Any], ctx: StepContext) -> dict[str, Tensor]:
        """Run one training iteration; returns detached scalar tensors to log (``l_g_pix``, ...)."""
        raise NotImplementedError

    @torch.no_grad()
    def validation_step(self, batch: dict[str, Any], generator: nn.Module) -> dict[str, Tensor]:
        """Super-resolve one validation batch with ``generator`` (in eval mode).

        Returns ``{"sr": (B, 3, H, W), "gt": (B, 3, H, W)}`` in [0, 1] (``gt`` absent when the
        set has no ground truth), cropped to matching sizes.
        """
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Task state beyond networks and optimizers (e.g. a pair pool), for the resume state."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        if state:
            raise ValueError(f"{type(self).__name__} has no state to load, got {sorted(state)}")


class PlainStepContext:
    """A minimal :class:`StepContext` without AMP, clipping or DDP (tests, simple loops).

    Args:
        optimizers: optimizer per network name.
        device: where batches live.
        seed: the degradation seed.
    """

    def __init__(
        self,
        optimizers: Mapping[str, torch.optim.Optimizer],
        *,
        device: torch.device,
        seed: int = 0,
    ) -> None:
        self.optimizers = dict(optimizers)
        self.device = device
        self.seed = seed
        self.iteration = 1

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        yield

    def optimize(self, name: str, loss: Tensor) -> bool:
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        if not bool(torch.isfinite(loss)):
            return False
        loss.backward()
        optimizer.step()
        return True


__all__ = ["PlainStepContext", "StepContext", "Task"]
