"""SRVGGNetCompact: Real-ESRGAN's compact VGG-style model (realesr-general / animevideo v3).

State-dict keys match ``realesrgan.archs.srvgg_arch.SRVGGNetCompact`` (``body.N.weight``, PReLU
slopes as ``body.N.weight`` of the odd entries).

Reference: Real-ESRGAN (Wang et al., ICCVW 2021), compact models released in v0.2.3 - v0.2.5.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._base import SRArch, Variant, check_choice, check_positive

ACT_TYPES = ("prelu", "relu", "leakyrelu", "lrelu")


def _activation(act_type: str, num_feat: int) -> nn.Module:
    if act_type == "prelu":
        return nn.PReLU(num_parameters=num_feat)
    if act_type == "relu":
        return nn.ReLU()
    return nn.LeakyReLU(negative_slope=0.1)


class SRVGGNetCompact(SRArch):
    """Plain stack of 3x3 convolutions in LR space, a pixel-shuffle, plus a nearest-upsampled input.

    Args:
        num_in_ch: Input image channels.
        num_out_ch: Output image channels; must equal ``num_in_ch`` (the nearest-upsampled
            input is added to the output).
        num_feat: Feature channels.
        num_conv: Number of body convolutions (32 for realesr-general-x4v3, 16 for animevideov3).
        upscale: Upscaling factor (1, 2, 3, 4, ...).
        act_type: ``"prelu"`` (the released models), ``"relu"``, or ``"leakyrelu"`` / ``"lrelu"``
            (slope 0.1).

    Shape:
        - input: (B, num_in_ch, H, W)
        - output: (B, num_out_ch, H * upscale, W * upscale)

    Example:
        >>> net = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2)
        >>> tuple(net(torch.rand(1, 3, 5, 7)).shape)
        (1, 3, 10, 14)
    """

    arch_name = "SRVGGNetCompact"

    def __init__(
        self,
        *,
        num_in_ch: int = 3,
        num_out_ch: int = 3,
        num_feat: int = 64,
        num_conv: int = 16,
        upscale: int = 4,
        act_type: str = "prelu",
    ) -> None:
        check_choice("SRVGGNetCompact", "act_type", act_type, ACT_TYPES)
        check_positive(
            "SRVGGNetCompact",
            num_in_ch=num_in_ch,
            num_out_ch=num_out_ch,
            num_feat=num_feat,
            upscale=upscale,
        )
        if num_conv < 0:
            raise ValueError(f"SRVGGNetCompact: num_conv must be >= 0, got {num_conv}")
        if num_in_ch != num_out_ch:
            raise ValueError(
                f"SRVGGNetCompact: num_in_ch ({num_in_ch}) must equal num_out_ch ({num_out_ch}) "
                "because the upsampled input is added to the output"
            )
        super().__init__(
            {
                "num_in_ch": num_in_ch,
                "num_out_ch": num_out_ch,
                "num_feat": num_feat,
                "num_conv": num_conv,
                "upscale": upscale,
                "act_type": act_type,
            },
            scale=upscale,
            in_channels=num_in_ch,
            out_channels=num_out_ch,
        )
        layers: list[nn.Module] = [nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)]
        layers.append(_activation(act_type, num_feat))
        for _ in range(num_conv):
            layers += [nn.Conv2d(num_feat, num_feat, 3, 1, 1), _activation(act_type, num_feat)]
        layers.append(nn.Conv2d(num_feat, num_out_ch * upscale * upscale, 3, 1, 1))
        self.body = nn.ModuleList(layers)
        self.upsampler = nn.PixelShuffle(upscale)
        self.upscale = upscale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self.body:
            out = layer(out)
        out = self.upsampler(out)
        return out + F.interpolate(x, scale_factor=self.upscale, mode="nearest")


VARIANTS = (
    Variant(
        "realesr-general-x4v3",
        "SRVGGNetCompact",
        {
            "num_in_ch": 3,
            "num_out_ch": 3,
            "num_feat": 64,
            "num_conv": 32,
            "upscale": 4,
            "act_type": "prelu",
        },
        "Real-ESRGAN compact x4 general model (also realesr-general-wdn-x4v3)",
    ),
    Variant(
        "realesr-animevideov3",
        "SRVGGNetCompact",
        {
            "num_in_ch": 3,
            "num_out_ch": 3,
            "num_feat": 64,
            "num_conv": 16,
            "upscale": 4,
            "act_type": "prelu",
        },
        "Real-ESRGAN compact x4 anime video model",
    ),
)
