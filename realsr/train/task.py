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
        logs = task.training_step(batch, ctx)      # calls ctx.optimize("g", loss_g), or
                                                   # ctx.optimizing("d") for losses in turn
    for each validation batch:
        sr = task.validation_step(batch, generator)   # generator = EMA copy of net_g if any

Batches are dicts of tensors (already on ``ctx.device``) and lists of strings, as the datasets of
:mod:`realsr.data` return them: ``gt`` (B, 3, H, W) float in [0, 1], ``key`` (B,) int64 (the
degradation key of each sample), optionally ``lq`` (B, 3, H/s, W/s), and ``gt_path`` /
``lq_path`` lists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from realsr.config import TrainOptions


class GradientStep:
    """The losses of one optimizer step, backwarded one at a time (see
    :meth:`StepContext.optimizing`).

    Args:
        scale: Applied to each loss before its backward pass (the fp16 grad scaler), or ``None``.

    Attributes:
        finite: Whether every loss so far was finite (a 0-d bool tensor; ``None`` before the
            first), read once when the step is decided, so no host synchronisation per loss.
        applied: Whether the optimizer stepped (set when the ``optimizing`` block ends).
    """

    def __init__(self, scale: Callable[[Tensor], Tensor] | None = None) -> None:
        self._scale = scale
        self.finite: Tensor | None = None
        self.applied = False

    def backward(self, loss: Tensor) -> None:
        """Accumulate the gradients of a scalar ``loss``."""
        ok = torch.isfinite(loss.detach()).all()
        self.finite = ok if self.finite is None else self.finite & ok
        (loss if self._scale is None else self._scale(loss)).backward()

    def require_loss(self, name: str) -> Tensor:
        """``finite``, or an error naming optimizer ``name`` when no loss was backwarded."""
        if self.finite is None:
            raise RuntimeError(f"optimizing({name!r}): the block backwarded no loss")
        return self.finite


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

    def optimizing(self, name: str) -> contextlib.AbstractContextManager[GradientStep]:
        """One step of optimizer ``name`` over several losses, each backwarded as it is ready.

        ``optimize(name, a + b)`` keeps the graphs of ``a`` and ``b`` alive together; backwarding
        ``a`` before building ``b`` frees the first graph early (BasicSR's discriminator step), which
        saves memory and, on large activations, time. The gradients accumulate; on leaving the
        block the step is decided and applied as by :meth:`optimize` (an exception inside the block
        skips it)::

            with ctx.optimizing("d") as step:
                step.backward(loss_on_real)
                step.backward(loss_on_fake)
            step.applied  # whether the optimizer stepped
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
        with self.optimizing(name) as step:
            step.backward(loss)
        return step.applied

    @contextlib.contextmanager
    def optimizing(self, name: str) -> Iterator[GradientStep]:
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        step = GradientStep()
        yield step
        if bool(step.require_loss(name)):
            optimizer.step()
            step.applied = True
        else:
            optimizer.zero_grad(set_to_none=True)


__all__ = ["GradientStep", "PlainStepContext", "StepContext", "Task"]
