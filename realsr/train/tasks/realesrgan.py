"""Real-ESRGAN's tasks: RealESRNetModel (L1 only) and RealESRGANModel (L1 + perceptual + GAN).

The LR images are synthesised on the training device by the pipeline of
``options.degradation.spec`` (Real-ESRGAN's second-order model, built from the options file's
degradation keys; default the ``realesrgan_x4plus`` preset at ``options.scale``), with every draw
a function of ``(manual_seed, batch["key"])``, then ``gt_size`` patches are cropped and,
optionally (``degradation.use_pair_pool``), exchanged through Real-ESRGAN's training-pair pool.
With ``degradation.high_order_degradation: false`` (fine-tuning on paired data) the batch's ``lq``
is used instead.

* RealESRNetModel: with ``degradation.gt_usm`` the ground truth is USM-sharpened first, the LR is
  made from it and it is the target (realesrnet_model.py).
* RealESRGANModel: the LR is always made from USM(GT); each loss takes GT or USM(GT) as target
  by ``degradation.l1_gt_usm`` / ``percep_gt_usm`` / ``gan_gt_usm``, where USM(GT) is computed
  again on the final (cropped, pooled) GT, as realesrgan_model.py does. The optimisation is
  :class:`~realsr.train.tasks.gan.SRGANModel`'s, with a U-Net discriminator in the published
  recipes.
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from realsr.train.tasks.degradation import (
    PairMaker,
    TrainingPair,
    gt_size_from_options,
    pipeline_from_options,
    pool_from_options,
)
from realsr.train.tasks.gan import SRGANModel
from realsr.train.tasks.sr import SRModel

DEFAULT_PRESET = "realesrgan_x4plus"
"""Pipeline used when the options give no degradation (its scale follows ``options.scale``)."""


def _real_esrgan_pairs(task: SRModel, *, usm_gt: bool, gan: bool) -> PairMaker:
    options = task.options
    high_order = bool(options.degradation.high_order_degradation)
    return PairMaker(
        pipeline_from_options(options, default=DEFAULT_PRESET if high_order else None),
        scale=task.scale,
        gt_size=gt_size_from_options(options),
        lq="never" if high_order else "always",
        usm_gt=usm_gt,
        usm_source=gan,
        keep_gt_usm=gan,
        pool=pool_from_options(options) if high_order else None,
        owner=task.model_type,
    )


class RealESRNetModel(SRModel):
    """Real-ESRNet: a generator trained with L1 on online second-order degradations.

    Args:
        options: the run's options.
        device: where the networks, losses and degradations run.
    """

    model_type: ClassVar[str] = "RealESRNetModel"

    def build_pair_maker(self) -> PairMaker:
        return _real_esrgan_pairs(self, usm_gt=bool(self.options.degradation.gt_usm), gan=False)


class RealESRGANModel(SRGANModel):
    """Real-ESRGAN: L1 + VGG19 perceptual + GAN (U-Net SN discriminator) on online degradations.

    Args:
        options: the run's options.
        device: where the networks, losses and degradations run.
    """

    model_type: ClassVar[str] = "RealESRGANModel"

    def build_pair_maker(self) -> PairMaker:
        return _real_esrgan_pairs(self, usm_gt=False, gan=True)

    def loss_targets(self, pair: TrainingPair) -> tuple[Tensor, Tensor, Tensor]:
        """GT or USM(GT) per loss, by ``l1_gt_usm`` / ``percep_gt_usm`` / ``gan_gt_usm``."""
        if pair.gt_usm is None:
            raise ValueError(f"{self.model_type}: the training pair has no gt_usm")
        deg = self.options.degradation
        gt, gt_usm = pair.gt, pair.gt_usm
        return (
            gt_usm if deg.l1_gt_usm else gt,
            gt_usm if deg.percep_gt_usm else gt,
            gt_usm if deg.gan_gt_usm else gt,
        )


__all__ = ["DEFAULT_PRESET", "RealESRGANModel", "RealESRNetModel"]
