"""Process groups, devices and DDP wrapping for training.

``--launcher pytorch`` (torchrun) reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``
(default ``127.0.0.1``) and ``MASTER_PORT`` (default ``dist_params.port``) from the environment.
The backend is NCCL on CUDA and gloo on CPU (``dist_params.backend: nccl`` on a CPU run becomes
gloo with a notice). Every helper here is a no-op in a single-process run. Collectives time out
after :data:`COLLECTIVE_TIMEOUT`.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from .ema import unwrap

LAUNCHERS = ("none", "pytorch")

COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=60)
"""How long a rank waits in a collective: the other ranks wait at a barrier while rank 0 validates
and writes checkpoints, which can take longer than NCCL's default of 10 minutes."""


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in the (possibly single-process) run.

    Attributes:
        rank: Global rank (0 when not distributed).
        world_size: Number of processes (1 when not distributed).
        local_rank: Rank on this machine (selects ``cuda:<local_rank>``).
        enabled: Whether a process group was initialised.
        notices: Messages for the training log (backend substitutions, ...).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    enabled: bool = False
    notices: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_main(self) -> bool:
        """Whether this process logs and writes checkpoints (rank 0)."""
        return self.rank == 0


def _env_int(name: str) -> int:
    value = os.environ.get(name)
    if value is None:
        raise RuntimeError(
            f"--launcher pytorch needs the environment variable {name} (start the run with "
            "torchrun, e.g. `torchrun --nproc_per_node 2 -m realsr.cli train -opt FILE "
            "--launcher pytorch`)"
        )
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"environment variable {name}={value!r} is not an integer") from None


def resolve_device(num_gpu: int | str, local_rank: int = 0) -> tuple[torch.device, str | None]:
    """The training device from ``num_gpu`` (``0`` -> CPU; ``"auto"`` or N -> CUDA when present).

    Args:
        num_gpu: The options' ``num_gpu`` (an int or ``"auto"``).
        local_rank: This process's rank on the machine.

    Returns:
        ``(device, notice)``; the notice says why a CUDA request runs on the CPU (else ``None``).
    """
    if num_gpu == 0:
        return torch.device("cpu"), None
    if not torch.cuda.is_available():
        notice = None if num_gpu == "auto" else f"num_gpu: {num_gpu} but CUDA is not available"
        return torch.device("cpu"), None if notice is None else notice + "; training on the CPU"
    return torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1)), None


def init_distributed(
    launcher: str, *, backend: str, port: int, num_gpu: int | str = "auto"
) -> DistInfo:
    """Initialise the process group for ``launcher`` (``"none"``: a single process).

    Args:
        launcher: ``"none"`` or ``"pytorch"`` (torchrun environment variables).
        backend: ``dist_params.backend`` (``"nccl"`` or ``"gloo"``).
        port: ``dist_params.port``, used when ``MASTER_PORT`` is unset.
        num_gpu: The options' ``num_gpu`` (decides CPU vs CUDA, hence the backend).

    Returns:
        The process's `DistInfo`.

    Raises:
        ValueError: Unknown launcher.
        RuntimeError: ``pytorch`` launcher without the torchrun environment.
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f"unknown launcher {launcher!r} (choose from {', '.join(LAUNCHERS)})")
    if launcher == "none":
        return DistInfo()
    rank, world_size = _env_int("RANK"), _env_int("WORLD_SIZE")
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    device, _ = resolve_device(num_gpu, local_rank)
    notices: list[str] = []
    if device.type == "cuda":
        torch.cuda.set_device(device)
    elif backend == "nccl":
        notices.append("dist_params.backend: nccl needs CUDA; using gloo on the CPU")
        backend = "gloo"
    if dist.is_initialized():  # e.g. started by an outer harness
        return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank, True, tuple(notices))
    address = os.environ.get("MASTER_ADDR", "127.0.0.1")
    master_port = int(os.environ.get("MASTER_PORT", port))
    dist.init_process_group(
        backend,
        init_method=f"tcp://{address}:{master_port}",
        rank=rank,
        world_size=world_size,
        timeout=COLLECTIVE_TIMEOUT,
    )
    return DistInfo(rank, world_size, local_rank, True, tuple(notices))


def cleanup(info: DistInfo) -> None:
    """Destroy the process group that :func:`init_distributed` created."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    """Wait for every rank (no-op when not distributed)."""
    if info.enabled:
        dist.barrier()


def all_ranks_true(flag: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Logical AND of a boolean 0-d tensor over the ranks (the tensor itself when alone).

    Args:
        flag: A 0-d boolean tensor on the training device (NCCL needs CUDA tensors).
        info: The run's `DistInfo`.

    Returns:
        A 0-d boolean tensor, equal on every rank.
    """
    if not info.enabled:
        return flag
    value = flag.to(torch.int32)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return value.bool()


def mean_over_ranks(values: Mapping[str, torch.Tensor], info: DistInfo) -> dict[str, torch.Tensor]:
    """Average scalar tensors over the ranks (for logging); one collective for all of them."""
    if not info.enabled or not values:
        return dict(values)
    names = sorted(values)
    stacked = torch.stack([values[n].detach().float().reshape(()) for n in names])
    dist.all_reduce(stacked)
    stacked /= info.world_size
    return dict(zip(names, stacked.unbind(), strict=True))


def broadcast_object(obj: Any, info: DistInfo) -> Any:
    """Rank 0's ``obj`` on every rank (picklable objects only)."""
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank."""
    if not info.enabled:
        return [obj]
    out: list[Any] = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def wrap_ddp(module: nn.Module, device: torch.device) -> nn.Module:
    """Wrap a module in DistributedDataParallel (rank 0's weights are broadcast to all ranks).

    Modules without trainable parameters are returned as they are (DDP refuses them).
    """
    if not any(p.requires_grad for p in module.parameters()):
        return module
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=device_ids)


__all__ = [
    "COLLECTIVE_TIMEOUT",
    "LAUNCHERS",
    "DistInfo",
    "all_ranks_true",
    "barrier",
    "broadcast_object",
    "cleanup",
    "gather_objects",
    "init_distributed",
    "mean_over_ranks",
    "resolve_device",
    "unwrap",
    "wrap_ddp",
]
