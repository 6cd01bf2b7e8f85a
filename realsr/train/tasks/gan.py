"""Adversarial tasks: SRGANModel (standard GAN) and ESRGANModel (relativistic-average GAN).

One iteration, as BasicSR's ``SRGANModel.optimize_parameters``:

1. Generator step, run only when ``iteration % net_d_iters == 0`` and
   ``iteration > net_d_init_iters``: the discriminator is frozen (``requires_grad`` False), the
   generator is trained with its pixel / perceptual terms plus the adversarial term
   (``l_g_pix``, ``l_g_percep``, ``l_g_style``, ``l_g_gan``). Otherwise the generator output is
   still computed (without gradients) for the discriminator.
2. Discriminator step, every iteration: on the real images, then on ``output.detach()``
   (``l_d_real``, ``l_d_fake``, ``out_d_real``, ``out_d_fake``), each term backwarded before the
   next forward pass (one optimizer step), so only one discriminator graph is alive at a time.

During the generator step the discriminator is called unwrapped (outside DDP): its weights are
frozen there, so it has no gradients to synchronise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch
from torch import Tensor, nn

from realsr.config import ConfigError
from realsr.losses import GANLoss
from realsr.train.ema import unwrap
from realsr.train.task import StepContext
from realsr.train.tasks.build import build_loss, build_network
from realsr.train.tasks.degradation import TrainingPair
from realsr.train.tasks.pretrained import load_pretrained_from_options
from realsr.train.tasks.sr import SRModel, _total

if TYPE_CHECKING:
    from realsr.config import TrainOptions


class SRGANModel(SRModel):
    """SRGAN training: generator losses plus a standard GAN loss (BasicSR's ``SRGANModel``).

    Data as :class:`~realsr.train.tasks.sr.SRModel` (paired, or HR degraded by the pipeline,
    default bicubic). Needs ``network_d`` and ``train.gan_opt`` (a ``GANLoss``).

    Args:
        options: the run's options.
        device: where the networks and losses live.

    Raises:
        ConfigError: ``network_d`` or ``train.gan_opt`` missing, ``gan_opt`` not a GANLoss, or
            ``train.net_d_iters`` < 1.
    """

    model_type: ClassVar[str] = "SRGANModel"
    loss_prefix: ClassVar[str] = "l_g_"

    def __init__(self, options: TrainOptions, *, device: torch.device) -> None:
        super().__init__(options, device=device)
        if options.network_d is None:
            raise ConfigError(f"network_d: required by {self.model_type}")
        self.net_d: nn.Module = build_network(options.network_d, device=device)
        load_pretrained_from_options(self.net_d, options.path, "d")
        self.net_d.train()
        train = options.train
        if train.gan_opt is None:
            raise ConfigError(f"train.gan_opt: required by {self.model_type}")
        cri_gan = build_loss(train.gan_opt, device=device)
        if not isinstance(cri_gan, GANLoss):
            raise ConfigError(
                f"train.gan_opt.type: {self.model_type} needs a GANLoss, got {train.gan_opt.type!r}"
            )
        self.cri_gan = cri_gan
        self.net_d_iters = int(train.net_d_iters)
        self.net_d_init_iters = int(train.net_d_init_iters)
        if self.net_d_iters < 1:
            raise ConfigError(f"train.net_d_iters: must be >= 1, got {self.net_d_iters}")

    def check_losses(self) -> None:
        """GAN tasks may train with the adversarial loss alone."""

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.net_g, "d": self.net_d}

    # -- the adversarial terms (overridden by ESRGANModel) ----------------------------------- #
    def loss_targets(self, pair: TrainingPair) -> tuple[Tensor, Tensor, Tensor]:
        """Targets of the pixel, perceptual and GAN terms (here: all ``pair.gt``)."""
        return pair.gt, pair.gt, pair.gt

    def generator_gan_loss(self, net_d: nn.Module, output: Tensor, real: Tensor) -> Tensor:
        """The generator's adversarial term (``l_g_gan``): fakes scored as real."""
        return self.cri_gan(net_d(output).float(), True, is_disc=False)

    def discriminator_step(self, fake: Tensor, real: Tensor, ctx: StepContext) -> dict[str, Tensor]:
        """One discriminator step: real images first, then fakes, each backwarded in turn.

        Returns:
            The logs ``l_d_real``, ``l_d_fake``, ``out_d_real``, ``out_d_fake``.
        """
        with ctx.optimizing("d") as step:
            with ctx.autocast():
                real_pred = self.net_d(real).float()
                l_real = self.cri_gan(real_pred, True, is_disc=True)
            step.backward(l_real)
            with ctx.autocast():
                fake_pred = self.net_d(fake).float()
                l_fake = self.cri_gan(fake_pred, False, is_disc=True)
            step.backward(l_fake)
        return _discriminator_logs(l_real, l_fake, real_pred, fake_pred)

    # -- one iteration ----------------------------------------------------------------------- #
    def generator_steps(self, iteration: int) -> bool:
        """Whether the generator is trained at ``iteration`` (1-based)."""
        return iteration % self.net_d_iters == 0 and iteration > self.net_d_init_iters

    def optimize(self, pair: TrainingPair, ctx: StepContext) -> dict[str, Tensor]:
        """A generator step (when due) then a discriminator step; returns the logs."""
        pix_gt, percep_gt, gan_gt = self.loss_targets(pair)
        lq = self.generator_input(self.net_g, pair.lq)
        logs: dict[str, Tensor] = {}
        if self.generator_steps(ctx.iteration):
            net_d = unwrap(self.net_d)
            params = list(net_d.parameters())
            trainable = [p.requires_grad for p in params]
            net_d.requires_grad_(False)
            try:
                with ctx.autocast():
                    output = self.net_g(lq)
                    losses = self.generator_losses(output, pix_gt, percep_gt)
                    losses[f"{self.loss_prefix}gan"] = self.generator_gan_loss(
                        net_d, output, gan_gt
                    )
                ctx.optimize("g", _total(losses))
            finally:
                for p, flag in zip(params, trainable, strict=True):
                    p.requires_grad_(flag)
            logs.update((k, v.detach()) for k, v in losses.items())
        else:
            with torch.no_grad(), ctx.autocast():
                output = self.net_g(lq)
        logs.update(self.discriminator_step(output.detach(), gan_gt, ctx))
        return logs


class ESRGANModel(SRGANModel):
    """ESRGAN training: relativistic-average GAN (BasicSR's ``ESRGANModel``).

    The generator term is ``(L(real - mean(fake), fake) + L(fake - mean(real), real)) / 2`` with
    the real predictions detached; the discriminator terms carry BasicSR's 0.5 factors
    (:meth:`realsr.losses.GANLoss.relativistic_discriminator_loss`).

    The discriminator step runs BasicSR's three forward passes in its order: the fakes without
    gradients (for the mean the real term is relative to), the reals (backwarded), then the fakes
    again (backwarded), so one graph is alive at a time and batch-norm running statistics see the
    same updates as in BasicSR.
    """

    model_type: ClassVar[str] = "ESRGANModel"

    def generator_gan_loss(self, net_d: nn.Module, output: Tensor, real: Tensor) -> Tensor:
        with torch.no_grad():
            real_pred = net_d(real).float()
        fake_pred = net_d(output).float()
        return self.cri_gan.relativistic_generator_loss(real_pred, fake_pred)

    def discriminator_step(self, fake: Tensor, real: Tensor, ctx: StepContext) -> dict[str, Tensor]:
        relativistic = self.cri_gan.relativistic_discriminator_loss
        with ctx.optimizing("d") as step:
            with torch.no_grad(), ctx.autocast():
                fake_reference = self.net_d(fake).float()
            with ctx.autocast():
                real_pred = self.net_d(real).float()
                l_real, _ = relativistic(real_pred, fake_reference)
            step.backward(l_real)
            with ctx.autocast():
                fake_pred = self.net_d(fake).float()
                _, l_fake = relativistic(real_pred.detach(), fake_pred)
            step.backward(l_fake)
        return _discriminator_logs(l_real, l_fake, real_pred, fake_pred)


def _discriminator_logs(
    l_real: Tensor, l_fake: Tensor, real_pred: Tensor, fake_pred: Tensor
) -> dict[str, Tensor]:
    return {
        "l_d_real": l_real.detach(),
        "l_d_fake": l_fake.detach(),
        "out_d_real": real_pred.detach().mean(),
        "out_d_fake": fake_pred.detach().mean(),
    }


__all__ = ["ESRGANModel", "SRGANModel"]
