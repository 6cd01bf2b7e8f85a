"""EDSR: enhanced deep residual network (BN-free residual blocks, residual scaling, mean shift).

Keys match ``basicsr.archs.edsr_arch.EDSR`` (``conv_first``, ``body.N.conv1/conv2``,
``conv_after_body``, ``upsample.K``, ``conv_last``); the mean is a non-persistent buffer, as
BasicSR keeps it out of the state dict.

Reference: Lim et al., "Enhanced Deep Residual Networks for Single Image Super-Resolution",
CVPRW 2017 (baseline: 16 blocks, 64 channels; paper model: 32 blocks, 256 channels, residual
scaling 0.1).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._base import SRArch, Variant, check_positive
from .srresnet_arch import _pixel_shuffle_steps

DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)


class _ResBlock(nn.Module):
    def __init__(self, num_feat: int, res_scale: float) -> None:
        super().__init__()
        self.res_scale = res_scale
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x))) * self.res_scale


class EDSR(SRArch):
    """EDSR with BasicSR's input normalisation ``(x - rgb_mean) * img_range``.

    Args:
        num_in_ch: Input image channels.
        num_out_ch: Output image channels; must equal ``num_in_ch`` (the mean is added back).
        num_feat: Feature channels.
        num_block: Residual blocks.
        upscale: Upscaling factor, a power of two or 3.
        res_scale: Residual scaling in each block.
        img_range: Multiplier applied after mean subtraction (255: the network sees 0-255 values).
        rgb_mean: Per-channel mean, one value per input channel (DIV2K RGB mean by default;
            give one value for 1-channel models).

    Shape:
        - input: (B, num_in_ch, H, W)
        - output: (B, num_out_ch, H * upscale, W * upscale)
    """

    arch_name = "EDSR"
    mean: torch.Tensor

    def __init__(
        self,
        *,
        num_in_ch: int = 3,
        num_out_ch: int = 3,
        num_feat: int = 64,
        num_block: int = 16,
        upscale: int = 4,
        res_scale: float = 1.0,
        img_range: float = 255.0,
        rgb_mean: Sequence[float] = DIV2K_RGB_MEAN,
    ) -> None:
        check_positive(
            "EDSR", num_in_ch=num_in_ch, num_feat=num_feat, res_scale=res_scale, img_range=img_range
        )
        steps = _pixel_shuffle_steps("EDSR", upscale)
        mean = [float(v) for v in rgb_mean]
        if num_in_ch != num_out_ch or len(mean) != num_in_ch:
            raise ValueError(
                f"EDSR: num_in_ch ({num_in_ch}), num_out_ch ({num_out_ch}) and len(rgb_mean) "
                f"({len(mean)}) must be equal"
            )
        super().__init__(
            {
                "num_in_ch": num_in_ch,
                "num_out_ch": num_out_ch,
                "num_feat": num_feat,
                "num_block": num_block,
                "upscale": upscale,
                "res_scale": float(res_scale),
                "img_range": float(img_range),
                "rgb_mean": mean,
            },
            scale=upscale,
            in_channels=num_in_ch,
            out_channels=num_out_ch,
        )
        self.img_range = float(img_range)
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(
            *(_ResBlock(num_feat, float(res_scale)) for _ in range(num_block))
        )
        self.conv_after_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        up: list[nn.Module] = []
        for r in steps:
            up += [nn.Conv2d(num_feat, num_feat * r * r, 3, 1, 1), nn.PixelShuffle(r)]
        self.upsample = nn.Sequential(*up)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = self.mean.to(x.dtype)
        feat = self.conv_first((x - mean) * self.img_range)
        feat = feat + self.conv_after_body(self.body(feat))
        return self.conv_last(self.upsample(feat)) / self.img_range + mean


VARIANTS = (
    Variant(
        "EDSR_baseline",
        "EDSR",
        {"num_feat": 64, "num_block": 16, "res_scale": 1.0},
        "EDSR baseline: 16 blocks, 64 channels",
    ),
    Variant(
        "EDSR_paper",
        "EDSR",
        {"num_feat": 256, "num_block": 32, "res_scale": 0.1},
        "EDSR paper model: 32 blocks, 256 channels, residual scaling 0.1",
    ),
)
