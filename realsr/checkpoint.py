"""Checkpoints: save self-describing BasicSR-compatible files, rebuild models from any of them.

Files written by `save_checkpoint` are ordinary BasicSR ``.pth`` files (``params`` and, when an
EMA model is given, ``params_ema``) plus the architecture name and hyperparameters under keys that
BasicSR and spandrel ignore (``realsr_arch``, ``realsr_hparams``), so BasicSR, Real-ESRGAN and
spandrel load them as they load the official models. ``.safetensors`` files hold one flat state
dict (the EMA weights when present) with the architecture and hyperparameters as JSON metadata.

`load_model` rebuilds a model from such a file alone, and from official BasicSR / Real-ESRGAN /
ESRGAN checkpoints by recognising their key names and tensor shapes (see `infer_architecture`).
Every ``.pth`` is read with ``torch.load(..., weights_only=True)``: a file that needs arbitrary
Python objects is refused.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .archs import ARCHS, SRArch

ARCH_KEY = "realsr_arch"
HPARAMS_KEY = "realsr_hparams"
VERSION_KEY = "realsr_format"
EXTRA_KEY = "realsr_extra"
FORMAT_VERSION = 1

StateDict = dict[str, torch.Tensor]

# Keys under which checkpoints nest their state dict, most preferred first (EMA weights first).
_WRAPPER_KEYS = (
    "params_ema",
    "params-ema",
    "params",
    "state_dict",
    "model_state_dict",
    "model",
    "net",
)


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or understood (the message names the file)."""


@dataclass
class LoadedCheckpoint:
    """The content of a checkpoint, ready to build a model.

    Attributes:
        path: The file.
        arch: Registry name of the architecture.
        hparams: Keyword hyperparameters of the architecture; ``None`` marks a value that a
            state dict does not reveal (the SR scale of SRCNN / VDSR), to be given to `load_model`.
        state_dict: Weights with this package's key names.
        params_key: Which entry the weights came from (``"params_ema"``, ``"params"``, ...;
            ``""`` for a flat state dict).
        source: ``"realsr"`` (our metadata), ``"inferred"`` (recognised from key names), or
            ``"esrgan-old"`` (original ESRGAN names, remapped).
        extra: Our ``extra`` entry, if any.
    """

    path: Path
    arch: str
    hparams: dict[str, Any]
    state_dict: StateDict
    params_key: str
    source: str
    extra: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Saving


def _arch_of(model: nn.Module, what: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(model, SRArch):
        raise TypeError(
            f"save_checkpoint: {what} must be a realsr architecture (SRArch), got {type(model).__name__}"
        )
    return model.arch_name, dict(model.hparams)


def _cpu_state(model: nn.Module) -> StateDict:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    *,
    ema_model: nn.Module | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a model (and optionally its EMA copy) as a self-describing checkpoint, atomically.

    ``.pth`` (any suffix other than ``.safetensors``): ``{"params": ..., "params_ema": ...,
    "realsr_arch": name, "realsr_hparams": {...}, "realsr_format": 1, "realsr_extra": extra}``.
    ``.safetensors``: the EMA weights if given, else the model's, with ``realsr_arch`` and
    ``realsr_hparams`` (JSON) in the metadata; needs the optional ``safetensors`` package.

    Args:
        path: Destination file; written under a temporary name, then renamed.
        model: A realsr architecture.
        ema_model: Its exponential-moving-average copy (same architecture and hyperparameters).
        extra: Small plain values to keep (numbers, strings, lists, dicts, tensors); ``.pth`` only.

    Returns:
        The path written.

    Raises:
        TypeError: ``model`` is not a realsr architecture.
        ValueError: ``ema_model`` differs in architecture, or ``extra`` with ``.safetensors``.
        ImportError: ``.safetensors`` requested without the ``safetensors`` package.
    """
    path = Path(path)
    arch, hparams = _arch_of(model, "model")
    if ema_model is not None and _arch_of(ema_model, "ema_model") != (arch, hparams):
        raise ValueError("save_checkpoint: ema_model has a different architecture or hparams")

    if path.suffix == ".safetensors":
        if extra:
            raise ValueError(
                f"save_checkpoint: {path}: extra is not supported in .safetensors files"
            )
        save_file = _safetensors_module(path).save_file
        source = ema_model if ema_model is not None else model
        tensors = {k: v.contiguous().clone() for k, v in _cpu_state(source).items()}
        metadata = {
            "format": "pt",
            ARCH_KEY: arch,
            HPARAMS_KEY: json.dumps(hparams),
            VERSION_KEY: str(FORMAT_VERSION),
        }
        _atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))
        return path

    payload: dict[str, Any] = {"params": _cpu_state(model)}
    if ema_model is not None:
        payload["params_ema"] = _cpu_state(ema_model)
    payload[ARCH_KEY] = arch
    payload[HPARAMS_KEY] = hparams
    payload[VERSION_KEY] = FORMAT_VERSION
    if extra:
        payload[EXTRA_KEY] = dict(extra)
    _atomic_write(path, lambda tmp: torch.save(payload, tmp))
    return path


# --------------------------------------------------------------------------------------------
# Reading files


def _safetensors_module(path: Path) -> Any:
    try:
        import safetensors.torch
    except ImportError as exc:
        raise ImportError(
            f"{path}: .safetensors files need the optional 'safetensors' package "
            "(pip install safetensors)"
        ) from exc
    return safetensors.torch


def _read_file(path: Path) -> tuple[Mapping[str, Any], dict[str, str]]:
    """Return (object, safetensors metadata) for a ``.pth``/``.pt``/``.ckpt`` or ``.safetensors``."""
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.suffix == ".safetensors":
        st = _safetensors_module(path)
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as handle:
                metadata = dict(handle.metadata() or {})
            return st.load_file(str(path)), metadata
        except Exception as exc:
            raise CheckpointError(f"{path}: not a readable .safetensors file ({exc})") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        found = re.search(r"GLOBAL ([\w.]+)", text)
        if found or "global" in text.lower():
            what = f" (it references {found.group(1)})" if found else ""
            raise CheckpointError(
                f"refused {path}: it needs arbitrary Python objects to unpickle{what}; only "
                "tensors and plain containers are loaded (torch.load weights_only=True)"
            ) from None
        detail = re.search(r"WeightsUnpickler error:\s*(.+)", text)
        reason = detail.group(1).strip() if detail else "unpickling failed"
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({reason})") from None
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({first})") from None
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: expected a dict of tensors, found {type(obj).__name__}")
    return obj, {}


def _as_state_dict(path: Path, obj: Any, where: str) -> StateDict:
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(
            f"{path}: entry {where or '<top level>'!r} is not a state dict of tensors"
        )
    state = {str(k): v for k, v in obj.items()}
    for prefix in ("module.", "netG."):
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    return state


def load_checkpoint(path: str | os.PathLike[str], *, key: str | None = None) -> LoadedCheckpoint:
    """Read a checkpoint and work out its architecture, hyperparameters and weights.

    Args:
        path: ``.pth`` / ``.pt`` / ``.ckpt`` (read with ``weights_only=True``) or ``.safetensors``.
        key: Entry holding the weights (``"params"``, ``"params_ema"``, ...). Default: the first
            present of ``params_ema``, ``params-ema``, ``params``, ``state_dict``,
            ``model_state_dict``, ``model``, ``net``; or the file itself when it is flat.

    Returns:
        A `LoadedCheckpoint`.

    Raises:
        FileNotFoundError: No such file (the message names the path).
        CheckpointError: Unreadable, unsafe (needs arbitrary pickled objects) or unrecognised.
    """
    path = Path(path)
    obj, metadata = _read_file(path)
    wrapped = [k for k in _WRAPPER_KEYS if isinstance(obj.get(k), Mapping)]
    if key is not None:
        if key not in obj:
            raise CheckpointError(f"{path}: no entry {key!r} (entries: {sorted(map(str, obj))})")
        params_key = key
    else:
        params_key = wrapped[0] if wrapped else ""
    raw = obj[params_key] if params_key else obj
    if not params_key and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(
            f"{path}: no state dict found (looked for {', '.join(_WRAPPER_KEYS)} or a flat dict)"
        )
    state = _as_state_dict(path, raw, params_key)

    arch = obj.get(ARCH_KEY) if not metadata else metadata.get(ARCH_KEY)
    if isinstance(arch, str):
        hparams_raw = (
            obj.get(HPARAMS_KEY) if not metadata else json.loads(metadata.get(HPARAMS_KEY, "{}"))
        )
        if not isinstance(hparams_raw, Mapping):
            raise CheckpointError(f"{path}: {HPARAMS_KEY!r} is not a dict")
        extra = obj.get(EXTRA_KEY, {}) if not metadata else {}
        return LoadedCheckpoint(
            path, arch, dict(hparams_raw), state, params_key, "realsr", dict(extra)
        )
    try:
        arch, hparams, converted, source = infer_architecture(state)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return LoadedCheckpoint(path, arch, hparams, converted, params_key, source)


def load_model(
    path: str | os.PathLike[str],
    *,
    device: str | torch.device = "cpu",
    key: str | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> SRArch:
    """Rebuild a model from a checkpoint file alone, in eval mode.

    Works for files written by `save_checkpoint` and for official BasicSR / Real-ESRGAN ``.pth``
    files (``params_ema`` preferred over ``params``), original ESRGAN "old architecture" files and
    flat state dicts (``.pth`` or ``.safetensors``) of the supported architectures.

    Args:
        path: The checkpoint.
        device: Where to put the model.
        key: Entry holding the weights (see `load_checkpoint`).
        hparams: Hyperparameters overriding the recorded or inferred ones, for values a state
            dict cannot reveal (e.g. ``{"scale": 3}`` for an SRCNN file from elsewhere).

    Returns:
        The model, with ``arch_name`` and ``hparams`` set.

    Raises:
        FileNotFoundError: No such file.
        CheckpointError: Unreadable, unsafe, unrecognised, or weights not matching the model.

    Example:
        >>> import tempfile, os
        >>> from realsr.archs import build_model
        >>> net = build_model("SRVGGNetCompact", {"num_feat": 4, "num_conv": 1})
        >>> with tempfile.TemporaryDirectory() as d:
        ...     f = save_checkpoint(os.path.join(d, "net.pth"), net)
        ...     load_model(f).hparams == net.hparams
        True
    """
    ckpt = load_checkpoint(path, key=key)
    params = {**ckpt.hparams, **(hparams or {})}
    unknown = sorted(k for k, v in params.items() if v is None)
    if unknown:
        raise CheckpointError(
            f"{ckpt.path}: {ckpt.arch} {', '.join(unknown)} cannot be inferred from the weights; "
            f"pass load_model(..., hparams={{{', '.join(repr(k) + ': ...' for k in unknown)}}})"
        )
    cls = ARCHS.get(ckpt.arch)
    try:
        model = cls(**params)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{ckpt.path}: cannot build {ckpt.arch} from {params}: {exc}"
        ) from None
    missing, unexpected = _key_mismatch(model.state_dict(), ckpt.state_dict)
    if missing or unexpected:
        raise CheckpointError(
            f"{ckpt.path}: weights do not fit {ckpt.arch}({params}): "
            f"missing {missing[:3]}{'...' if len(missing) > 3 else ''}, "
            f"unexpected {unexpected[:3]}{'...' if len(unexpected) > 3 else ''}"
        )
    try:
        model.load_state_dict(ckpt.state_dict, strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        raise CheckpointError(f"{ckpt.path}: weights do not fit {ckpt.arch}: {detail}") from None
    return model.to(device).eval()


def _key_mismatch(
    expected: Mapping[str, Any], got: Mapping[str, Any]
) -> tuple[list[str], list[str]]:
    return sorted(set(expected) - set(got)), sorted(set(got) - set(expected))


# --------------------------------------------------------------------------------------------
# Recognising foreign state dicts


def _indices(state: Mapping[str, Any], pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted({int(m.group(1)) for k in state if (m := rx.match(k))})


def _fail(message: str) -> CheckpointError:
    return CheckpointError(message)


def _rrdbnet_hparams(state: StateDict) -> dict[str, Any]:
    if "conv_up3.weight" in state:
        raise _fail("RRDBNet with more than two upsampling convolutions (x8) is not supported")
    for k in ("conv_up1.weight", "conv_up2.weight", "conv_hr.weight", "conv_last.weight"):
        if k not in state:
            raise _fail(f"RRDBNet state dict without {k!r}")
    num_feat, in_total = state["conv_first.weight"].shape[:2]
    num_out = state["conv_last.weight"].shape[0]
    blocks = _indices(state, r"body\.(\d+)\.")
    ratio = in_total / num_out
    scale = {1.0: 4, 4.0: 2, 16.0: 1}.get(ratio, 4)
    num_in = in_total // (4 // scale) ** 2
    return {
        "num_in_ch": int(num_in),
        "num_out_ch": int(num_out),
        "scale": scale,
        "num_feat": int(num_feat),
        "num_block": blocks[-1] + 1 if blocks else 0,
        "num_grow_ch": int(state["body.0.rdb1.conv1.weight"].shape[0]) if blocks else 32,
    }


def _from_esrgan_repo_names(state: StateDict) -> StateDict:
    """ESRGAN repository / BSRGAN names (``RRDB_trunk``, ``trunk_conv``, ``HRconv``) -> ours."""
    renames = (
        (r"^RRDB_trunk\.(\d+)\.RDB(\d)\.", r"body.\1.rdb\2."),
        (r"^trunk_conv\.", "conv_body."),
        (r"^upconv(\d)\.", r"conv_up\1."),
        (r"^HRconv\.", "conv_hr."),
    )
    out: StateDict = {}
    for k, v in state.items():
        for pattern, repl in renames:
            k = re.sub(pattern, repl, k)
        out[k] = v
    return out


def remap_old_esrgan(state: Mapping[str, torch.Tensor]) -> StateDict:
    """Rename an original-ESRGAN ("old architecture", ``model.N...``) state dict to RRDBNet keys.

    The old network is one ``nn.Sequential``: ``model.0`` the first convolution, ``model.1.sub.i``
    the RRDB blocks (``RDB1..3.conv1..5.0``) followed by the trunk convolution
    ``model.1.sub.<num_block>``, then, for x4, upsample/conv/lrelu twice (convolutions at indices
    3 and 6), the HR convolution (8) and the last convolution (10).

    Args:
        state: The old-style state dict.

    Returns:
        A state dict with `RRDBNet` keys.

    Raises:
        CheckpointError: Not an old-style x4 layout (e.g. x2/x8 old models with other numbers of
            upsampling stages, or ESRGAN+ blocks).
    """
    if any(".conv1x1." in k for k in state):
        raise _fail("ESRGAN+ checkpoints (conv1x1 in the dense blocks) are not supported")
    rdb = re.compile(r"^model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)$")
    trunk = re.compile(r"^model\.1\.sub\.(\d+)\.(weight|bias)$")
    top = re.compile(r"^model\.(\d+)\.(weight|bias)$")
    out: StateDict = {}
    tops: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in state.items():
        if m := rdb.match(k):
            out[f"body.{m.group(1)}.rdb{m.group(2)}.conv{m.group(3)}.{m.group(4)}"] = v
        elif m := trunk.match(k):
            out[f"conv_body.{m.group(2)}"] = v
        elif m := top.match(k):
            tops.setdefault(int(m.group(1)), {})[m.group(2)] = v
        else:
            raise _fail(f"unexpected key {k!r} in an old-style ESRGAN state dict")
    convs = sorted(i for i in tops if i != 0)
    if 0 not in tops or len(convs) != 4:
        raise _fail(
            f"old-style ESRGAN state dict with {max(len(convs) - 2, 0)} upsampling stages; only x4 "
            "(two stages) maps onto RRDBNet"
        )
    for name, index in zip(
        ("conv_first", "conv_up1", "conv_up2", "conv_hr", "conv_last"), [0, *convs], strict=True
    ):
        for kind, tensor in tops[index].items():
            out[f"{name}.{kind}"] = tensor
    return out


def _srvgg_hparams(state: StateDict) -> dict[str, Any]:
    stray = [k for k in state if not re.match(r"body\.\d+\.(weight|bias)$", k)]
    if stray:
        raise _fail(f"unrecognised state dict (keys like 'body.0.weight' plus {stray[:3]})")
    convs = [
        i for i in _indices(state, r"body\.(\d+)\.weight") if state[f"body.{i}.weight"].dim() == 4
    ]
    last = convs[-1]
    if "body.1.weight" not in state:
        raise _fail(
            "SRVGGNetCompact without PReLU weights: the activation (relu or leakyrelu) cannot be "
            "inferred; pass hparams={'act_type': ...}"
        )
    num_in = int(state["body.0.weight"].shape[1])
    out_total = int(state[f"body.{last}.weight"].shape[0])
    upscale = math.isqrt(out_total // num_in)
    if upscale * upscale * num_in != out_total:
        raise _fail(f"SRVGGNetCompact: last conv has {out_total} channels, not {num_in} * scale^2")
    return {
        "num_in_ch": num_in,
        "num_out_ch": num_in,
        "num_feat": int(state["body.0.weight"].shape[0]),
        "num_conv": (last - 2) // 2,
        "upscale": upscale,
        "act_type": "prelu",
    }


def _msrresnet_hparams(state: StateDict) -> dict[str, Any]:
    num_feat, num_in = state["conv_first.weight"].shape[:2]
    if "upconv2.weight" in state:
        upscale = 4
    else:
        upscale = math.isqrt(int(state["upconv1.weight"].shape[0]) // int(num_feat))
    return {
        "num_in_ch": int(num_in),
        "num_out_ch": int(state["conv_last.weight"].shape[0]),
        "num_feat": int(num_feat),
        "num_block": len(_indices(state, r"body\.(\d+)\.")),
        "upscale": upscale,
    }


def _pixel_shuffle_scale(state: StateDict, prefix: str, num_feat: int) -> int:
    convs = _indices(state, rf"{re.escape(prefix)}\.(\d+)\.weight")
    if len(convs) == 1 and state[f"{prefix}.{convs[0]}.weight"].shape[0] == 9 * num_feat:
        return 3
    return 2 ** len(convs)


def _edsr_hparams(state: StateDict) -> dict[str, Any]:
    num_feat, num_in = (int(s) for s in state["conv_first.weight"].shape[:2])
    num_block = len(_indices(state, r"body\.(\d+)\."))
    if num_in != 3:
        raise _fail(f"EDSR with {num_in} channels: rgb_mean cannot be inferred; pass hparams")
    return {
        "num_in_ch": num_in,
        "num_out_ch": int(state["conv_last.weight"].shape[0]),
        "num_feat": num_feat,
        "num_block": num_block,
        "upscale": _pixel_shuffle_scale(state, "upsample", num_feat),
        # The published large EDSR (256 channels, 32 blocks) is the only one trained with 0.1.
        "res_scale": 0.1 if (num_feat, num_block) == (256, 32) else 1.0,
    }


def _srresnet_hparams(state: StateDict) -> dict[str, Any]:
    num_feat, num_in = (int(s) for s in state["conv_first.weight"].shape[:2])
    return {
        "num_in_ch": num_in,
        "num_out_ch": int(state["conv_last.weight"].shape[0]),
        "num_feat": num_feat,
        "num_block": len(_indices(state, r"body\.(\d+)\.")),
        "upscale": _pixel_shuffle_scale(state, "upsample", num_feat),
    }


def _rdn_hparams(state: StateDict) -> dict[str, Any]:
    sfe = state["SFENet1.weight"]
    num_feat, num_in, k = int(sfe.shape[0]), int(sfe.shape[1]), int(sfe.shape[-1])
    growth = int(state["RDBs.0.convs.0.conv.0.weight"].shape[0])
    up = _indices(state, r"UPNet\.(\d+)\.weight")
    upscale = 4 if len(up) == 3 else math.isqrt(int(state["UPNet.0.weight"].shape[0]) // growth)
    return {
        "num_in_ch": num_in,
        "num_out_ch": int(state[f"UPNet.{up[-1]}.weight"].shape[0]),
        "upscale": upscale,
        "num_feat": num_feat,
        "num_block": len(_indices(state, r"RDBs\.(\d+)\.")),
        "num_layer": len(_indices(state, r"RDBs\.0\.convs\.(\d+)\.")),
        "growth_rate": growth,
        "kernel_size": k,
    }


def _unet_hparams(state: StateDict) -> dict[str, Any]:
    num_feat, num_in = (int(s) for s in state["conv0.weight"].shape[:2])
    return {"num_in_ch": num_in, "num_feat": num_feat, "skip_connection": True}


def _vgg_disc_hparams(state: StateDict) -> dict[str, Any]:
    num_feat, num_in = (int(s) for s in state["conv0_0.weight"].shape[:2])
    return {
        "num_in_ch": num_in,
        "num_feat": num_feat,
        "input_size": 256 if "conv5_0.weight" in state else 128,
    }


def _espcn_hparams(state: StateDict) -> dict[str, Any]:
    num_feat, num_in = (int(s) for s in state["first_part.0.weight"].shape[:2])
    out_total = int(state["last_part.0.weight"].shape[0])
    scale = math.isqrt(out_total // num_in)
    return {
        "num_in_ch": num_in,
        "num_out_ch": num_in,
        "scale": scale,
        "num_feat": num_feat,
        "num_feat2": int(state["first_part.2.weight"].shape[0]),
    }


def _srcnn_hparams(state: StateDict) -> dict[str, Any]:
    w1, w2, w3 = (state[f"conv{i}.weight"] for i in (1, 2, 3))
    return {
        "num_in_ch": int(w1.shape[1]),
        "num_out_ch": int(w3.shape[0]),
        "scale": None,  # not in the weights: the caller must give it
        "num_feat": int(w1.shape[0]),
        "num_feat2": int(w2.shape[0]),
        "kernel_sizes": [int(w.shape[-1]) for w in (w1, w2, w3)],
    }


def _vdsr_hparams(state: StateDict) -> dict[str, Any]:
    num_feat, num_in = (int(s) for s in state["input.weight"].shape[:2])
    return {
        "num_in_ch": num_in,
        "num_out_ch": int(state["output.weight"].shape[0]),
        "scale": None,  # not in the weights: the caller must give it
        "num_feat": num_feat,
        "num_layers": len(_indices(state, r"residual_layer\.(\d+)\.")) + 2,
    }


# (architecture, keys that must all be present, hyperparameter inference), tried in order.
_DETECTORS: tuple[tuple[str, tuple[str, ...], Callable[[StateDict], dict[str, Any]]], ...] = (
    (
        "RRDBNet",
        ("conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight"),
        _rrdbnet_hparams,
    ),
    (
        "MSRResNet",
        ("conv_first.weight", "body.0.conv1.weight", "upconv1.weight"),
        _msrresnet_hparams,
    ),
    ("EDSR", ("conv_first.weight", "conv_after_body.weight", "upsample.0.weight"), _edsr_hparams),
    ("SRResNet", ("conv_first.weight", "bn_body.weight", "upsample.0.weight"), _srresnet_hparams),
    ("RDN", ("SFENet1.weight", "RDBs.0.convs.0.conv.0.weight", "GFF.0.weight"), _rdn_hparams),
    ("UNetDiscriminatorSN", ("conv0.weight", "conv1.weight_orig", "conv9.weight"), _unet_hparams),
    ("VGGStyleDiscriminator", ("conv0_0.weight", "linear1.weight"), _vgg_disc_hparams),
    ("ESPCN", ("first_part.0.weight", "last_part.0.weight"), _espcn_hparams),
    ("SRVGGNetCompact", ("body.0.weight",), _srvgg_hparams),
    ("VDSR", ("input.weight", "output.weight"), _vdsr_hparams),
    ("SRCNN", ("conv1.weight", "conv2.weight", "conv3.weight"), _srcnn_hparams),
)


def infer_architecture(
    state: Mapping[str, torch.Tensor],
) -> tuple[str, dict[str, Any], StateDict, str]:
    """Recognise an architecture from state-dict key names and tensor shapes.

    RRDBNet: scale from ``conv_first`` input channels (x1 and x2 fold 16 or 4 pixels into
    channels) with ``conv_up1``/``conv_up2`` present, ``num_block`` from the highest ``body``
    index, ``num_grow_ch`` from the first dense convolution. SRVGGNetCompact: ``num_conv`` from
    the highest ``body`` index, ``upscale`` from the last convolution's output channels. EDSR,
    MSRResNet, SRResNet, RDN: blocks counted, scale from the upsampling convolutions. Original
    ESRGAN (``model.0``, ``model.1.sub.N.RDB1.conv1.0``) and ESRGAN-repository / BSRGAN names
    (``RRDB_trunk``, ``trunk_conv``, ``HRconv``) are renamed to RRDBNet keys first.

    Args:
        state: A flat state dict.

    Returns:
        ``(arch, hparams, state_dict_with_our_keys, source)``; ``source`` is ``"inferred"`` or
        ``"esrgan-old"``.

    Raises:
        CheckpointError: Unrecognised keys, or values that cannot be inferred.
    """
    converted = dict(state)
    source = "inferred"
    if "model.0.weight" in converted and any(k.startswith("model.1.sub.") for k in converted):
        converted, source = remap_old_esrgan(converted), "esrgan-old"
    elif "RRDB_trunk.0.RDB1.conv1.weight" in converted:
        converted = _from_esrgan_repo_names(converted)
    for arch, required, infer in _DETECTORS:
        if all(k in converted for k in required):
            return arch, infer(converted), converted, source
    sample = ", ".join(sorted(converted)[:4])
    raise _fail(
        f"unrecognised state dict (first keys: {sample}); supported: {', '.join(ARCHS.names())}"
    )
