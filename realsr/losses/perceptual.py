"""Perceptual (VGG feature) loss with an optional Gram-matrix style term.

``loss = perceptual_weight * sum_l w_l * crit(phi_l(pred), phi_l(gt))`` and
``style = style_weight * sum_l w_l * crit(G(phi_l(pred)), G(phi_l(gt)))`` with ``phi_l`` the VGG19
activation of layer ``l`` (``convX_Y`` = before its ReLU), ``G`` the Gram matrix normalised by
``C * H * W``, and ``crit`` the mean absolute error (``"l1"``), the mean squared error (``"l2"``)
or the Frobenius norm of the difference (``"fro"``). ``gt`` is detached.

Reference: Johnson et al., "Perceptual Losses for Real-Time Style Transfer and Super-Resolution"
(2016); Gatys et al. (style); BasicSR ``PerceptualLoss``; Real-ESRGAN's layer weights.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from realsr.losses.vgg import VGG19_LAYER_NAMES, VGG19Features, vgg19_weights_file

REALESRGAN_LAYER_WEIGHTS: dict[str, float] = {
    "conv1_2": 0.1,
    "conv2_2": 0.1,
    "conv3_4": 1.0,
    "conv4_4": 1.0,
    "conv5_4": 1.0,
}
"""Real-ESRGAN's perceptual layer weights (``train_realesrgan_x4plus.yml``)."""

Criterion = Literal["l1", "l2", "fro"]


def gram_matrix(x: Tensor) -> Tensor:
    """Gram matrix of feature maps, normalised by ``C * H * W``.

    Shape:
        x: ``(N, C, H, W)``; returns ``(N, C, C)``.

    Example:
        >>> gram_matrix(torch.ones(1, 2, 3, 3)).tolist()
        [[[0.5, 0.5], [0.5, 0.5]]]
    """
    n, c, h, w = x.shape
    f = x.reshape(n, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


class PerceptualLoss(nn.Module):
    """VGG19 perceptual loss and Gram-matrix style loss (BasicSR's ``PerceptualLoss`` contract).

    Args:
        layer_weights: ``{layer name: weight}``; defaults to Real-ESRGAN's
            ``{conv1_2: 0.1, conv2_2: 0.1, conv3_4: 1, conv4_4: 1, conv5_4: 1}``.
        vgg_type: only ``"vgg19"`` (accepted for BasicSR option files).
        use_input_norm: normalise inputs with the ImageNet mean and std (inputs in [0, 1]).
        range_norm: inputs are in [-1, 1]; map them to [0, 1] first.
        perceptual_weight: weight of the feature term; 0 disables it (returned as None).
        style_weight: weight of the Gram term; 0 disables it (returned as None).
        criterion: ``"l1"``, ``"l2"`` or ``"fro"``.
        weights_path: a local torchvision VGG19 checkpoint; None looks for
            ``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``.
        pretrained: load the checkpoint (False keeps a random initialisation, for tests).

    Shape:
        pred, gt: ``(N, 3, H, W)``; returns two scalars (or None).

    Raises:
        FileNotFoundError: the checkpoint is absent (the message names the expected file).

    Reference: BasicSR ``basicsr/losses/basic_loss.py``.
    """

    def __init__(
        self,
        *,
        layer_weights: Mapping[str, float] | None = None,
        vgg_type: str = "vgg19",
        use_input_norm: bool = True,
        range_norm: bool = False,
        perceptual_weight: float = 1.0,
        style_weight: float = 0.0,
        criterion: Criterion = "l1",
        weights_path: str | os.PathLike[str] | None = None,
        pretrained: bool = True,
    ) -> None:
        super().__init__()
        if vgg_type != "vgg19":
            raise ValueError(f"PerceptualLoss: vgg_type {vgg_type!r} unsupported; only 'vgg19'")
        if criterion not in ("l1", "l2", "fro"):
            raise ValueError(
                f"PerceptualLoss: criterion {criterion!r} unsupported; expected l1, l2 or fro"
            )
        weights = dict(REALESRGAN_LAYER_WEIGHTS if layer_weights is None else layer_weights)
        if not weights:
            raise ValueError("PerceptualLoss: layer_weights is empty")
        unknown = [k for k in weights if k not in VGG19_LAYER_NAMES]
        if unknown:
            raise ValueError(f"PerceptualLoss: unknown VGG19 layers {unknown}")
        self.layer_weights = {k: float(v) for k, v in weights.items()}
        self.perceptual_weight = float(perceptual_weight)
        self.style_weight = float(style_weight)
        self.criterion: str = criterion
        last = max(self.layer_weights, key=VGG19_LAYER_NAMES.index)
        self.vgg = VGG19Features(
            last_layer=last, use_input_norm=use_input_norm, range_norm=range_norm
        )
        if pretrained:
            self.vgg.load_torchvision_weights(vgg19_weights_file(weights_path))
        self.vgg.eval()
        self.vgg.requires_grad_(False)

    def train(self, mode: bool = True) -> PerceptualLoss:
        """Switch the mode of the module; the VGG stays in eval mode."""
        super().train(mode)
        self.vgg.eval()
        return self

    def _distance(self, a: Tensor, b: Tensor) -> Tensor:
        if self.criterion == "l1":
            return F.l1_loss(a, b)
        if self.criterion == "l2":
            return F.mse_loss(a, b)
        return torch.linalg.vector_norm((a - b).flatten())

    def forward(self, pred: Tensor, gt: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """Perceptual and style losses.

        Args:
            pred: restored images.
            gt: ground truth (detached).

        Shape:
            pred, gt: ``(N, 3, H, W)``.

        Returns:
            ``(perceptual, style)``; a term whose weight is 0 is None.
        """
        if pred.shape != gt.shape:
            raise ValueError(
                f"PerceptualLoss: pred and gt shapes differ: {tuple(pred.shape)} vs {tuple(gt.shape)}"
            )
        names = list(self.layer_weights)
        pred_f = self.vgg(pred, names)
        with torch.no_grad():
            gt_f = self.vgg(gt.detach(), names)
        percep: Tensor | None = None
        style: Tensor | None = None
        if self.perceptual_weight > 0:
            terms = [self._distance(pred_f[k], gt_f[k]) * w for k, w in self.layer_weights.items()]
            percep = torch.stack(terms).sum() * self.perceptual_weight
        if self.style_weight > 0:
            terms = [
                self._distance(gram_matrix(pred_f[k]), gram_matrix(gt_f[k])) * w
                for k, w in self.layer_weights.items()
            ]
            style = torch.stack(terms).sum() * self.style_weight
        return percep, style
