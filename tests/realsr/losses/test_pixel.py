"""Pixel losses: parity with BasicSR's basic_loss and the reduction / weight-map contract."""

from __future__ import annotations

import pytest
import torch

from realsr.losses import CharbonnierLoss, L1Loss, MSELoss, weight_reduce
from tests._reference import import_reference

LOSSES = {"L1Loss": L1Loss, "MSELoss": MSELoss, "CharbonnierLoss": CharbonnierLoss}


def _pair(seed: int = 0, shape: tuple[int, ...] = (2, 3, 8, 8)) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g), torch.rand(shape, generator=g)


@pytest.mark.reference
@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weight_channels", [None, 1, 3])
def test_parity_with_basicsr(name: str, reduction: str, weight_channels: int | None) -> None:
    basic_loss = import_reference("basicsr.losses.basic_loss")
    pred, target = _pair()
    weight = None
    if weight_channels is not None:
        g = torch.Generator().manual_seed(1)
        weight = (torch.rand(2, weight_channels, 8, 8, generator=g) > 0.4).float()
    ours = LOSSES[name](loss_weight=0.7, reduction=reduction)(pred, target, weight)
    ref = getattr(basic_loss, name)(loss_weight=0.7, reduction=reduction)(pred, target, weight)
    torch.testing.assert_close(ours, ref, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_weight_scales_linearly(name: str) -> None:
    pred, target = _pair(2)
    one = LOSSES[name]()(pred, target)
    torch.testing.assert_close(LOSSES[name](loss_weight=2.5)(pred, target), 2.5 * one)


def test_values_on_known_inputs() -> None:
    pred = torch.zeros(1, 1, 2, 2)
    target = torch.tensor([[[[1.0, -1.0], [3.0, 0.0]]]])
    assert L1Loss()(pred, target).item() == pytest.approx(5 / 4)
    assert MSELoss()(pred, target).item() == pytest.approx(11 / 4)
    assert MSELoss(reduction="sum")(pred, target).item() == pytest.approx(11)
    # sqrt(d^2 + eps) is |d| up to eps; at d = 0 it is sqrt(eps) = 1e-6.
    assert CharbonnierLoss(reduction="sum")(pred, target).item() == pytest.approx(5 + 1e-6)
    assert CharbonnierLoss(eps=1e-2)(pred, pred).item() == pytest.approx(0.1)
    assert L1Loss(reduction="none")(pred, target).equal(target.abs())


def test_weighted_mean_is_mean_over_the_weighted_region() -> None:
    pred, target = _pair(3)
    mask = torch.zeros(2, 1, 8, 8)
    mask[:, :, 2:6, 1:5] = 1
    region = (pred - target).abs()[:, :, 2:6, 1:5].mean()
    torch.testing.assert_close(L1Loss()(pred, target, mask), region)
    # A per-channel map weights each channel separately: all-ones on channel 0 only.
    per_channel = torch.zeros(2, 3, 8, 8)
    per_channel[:, 0] = 1
    torch.testing.assert_close(
        L1Loss()(pred, target, per_channel), (pred - target).abs()[:, 0].mean()
    )


def test_weight_reduce_rejects_bad_maps_and_reductions() -> None:
    loss = torch.ones(1, 3, 4, 4)
    with pytest.raises(ValueError, match="weight map shape"):
        weight_reduce(loss, torch.ones(1, 2, 4, 4))
    with pytest.raises(ValueError, match="weight map shape"):
        weight_reduce(loss, torch.ones(3, 4, 4))
    with pytest.raises(ValueError, match="L1Loss: unsupported reduction 'avg'"):
        L1Loss(reduction="avg")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shapes differ"):
        MSELoss()(torch.ones(1, 3, 4, 4), torch.ones(1, 3, 4, 5))


@pytest.mark.parametrize("name", ["MSELoss", "CharbonnierLoss"])
def test_gradcheck(name: str) -> None:
    pred, target = (t.double() for t in _pair(4, (1, 2, 3, 3)))
    pred.requires_grad_(True)
    weight = torch.rand(1, 1, 3, 3, dtype=torch.float64)
    loss = LOSSES[name](loss_weight=0.3)
    assert torch.autograd.gradcheck(lambda p: loss(p, target, weight), (pred,))


def test_gradient_flows_to_pred_only() -> None:
    pred, target = _pair(5)
    pred.requires_grad_(True)
    CharbonnierLoss()(pred, target).backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0
    assert target.grad is None
