"""Pixel losses with BasicSR's contract: ``loss_weight``, ``reduction`` and an optional weight map.

Every loss computes an element-wise map, multiplies it by the optional ``weight`` map and reduces it:

* ``"none"``: the weighted map, shape of ``pred``;
* ``"sum"``: its sum;
* ``"mean"``: without a weight map the plain mean; with one, the weighted sum divided by the sum of
  the weights over all channels (a one-channel map counts once per channel of ``pred``), i.e. the
  mean over the weighted region.

The result is multiplied by ``loss_weight``.

Reference: BasicSR ``basicsr/losses/basic_loss.py`` and ``loss_util.weight_reduce_loss``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")


def check_reduction(reduction: str, owner: str) -> None:
    """Raise a one-line ``ValueError`` naming ``owner`` when ``reduction`` is not supported."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{owner}: unsupported reduction {reduction!r}; expected one of {', '.join(REDUCTIONS)}"
        )


def weight_reduce(loss: Tensor, weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """Apply an element-wise weight map to a loss map and reduce it (BasicSR semantics).

    Args:
        loss: element-wise loss.
        weight: optional weights with ``loss``'s number of dimensions and 1 or ``C`` channels
            (dimension 1); other dimensions broadcast.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Shape:
        loss: ``(N, C, H, W)`` (any ``ndim >= 2``); weight: ``(N, 1 or C, H, W)``; returns a scalar,
        or ``loss``'s shape for ``"none"``.

    Returns:
        The reduced loss.

    Example:
        >>> loss = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> weight_reduce(loss, torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])).item()
        2.0
    """
    check_reduction(reduction, "weight_reduce")
    if weight is None:
        if reduction == "mean":
            return loss.mean()
        return loss.sum() if reduction == "sum" else loss
    if weight.ndim != loss.ndim or weight.shape[1] not in (1, loss.shape[1]):
        raise ValueError(
            f"weight map shape {tuple(weight.shape)} does not fit the loss shape "
            f"{tuple(loss.shape)} (same ndim, 1 or {loss.shape[1]} channels)"
        )
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    total = weight.sum() if weight.shape[1] > 1 else weight.sum() * loss.shape[1]
    return loss.sum() / total


class _PixelLoss(nn.Module):
    """Shared ``loss_weight`` / ``reduction`` handling."""

    def __init__(self, *, loss_weight: float = 1.0, reduction: Reduction = "mean") -> None:
        super().__init__()
        check_reduction(reduction, type(self).__name__)
        self.loss_weight = float(loss_weight)
        self.reduction: str = reduction

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        """Weighted, reduced loss.

        Args:
            pred: prediction.
            target: ground truth, same shape.
            weight: optional element-wise weight map, ``(N, 1 or C, H, W)``.

        Shape:
            pred, target: ``(N, C, H, W)``; returns a scalar, or ``(N, C, H, W)`` with
            ``reduction="none"``.

        Returns:
            ``loss_weight`` times the reduced loss.
        """
        if pred.shape != target.shape:
            raise ValueError(
                f"{type(self).__name__}: pred and target shapes differ: "
                f"{tuple(pred.shape)} vs {tuple(target.shape)}"
            )
        return self.loss_weight * weight_reduce(
            self.elementwise(pred, target), weight, self.reduction
        )

    def extra_repr(self) -> str:
        return f"loss_weight={self.loss_weight}, reduction={self.reduction!r}"


class L1Loss(_PixelLoss):
    """Mean absolute error ``|pred - target|``.

    Args:
        loss_weight: multiplier of the loss.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Example:
        >>> L1Loss()(torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2)).item()
        1.0

    Reference: BasicSR ``L1Loss``.
    """

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        return (pred - target).abs()


class MSELoss(_PixelLoss):
    """Mean squared error ``(pred - target)^2``.

    Args:
        loss_weight: multiplier of the loss.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Example:
        >>> MSELoss()(torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 2.0)).item()
        4.0

    Reference: BasicSR ``MSELoss``.
    """

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        return (pred - target).square()


class CharbonnierLoss(_PixelLoss):
    """Charbonnier loss ``sqrt((pred - target)^2 + eps)``, a differentiable L1.

    Args:
        loss_weight: multiplier of the loss.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        eps: curvature near zero (BasicSR's default 1e-12).

    Example:
        >>> round(CharbonnierLoss()(torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2)).item(), 6)
        1.0

    Reference: Lai et al., "Deep Laplacian Pyramid Networks for Fast and Accurate
    Super-Resolution" (2017); BasicSR ``CharbonnierLoss``.
    """

    def __init__(
        self, *, loss_weight: float = 1.0, reduction: Reduction = "mean", eps: float = 1e-12
    ) -> None:
        super().__init__(loss_weight=loss_weight, reduction=reduction)
        if not eps > 0:
            raise ValueError(f"CharbonnierLoss: eps must be > 0, got {eps}")
        self.eps = float(eps)

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        return torch.sqrt((pred - target).square() + self.eps)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, eps={self.eps}"
