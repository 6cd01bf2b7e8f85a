"""RRDBNet: the ESRGAN / Real-ESRGAN generator (Residual-in-Residual Dense Blocks).

State-dict keys and shapes match ``basicsr.archs.rrdbnet_arch.RRDBNet``, so the published
Real-ESRGAN / BasicSR ``.pth`` files load unchanged. Scales 2 and 1 fold the input into channels
with a pixel-unshuffle first, as Real-ESRGAN does, so the input size must then be a multiple of
2 (x2) or 4 (x1): see `realsr.archs.pad_to_multiple`.

Reference: Wang et al., "ESRGAN: Enhanced Super-Resolution Generative Adversarial Networks",
ECCVW 2018; Wang et al., "Real-ESRGAN", ICCVW 2021.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._base import SRArch, Variant, check_choice, check_positive


def _scaled_kaiming_(modules: list[nn.Conv2d], factor: float) -> None:
    """Kaiming-normal init multiplied by ``factor``, zero bias (ESRGAN's residual-block init)."""
    for conv in modules:
        nn.init.kaiming_normal_(conv.weight)
        with torch.no_grad():
            conv.weight.mul_(factor)
        if conv.bias is not None:
            nn.init.zeros_(conv.bias)


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3x3 convolutions with a 0.2-scaled residual.

    Args:
        num_feat: Channels in and out.
        num_grow_ch: Channels added by each of the first four convolutions.
    """

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        f, g = num_feat, num_grow_ch
        self.conv1 = nn.Conv2d(f, g, 3, 1, 1)
        self.conv2 = nn.Conv2d(f + g, g, 3, 1, 1)
        self.conv3 = nn.Conv2d(f + 2 * g, g, 3, 1, 1)
        self.conv4 = nn.Conv2d(f + 3 * g, g, 3, 1, 1)
        self.conv5 = nn.Conv2d(f + 4 * g, f, 3, 1, 1)
        _scaled_kaiming_([self.conv1, self.conv2, self.conv3, self.conv4, self.conv5], 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            feats.append(F.leaky_relu(conv(torch.cat(feats, 1)), 0.2, inplace=True))
        return self.conv5(torch.cat(feats, 1)) * 0.2 + x


class RRDB(nn.Module):
    """Three residual dense blocks with a 0.2-scaled outer residual.

    Args:
        num_feat: Channels in and out.
        num_grow_ch: Growth channels of each dense block.
    """

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


#: Elements of one full-resolution feature map above which inference runs the tail in bands.
_TAIL_BUDGET = 1 << 24


class RRDBNet(SRArch):
    """ESRGAN generator with Real-ESRGAN's x2 / x1 pixel-unshuffle front end.

    Args:
        num_in_ch: Input image channels (3 for RGB, 1 for grey).
        num_out_ch: Output image channels.
        scale: Upscaling factor, 1, 2 or 4.
        num_feat: Trunk feature channels.
        num_block: Number of RRDB blocks (23 for RealESRGAN_x4plus, 6 for the anime model).
        num_grow_ch: Growth channels in the dense blocks.

    Shape:
        - input: (B, num_in_ch, H, W), H and W multiples of 4 // scale
        - output: (B, num_out_ch, H * scale, W * scale)

    Example:
        >>> net = RRDBNet(num_in_ch=3, num_out_ch=3, scale=2, num_feat=8, num_block=1, num_grow_ch=4)
        >>> tuple(net(torch.rand(1, 3, 8, 6)).shape)
        (1, 3, 16, 12)
    """

    arch_name = "RRDBNet"

    def __init__(
        self,
        *,
        num_in_ch: int = 3,
        num_out_ch: int = 3,
        scale: int = 4,
        num_feat: int = 64,
        num_block: int = 23,
        num_grow_ch: int = 32,
    ) -> None:
        check_choice("RRDBNet", "scale", scale, (1, 2, 4))
        check_positive(
            "RRDBNet",
            num_in_ch=num_in_ch,
            num_out_ch=num_out_ch,
            num_feat=num_feat,
            num_block=num_block,
            num_grow_ch=num_grow_ch,
        )
        super().__init__(
            {
                "num_in_ch": num_in_ch,
                "num_out_ch": num_out_ch,
                "scale": scale,
                "num_feat": num_feat,
                "num_block": num_block,
                "num_grow_ch": num_grow_ch,
            },
            scale=scale,
            in_channels=num_in_ch,
            out_channels=num_out_ch,
            size_multiple=4 // scale,
        )
        self.unshuffle = 4 // scale
        self.conv_first = nn.Conv2d(num_in_ch * self.unshuffle**2, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*(RRDB(num_feat, num_grow_ch) for _ in range(num_block)))
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.unshuffle > 1:
            H, W = x.shape[-2:]
            if H % self.unshuffle or W % self.unshuffle:
                raise ValueError(
                    f"RRDBNet x{self.scale}: input size {H}x{W} must be a multiple of "
                    f"{self.unshuffle}; pad it with realsr.archs.pad_to_multiple"
                )
            x = F.pixel_unshuffle(x, self.unshuffle)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = F.leaky_relu(
            self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2, inplace=True
        )
        tracing = torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()
        if tracing or torch.is_grad_enabled() or feat.numel() * 4 <= _TAIL_BUDGET:
            return self._tail(feat)
        return self._tail_in_rows(feat)

    def _tail(self, feat: torch.Tensor) -> torch.Tensor:
        """The last x2 upsampling and the two output convolutions (at the output resolution)."""
        feat = F.leaky_relu(
            self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2, inplace=True
        )
        return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2, inplace=True))

    def _tail_in_rows(self, feat: torch.Tensor) -> torch.Tensor:
        """:meth:`_tail` in bands of rows with a 2-row halo (inference only): the three 3x3
        convolutions at output resolution need 3 output rows of context, so each band's output
        equals the whole image's, while only one band of full-resolution features exists."""
        height, width = feat.shape[-2:]
        rows = max(4, _TAIL_BUDGET // (4 * width * feat.shape[0] * feat.shape[1]))
        bands = []
        for top in range(0, height, rows):
            bottom = min(top + rows, height)
            lo, hi = max(top - 2, 0), min(bottom + 2, height)
            out = self._tail(feat[..., lo:hi, :])
            bands.append(out[..., 2 * (top - lo) : 2 * (top - lo) + 2 * (bottom - top), :])
        return torch.cat(bands, dim=-2)


VARIANTS = (
    Variant(
        "RealESRGAN_x4plus",
        "RRDBNet",
        {
            "num_in_ch": 3,
            "num_out_ch": 3,
            "scale": 4,
            "num_feat": 64,
            "num_block": 23,
            "num_grow_ch": 32,
        },
        "Real-ESRGAN x4 general model (also RealESRNet_x4plus, ESRGAN x4)",
    ),
    Variant(
        "RealESRGAN_x2plus",
        "RRDBNet",
        {
            "num_in_ch": 3,
            "num_out_ch": 3,
            "scale": 2,
            "num_feat": 64,
            "num_block": 23,
            "num_grow_ch": 32,
        },
        "Real-ESRGAN x2 general model",
    ),
    Variant(
        "RealESRGAN_x4plus_anime_6B",
        "RRDBNet",
        {
            "num_in_ch": 3,
            "num_out_ch": 3,
            "scale": 4,
            "num_feat": 64,
            "num_block": 6,
            "num_grow_ch": 32,
        },
        "Real-ESRGAN x4 anime model (6 RRDB blocks)",
    ),
)
