"""VDSR: a 20-layer 3x3 CNN learning the residual of a bicubic-upsampled image.

Key names (``input``, ``residual_layer.N.conv``, ``output``, bias-free convolutions) follow the
common public PyTorch port (twtygqyy/pytorch-vdsr).

Reference: Kim et al., "Accurate Image Super-Resolution Using Very Deep Convolutional
Networks", CVPR 2016.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._base import SRArch, Variant, check_choice, check_positive


class _ConvReLU(nn.Module):
    def __init__(self, num_feat: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(num_feat, num_feat, 3, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(x))


class VDSR(SRArch):
    """Very deep residual SR network applied to a pre-upsampled image.

    Args:
        num_in_ch: Input channels (the paper uses the Y channel: 1).
        num_out_ch: Output channels; must equal ``num_in_ch`` (global residual).
        scale: SR factor the model was trained for (applied by the bicubic pre-upsampling).
        num_feat: Feature channels.
        num_layers: Total number of convolutions (20 in the paper), at least 2.
        input_upsampling: Pre-upsampling the input needs; only ``"bicubic"``.

    Shape:
        - input: (B, num_in_ch, H, W), already upsampled
        - output: (B, num_out_ch, H, W)
    """

    arch_name = "VDSR"

    def __init__(
        self,
        *,
        num_in_ch: int = 3,
        num_out_ch: int = 3,
        scale: int = 4,
        num_feat: int = 64,
        num_layers: int = 20,
        input_upsampling: str = "bicubic",
    ) -> None:
        check_positive("VDSR", num_in_ch=num_in_ch, scale=scale, num_feat=num_feat)
        check_choice("VDSR", "input_upsampling", input_upsampling, ("bicubic",))
        if num_layers < 2:
            raise ValueError(f"VDSR: num_layers must be >= 2, got {num_layers}")
        if num_in_ch != num_out_ch:
            raise ValueError(
                f"VDSR: num_in_ch ({num_in_ch}) must equal num_out_ch ({num_out_ch}) "
                "(global residual)"
            )
        super().__init__(
            {
                "num_in_ch": num_in_ch,
                "num_out_ch": num_out_ch,
                "scale": scale,
                "num_feat": num_feat,
                "num_layers": num_layers,
                "input_upsampling": input_upsampling,
            },
            scale=scale,
            in_channels=num_in_ch,
            out_channels=num_out_ch,
            input_upsampling=input_upsampling,
        )
        self.input = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1, bias=False)
        self.residual_layer = nn.Sequential(*(_ConvReLU(num_feat) for _ in range(num_layers - 2)))
        self.output = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1, bias=False)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):  # He init, as in the paper
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.output(self.residual_layer(F.relu(self.input(x))))
        return out + x


VARIANTS = (Variant("VDSR_paper", "VDSR", {"num_feat": 64, "num_layers": 20}, "VDSR, 20 layers"),)
