"""Architectures: an explicit registry of model classes and named configurations.

Every architecture module is imported and registered here by hand (nothing scans folders).

Example:
    >>> from realsr.archs import ARCHS, build_model
    >>> ARCHS.get("RRDBNet").__name__
    'RRDBNet'
    >>> net = build_model("SRVGGNetCompact", {"num_feat": 8, "num_conv": 1})
    >>> net.hparams["upscale"], net.arch_name
    (4, 'SRVGGNetCompact')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..registry import Registry
from . import (
    edsr_arch,
    espcn_arch,
    rdn_arch,
    rrdbnet_arch,
    srcnn_arch,
    srresnet_arch,
    srvgg_arch,
    vdsr_arch,
)
from ._base import SRArch, Variant, crop_padding, pad_to_multiple
from .discriminator_arch import UNetDiscriminatorSN, VGGStyleDiscriminator
from .edsr_arch import EDSR
from .espcn_arch import ESPCN
from .rdn_arch import RDN
from .rrdbnet_arch import RRDBNet
from .srcnn_arch import SRCNN
from .srresnet_arch import MSRResNet, SRResNet
from .srvgg_arch import SRVGGNetCompact
from .vdsr_arch import VDSR

ARCHS: Registry[type[SRArch]] = Registry("architecture")
for _cls in (
    RRDBNet,
    SRVGGNetCompact,
    UNetDiscriminatorSN,
    VGGStyleDiscriminator,
    SRCNN,
    VDSR,
    ESPCN,
    SRResNet,
    MSRResNet,
    EDSR,
    RDN,
):
    ARCHS.register(_cls, name=_cls.arch_name)

VARIANTS: Registry[Variant] = Registry("model variant")
for _module in (
    rrdbnet_arch,
    srvgg_arch,
    srcnn_arch,
    vdsr_arch,
    espcn_arch,
    srresnet_arch,
    edsr_arch,
    rdn_arch,
):
    for _variant in _module.VARIANTS:
        VARIANTS.register(_variant, name=_variant.name)
del _cls, _module, _variant


def build_model(name: str, hparams: Mapping[str, Any] | None = None) -> SRArch:
    """Build an architecture or a named variant with randomly initialised weights.

    Args:
        name: An architecture (``"RRDBNet"``) or variant name (``"RealESRGAN_x4plus"``).
        hparams: Keyword hyperparameters; for a variant they override its configuration.

    Returns:
        The model (its ``hparams`` and ``arch_name`` record how to rebuild it).

    Raises:
        KeyError: Unknown name (with close-name suggestions).
        TypeError: An unknown hyperparameter (the message names it).
    """
    params: dict[str, Any] = {}
    if name in VARIANTS and name not in ARCHS:
        variant = VARIANTS.get(name)
        name, params = variant.arch, dict(variant.hparams)
    cls = ARCHS.get(name)
    params.update(hparams or {})
    try:
        return cls(**params)
    except TypeError as exc:
        raise TypeError(f"{name}: {exc} (hyperparameters: {sorted(params)})") from None


__all__ = [
    "ARCHS",
    "EDSR",
    "ESPCN",
    "RDN",
    "SRCNN",
    "VARIANTS",
    "VDSR",
    "MSRResNet",
    "RRDBNet",
    "SRArch",
    "SRResNet",
    "SRVGGNetCompact",
    "UNetDiscriminatorSN",
    "VGGStyleDiscriminator",
    "Variant",
    "build_model",
    "crop_padding",
    "pad_to_multiple",
]
