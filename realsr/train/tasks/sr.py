"""SRModel: a generator trained with pixel (and optionally perceptual) losses.

Paired batches (with ``lq``) are used as they are; HR-only batches are degraded on the device with
the pipeline of ``options.degradation.spec`` (default: the ``bicubic`` preset at
``options.scale``) and cropped to ``gt_size``. Losses are BasicSR's: ``l_pix`` from
``train.pixel_opt`` and ``l_percep`` / ``l_style`` from ``train.perceptual_opt``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor, nn

from realsr.archs import crop_padding, pad_to_multiple
from realsr.config import ConfigError
from realsr.train.ema import unwrap
from realsr.train.task import StepContext, Task
from realsr.train.tasks.build import build_loss, build_network
from realsr.train.tasks.degradation import (
    PairMaker,
    TrainingPair,
    gt_size_from_options,
    pipeline_from_options,
    pool_from_options,
)
from realsr.train.tasks.pretrained import load_pretrained_from_options

if TYPE_CHECKING:
    from realsr.config import TrainOptions, TypedSection

POOL_STATE_KEY = "pair_pool"


def optional_loss(section: TypedSection | None, device: torch.device) -> nn.Module | None:
    """``build_loss(section)``, or None when the option is absent."""
    return None if section is None else build_loss(section, device=device)


class SRModel(Task):
    """Single-image SR with pixel / perceptual losses (BasicSR's ``SRModel``).

    Args:
        options: the run's options (``network_g``, ``path.pretrain_network_g``,
            ``train.pixel_opt`` / ``train.perceptual_opt``, ``degradation``).
        device: where the networks and losses live.

    Raises:
        ConfigError: neither ``train.pixel_opt`` nor ``train.perceptual_opt`` is set, or a bad
            network / loss section.
        FileNotFoundError: a configured pretrained file or the VGG19 weights are absent.
    """

    model_type: ClassVar[str] = "SRModel"

    def __init__(self, options: TrainOptions, *, device: torch.device) -> None:
        super().__init__(options, device=device)
        self.scale = int(options.scale)
        self.net_g: nn.Module = build_network(options.network_g, device=device)
        load_pretrained_from_options(self.net_g, options.path, "g")
        self.net_g.train()
        train = options.train
        self.cri_pix = optional_loss(train.pixel_opt, device)
        self.cri_perceptual = optional_loss(train.perceptual_opt, device)
        self.check_losses()
        self.pairs = self.build_pair_maker()

    # -- construction hooks ------------------------------------------------------------------ #
    def check_losses(self) -> None:
        """Refuse a configuration without any generator loss."""
        if self.cri_pix is None and self.cri_perceptual is None:
            raise ConfigError(
                f"train.pixel_opt: {self.model_type} needs train.pixel_opt or "
                "train.perceptual_opt (both are missing)"
            )

    def build_pair_maker(self) -> PairMaker:
        """How batches become training pairs (here: ``lq`` if given, else the pipeline)."""
        options = self.options
        return PairMaker(
            pipeline_from_options(options, default="bicubic"),
            scale=self.scale,
            gt_size=gt_size_from_options(options),
            lq="auto",
            usm_gt=bool(options.degradation.gt_usm),
            pool=pool_from_options(options),
            owner=self.model_type,
        )

    # -- the contract ------------------------------------------------------------------------ #
    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.net_g}

    def set_networks(self, nets: Mapping[str, nn.Module]) -> None:
        if set(nets) != set(self.networks()):
            raise ValueError(
                f"{self.model_type}.set_networks: expected {sorted(self.networks())}, got {sorted(nets)}"
            )
        for name, net in nets.items():
            setattr(self, f"net_{name}", net)

    def make_pair(self, batch: Mapping[str, Any], ctx: StepContext) -> TrainingPair:
        """The (LR, HR) pair of a training batch, on its device (no gradients)."""
        return self.pairs(batch, seed=ctx.seed)

    def training_step(self, batch: dict[str, Any], ctx: StepContext) -> dict[str, Tensor]:
        return self.optimize(self.make_pair(batch, ctx), ctx)

    def generator_input(self, net: nn.Module, lq: Tensor) -> Tensor:
        """``lq``, enlarged by MATLAB bicubic first for pre-upsampling nets (SRCNN, VDSR)."""
        if getattr(unwrap(net), "input_upsampling", None) == "bicubic":
            from degrade.functional.imresize import imresize

            return imresize(lq, scale=self.scale).clamp(0, 1)
        return lq

    def generator_losses(
        self, output: Tensor, pix_gt: Tensor, percep_gt: Tensor
    ) -> dict[str, Tensor]:
        """Pixel and perceptual terms by their BasicSR log names (``prefix`` + pix/percep/style).

        Call inside ``ctx.autocast()``; the pixel loss is computed in float32.
        """
        prefix = self.loss_prefix
        losses: dict[str, Tensor] = {}
        if self.cri_pix is not None:
            losses[f"{prefix}pix"] = self.cri_pix(output.float(), pix_gt)
        if self.cri_perceptual is not None:
            percep, style = self.cri_perceptual(output, percep_gt)
            if percep is not None:
                losses[f"{prefix}percep"] = percep.float()
            if style is not None:
                losses[f"{prefix}style"] = style.float()
        return losses

    loss_prefix: ClassVar[str] = "l_"
    """Log-name prefix of the generator losses (``l_pix``; GAN tasks use ``l_g_pix``)."""

    def optimize(self, pair: TrainingPair, ctx: StepContext) -> dict[str, Tensor]:
        """One generator step on a ready pair; returns the detached losses to log."""
        lq = self.generator_input(self.net_g, pair.lq)
        with ctx.autocast():
            output = self.net_g(lq)
            losses = self.generator_losses(output, pair.gt, pair.gt)
        ctx.optimize("g", _total(losses))
        return {k: v.detach() for k, v in losses.items()}

    @torch.no_grad()
    def validation_step(self, batch: dict[str, Any], generator: nn.Module) -> dict[str, Tensor]:
        lq, gt = self.pairs.validation_input(batch, seed=int(self.options.manual_seed))
        net = unwrap(generator)
        x = self.generator_input(net, lq)
        x, pad = pad_to_multiple(x, int(getattr(net, "size_multiple", 1)))
        out_scale = int(getattr(net, "output_scale", self.scale))
        sr = crop_padding(generator(x), pad, out_scale).float().clamp(0, 1)
        if gt is None:
            return {"sr": sr}
        h, w = min(sr.shape[-2], gt.shape[-2]), min(sr.shape[-1], gt.shape[-1])
        return {"sr": sr[..., :h, :w], "gt": gt[..., :h, :w].float().clamp(0, 1)}

    # -- resume state ------------------------------------------------------------------------ #
    def state_dict(self) -> dict[str, Any]:
        pool = self.pairs.pool
        return {POOL_STATE_KEY: pool.state_dict()} if pool is not None else {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        unknown = sorted(set(state) - {POOL_STATE_KEY})
        if unknown:
            raise ValueError(f"{self.model_type}: unknown task state {unknown}")
        pool = self.pairs.pool
        if POOL_STATE_KEY not in state:
            return
        if pool is None:
            raise ValueError(
                f"{self.model_type}: the resume state holds a pair pool but "
                "degradation.use_pair_pool is off"
            )
        pool.load_state_dict(dict(state[POOL_STATE_KEY]))
        if pool.lq is not None and pool.gt is not None:
            pool.lq, pool.gt = pool.lq.to(self.device), pool.gt.to(self.device)


def _total(losses: Mapping[str, Tensor]) -> Tensor:
    """The sum of the loss terms, in insertion order."""
    terms = list(losses.values())
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


__all__ = ["SRModel", "optional_loss"]
