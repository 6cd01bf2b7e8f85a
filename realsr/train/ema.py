"""Exponential moving average of a network's weights (BasicSR's ``net_g_ema``)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn


def unwrap(model: nn.Module) -> nn.Module:
    """The bare module inside DDP / DataParallel (``.module``) and ``torch.compile`` (``._orig_mod``)
    wrappers, however nested.

    Example:
        >>> net = nn.Linear(2, 2)
        >>> unwrap(nn.parallel.DataParallel(net)) is net
        True
    """
    while True:
        if isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
            model = model.module
        elif isinstance(getattr(model, "_orig_mod", None), nn.Module):
            model = model._orig_mod  # type: ignore[assignment]
        else:
            return model


class EMA:
    """A frozen copy of a network whose weights follow the network's exponential moving average.

    After each :meth:`update`, every floating parameter is
    ``ema = decay * ema + (1 - decay) * param`` (in the copy's dtype, on the copy's device);
    buffers (e.g. batch-norm statistics) and non-floating parameters are copied as they are.

    Args:
        model: the network (possibly DDP- or ``torch.compile``-wrapped; the bare module is copied).
        decay: weight of the running average, in [0, 1).

    Example:
        >>> net = nn.Linear(1, 1, bias=False)
        >>> _ = net.weight.data.fill_(0.0)
        >>> ema = EMA(net, decay=0.9)
        >>> _ = net.weight.data.fill_(1.0)
        >>> ema.update(net)
        >>> round(ema.module.weight.item(), 6)
        0.1
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = float(decay)
        self.module = copy.deepcopy(unwrap(model))
        self.module.eval()
        self.module.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average one step towards ``model``'s current weights.

        Args:
            model: the trained network, with the same parameter and buffer names as the copy
                (wrappers are unwrapped).
        """
        bare = unwrap(model)
        params = dict(bare.named_parameters())
        ema_params = dict(self.module.named_parameters())
        if params.keys() != ema_params.keys():
            missing = sorted(ema_params.keys() ^ params.keys())[:3]
            raise ValueError(
                f"EMA.update: the model's parameters differ from the copy's: {missing}"
            )
        targets: list[Tensor] = []
        sources: list[Tensor] = []
        for name, ema_p in ema_params.items():
            p = params[name].detach()
            if ema_p.is_floating_point():
                targets.append(ema_p)
                sources.append(p.to(device=ema_p.device, dtype=ema_p.dtype))
            else:
                ema_p.copy_(p)
        if targets:
            torch._foreach_mul_(targets, self.decay)
            torch._foreach_add_(targets, sources, alpha=1.0 - self.decay)
        buffers = dict(bare.named_buffers())
        for name, ema_b in self.module.named_buffers():
            ema_b.copy_(buffers[name])

    def state_dict(self) -> dict[str, Any]:
        """The averaged network's ``state_dict`` (what BasicSR saves as ``params_ema``)."""
        return self.module.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Load averaged weights (strictly: same keys and shapes)."""
        self.module.load_state_dict(state, strict=True)


__all__ = ["EMA", "unwrap"]
