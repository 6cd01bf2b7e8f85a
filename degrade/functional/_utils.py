"""Small validation and broadcasting helpers shared by the functional ops."""

from __future__ import annotations

import torch
from torch import Tensor

ParamLike = float | int | Tensor


def check_image(x: Tensor, name: str = "x") -> None:
    """Raise a one-line ``ValueError`` unless ``x`` is a ``(B, C, H, W)`` tensor with C in {1, 3}.

    Args:
        x: the tensor to check.
        name: the argument name used in the message.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape (B, C, H, W), got {tuple(x.shape)}")
    if x.shape[1] not in (1, 3):
        raise ValueError(
            f"{name} must have 1 or 3 channels, got {x.shape[1]} (shape {tuple(x.shape)})"
        )


def batch_param(
    value: ParamLike,
    batch: int,
    *,
    device: torch.device,
    dtype: torch.dtype,
    name: str,
) -> Tensor:
    """Return a per-sample parameter as a ``(B,)`` tensor.

    Accepts a Python number, a 0-d tensor, a ``(1,)`` tensor (broadcast to every sample) or a
    ``(B,)`` tensor. The result is on ``device`` with ``dtype``; no host synchronisation happens.

    Args:
        value: the parameter.
        batch: the batch size B.
        device: target device.
        dtype: target dtype.
        name: the argument name used in error messages.

    Returns:
        Tensor of shape ``(B,)``.
    """
    t = torch.as_tensor(value, device=device, dtype=dtype)
    if t.ndim == 0:
        return t.expand(batch)
    if t.ndim != 1 or t.shape[0] not in (1, batch):
        raise ValueError(
            f"{name} must be a number or a tensor of shape (1,) or (B,) = ({batch},), "
            f"got shape {tuple(t.shape)}"
        )
    return t.expand(batch)
