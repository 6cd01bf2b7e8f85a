"""Discriminators: Real-ESRGAN's U-Net with spectral norm, and the SRGAN/ESRGAN VGG-style one.

State-dict keys match ``realesrgan.archs.discriminator_arch.UNetDiscriminatorSN`` (spectral-norm
weights stored as ``weight_orig`` / ``weight_u`` / ``weight_v``, as in
``RealESRGAN_x4plus_netD.pth``) and ``basicsr.archs.discriminator_arch.VGGStyleDiscriminator``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from ._base import SRArch, check_choice, check_positive


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU in place: every call site passes a fresh conv / norm / linear output, which
    no backward pass needs (in-place saves an activation-sized allocation per layer)."""
    return F.leaky_relu(x, 0.2, inplace=True)


def _up2(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class UNetDiscriminatorSN(SRArch):
    """U-Net discriminator with spectral normalisation giving a per-pixel realness map.

    Uses the classic ``torch.nn.utils.spectral_norm`` hook (not the parametrization API, whose
    state-dict names differ from the published discriminator checkpoints).

    Args:
        num_in_ch: Input image channels.
        num_feat: Base feature channels.
        skip_connection: Add the encoder features to the decoder features.

    Shape:
        - input: (B, num_in_ch, H, W), H and W multiples of 8
        - output: (B, 1, H, W)

    Reference: Wang et al., "Real-ESRGAN", ICCVW 2021, Sec. 4.2.
    """

    arch_name = "UNetDiscriminatorSN"
    kind = "discriminator"

    def __init__(
        self, *, num_in_ch: int = 3, num_feat: int = 64, skip_connection: bool = True
    ) -> None:
        check_positive("UNetDiscriminatorSN", num_in_ch=num_in_ch, num_feat=num_feat)
        super().__init__(
            {
                "num_in_ch": num_in_ch,
                "num_feat": num_feat,
                "skip_connection": bool(skip_connection),
            },
            scale=1,
            in_channels=num_in_ch,
            out_channels=1,
            size_multiple=8,
        )
        self.skip_connection = bool(skip_connection)
        f = num_feat
        self.conv0 = nn.Conv2d(num_in_ch, f, 3, 1, 1)
        self.conv1 = spectral_norm(nn.Conv2d(f, f * 2, 4, 2, 1, bias=False))
        self.conv2 = spectral_norm(nn.Conv2d(f * 2, f * 4, 4, 2, 1, bias=False))
        self.conv3 = spectral_norm(nn.Conv2d(f * 4, f * 8, 4, 2, 1, bias=False))
        self.conv4 = spectral_norm(nn.Conv2d(f * 8, f * 4, 3, 1, 1, bias=False))
        self.conv5 = spectral_norm(nn.Conv2d(f * 4, f * 2, 3, 1, 1, bias=False))
        self.conv6 = spectral_norm(nn.Conv2d(f * 2, f, 3, 1, 1, bias=False))
        self.conv7 = spectral_norm(nn.Conv2d(f, f, 3, 1, 1, bias=False))
        self.conv8 = spectral_norm(nn.Conv2d(f, f, 3, 1, 1, bias=False))
        self.conv9 = nn.Conv2d(f, 1, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = _lrelu(self.conv0(x))
        x1 = _lrelu(self.conv1(x0))
        x2 = _lrelu(self.conv2(x1))
        x3 = _lrelu(self.conv3(x2))
        x4 = _lrelu(self.conv4(_up2(x3)))
        if self.skip_connection:
            x4 = x4 + x2
        x5 = _lrelu(self.conv5(_up2(x4)))
        if self.skip_connection:
            x5 = x5 + x1
        x6 = _lrelu(self.conv6(_up2(x5)))
        if self.skip_connection:
            x6 = x6 + x0
        out = _lrelu(self.conv8(_lrelu(self.conv7(x6))))
        return self.conv9(out)


class VGGStyleDiscriminator(SRArch):
    """VGG-style discriminator of SRGAN / ESRGAN for 128x128 (or 256x256) patches.

    Args:
        num_in_ch: Input image channels.
        num_feat: Base feature channels.
        input_size: Patch size, 128 or 256 (one more down-sampling stage).

    Shape:
        - input: (B, num_in_ch, input_size, input_size)
        - output: (B, 1)

    Reference: Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative
    Adversarial Network", CVPR 2017; BasicSR's ``VGGStyleDiscriminator``.
    """

    arch_name = "VGGStyleDiscriminator"
    kind = "discriminator"

    def __init__(self, *, num_in_ch: int = 3, num_feat: int = 64, input_size: int = 128) -> None:
        check_positive("VGGStyleDiscriminator", num_in_ch=num_in_ch, num_feat=num_feat)
        check_choice("VGGStyleDiscriminator", "input_size", input_size, (128, 256))
        super().__init__(
            {"num_in_ch": num_in_ch, "num_feat": num_feat, "input_size": input_size},
            scale=1,
            in_channels=num_in_ch,
            out_channels=1,
        )
        self.input_size = input_size
        f = num_feat
        widths = [f, f * 2, f * 4, f * 8, f * 8] + ([f * 8] if input_size == 256 else [])
        self.num_stages = len(widths)
        cin = num_in_ch
        for i, w in enumerate(widths):
            self.add_module(f"conv{i}_0", nn.Conv2d(cin, w, 3, 1, 1, bias=i == 0))
            if i > 0:
                self.add_module(f"bn{i}_0", nn.BatchNorm2d(w))
            self.add_module(f"conv{i}_1", nn.Conv2d(w, w, 4, 2, 1, bias=False))
            self.add_module(f"bn{i}_1", nn.BatchNorm2d(w))
            cin = w
        self.linear1 = nn.Linear(f * 8 * 4 * 4, 100)
        self.linear2 = nn.Linear(100, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != (self.input_size, self.input_size):
            raise ValueError(
                f"VGGStyleDiscriminator: input must be {self.input_size}x{self.input_size}, "
                f"got {tuple(x.shape[-2:])}"
            )
        feat = x
        for i in range(self.num_stages):
            feat = self.get_submodule(f"conv{i}_0")(feat)
            if i > 0:
                feat = self.get_submodule(f"bn{i}_0")(feat)
            feat = _lrelu(feat)
            feat = _lrelu(self.get_submodule(f"bn{i}_1")(self.get_submodule(f"conv{i}_1")(feat)))
        feat = _lrelu(self.linear1(feat.flatten(1)))
        return self.linear2(feat)
