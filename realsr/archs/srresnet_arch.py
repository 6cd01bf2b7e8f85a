"""SRResNet (SRGAN's generator, with batch norm) and MSRResNet (BasicSR's BN-free variant).

``MSRResNet`` keys match ``basicsr.archs.srresnet_arch.MSRResNet``. BasicSR has no batch-norm
SRResNet; ``SRResNet`` uses BasicSR-style names (``conv_first``, ``body.N.conv1`` / ``bn1`` ...,
``conv_body`` / ``bn_body``, ``upsample.N``, ``conv_last``).

Reference: Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative
Adversarial Network", CVPR 2017.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._base import SRArch, Variant, check_choice, check_positive


def _scaled_kaiming_(modules: Sequence[nn.Module], factor: float) -> None:
    for m in modules:
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight)
            with torch.no_grad():
                m.weight.mul_(factor)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def _pixel_shuffle_steps(arch: str, scale: int) -> list[int]:
    """Factors of the pixel-shuffle stages: x2 per stage for powers of two, one x3 stage for 3."""
    if scale == 3:
        return [3]
    if scale >= 2 and scale & (scale - 1) == 0:
        return [2] * int(math.log2(scale))
    raise ValueError(f"{arch}: scale must be a power of two or 3, got {scale}")


class _ResBlockBN(nn.Module):
    def __init__(self, num_feat: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(num_feat)
        self.act = nn.PReLU()
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(num_feat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))


class SRResNet(SRArch):
    """SRGAN's generator: 9x9 head, residual blocks with batch norm and PReLU, pixel-shuffle tail.

    Args:
        num_in_ch: Input image channels.
        num_out_ch: Output image channels.
        num_feat: Feature channels (64).
        num_block: Residual blocks (16).
        upscale: Upscaling factor, a power of two or 3.

    Shape:
        - input: (B, num_in_ch, H, W)
        - output: (B, num_out_ch, H * upscale, W * upscale)
    """

    arch_name = "SRResNet"

    def __init__(
        self,
        *,
        num_in_ch: int = 3,
        num_out_ch: int = 3,
        num_feat: int = 64,
        num_block: int = 16,
        upscale: int = 4,
    ) -> None:
        check_positive("SRResNet", num_in_ch=num_in_ch, num_out_ch=num_out_ch, num_feat=num_feat)
        steps = _pixel_shuffle_steps("SRResNet", upscale)
        super().__init__(
            {
                "num_in_ch": num_in_ch,
                "num_out_ch": num_out_ch,
                "num_feat": num_feat,
                "num_block": num_block,
                "upscale": upscale,
            },
            scale=upscale,
            in_channels=num_in_ch,
            out_channels=num_out_ch,
        )
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 9, 1, 4)
        self.act_first = nn.PReLU()
        self.body = nn.Sequential(*(_ResBlockBN(num_feat) for _ in range(num_block)))
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.bn_body = nn.BatchNorm2d(num_feat)
        up: list[nn.Module] = []
        for r in steps:
            up += [nn.Conv2d(num_feat, num_feat * r * r, 3, 1, 1), nn.PixelShuffle(r), nn.PReLU()]
        self.upsample = nn.Sequential(*up)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 9, 1, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.act_first(self.conv_first(x))
        feat = feat + self.bn_body(self.conv_body(self.body(feat)))
        return self.conv_last(self.upsample(feat))


class _ResBlockNoBN(nn.Module):
    def __init__(self, num_feat: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        _scaled_kaiming_([self.conv1, self.conv2], 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class MSRResNet(SRArch):
    """Modified SRResNet (BasicSR): BN-free residual blocks, leaky ReLU, bilinear global skip.

    Args:
        num_in_ch: Input image channels.
        num_out_ch: Output image channels; must equal ``num_in_ch`` (the bilinear-upsampled
            input is added).
        num_feat: Feature channels.
        num_block: Residual blocks.
        upscale: Upscaling factor: 2, 3 or 4.

    Shape:
        - input: (B, num_in_ch, H, W)
        - output: (B, num_out_ch, H * upscale, W * upscale)
    """

    arch_name = "MSRResNet"

    def __init__(
        self,
        *,
        num_in_ch: int = 3,
        num_out_ch: int = 3,
        num_feat: int = 64,
        num_block: int = 16,
        upscale: int = 4,
    ) -> None:
        check_positive("MSRResNet", num_in_ch=num_in_ch, num_feat=num_feat)
        check_choice("MSRResNet", "upscale", upscale, (2, 3, 4))
        if num_in_ch != num_out_ch:
            raise ValueError(
                f"MSRResNet: num_in_ch ({num_in_ch}) must equal num_out_ch ({num_out_ch}) "
                "(the upsampled input is added)"
            )
        super().__init__(
            {
                "num_in_ch": num_in_ch,
                "num_out_ch": num_out_ch,
                "num_feat": num_feat,
                "num_block": num_block,
                "upscale": upscale,
            },
            scale=upscale,
            in_channels=num_in_ch,
            out_channels=num_out_ch,
        )
        self.upscale = upscale
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*(_ResBlockNoBN(num_feat) for _ in range(num_block)))
        r = 2 if upscale == 4 else upscale
        self.upconv1 = nn.Conv2d(num_feat, num_feat * r * r, 3, 1, 1)
        self.upconv2 = nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1) if upscale == 4 else None
        self.pixel_shuffle = nn.PixelShuffle(r)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)
        _scaled_kaiming_(
            [self.conv_first, self.upconv1, self.conv_hr, self.conv_last]
            + ([self.upconv2] if self.upconv2 is not None else []),
            0.1,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(F.leaky_relu(self.conv_first(x), 0.1))
        out = F.leaky_relu(self.pixel_shuffle(self.upconv1(out)), 0.1)
        if self.upconv2 is not None:
            out = F.leaky_relu(self.pixel_shuffle(self.upconv2(out)), 0.1)
        out = self.conv_last(F.leaky_relu(self.conv_hr(out), 0.1))
        base = F.interpolate(x, scale_factor=self.upscale, mode="bilinear", align_corners=False)
        return out + base


VARIANTS = (
    Variant(
        "SRResNet_x4",
        "SRResNet",
        {"num_feat": 64, "num_block": 16, "upscale": 4},
        "SRGAN's SRResNet x4",
    ),
    Variant(
        "MSRResNet_x4",
        "MSRResNet",
        {"num_feat": 64, "num_block": 16, "upscale": 4},
        "BasicSR MSRResNet x4 (001_MSRResNet_x4_f64b16)",
    ),
)
