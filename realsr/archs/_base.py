"""Common base of the architectures: recorded hyperparameters and size helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn


class SRArch(nn.Module):
    """Base class: every architecture records its name and keyword hyperparameters.

    ``type(model)(**model.hparams)`` rebuilds an identical (untrained) network, so a checkpoint
    holding ``arch_name``, ``hparams`` and the state dict is self-describing.

    Attributes:
        arch_name: Registry name of the architecture (class attribute).
        kind: ``"generator"`` (image -> image) or ``"discriminator"``.
        hparams: The constructor's keyword arguments (JSON-compatible values only).
        scale: Super-resolution factor (1 for restoration models and discriminators).
        in_channels: Channels of the input image.
        out_channels: Channels of the output (image channels, or 1 for discriminators).
        input_upsampling: ``None``, or ``"bicubic"`` for models that expect an input already
            enlarged by ``scale`` with MATLAB bicubic (SRCNN, VDSR); their forward keeps the size.
        size_multiple: Input height and width must be multiples of this (see `pad_to_multiple`).
    """

    arch_name: ClassVar[str]
    kind: ClassVar[Literal["generator", "discriminator"]] = "generator"

    def __init__(
        self,
        hparams: Mapping[str, Any],
        *,
        scale: int,
        in_channels: int,
        out_channels: int,
        input_upsampling: str | None = None,
        size_multiple: int = 1,
    ) -> None:
        super().__init__()
        self.hparams: dict[str, Any] = dict(hparams)
        self.scale = int(scale)
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.input_upsampling = input_upsampling
        self.size_multiple = int(size_multiple)

    @property
    def output_scale(self) -> int:
        """Ratio of output to input size of ``forward`` (1 for pre-upsampled models)."""
        return 1 if self.input_upsampling is not None else self.scale

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())


def check_positive(arch: str, **values: int | float) -> None:
    """Raise ``ValueError`` naming the architecture and option when a value is not positive."""
    for key, value in values.items():
        if not value > 0:
            raise ValueError(f"{arch}: {key} must be positive, got {value!r}")


def check_choice(arch: str, key: str, value: object, choices: tuple[object, ...]) -> None:
    """Raise ``ValueError`` naming the architecture and option when ``value`` is not allowed."""
    if value not in choices:
        raise ValueError(f"{arch}: {key} must be one of {choices}, got {value!r}")


def pad_to_multiple(
    x: torch.Tensor, multiple: int, *, mode: str = "reflect"
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad the bottom and right of an image batch so H and W are multiples of ``multiple``.

    Real-ESRGAN pads this way before its x2 (multiple 2) and x1 (multiple 4) RRDBNet models,
    whose first step is a pixel-unshuffle. Reflect padding falls back to replicate padding
    when the image is too small to reflect.

    Args:
        x: Image batch.
        multiple: Required divisor of height and width (1 returns ``x`` unchanged).
        mode: ``"reflect"``, ``"replicate"`` or ``"constant"`` (zeros).

    Shape:
        - x: (B, C, H, W)
        - output: (B, C, H + pad_h, W + pad_w)

    Returns:
        The padded batch and ``(pad_h, pad_w)``, to pass to `crop_padding`.

    Example:
        >>> y, pad = pad_to_multiple(torch.zeros(1, 3, 5, 8), 4)
        >>> tuple(y.shape), pad
        ((1, 3, 8, 8), (3, 0))
    """
    if multiple < 1:
        raise ValueError(f"pad_to_multiple: multiple must be >= 1, got {multiple}")
    H, W = x.shape[-2:]
    pad_h, pad_w = (-H) % multiple, (-W) % multiple
    if pad_h == 0 and pad_w == 0:
        return x, (0, 0)
    if mode == "reflect" and (pad_h >= H or pad_w >= W):
        mode = "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode), (pad_h, pad_w)


def crop_padding(y: torch.Tensor, pad: tuple[int, int], scale: int) -> torch.Tensor:
    """Remove the bottom/right padding added by `pad_to_multiple` from a model output.

    Args:
        y: Model output.
        pad: ``(pad_h, pad_w)`` returned by `pad_to_multiple` (input pixels).
        scale: Output-to-input size ratio of the model.

    Shape:
        - y: (B, C, H', W')
        - output: (B, C, H' - pad_h * scale, W' - pad_w * scale)

    Returns:
        The cropped output (a view).
    """
    pad_h, pad_w = pad
    H, W = y.shape[-2:]
    return y[..., : H - pad_h * scale, : W - pad_w * scale]


class Variant:
    """A named configuration of an architecture (e.g. ``RealESRGAN_x4plus`` = RRDBNet, 23 blocks).

    Args:
        name: Variant name.
        arch: Registry name of the architecture.
        hparams: Keyword hyperparameters of the configuration.
        description: One line shown in listings.
    """

    __slots__ = ("arch", "description", "hparams", "name")

    def __init__(
        self, name: str, arch: str, hparams: Mapping[str, Any], description: str = ""
    ) -> None:
        self.name = name
        self.arch = arch
        self.hparams: dict[str, Any] = dict(hparams)
        self.description = description

    def __repr__(self) -> str:
        return f"Variant({self.name!r}, arch={self.arch!r}, hparams={self.hparams!r})"
