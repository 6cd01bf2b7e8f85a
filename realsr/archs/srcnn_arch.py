"""SRCNN: the three-layer super-resolution CNN applied to a bicubic-upsampled image.

Key names (``conv1``, ``conv2``, ``conv3``) follow the common public PyTorch port
(yjn870/SRCNN-pytorch). Convolutions use "same" zero padding so the output keeps the input size
(the paper used unpadded convolutions and evaluated on the shrunken centre).

Reference: Dong et al., "Image Super-Resolution Using Deep Convolutional Networks", TPAMI 2016
(9-1-5 and 9-5-5 settings, n1 = 64, n2 = 32).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._base import SRArch, Variant, check_choice, check_positive


class SRCNN(SRArch):
    """Patch extraction, non-linear mapping and reconstruction convolutions.

    The model does not enlarge the image: ``hparams["input_upsampling"] == "bicubic"`` tells
    inference and evaluation to enlarge the LR input by ``scale`` with MATLAB bicubic first.

    Args:
        num_in_ch: Input channels (the paper works on the Y channel: 1).
        num_out_ch: Output channels.
        scale: The SR factor the model was trained for (applied by the bicubic pre-upsampling).
        num_feat: Channels of the first layer (n1).
        num_feat2: Channels of the second layer (n2).
        kernel_sizes: Kernel sizes (f1, f2, f3), odd; (9, 1, 5) or (9, 5, 5) in the paper.
        input_upsampling: Pre-upsampling the input needs; only ``"bicubic"``.

    Shape:
        - input: (B, num_in_ch, H, W), already upsampled
        - output: (B, num_out_ch, H, W)

    Example:
        >>> net = SRCNN(num_in_ch=1, num_out_ch=1, num_feat=8, num_feat2=4)
        >>> tuple(net(torch.rand(1, 1, 12, 12)).shape)
        (1, 1, 12, 12)
    """

    arch_name = "SRCNN"

    def __init__(
        self,
        *,
        num_in_ch: int = 3,
        num_out_ch: int = 3,
        scale: int = 4,
        num_feat: int = 64,
        num_feat2: int = 32,
        kernel_sizes: Sequence[int] = (9, 1, 5),
        input_upsampling: str = "bicubic",
    ) -> None:
        check_positive(
            "SRCNN",
            num_in_ch=num_in_ch,
            num_out_ch=num_out_ch,
            scale=scale,
            num_feat=num_feat,
            num_feat2=num_feat2,
        )
        check_choice("SRCNN", "input_upsampling", input_upsampling, ("bicubic",))
        ks = [int(k) for k in kernel_sizes]
        if len(ks) != 3 or any(k < 1 or k % 2 == 0 for k in ks):
            raise ValueError(f"SRCNN: kernel_sizes must be three odd sizes, got {kernel_sizes!r}")
        super().__init__(
            {
                "num_in_ch": num_in_ch,
                "num_out_ch": num_out_ch,
                "scale": scale,
                "num_feat": num_feat,
                "num_feat2": num_feat2,
                "kernel_sizes": ks,
                "input_upsampling": input_upsampling,
            },
            scale=scale,
            in_channels=num_in_ch,
            out_channels=num_out_ch,
            input_upsampling=input_upsampling,
        )
        self.conv1 = nn.Conv2d(num_in_ch, num_feat, ks[0], padding=ks[0] // 2)
        self.conv2 = nn.Conv2d(num_feat, num_feat2, ks[1], padding=ks[1] // 2)
        self.conv3 = nn.Conv2d(num_feat2, num_out_ch, ks[2], padding=ks[2] // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(F.relu(self.conv2(F.relu(self.conv1(x)))))


VARIANTS = (
    Variant("SRCNN_915", "SRCNN", {"kernel_sizes": [9, 1, 5]}, "SRCNN 9-1-5 (n1=64, n2=32)"),
    Variant("SRCNN_955", "SRCNN", {"kernel_sizes": [9, 5, 5]}, "SRCNN 9-5-5 (n1=64, n2=32)"),
)
