"""RDN: residual dense network (D residual dense blocks of C layers with growth G).

There is no BasicSR RDN; key names follow the public EDSR-PyTorch implementation by the EDSR
authors (``model/rdn.py``): ``SFENet1``, ``SFENet2``, ``RDBs.i.convs.j.conv.0``, ``RDBs.i.LFF``,
``GFF.0``, ``GFF.1``, ``UPNet.K``. Unlike that implementation, input and output channels may
differ and there is no mean shift (it has none either).

Reference: Zhang et al., "Residual Dense Network for Image Super-Resolution", CVPR 2018
(D = 16, C = 8, G = G0 = 64).
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import SRArch, Variant, check_choice, check_positive


class _DenseLayer(nn.Module):
    def __init__(self, in_ch: int, growth: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_ch, growth, kernel_size, 1, kernel_size // 2), nn.ReLU()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((x, self.conv(x)), 1)


class _RDB(nn.Module):
    def __init__(self, num_feat: int, growth: int, num_layers: int, kernel_size: int) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            *(_DenseLayer(num_feat + c * growth, growth, kernel_size) for c in range(num_layers))
        )
        self.LFF = nn.Conv2d(num_feat + num_layers * growth, num_feat, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.LFF(self.convs(x)) + x


class RDN(SRArch):
    """Residual dense network with global feature fusion and a pixel-shuffle tail.

    Args:
        num_in_ch: Input image channels.
        num_out_ch: Output image channels.
        upscale: Upscaling factor: 2, 3 or 4.
        num_feat: G0, channels between blocks.
        num_block: D, number of residual dense blocks.
        num_layer: C, convolutions per block.
        growth_rate: G, channels each convolution adds.
        kernel_size: Kernel size of the 3x3 convolutions (odd).

    Shape:
        - input: (B, num_in_ch, H, W)
        - output: (B, num_out_ch, H * upscale, W * upscale)
    """

    arch_name = "RDN"

    def __init__(
        self,
        *,
        num_in_ch: int = 3,
        num_out_ch: int = 3,
        upscale: int = 4,
        num_feat: int = 64,
        num_block: int = 16,
        num_layer: int = 8,
        growth_rate: int = 64,
        kernel_size: int = 3,
    ) -> None:
        check_positive(
            "RDN",
            num_in_ch=num_in_ch,
            num_out_ch=num_out_ch,
            num_feat=num_feat,
            num_block=num_block,
            num_layer=num_layer,
            growth_rate=growth_rate,
        )
        check_choice("RDN", "upscale", upscale, (2, 3, 4))
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"RDN: kernel_size must be odd and positive, got {kernel_size}")
        super().__init__(
            {
                "num_in_ch": num_in_ch,
                "num_out_ch": num_out_ch,
                "upscale": upscale,
                "num_feat": num_feat,
                "num_block": num_block,
                "num_layer": num_layer,
                "growth_rate": growth_rate,
                "kernel_size": kernel_size,
            },
            scale=upscale,
            in_channels=num_in_ch,
            out_channels=num_out_ch,
        )
        k, p, g0, g = kernel_size, kernel_size // 2, num_feat, growth_rate
        self.SFENet1 = nn.Conv2d(num_in_ch, g0, k, 1, p)
        self.SFENet2 = nn.Conv2d(g0, g0, k, 1, p)
        self.RDBs = nn.ModuleList(_RDB(g0, g, num_layer, k) for _ in range(num_block))
        self.GFF = nn.Sequential(nn.Conv2d(num_block * g0, g0, 1, 1, 0), nn.Conv2d(g0, g0, k, 1, p))
        up: list[nn.Module] = []
        if upscale == 4:
            up += [nn.Conv2d(g0, g * 4, k, 1, p), nn.PixelShuffle(2)]
            up += [nn.Conv2d(g, g * 4, k, 1, p), nn.PixelShuffle(2)]
        else:
            up += [nn.Conv2d(g0, g * upscale * upscale, k, 1, p), nn.PixelShuffle(upscale)]
        up.append(nn.Conv2d(g, num_out_ch, k, 1, p))
        self.UPNet = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f1 = self.SFENet1(x)
        feat = self.SFENet2(f1)
        outs = []
        for block in self.RDBs:
            feat = block(feat)
            outs.append(feat)
        feat = self.GFF(torch.cat(outs, 1)) + f1
        return self.UPNet(feat)


VARIANTS = (
    Variant(
        "RDN_paper",
        "RDN",
        {"num_feat": 64, "num_block": 16, "num_layer": 8, "growth_rate": 64},
        "RDN, D=16, C=8, G=G0=64",
    ),
)
