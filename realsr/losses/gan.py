"""Adversarial losses on discriminator logits, with BasicSR's ``GANLoss`` semantics.

Types (``pred`` are raw discriminator outputs; ``t`` the target label, ``real_label_val`` for real
and ``fake_label_val`` for fake):

* ``"vanilla"``: binary cross-entropy with logits against ``t``;
* ``"lsgan"``: mean squared error against ``t``;
* ``"wgan"``: ``-mean(pred)`` for real, ``mean(pred)`` for fake (labels unused);
* ``"wgan_softplus"``: ``mean(softplus(-pred))`` for real, ``mean(softplus(pred))`` for fake
  (StyleGAN2's logistic / non-saturating loss);
* ``"hinge"``: discriminator ``mean(relu(1 - pred))`` for real, ``mean(relu(1 + pred))`` for fake;
  generator ``-mean(pred)``.

``loss_weight`` scales generator losses only; discriminator losses are never scaled.

The relativistic-average form (ESRGAN) compares each prediction with the mean prediction of the
other kind, exactly as BasicSR's ``ESRGANModel`` computes it (see the two ``relativistic_*``
methods).

Reference: Goodfellow et al. 2014; Mao et al. 2017 (LSGAN); Arjovsky et al. 2017 (WGAN);
Lim & Ye 2017 (hinge); Jolicoeur-Martineau 2018 (relativistic); Wang et al. 2018 (ESRGAN);
BasicSR ``basicsr/losses/gan_loss.py`` and ``basicsr/models/esrgan_model.py``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

GANType = Literal["vanilla", "lsgan", "wgan", "wgan_softplus", "hinge"]
GAN_TYPES: tuple[str, ...] = ("vanilla", "lsgan", "wgan", "wgan_softplus", "hinge")


class GANLoss(nn.Module):
    """Adversarial loss for generators and discriminators.

    Args:
        gan_type: ``"vanilla"``, ``"lsgan"``, ``"wgan"``, ``"wgan_softplus"`` or ``"hinge"``.
        real_label_val: target value for real samples (vanilla, lsgan).
        fake_label_val: target value for fake samples (vanilla, lsgan).
        loss_weight: multiplier of generator losses (discriminator losses are unscaled).

    Shape:
        pred: discriminator output of any shape (e.g. ``(N, 1)`` or a ``(N, 1, H, W)`` patch map);
        every loss is a scalar.

    Example:
        >>> loss = GANLoss("vanilla")
        >>> round(loss.generator_loss(torch.zeros(4, 1)).item(), 6)  # log 2
        0.693147
    """

    def __init__(
        self,
        gan_type: GANType,
        *,
        real_label_val: float = 1.0,
        fake_label_val: float = 0.0,
        loss_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if gan_type not in GAN_TYPES:
            raise ValueError(
                f"GANLoss: unknown gan_type {gan_type!r}; expected one of {', '.join(GAN_TYPES)}"
            )
        self.gan_type: str = gan_type
        self.real_label_val = float(real_label_val)
        self.fake_label_val = float(fake_label_val)
        self.loss_weight = float(loss_weight)

    def extra_repr(self) -> str:
        return (
            f"gan_type={self.gan_type!r}, real_label_val={self.real_label_val}, "
            f"fake_label_val={self.fake_label_val}, loss_weight={self.loss_weight}"
        )

    def _unweighted(self, pred: Tensor, target_is_real: bool, is_disc: bool) -> Tensor:
        kind = self.gan_type
        if kind == "hinge":
            if not is_disc:
                return -pred.mean()
            return F.relu(1 - pred if target_is_real else 1 + pred).mean()
        if kind == "wgan":
            return -pred.mean() if target_is_real else pred.mean()
        if kind == "wgan_softplus":
            return F.softplus(-pred if target_is_real else pred).mean()
        label = self.real_label_val if target_is_real else self.fake_label_val
        target = torch.full_like(pred, label)
        if kind == "vanilla":
            return F.binary_cross_entropy_with_logits(pred, target)
        return F.mse_loss(pred, target)

    def forward(self, pred: Tensor, target_is_real: bool, is_disc: bool = False) -> Tensor:
        """BasicSR's call: the loss of ``pred`` against the real or fake target.

        Args:
            pred: discriminator logits.
            target_is_real: score against the real target (True) or the fake one.
            is_disc: a discriminator loss (unscaled; hinge uses its two-sided form).

        Returns:
            A scalar; times ``loss_weight`` unless ``is_disc``.
        """
        loss = self._unweighted(pred, target_is_real, is_disc)
        return loss if is_disc else loss * self.loss_weight

    def generator_loss(self, fake_pred: Tensor) -> Tensor:
        """Generator loss: the fake predictions scored as real, times ``loss_weight``.

        Args:
            fake_pred: discriminator logits of generated images.

        Returns:
            A scalar.
        """
        return self(fake_pred, True, is_disc=False)

    def discriminator_loss(self, real_pred: Tensor, fake_pred: Tensor) -> tuple[Tensor, Tensor]:
        """Discriminator losses ``(on real, on fake)``; their sum is the objective.

        Args:
            real_pred: logits of real images.
            fake_pred: logits of generated images (detach the generator output first).

        Returns:
            ``(loss_real, loss_fake)``, unscaled.
        """
        return self(real_pred, True, is_disc=True), self(fake_pred, False, is_disc=True)

    def relativistic_generator_loss(self, real_pred: Tensor, fake_pred: Tensor) -> Tensor:
        """Relativistic-average generator loss (ESRGAN).

        ``(L(real - mean(fake), fake target) + L(fake - mean(real), real target)) / 2`` with
        ``real_pred`` detached, times ``loss_weight``.

        Args:
            real_pred: logits of real images (detached here).
            fake_pred: logits of generated images.

        Returns:
            A scalar.
        """
        real_pred = real_pred.detach()
        loss_real = self(real_pred - fake_pred.mean(), False, is_disc=False)
        loss_fake = self(fake_pred - real_pred.mean(), True, is_disc=False)
        return (loss_real + loss_fake) / 2

    def relativistic_discriminator_loss(
        self, real_pred: Tensor, fake_pred: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Relativistic-average discriminator losses ``(on real, on fake)`` (ESRGAN).

        ``0.5 * L(real - mean(fake), real target)`` with the fake mean detached, and
        ``0.5 * L(fake - mean(real), fake target)`` with the real mean detached: the values and
        the gradients of BasicSR's two separate backward passes.

        Args:
            real_pred: logits of real images.
            fake_pred: logits of generated images (detach the generator output first).

        Returns:
            ``(loss_real, loss_fake)``; their sum is the objective.
        """
        loss_real = self(real_pred - fake_pred.detach().mean(), True, is_disc=True) * 0.5
        loss_fake = self(fake_pred - real_pred.detach().mean(), False, is_disc=True) * 0.5
        return loss_real, loss_fake
