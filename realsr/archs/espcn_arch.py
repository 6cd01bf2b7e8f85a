"""ESPCN: efficient sub-pixel convolutional network (features in LR space, pixel-shuffle output).

Key names (``first_part.0``, ``first_part.2``, ``last_part.0``) follow the common public PyTorch
port (yjn870/ESPCN-pytorch).

Reference: Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient
Sub-Pixel Convolutional Neural Network", CVPR 2016 (5-3-3 kernels, 64 / 32 channels, tanh).
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import SRArch, Variant, check_choice, check_positive


class ESPCN(SRArch):
    """Two convolutions with an activation, then a convolution to ``out * scale**2`` channels.

    Args:
        num_in_ch: Input image channels.
        num_out_ch: Output image channels.
        scale: Upscaling factor.
        num_feat: Channels of the first layer.
        num_feat2: Channels of the second layer.
        act_type: ``"tanh"`` (paper) or ``"relu"``.

    Shape:
        - input: (B, num_in_ch, H, W)
        - output: (B, num_out_ch, H * scale, W * scale)
    """

    arch_name = "ESPCN"

    def __init__(
        self,
        *,
        num_in_ch: int = 3,
        num_out_ch: int = 3,
        scale: int = 4,
        num_feat: int = 64,
        num_feat2: int = 32,
        act_type: str = "tanh",
    ) -> None:
        check_positive(
            "ESPCN",
            num_in_ch=num_in_ch,
            num_out_ch=num_out_ch,
            scale=scale,
            num_feat=num_feat,
            num_feat2=num_feat2,
        )
        check_choice("ESPCN", "act_type", act_type, ("tanh", "relu"))
        super().__init__(
            {
                "num_in_ch": num_in_ch,
                "num_out_ch": num_out_ch,
                "scale": scale,
                "num_feat": num_feat,
                "num_feat2": num_feat2,
                "act_type": act_type,
            },
            scale=scale,
            in_channels=num_in_ch,
            out_channels=num_out_ch,
        )

        def act() -> nn.Module:
            return nn.Tanh() if act_type == "tanh" else nn.ReLU()

        self.first_part = nn.Sequential(
            nn.Conv2d(num_in_ch, num_feat, 5, padding=2),
            act(),
            nn.Conv2d(num_feat, num_feat2, 3, padding=1),
            act(),
        )
        self.last_part = nn.Sequential(
            nn.Conv2d(num_feat2, num_out_ch * scale**2, 3, padding=1), nn.PixelShuffle(scale)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last_part(self.first_part(x))


VARIANTS = (
    Variant("ESPCN_paper", "ESPCN", {"num_feat": 64, "num_feat2": 32}, "ESPCN 5-3-3, tanh"),
)
