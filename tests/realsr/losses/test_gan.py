"""GAN losses: known values, parity with BasicSR's GANLoss and ESRGAN's relativistic form."""

from __future__ import annotations

import math

import pytest
import torch

from realsr.losses import GAN_TYPES, GANLoss
from tests._reference import import_reference

LOG2 = math.log(2.0)


def _logits(seed: int, shape: tuple[int, ...] = (4, 1, 3, 3)) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * 2


def test_known_values() -> None:
    zero = torch.zeros(4, 1)
    assert GANLoss("vanilla").generator_loss(zero).item() == pytest.approx(LOG2)
    real, fake = GANLoss("vanilla").discriminator_loss(zero, zero)
    assert (real.item(), fake.item()) == pytest.approx((LOG2, LOG2))
    big = torch.full((2, 1), 30.0)
    assert GANLoss("vanilla").generator_loss(big).item() == pytest.approx(0.0, abs=1e-12)
    # lsgan: (pred - label)^2.
    pred = torch.tensor([0.5, -1.0])
    assert GANLoss("lsgan").generator_loss(pred).item() == pytest.approx((0.25 + 4) / 2)
    real, fake = GANLoss("lsgan", real_label_val=0.9, fake_label_val=0.1).discriminator_loss(
        pred, pred
    )
    assert real.item() == pytest.approx((0.16 + 3.61) / 2)
    assert fake.item() == pytest.approx((0.16 + 1.21) / 2)
    # wgan: -mean for real, mean for fake.
    real, fake = GANLoss("wgan").discriminator_loss(pred, pred)
    assert (real.item(), fake.item()) == pytest.approx((0.25, -0.25))
    assert GANLoss("wgan_softplus").generator_loss(torch.zeros(3)).item() == pytest.approx(LOG2)
    # hinge: relu(1 - real), relu(1 + fake) for D; -mean(fake) for G.
    hinge = GANLoss("hinge", loss_weight=2.0)
    real, fake = hinge.discriminator_loss(torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5]))
    assert (real.item(), fake.item()) == pytest.approx((0.25, 0.75))
    assert hinge.generator_loss(torch.tensor([0.5, 1.5])).item() == pytest.approx(-2.0)


def test_loss_weight_scales_generator_losses_only() -> None:
    pred = _logits(0)
    for gan_type in GAN_TYPES:
        one, three = GANLoss(gan_type), GANLoss(gan_type, loss_weight=3.0)
        torch.testing.assert_close(three.generator_loss(pred), 3 * one.generator_loss(pred))
        torch.testing.assert_close(
            three.discriminator_loss(pred, pred), one.discriminator_loss(pred, pred)
        )


def test_unknown_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown gan_type 'ragan'"):
        GANLoss("ragan")  # type: ignore[arg-type]


@pytest.mark.reference
@pytest.mark.parametrize("gan_type", GAN_TYPES)
@pytest.mark.parametrize("target_is_real", [True, False])
@pytest.mark.parametrize("is_disc", [True, False])
def test_parity_with_basicsr(gan_type: str, target_is_real: bool, is_disc: bool) -> None:
    gan_loss = import_reference("basicsr.losses.gan_loss")
    kwargs = {"real_label_val": 0.9, "fake_label_val": 0.1, "loss_weight": 0.3}
    ref = gan_loss.GANLoss(gan_type, **kwargs)
    ours = GANLoss(gan_type, **kwargs)  # type: ignore[arg-type]
    pred = _logits(1)
    pred_ref = pred.clone().requires_grad_(True)
    pred_ours = pred.clone().requires_grad_(True)
    expected = ref(pred_ref, target_is_real, is_disc=is_disc)
    got = ours(pred_ours, target_is_real, is_disc=is_disc)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-7)
    expected.backward()
    got.backward()
    torch.testing.assert_close(pred_ours.grad, pred_ref.grad, rtol=1e-6, atol=1e-8)


@pytest.mark.reference
@pytest.mark.parametrize("gan_type", ["vanilla", "lsgan", "wgan_softplus"])
def test_relativistic_matches_esrgan_model(gan_type: str) -> None:
    """The formulas and backward passes of BasicSR's ESRGANModel.optimize_parameters."""
    gan_loss = import_reference("basicsr.losses.gan_loss")
    ref = gan_loss.GANLoss(gan_type, loss_weight=0.005)
    ours = GANLoss(gan_type, loss_weight=0.005)  # type: ignore[arg-type]
    real, fake = _logits(2), _logits(3) + 0.5

    # Generator step: real predictions are detached.
    fake_ref = fake.clone().requires_grad_(True)
    real_d = real.detach()
    l_g_ref = (
        ref(real_d - torch.mean(fake_ref), False, is_disc=False)
        + ref(fake_ref - torch.mean(real_d), True, is_disc=False)
    ) / 2
    l_g_ref.backward()
    fake_ours = fake.clone().requires_grad_(True)
    real_ours = real.clone().requires_grad_(True)
    l_g = ours.relativistic_generator_loss(real_ours, fake_ours)
    l_g.backward()
    torch.testing.assert_close(l_g, l_g_ref)
    torch.testing.assert_close(fake_ours.grad, fake_ref.grad)
    assert real_ours.grad is None

    # Discriminator step: two separate backward passes with the other kind's mean detached.
    real_ref = real.clone().requires_grad_(True)
    fake_ref = fake.clone().requires_grad_(True)
    l_d_real_ref = ref(real_ref - torch.mean(fake_ref.detach()), True, is_disc=True) * 0.5
    l_d_real_ref.backward()
    l_d_fake_ref = ref(fake_ref - torch.mean(real_ref.detach()), False, is_disc=True) * 0.5
    l_d_fake_ref.backward()
    real_ours = real.clone().requires_grad_(True)
    fake_ours = fake.clone().requires_grad_(True)
    l_d_real, l_d_fake = ours.relativistic_discriminator_loss(real_ours, fake_ours)
    (l_d_real + l_d_fake).backward()
    torch.testing.assert_close(l_d_real, l_d_real_ref)
    torch.testing.assert_close(l_d_fake, l_d_fake_ref)
    torch.testing.assert_close(real_ours.grad, real_ref.grad)
    torch.testing.assert_close(fake_ours.grad, fake_ref.grad)
