"""Networks and losses from their options sections (``network_g``, ``train.pixel_opt``, ...).

A section is a ``TypedSection``: ``type`` names the class, ``args`` are its keyword arguments and
``where`` is the dotted option key used in error messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from realsr.archs import SRArch, build_model
from realsr.config import ConfigError
from realsr.losses import CharbonnierLoss, GANLoss, L1Loss, MSELoss, PerceptualLoss
from realsr.registry import RegistryError

if TYPE_CHECKING:
    from realsr.config import TypedSection

LOSS_TYPES: Mapping[str, type[nn.Module]] = {
    "L1Loss": L1Loss,
    "MSELoss": MSELoss,
    "CharbonnierLoss": CharbonnierLoss,
    "PerceptualLoss": PerceptualLoss,
    "GANLoss": GANLoss,
}
"""Loss classes by the ``type`` names of BasicSR option files."""


def build_network(section: TypedSection, *, device: torch.device) -> SRArch:
    """Build the architecture (or named variant) ``section.type`` with ``section.args``.

    Args:
        section: e.g. ``options.network_g``.
        device: where the network's parameters go.

    Raises:
        ConfigError: unknown architecture or bad hyperparameters (naming ``section.where``).
    """
    try:
        net = build_model(section.type, section.args)
    except RegistryError as exc:
        raise ConfigError(f"{section.where}.type: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{section.where}: {exc}") from None
    return net.to(device)


def build_loss(section: TypedSection, *, device: torch.device) -> nn.Module:
    """Build the loss named by ``section.type`` (a key of :data:`LOSS_TYPES`) on ``device``.

    Args:
        section: e.g. ``options.train.pixel_opt``; its ``args`` are the class's keywords.
        device: where the loss's buffers (the VGG19 of a perceptual loss) go.

    Raises:
        ConfigError: unknown loss type or bad arguments (naming ``section.where``).
        FileNotFoundError: a perceptual loss whose VGG19 weights file is absent (one line naming
            the option key and the expected file).
    """
    cls = LOSS_TYPES.get(section.type)
    if cls is None:
        raise ConfigError(
            f"{section.where}.type: unknown loss {section.type!r} "
            f"(known: {', '.join(sorted(LOSS_TYPES))})"
        )
    args: dict[str, Any] = dict(section.args)
    try:
        loss = cls(**args)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{section.where}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{section.where} ({section.type}): {exc}") from None
    return loss.to(device)


__all__ = ["LOSS_TYPES", "build_loss", "build_network"]
