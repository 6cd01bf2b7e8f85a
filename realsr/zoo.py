"""Published pretrained models by name: architecture, source URL, SHA-256 and licence.

Nothing is downloaded at run time. Put the files (downloaded by hand from the URLs below) in a
weights folder: ``$REALSR_WEIGHTS`` or ``~/.cache/realsr/weights`` by default, then::

    from realsr.zoo import load_zoo_model
    model = load_zoo_model("RealESRGAN_x4plus")

SHA-256 values come from the OpenModelDB model database (``data/models/*.json`` of
github.com/OpenModelDB/open-model-database, commit 782aac088bd8); ``None`` means no published
value was found. See ``docs/model_zoo.md``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .archs import SRArch
from .checkpoint import CheckpointError, load_model
from .registry import Registry

WEIGHTS_ENV = "REALSR_WEIGHTS"
DEFAULT_WEIGHTS_DIR = Path("~/.cache/realsr/weights")

_RELEASES = "https://github.com/xinntao/Real-ESRGAN/releases/download"


@dataclass(frozen=True)
class ZooEntry:
    """One published checkpoint.

    Attributes:
        name: Model name (as its authors call it).
        arch: Registry name of the architecture.
        hparams: Hyperparameters of the architecture.
        scale: Upscaling factor (1 for discriminators).
        filename: File name expected in the weights folder.
        url: Where to download it by hand.
        sha256: Published SHA-256 of the file, or ``None`` when none was found.
        size_bytes: Published file size, or ``None``.
        license: Licence of the weights.
        description: One line.
    """

    name: str
    arch: str
    hparams: Mapping[str, Any]
    scale: int
    filename: str
    url: str
    sha256: str | None
    size_bytes: int | None
    license: str
    description: str = ""


def _rrdb(num_block: int, scale: int) -> dict[str, Any]:
    return {
        "num_in_ch": 3,
        "num_out_ch": 3,
        "scale": scale,
        "num_feat": 64,
        "num_block": num_block,
        "num_grow_ch": 32,
    }


def _srvgg(num_conv: int) -> dict[str, Any]:
    return {
        "num_in_ch": 3,
        "num_out_ch": 3,
        "num_feat": 64,
        "num_conv": num_conv,
        "upscale": 4,
        "act_type": "prelu",
    }


ZOO: Registry[ZooEntry] = Registry("zoo model")
for _entry in (
    ZooEntry(
        "RealESRGAN_x4plus",
        "RRDBNet",
        _rrdb(23, 4),
        4,
        "RealESRGAN_x4plus.pth",
        f"{_RELEASES}/v0.1.0/RealESRGAN_x4plus.pth",
        "4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1",
        67040989,
        "BSD-3-Clause",
        "Real-ESRGAN x4, general images (GAN)",
    ),
    ZooEntry(
        "RealESRNet_x4plus",
        "RRDBNet",
        _rrdb(23, 4),
        4,
        "RealESRNet_x4plus.pth",
        f"{_RELEASES}/v0.1.1/RealESRNet_x4plus.pth",
        None,
        None,
        "BSD-3-Clause",
        "Real-ESRNet x4 (L1-trained stage, the GAN's initialisation)",
    ),
    ZooEntry(
        "RealESRGAN_x2plus",
        "RRDBNet",
        _rrdb(23, 2),
        2,
        "RealESRGAN_x2plus.pth",
        f"{_RELEASES}/v0.2.1/RealESRGAN_x2plus.pth",
        "49fafd45f8fd7aa8d31ab2a22d14d91b536c34494a5cfe31eb5d89c2fa266abb",
        67061725,
        "BSD-3-Clause",
        "Real-ESRGAN x2, general images (pixel-unshuffle input)",
    ),
    ZooEntry(
        "RealESRGAN_x4plus_anime_6B",
        "RRDBNet",
        _rrdb(6, 4),
        4,
        "RealESRGAN_x4plus_anime_6B.pth",
        f"{_RELEASES}/v0.2.2.4/RealESRGAN_x4plus_anime_6B.pth",
        "f872d837d3c90ed2e05227bed711af5671a6fd1c9f7d7e91c911a61f155e99da",
        17938799,
        "BSD-3-Clause",
        "Real-ESRGAN x4, anime images, 6 RRDB blocks",
    ),
    ZooEntry(
        "realesr-general-x4v3",
        "SRVGGNetCompact",
        _srvgg(32),
        4,
        "realesr-general-x4v3.pth",
        f"{_RELEASES}/v0.2.5.0/realesr-general-x4v3.pth",
        "8dc7edb9ac80ccdc30c3a5dca6616509367f05fbc184ad95b731f05bece96292",
        4885111,
        "BSD-3-Clause",
        "Compact x4, general scenes",
    ),
    ZooEntry(
        "realesr-general-wdn-x4v3",
        "SRVGGNetCompact",
        _srvgg(32),
        4,
        "realesr-general-wdn-x4v3.pth",
        f"{_RELEASES}/v0.2.5.0/realesr-general-wdn-x4v3.pth",
        "1641f8c4464b9f097c9fdda5589273713f67cf59f3d909e0bd688f0cee269dca",
        4885111,
        "BSD-3-Clause",
        "Compact x4, general scenes, stronger denoising (interpolated with the above)",
    ),
    ZooEntry(
        "realesr-animevideov3",
        "SRVGGNetCompact",
        _srvgg(16),
        4,
        "realesr-animevideov3.pth",
        f"{_RELEASES}/v0.2.5.0/realesr-animevideov3.pth",
        "b8a8376811077954d82ca3fcf476f1ac3da3e8a68a4f4d71363008000a18b75d",
        2504012,
        "BSD-3-Clause",
        "Compact x4, anime video",
    ),
    ZooEntry(
        "RealESRGAN_x4plus_netD",
        "UNetDiscriminatorSN",
        {"num_in_ch": 3, "num_feat": 64, "skip_connection": True},
        1,
        "RealESRGAN_x4plus_netD.pth",
        f"{_RELEASES}/v0.2.2.3/RealESRGAN_x4plus_netD.pth",
        None,
        None,
        "BSD-3-Clause",
        "U-Net discriminator paired with RealESRGAN_x4plus (for fine-tuning)",
    ),
    ZooEntry(
        "ESRGAN_x4",
        "RRDBNet",
        _rrdb(23, 4),
        4,
        "RRDB_ESRGAN_x4.pth",
        "https://objectstorage.us-phoenix-1.oraclecloud.com/n/ax6ygfvpvzka/b/open-modeldb-files/o/4x-ESRGAN.pth",
        "545805ce2d861ee90972b5fa50b851f19ee4bb35dedd2eb090be1f7c935b6b00",
        66952991,
        "Apache-2.0",
        "Original ESRGAN x4 (old-architecture keys, remapped on load); OpenModelDB mirror",
    ),
):
    ZOO.register(_entry, name=_entry.name)
del _entry


def default_weights_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The weights folder: ``path``, else ``$REALSR_WEIGHTS``, else ``~/.cache/realsr/weights``."""
    chosen = path if path is not None else os.environ.get(WEIGHTS_ENV) or DEFAULT_WEIGHTS_DIR
    return Path(chosen).expanduser()


def sha256_of(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: str | os.PathLike[str], expected: str) -> None:
    """Raise ``ValueError`` naming the file when its SHA-256 differs from ``expected``."""
    actual = sha256_of(path)
    if actual != expected.lower():
        raise ValueError(f"{path}: SHA-256 {actual} does not match the published {expected}")


def resolve_model_name(
    name: str, weights_dir: str | os.PathLike[str] | None = None, *, verify: bool = False
) -> Path:
    """Path of a zoo model's file in the local weights folder (nothing is downloaded).

    Args:
        name: Zoo model name (e.g. ``"RealESRGAN_x4plus"``).
        weights_dir: Folder holding the files (default: `default_weights_dir`).
        verify: Check the file's SHA-256 when a published value exists.

    Returns:
        The file path.

    Raises:
        KeyError: Unknown name (with close-name suggestions).
        FileNotFoundError: The file is absent; the message gives the expected file name, folder
            and the URL to download it by hand.
        ValueError: ``verify`` and the SHA-256 differs.
    """
    entry = ZOO.get(name)
    folder = default_weights_dir(weights_dir)
    path = folder / entry.filename
    if not path.is_file():
        raise FileNotFoundError(
            f"{name}: weights file {entry.filename!r} not found in {folder}; download it by hand "
            f"from {entry.url} (set ${WEIGHTS_ENV} to use another folder)"
        )
    if verify and entry.sha256 is not None:
        verify_sha256(path, entry.sha256)
    return path


def load_zoo_model(
    name: str,
    weights_dir: str | os.PathLike[str] | None = None,
    *,
    device: str | torch.device = "cpu",
    verify: bool = False,
) -> SRArch:
    """Load a zoo model from the local weights folder and check it is the expected network.

    Args:
        name: Zoo model name.
        weights_dir: Folder holding the files (default: `default_weights_dir`).
        device: Where to put the model.
        verify: Check the file's SHA-256 when a published value exists.

    Returns:
        The model in eval mode.

    Raises:
        FileNotFoundError: See `resolve_model_name`.
        CheckpointError: The file holds a different architecture or configuration.
    """
    entry = ZOO.get(name)
    path = resolve_model_name(name, weights_dir, verify=verify)
    model = load_model(path, device=device)
    if model.arch_name != entry.arch or model.hparams != dict(entry.hparams):
        raise CheckpointError(
            f"{path}: expected {entry.arch}({dict(entry.hparams)}) for {name}, found "
            f"{model.arch_name}({model.hparams})"
        )
    return model
