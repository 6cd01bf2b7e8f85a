"""Strict training options: BasicSR / Real-ESRGAN YAML files as frozen, typed dataclasses.

The attribute names are exactly the YAML keys of BasicSR's options files, so a published file loads
unchanged. Unlike BasicSR, every key is checked when the file is read: an unknown or misspelt key,
a value of the wrong type or an unknown ``type:`` is a :class:`ConfigError` naming the dotted key
(and the nearest valid one), long before a training run would have tripped over it.

``type:`` sections (``network_g``, ``train.optim_g``, ``train.pixel_opt``, ...) are checked against
the signature of what they build: the architecture class from :data:`realsr.archs.ARCHS`, the torch
optimizer, the scheduler, the loss class from :mod:`realsr.losses`.

Real-ESRGAN files keep their degradation keys at the top level (``resize_prob``, ``noise_range2``,
...) and in ``datasets.train`` (``kernel_list``, ``blur_sigma``, ...): those are routed to one
degrade pipeline spec (:attr:`DegradationOptions.spec`). A project key ``degradation:`` (a preset
name, a YAML file or a spec mapping) selects a pipeline instead. See ``docs/training_options.md``.

Example:
    >>> options = options_from_dict(
    ...     {
    ...         "name": "demo",
    ...         "model_type": "SRModel",
    ...         "scale": 2,
    ...         "datasets": {
    ...             "train": {"name": "hr", "type": "PairedImageDataset", "gt_size": 32,
    ...                       "dataroot_gt": "data/hr", "dataroot_lq": "data/lr"},
    ...         },
    ...         "network_g": {"type": "SRVGGNetCompact", "num_feat": 8, "upscale": 2},
    ...         "train": {"optim_g": {"type": "Adam", "lr": "2e-4"}, "total_iter": "1e3",
    ...                   "pixel_opt": {"type": "L1Loss"}},
    ...     }
    ... )
    >>> options.train.total_iter, options.train.optim_g.args["lr"], str(options.experiment_dir)
    (1000, 0.0002, 'experiments/demo')
    >>> options_from_dict({**resolved_dict(options), "scale": "two"})
    Traceback (most recent call last):
    ...
    realsr.config.ConfigError: scale: expected an integer, got 'two'
"""

from __future__ import annotations

import collections.abc
import copy
import dataclasses
import difflib
import fnmatch
import inspect
import os
import re
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import torch
import yaml

from degrade.presets import SpecError, available_presets, build_pipeline, preset_spec
from degrade.presets.realesrgan_options import (
    DATASET_KEYS,
    IGNORED_DATASET_KEYS,
    TOP_LEVEL_KEYS,
    spec_from_realesrgan_options,
)
from realsr.archs import ARCHS
from realsr.losses import (
    VGG19_LAYER_NAMES,
    CharbonnierLoss,
    GANLoss,
    L1Loss,
    MSELoss,
    PerceptualLoss,
)

MODEL_TYPES: tuple[str, ...] = (
    "SRModel",
    "RealESRNetModel",
    "RealESRGANModel",
    "ESRGANModel",
    "SRGANModel",
)
"""The ``model_type`` values (the training tasks registry holds the same names)."""
GAN_MODEL_TYPES: tuple[str, ...] = ("RealESRGANModel", "ESRGANModel", "SRGANModel")
"""Model types with a discriminator (``network_d``, ``train.optim_d``, ``train.gan_opt``)."""
REALESRGAN_MODEL_TYPES: tuple[str, ...] = ("RealESRNetModel", "RealESRGANModel")
"""Model types that read Real-ESRGAN's degradation keys."""
DATASET_TYPES: tuple[str, ...] = (
    "RealESRGANDataset",
    "PairedImageDataset",
    "RealESRGANPairedDataset",
    "SingleImageDataset",
)
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "SGD": torch.optim.SGD,
}
"""``train.optim_<name>.type`` -> optimizer class; the other keys are its keyword arguments."""
_REQUIRED = inspect.Parameter.empty
_MULTISTEP: dict[str, tuple[Any, Any]] = {
    "milestones": (list[int], _REQUIRED),
    "gamma": (float, 0.1),
    "restarts": (list[int], [0]),
    "restart_weights": (list[float], [1.0]),
}
SCHEDULERS: dict[str, dict[str, tuple[Any, Any]]] = {
    "MultiStepLR": _MULTISTEP,
    "MultiStepRestartLR": _MULTISTEP,
    "CosineAnnealingRestartLR": {
        "periods": (list[int], _REQUIRED),
        "restart_weights": (list[float], [1.0]),
        "eta_min": (float, 0.0),
    },
}
"""``train.scheduler.type`` -> ``{argument: (type, default)}`` (BasicSR's schedulers; like BasicSR,
``MultiStepLR`` is the same schedule as ``MultiStepRestartLR``)."""
LOSSES: dict[str, dict[str, type[torch.nn.Module]]] = {
    "pixel_opt": {"L1Loss": L1Loss, "MSELoss": MSELoss, "CharbonnierLoss": CharbonnierLoss},
    "perceptual_opt": {"PerceptualLoss": PerceptualLoss},
    "gan_opt": {"GANLoss": GANLoss},
}
"""The loss classes each ``train.<x>_opt`` section may name."""
METRIC_TYPES: tuple[str, ...] = ("calculate_psnr", "calculate_ssim", "calculate_niqe")
_METRIC_ALIASES = {name.removeprefix("calculate_"): name for name in METRIC_TYPES}
DEGRADATION_KEYS: tuple[str, ...] = (
    "degradation",
    "gt_usm",
    "l1_gt_usm",
    "percep_gt_usm",
    "gan_gt_usm",
    "gt_size",
    "queue_size",
    "use_pair_pool",
    "high_order_degradation",
)
"""Top-level keys read into :class:`DegradationOptions` (besides Real-ESRGAN's routed keys)."""

IGNORED_KEYS: dict[str, str] = {
    "is_train": "set by BasicSR's launcher at run time, not an option",
    "dist": "set by BasicSR's launcher at run time (`realsr train --launcher pytorch`)",
    "rank": "set by BasicSR's launcher at run time",
    "world_size": "set by BasicSR's launcher at run time",
    "auto_resume": "a command-line flag in BasicSR, not an option",
    "root_path": "set by BasicSR's launcher; relative paths are relative to the working directory",
    "find_unused_parameters": "DDP wrapping is decided by the trainer",
    "path.models": "derived: <experiment_dir>/models",
    "path.training_states": "derived: <experiment_dir>/training_states",
    "path.log": "derived: <experiment_dir>",
    "path.visualization": "derived: <experiment_dir>/visualization",
    "path.results_root": "used by BasicSR's test script only",
    "datasets.*.blur_kernel_size": "Real-ESRGAN ignores it too: kernel sizes are drawn from 7..21",
    "datasets.*.blur_kernel_size2": "Real-ESRGAN ignores it too: kernel sizes are drawn from 7..21",
    "datasets.*.num_prefetch_queue": "BasicSR's CPU prefetcher; loading always uses DataLoader workers",
    "datasets.*.persistent_workers": "the data loader keeps its workers alive whenever it has any",
    "val.metrics.*.input_order": "metrics always receive (B, C, H, W) tensors",
}
"""Keys that are accepted but have no effect, with the reason (``*`` matches one key)."""


class ConfigError(ValueError):
    """Invalid training options; the one-line message names the file or the dotted key."""


# --------------------------------------------------------------------------------------------------
# The options dataclasses (attribute names = BasicSR's YAML keys)


def _min(minimum: int | float, default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field whose value must be ``>= minimum``."""
    return field(default=default, metadata={"min": minimum})


def _one_of(choices: Sequence[str], kind: str) -> Any:
    """A required string field whose value must be one of ``choices``."""
    return field(metadata={"choices": choices, "kind": kind})


@dataclass(frozen=True, kw_only=True)
class TypedSection:
    """A ``type:`` section: ``type`` names what to build, ``args`` are its keyword arguments.

    ``where`` is the section's dotted path (``"network_g"``, ``"train.optim_g"``) for messages.
    """

    type: str
    args: dict[str, Any] = field(default_factory=dict)
    where: str = ""


@dataclass(frozen=True, kw_only=True)
class IOBackendOptions:
    """``datasets.<set>.io_backend``: images from files (``disk``) or a BasicSR LMDB."""

    type: Literal["disk", "lmdb"] = "disk"


@dataclass(frozen=True, kw_only=True)
class DatasetOptions:
    """One entry of ``datasets``: ``train`` is the training set, any other key a validation set."""

    name: str
    type: str = _one_of(DATASET_TYPES, "dataset type")
    phase: Literal["train", "val"]
    scale: int
    dataroot_gt: str | None = None
    dataroot_lq: str | None = None
    meta_info: str | None = None
    meta_info_file: str | None = None
    io_backend: IOBackendOptions = field(default_factory=IOBackendOptions)
    filename_tmpl: str = "{}"
    gt_size: int | None = _min(1, None)
    use_hflip: bool = True
    use_rot: bool = False
    use_shuffle: bool = True
    num_worker_per_gpu: int = _min(0, 0)
    batch_size_per_gpu: int = _min(1, 1)
    dataset_enlarge_ratio: int = _min(1, 1)
    prefetch_mode: Literal["cpu", "cuda"] | None = None
    pin_memory: bool = False
    crop_pad_size: int | None = _min(1, None)


@dataclass(frozen=True, kw_only=True)
class PathOptions:
    """``path``: pretrained weights, resume state and the experiment folder."""

    pretrain_network_g: str | None = None
    param_key_g: str | None = "params"
    strict_load_g: bool = True
    pretrain_network_d: str | None = None
    param_key_d: str | None = "params"
    strict_load_d: bool = True
    resume_state: str | None = None
    experiments_root: str | None = None


@dataclass(frozen=True, kw_only=True)
class TrainSection:
    """``train``: optimizers, schedule, losses and the project's training extensions."""

    optim_g: TypedSection
    total_iter: int = _min(1)
    ema_decay: float = 0.0
    optim_d: TypedSection | None = None
    scheduler: TypedSection | None = None
    warmup_iter: int = -1
    pixel_opt: TypedSection | None = None
    perceptual_opt: TypedSection | None = None
    gan_opt: TypedSection | None = None
    net_d_iters: int = _min(1, 1)
    net_d_init_iters: int = _min(0, 0)
    grad_clip: float | None = None
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    channels_last: bool = False
    compile: bool = False
    max_bad_steps: int = _min(1, 10)


@dataclass(frozen=True, kw_only=True)
class MetricOptions:
    """One entry of ``val.metrics`` (the key is the metric's display name)."""

    type: str = _one_of(METRIC_TYPES, "metric")
    crop_border: int = _min(0, 0)
    test_y_channel: bool = False
    better: Literal["higher", "lower"] = "higher"


@dataclass(frozen=True, kw_only=True)
class ValOptions:
    """``val``: how often and how to validate on the ``datasets`` validation sets."""

    val_freq: int = _min(1)
    save_img: bool = False
    suffix: str | None = None
    pbar: bool = False
    metrics: dict[str, MetricOptions] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class WandbOptions:
    """``logger.wandb`` (the trainer skips it with a notice when wandb is not installed)."""

    project: str | None = None
    resume_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class LoggerOptions:
    """``logger``: console/TensorBoard logging and checkpoint frequency."""

    print_freq: int = _min(1, 100)
    save_checkpoint_freq: int = _min(1, 5000)
    use_tb_logger: bool = False
    wandb: WandbOptions | None = None
    keep_checkpoints: int = _min(0, 3)


@dataclass(frozen=True, kw_only=True)
class DistOptions:
    """``dist_params``: the process-group backend and the rendezvous port."""

    backend: str = "nccl"
    port: int = _min(1, 29500)


@dataclass(frozen=True, kw_only=True)
class DegradationOptions:
    """How training LR images are made (the top-level degradation keys, see the module docs).

    ``spec`` is the degrade pipeline spec (:func:`degrade.presets.build_pipeline`), or ``None``
    when the LR images come from the dataset. ``gt_usm``: the pipeline's input is the
    USM-sharpened GT. ``gt_size``: the GT crop of a training pair taken after degradation.
    """

    spec: dict[str, Any] | None = None
    gt_usm: bool = False
    l1_gt_usm: bool = True
    percep_gt_usm: bool = True
    gan_gt_usm: bool = False
    gt_size: int | None = _min(1, None)
    queue_size: int | None = _min(1, None)
    use_pair_pool: bool = False
    high_order_degradation: bool = True


@dataclass(frozen=True, kw_only=True)
class TrainOptions:
    """A whole training options file."""

    name: str
    model_type: str = _one_of(MODEL_TYPES, "model type")
    scale: int = _min(1)
    num_gpu: int | Literal["auto"] = "auto"
    manual_seed: int = 0
    datasets: dict[str, DatasetOptions]
    network_g: TypedSection
    network_d: TypedSection | None = None
    path: PathOptions = field(default_factory=PathOptions)
    train: TrainSection
    val: ValOptions | None = None
    logger: LoggerOptions = field(default_factory=LoggerOptions)
    dist_params: DistOptions = field(default_factory=DistOptions)
    degradation: DegradationOptions = field(default_factory=DegradationOptions)

    @property
    def experiment_dir(self) -> Path:
        """``path.experiments_root`` if given, else ``experiments/<name>`` (relative to the cwd)."""
        if self.path.experiments_root is not None:
            return Path(self.path.experiments_root)
        return Path("experiments") / self.name


# --------------------------------------------------------------------------------------------------
# Values


_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_SEQUENCE_ORIGINS = (list, tuple, Sequence, Iterable, collections.abc.Sequence)
_MAPPING_ORIGINS = (dict, Mapping, collections.abc.Mapping)


def _show(value: Any) -> str:
    return "null" if value is None else repr(value)


def _nearest(word: object, options: Iterable[str]) -> str:
    match = difflib.get_close_matches(str(word), list(options), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):  # (a tensor cannot come from YAML)
        return " or ".join(_describe(m) for m in get_args(tp) if m is not torch.Tensor)
    if origin is Literal:
        choices = get_args(tp)
        listed = ", ".join(repr(choice) for choice in choices)
        return listed if len(choices) == 1 else f"one of {listed}"
    if tp is type(None):
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    if tp in names:
        return names[tp]
    if origin in _SEQUENCE_ORIGINS or tp in (list, tuple):
        return "a list"
    if origin in _MAPPING_ORIGINS or tp is dict:
        return "a mapping"
    return getattr(tp, "__name__", str(tp))


def _type_error(where: str, tp: Any, value: Any) -> ConfigError:
    hint = ""
    choices = [c for c in _literal_choices(tp) if isinstance(c, str)]
    if choices and isinstance(value, str):
        hint = _nearest(value, choices)
    return ConfigError(f"{where}: expected {_describe(tp)}, got {_show(value)}{hint}")


def _literal_choices(tp: Any) -> list[Any]:
    if get_origin(tp) is Literal:
        return list(get_args(tp))
    if get_origin(tp) in (Union, types.UnionType):
        return [c for member in get_args(tp) for c in _literal_choices(member)]
    return []


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the type hint ``tp``; numbers become the declared type.

    ``5e3`` (read by YAML 1.1 as the string ``'5e3'``) or ``5000.0`` for an integer is ``5000``; an
    integer or numeric string for a float is that float. Lists come back as lists.
    """
    if tp is Any:
        return value
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        members = get_args(tp)
        if value is None:
            if type(None) in members:
                return None
            raise _type_error(where, tp, value)
        for member in members:
            if member is type(None):
                continue
            try:
                return _coerce(value, member, where)
            except ConfigError:
                continue
        raise _type_error(where, tp, value)
    if origin is Literal:
        if isinstance(value, str) and value in get_args(tp):
            return value
        raise _type_error(where, tp, value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _type_error(where, tp, value)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        number = _number(value)
        if number is not None and number.is_integer():
            return int(number)
        raise _type_error(where, tp, value)
    if tp is float:
        number = _number(value)
        if number is None:
            raise _type_error(where, tp, value)
        return number
    if tp is str:
        if isinstance(value, str):
            return value
        raise _type_error(where, tp, value)
    if tp is type(None):
        if value is None:
            return None
        raise _type_error(where, tp, value)
    if origin in _SEQUENCE_ORIGINS or tp in (list, tuple):
        if not isinstance(value, list | tuple):
            raise _type_error(where, tp, value)
        items = get_args(tp)
        if origin is tuple and items and items[-1] is not Ellipsis:
            if len(value) != len(items):
                raise ConfigError(f"{where}: expected a list of {len(items)} items, got {value!r}")
            return [
                _coerce(v, t, f"{where}[{i}]")
                for i, (v, t) in enumerate(zip(value, items, strict=True))
            ]
        item = items[0] if items else Any
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in _MAPPING_ORIGINS or tp is dict:
        if not isinstance(value, Mapping):
            raise _type_error(where, tp, value)
        key_tp, value_tp = get_args(tp) or (Any, Any)
        return {
            _coerce(k, key_tp, where): _coerce(v, value_tp, f"{where}.{k}")
            for k, v in value.items()
        }
    if tp is torch.Tensor:
        raise _type_error(where, tp, value)
    if tp is os.PathLike or origin is os.PathLike:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a path, got {_show(value)}")
    return value  # an annotation this checker does not know: passed through unchecked


def _ignored_reason(where: str) -> str | None:
    for pattern, reason in IGNORED_KEYS.items():
        if fnmatch.fnmatchcase(where, pattern):
            return reason
    return None


def _ignored_here(where: str) -> list[str]:
    """The ignored keys that may appear directly under the section ``where``."""
    names = []
    for pattern in IGNORED_KEYS:
        head, _, last = pattern.rpartition(".")
        if fnmatch.fnmatchcase(where, head):
            names.append(last)
    return names


def _join(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where or 'options'}: expected a mapping, got {_show(value)}")
    for key in value:
        if not isinstance(key, str):
            raise ConfigError(f"{_join(where, key)}: keys must be strings, got {key!r}")
    return value


def _fields(
    cls: type,
    raw: Mapping[str, Any],
    where: str,
    *,
    nested: Mapping[str, Callable[[Any, str], Any]] | None = None,
    derived: Mapping[str, Any] | None = None,
    extra: Iterable[str] = (),
) -> dict[str, Any]:
    """The constructor arguments of the dataclass ``cls`` from the section ``raw``.

    Args:
        cls: the dataclass.
        raw: the YAML section.
        where: its dotted path.
        nested: builders ``(value, where) -> object`` for fields that are sections themselves.
        derived: fields set by the loader; the section may repeat them with the same value.
        extra: other keys accepted here (read by the caller).

    Returns:
        The coerced values of the keys present (plus ``derived``); missing required fields raise.
    """
    raw = _mapping(raw, where)
    nested = nested or {}
    derived = dict(derived or {})
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    extra = set(extra)
    ignored = _ignored_here(where)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        key_where = _join(where, key)
        if key in derived:
            if _coerce(value, hints[key], key_where) != derived[key]:
                raise ConfigError(
                    f"{key_where}: is set by the loader to {derived[key]!r}, got {_show(value)}"
                )
        elif key in nested:
            if value is not None or fields[key].default is dataclasses.MISSING:
                out[key] = nested[key](value, key_where)
        elif key in fields:
            out[key] = _check_value(value, fields[key], hints[key], key_where)
        elif key not in extra and _ignored_reason(key_where) is None:
            valid = [*fields, *extra, *ignored]
            raise ConfigError(f"{key_where}: unknown key{_nearest(key, valid)}")
    out.update(derived)
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and name not in out:
            raise ConfigError(f"{_join(where, name)}: missing (required)")
    return out


def _check_value(value: Any, f: dataclasses.Field[Any], hint: Any, where: str) -> Any:
    """Coerce one field's value and check its ``min`` / ``choices`` metadata."""
    out = _coerce(value, hint, where)
    minimum = f.metadata.get("min")
    if minimum is not None and out is not None and out < minimum:
        raise ConfigError(f"{where}: must be >= {minimum}, got {_show(value)}")
    choices = f.metadata.get("choices")
    if choices is not None and out not in choices:
        raise ConfigError(
            f"{where}: unknown {f.metadata['kind']} {_show(value)}{_nearest(out, choices)}"
            f" (known: {', '.join(choices)})"
        )
    return out


# --------------------------------------------------------------------------------------------------
# `type:` sections


def _signature(fn: Callable[..., Any], skip: Iterable[str]) -> dict[str, tuple[Any, Any]]:
    """``{argument: (type hint, default)}`` of a callable's keyword-usable parameters."""
    try:
        hints = get_type_hints(fn)
    except (NameError, TypeError):  # an annotation that cannot be evaluated: leave it unchecked
        hints = {}
    skip = set(skip)
    return {
        name: (hints.get(name, Any), p.default)
        for name, p in inspect.signature(fn).parameters.items()
        if name not in skip
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and not name.startswith("_")
    }


def _arch_signature(type_name: str) -> dict[str, tuple[Any, Any]]:
    cls = ARCHS.get(type_name)
    return {
        name: spec
        for name, spec in _signature(cls.__init__, ("self",)).items()
        if inspect.signature(cls.__init__).parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
    }


def _typed(
    raw: Any,
    where: str,
    kind: str,
    known: Sequence[str],
    signature: Callable[[str], dict[str, tuple[Any, Any]]],
) -> TypedSection:
    """Check a ``type:`` section against the signature of what its type builds."""
    raw = _mapping(raw, where)
    if "type" not in raw:
        raise ConfigError(f"{where}.type: missing (one of {', '.join(known)})")
    type_name = raw["type"]
    if not isinstance(type_name, str) or type_name not in known:
        raise ConfigError(
            f"{where}.type: unknown {kind} {_show(type_name)}{_nearest(type_name, known)}"
            f" (known: {', '.join(known)})"
        )
    params = signature(type_name)
    args: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "type":
            continue
        key_where = f"{where}.{key}"
        if key not in params:
            raise ConfigError(
                f"{key_where}: unknown key for {type_name}{_nearest(key, ['type', *params])}"
            )
        args[key] = _coerce(value, params[key][0], key_where)
    for name, (_, default) in params.items():
        if default is _REQUIRED and name not in args:
            raise ConfigError(f"{where}.{name}: missing (required by {type_name})")
    return TypedSection(type=type_name, args=args, where=where)


def _network(raw: Any, where: str) -> TypedSection:
    return _typed(raw, where, "architecture", ARCHS.names(), _arch_signature)


def _optimizer(raw: Any, where: str) -> TypedSection:
    return _typed(
        raw,
        where,
        "optimizer",
        list(OPTIMIZERS),
        lambda name: _signature(OPTIMIZERS[name].__init__, ("self", "params")),
    )


def _scheduler(raw: Any, where: str) -> TypedSection:
    section = _typed(raw, where, "scheduler", list(SCHEDULERS), SCHEDULERS.__getitem__)
    args = section.args
    pairs = [("restarts", "restart_weights"), ("periods", "restart_weights")]
    for first, second in pairs:
        if first in SCHEDULERS[section.type] and (first in args or second in args):
            defaults = SCHEDULERS[section.type]
            a = args.get(first, defaults[first][1])
            b = args.get(second, defaults[second][1])
            if len(a) != len(b):
                raise ConfigError(
                    f"{where}.{second}: {len(b)} values for {len(a)} {first} (one per {first[:-1]})"
                )
    return section


def _loss(section: str) -> Callable[[Any, str], TypedSection]:
    classes = LOSSES[section]

    def build(raw: Any, where: str) -> TypedSection:
        loss = _typed(
            raw,
            where,
            "loss",
            list(classes),
            lambda name: _signature(classes[name].__init__, ("self",)),
        )
        if loss.type == "PerceptualLoss":
            if loss.args.get("vgg_type", "vgg19") != "vgg19":
                raise ConfigError(f"{where}.vgg_type: only 'vgg19' is supported")
            for layer in loss.args.get("layer_weights") or {}:
                if layer not in VGG19_LAYER_NAMES:
                    raise ConfigError(
                        f"{where}.layer_weights.{layer}: unknown VGG19 layer"
                        f"{_nearest(layer, VGG19_LAYER_NAMES)}"
                    )
        return loss

    return build


# --------------------------------------------------------------------------------------------------
# Sections


def _dataset(raw: Any, where: str, *, key: str, scale: int, routed: bool) -> DatasetOptions:
    phase = "train" if key == "train" else "val"
    extra = (*DATASET_KEYS, *IGNORED_DATASET_KEYS) if phase == "train" else ()
    raw = _mapping(raw, where)
    if phase == "val" or not routed:
        for name in DATASET_KEYS:
            if name in raw:
                raise ConfigError(
                    f"{where}.{name}: a Real-ESRGAN degradation key, read only from "
                    f"datasets.train with model_type {' or '.join(REALESRGAN_MODEL_TYPES)}"
                )
    values = _fields(
        DatasetOptions,
        raw,
        where,
        nested={"io_backend": lambda v, w: IOBackendOptions(**_fields(IOBackendOptions, v, w))},
        derived={"phase": phase, "scale": scale},
        extra=extra,
    )
    for name in ("dataroot_gt", "dataroot_lq"):
        if values.get(name) is not None:
            values[name] = os.path.expanduser(values[name])
    if values["type"] == "RealESRGANDataset" and phase == "train":
        values.setdefault("crop_pad_size", 400)
    options = DatasetOptions(**values)
    needs = {
        "PairedImageDataset": ("dataroot_gt", "dataroot_lq"),
        "RealESRGANPairedDataset": ("dataroot_gt", "dataroot_lq"),
        "RealESRGANDataset": ("dataroot_gt",),
        "SingleImageDataset": ("dataroot_lq",),
    }[options.type]
    for name in needs:
        if getattr(options, name) is None:
            raise ConfigError(f"{where}.{name}: missing (required by {options.type})")
    if "{}" not in options.filename_tmpl:
        raise ConfigError(
            f"{where}.filename_tmpl: must contain '{{}}', got {options.filename_tmpl!r}"
        )
    if phase == "train":
        if options.type == "SingleImageDataset":
            raise ConfigError(
                f"{where}.type: SingleImageDataset has no ground truth; use it for validation sets"
            )
        if options.dataroot_lq is not None:
            if options.gt_size is None:
                raise ConfigError(f"{where}.gt_size: missing (required for paired training crops)")
            if options.gt_size % scale:
                raise ConfigError(
                    f"{where}.gt_size: {options.gt_size} is not a multiple of scale {scale}"
                )
    return options


def _metric(raw: Any, where: str) -> MetricOptions:
    raw = dict(_mapping(raw, where))
    type_name = raw.get("type")
    if isinstance(type_name, str):
        raw["type"] = _METRIC_ALIASES.get(type_name, type_name)
        if raw["type"] not in METRIC_TYPES:
            names = [*METRIC_TYPES, *_METRIC_ALIASES]
            raise ConfigError(
                f"{where}.type: unknown metric {type_name!r}{_nearest(type_name, names)}"
            )
    values = _fields(MetricOptions, raw, where)
    if "better" not in values:
        values["better"] = "lower" if values["type"] == "calculate_niqe" else "higher"
    return MetricOptions(**values)


def _val(raw: Any, where: str) -> ValOptions:
    def metrics(value: Any, w: str) -> dict[str, MetricOptions]:
        if value is None:
            return {}
        return {name: _metric(m, f"{w}.{name}") for name, m in _mapping(value, w).items()}

    return ValOptions(**_fields(ValOptions, raw, where, nested={"metrics": metrics}))


def _logger(raw: Any, where: str) -> LoggerOptions:
    def wandb(value: Any, w: str) -> WandbOptions:
        return WandbOptions(**_fields(WandbOptions, value, w))

    return LoggerOptions(**_fields(LoggerOptions, raw, where, nested={"wandb": wandb}))


def _path(raw: Any, where: str) -> PathOptions:
    values = _fields(PathOptions, raw, where)
    for name in ("pretrain_network_g", "pretrain_network_d", "resume_state", "experiments_root"):
        if values.get(name) is not None:
            values[name] = os.path.expanduser(values[name])
    return PathOptions(**values)


def _train(raw: Any, where: str) -> TrainSection:
    nested: dict[str, Callable[[Any, str], Any]] = {
        "optim_g": _optimizer,
        "optim_d": _optimizer,
        "scheduler": _scheduler,
        **{name: _loss(name) for name in LOSSES},
    }
    values = _fields(TrainSection, raw, where, nested=nested)
    if not 0.0 <= values.get("ema_decay", 0.0) < 1.0:
        raise ConfigError(f"{where}.ema_decay: must be in [0, 1), got {values['ema_decay']}")
    if values.get("grad_clip") is not None and values["grad_clip"] <= 0:
        raise ConfigError(f"{where}.grad_clip: must be > 0 (or null), got {values['grad_clip']}")
    return TrainSection(**values)


# --------------------------------------------------------------------------------------------------
# Degradation routing


# (op path in the routed spec, [(option key, the op argument it becomes)]): turns a pipeline error
# back into the option key that caused it.
def _routed_ops() -> list[tuple[str, list[tuple[str, str]]]]:
    def blur(suffix: str) -> list[tuple[str, str]]:
        keys = ["kernel_list", "kernel_prob", "sinc_prob", "betag_range", "betap_range"]
        pairs = [(f"datasets.train.{k}{suffix}", k) for k in keys]
        return [*pairs, (f"datasets.train.blur_sigma{suffix}", "sigma")]

    def noise(suffix: str) -> list[tuple[str, str]]:
        keys = ["gaussian_noise_prob", "noise_range", "poisson_scale_range", "gray_noise_prob"]
        return [(f"{k}{suffix}", k) for k in keys]

    return [
        ("ops[7].ops[0].ops[1]", [("datasets.train.final_sinc_prob", "sinc_prob")]),
        ("ops[7].ops[1]", [("jpeg_range2", "jpeg_range")]),
        ("ops[0]", blur("")),
        ("ops[1]", [("resize_prob", "resize_prob"), ("resize_range", "resize_range")]),
        ("ops[2]", noise("")),
        ("ops[3]", [("jpeg_range", "jpeg_range")]),
        ("ops[4]", [*blur("2"), ("second_blur_prob", "p")]),
        ("ops[5]", [("resize_prob2", "resize_prob"), ("resize_range2", "resize_range")]),
        ("ops[6]", noise("2")),
    ]


def _routed_error(message: str) -> str:
    """Name the Real-ESRGAN option key behind an error of the pipeline built from them."""
    for prefix, pairs in _routed_ops():
        if message.startswith(prefix + " ") or message.startswith(prefix + ":"):
            rest = message[len(prefix) :].lstrip()
            rest = re.sub(r"^\(\w+\):\s*", "", rest)
            for key, arg in pairs:
                if re.search(rf"\b{re.escape(arg)}\b", rest):
                    return f"{key}: {rest}"
            return f"{', '.join(key for key, _ in pairs)}: {rest}"
    return f"Real-ESRGAN degradation keys: {message}"


def _routed_type(key: str) -> Any:
    base = key.removesuffix("2")
    if base == "kernel_list":
        return list[str]
    if base in ("resize_prob", "kernel_prob", "blur_sigma") or base.endswith("_range"):
        return list[float]
    if base == "blur_kernel_size":
        return int
    return float


def _spec_from_source(source: Any, scale: int) -> dict[str, Any]:
    """The pipeline spec named by the project key ``degradation:`` (preset, YAML file or mapping)."""
    where = "degradation"
    if isinstance(source, Mapping):
        spec = copy.deepcopy(dict(source))
    elif isinstance(source, str):
        path = Path(source).expanduser()
        if path.suffix in (".yaml", ".yml") or path.is_file():
            if not path.is_file():
                raise ConfigError(f"{where}: no such pipeline file {source!r}")
            try:
                spec = yaml.safe_load(path.read_text())
            except yaml.YAMLError as exc:
                raise ConfigError(
                    f"{where}: {source}: invalid YAML ({_yaml_problem(exc)})"
                ) from None
            if not isinstance(spec, dict):
                raise ConfigError(f"{where}: {source}: a pipeline file must hold a mapping")
        else:
            presets = available_presets()
            if source not in presets:
                raise ConfigError(
                    f"{where}: unknown preset {source!r}{_nearest(source, presets)}"
                    f" (presets: {', '.join(presets)}; or give a .yaml file or a mapping)"
                )
            spec = preset_spec(source)
            spec["scale"] = scale  # presets follow the model's scale
    else:
        raise ConfigError(
            f"{where}: expected a preset name, a YAML file or a mapping, got {_show(source)}"
        )
    given = spec.get("scale", scale)
    if _number(given) != float(scale):
        raise ConfigError(f"{where}.scale: {given!r} does not match the top-level scale {scale}")
    spec["scale"] = scale
    return spec


def _degradation(
    raw: Mapping[str, Any], model_type: str, scale: int, name: str, train_set: DatasetOptions
) -> DegradationOptions:
    values = _fields(
        DegradationOptions,
        {k: raw[k] for k in DEGRADATION_KEYS if k in raw and k != "degradation"},
        "",
    )
    train = raw["datasets"]["train"]
    top_routed = [k for k in TOP_LEVEL_KEYS if k in raw]
    data_routed = [f"datasets.train.{k}" for k in DATASET_KEYS if k in train]
    realesrgan = model_type in REALESRGAN_MODEL_TYPES
    if not realesrgan and top_routed:
        raise ConfigError(
            f"{top_routed[0]}: a Real-ESRGAN degradation key, read only with model_type "
            f"{' or '.join(REALESRGAN_MODEL_TYPES)} (use the `degradation:` key for other models)"
        )
    explicit = raw.get("degradation")
    high_order = values.get("high_order_degradation", True)
    spec: dict[str, Any] | None
    if explicit is not None:
        if top_routed or data_routed:
            raise ConfigError(
                f"degradation: cannot be combined with Real-ESRGAN's degradation keys "
                f"({', '.join([*top_routed, *data_routed][:3])}, ...); keep one of them"
            )
        if not high_order:
            raise ConfigError(
                "degradation: cannot be combined with high_order_degradation: false "
                "(which takes LR images from the dataset)"
            )
        if train.get("dataroot_lq") is not None and not realesrgan:
            raise ConfigError(
                "degradation: datasets.train has dataroot_lq (paired LR images); "
                "remove one of the two"
            )
        spec = _spec_from_source(explicit, scale)
        values.setdefault("gt_usm", bool(spec.get("gt_usm", False)))
        spec["gt_usm"] = values["gt_usm"]
    elif realesrgan and high_order:
        routed: dict[str, Any] = {"name": name, "model_type": model_type, "scale": scale}
        routed.update({k: _coerce(raw[k], _routed_type(k), k) for k in top_routed})
        routed["datasets"] = {
            "train": {
                k: _coerce(train[k], _routed_type(k), f"datasets.train.{k}")
                for k in DATASET_KEYS
                if k in train
            }
        }
        if "gt_usm" in values:
            routed["gt_usm"] = values["gt_usm"]
        try:
            spec = spec_from_realesrgan_options(routed)
        except SpecError as exc:
            raise ConfigError(str(exc)) from None
        values["gt_usm"] = bool(spec["gt_usm"])
    elif not realesrgan and train.get("dataroot_lq") is None:
        spec = _spec_from_source("bicubic", scale)  # HR-only data: classic bicubic LR
        values.setdefault("gt_usm", False)
        spec["gt_usm"] = values["gt_usm"]
    else:
        spec = None
    if spec is not None:
        if "gt_size" not in values:
            if train_set.gt_size is None:
                raise ConfigError(
                    "gt_size: missing (the GT crop of training pairs made on the fly)"
                )
            values["gt_size"] = train_set.gt_size
        if values["gt_size"] % scale:
            raise ConfigError(f"gt_size: {values['gt_size']} is not a multiple of scale {scale}")
        pad = train_set.crop_pad_size
        if pad is not None and values["gt_size"] > pad:
            raise ConfigError(
                f"gt_size: {values['gt_size']} exceeds datasets.train.crop_pad_size {pad}"
            )
        try:
            build_pipeline(spec)
        except SpecError as exc:
            message = str(exc)
            raise ConfigError(
                f"degradation: {message}"
                if explicit is not None or not realesrgan
                else _routed_error(message)
            ) from None
    values["spec"] = spec
    return DegradationOptions(**values)


# --------------------------------------------------------------------------------------------------
# The whole file


_TOP_PLAIN = ("name", "model_type", "scale", "num_gpu", "manual_seed")
_TOP_SECTIONS = (
    "datasets",
    "network_g",
    "network_d",
    "path",
    "train",
    "val",
    "logger",
    "dist_params",
)


def _generator_scale(section: TypedSection) -> tuple[str, int] | None:
    params = _arch_signature(section.type)
    for name in ("scale", "upscale"):
        if name in params:
            return name, int(section.args.get(name, params[name][1]))
    return None


def _build(raw: Any) -> TrainOptions:
    raw = _mapping(raw, "")
    valid = [*_TOP_PLAIN, *_TOP_SECTIONS, *DEGRADATION_KEYS, *TOP_LEVEL_KEYS, *_ignored_here("")]
    for key in raw:
        if key not in valid and _ignored_reason(key) is None:
            raise ConfigError(f"{key}: unknown key{_nearest(key, valid)}")
    for key in ("name", "model_type", "scale", "datasets", "network_g", "train"):
        if key not in raw:
            raise ConfigError(f"{key}: missing (required)")
    hints = get_type_hints(TrainOptions)
    fields = {f.name: f for f in dataclasses.fields(TrainOptions)}
    values: dict[str, Any] = {}
    for key in _TOP_PLAIN:
        if key in raw:
            values[key] = _check_value(raw[key], fields[key], hints[key], key)
    if isinstance(values.get("num_gpu"), int) and values["num_gpu"] < 0:
        raise ConfigError(f"num_gpu: must be >= 0 or 'auto', got {values['num_gpu']}")
    model_type: str = values["model_type"]
    scale: int = values["scale"]

    datasets_raw = _mapping(raw["datasets"], "datasets")
    if "train" not in datasets_raw:
        raise ConfigError("datasets.train: missing (required)")
    routed = model_type in REALESRGAN_MODEL_TYPES
    datasets: dict[str, DatasetOptions] = {}
    for key, section in datasets_raw.items():
        if key != "train" and key.split("_")[0] == "train":
            raise ConfigError(f"datasets.{key}: only one training set ('train') is supported")
        datasets[key] = _dataset(section, f"datasets.{key}", key=key, scale=scale, routed=routed)
    values["datasets"] = datasets
    values["network_g"] = _network(raw["network_g"], "network_g")
    if raw.get("network_d") is not None:
        values["network_d"] = _network(raw["network_d"], "network_d")
    if raw.get("path") is not None:
        values["path"] = _path(raw["path"], "path")
    values["train"] = _train(raw["train"], "train")
    if raw.get("val") is not None:
        values["val"] = _val(raw["val"], "val")
    if raw.get("logger") is not None:
        values["logger"] = _logger(raw["logger"], "logger")
    if raw.get("dist_params") is not None:
        values["dist_params"] = DistOptions(
            **_fields(DistOptions, raw["dist_params"], "dist_params")
        )
    values["degradation"] = _degradation(raw, model_type, scale, values["name"], datasets["train"])
    options = TrainOptions(**values)
    _check(options)
    return options


def _check(options: TrainOptions) -> None:
    """Checks across sections."""
    gan = options.model_type in GAN_MODEL_TYPES
    train = options.train
    net_g = ARCHS.get(options.network_g.type)
    if net_g.kind != "generator":
        raise ConfigError(f"network_g.type: {options.network_g.type} is a discriminator")
    found = _generator_scale(options.network_g)
    if found is not None and found[1] != options.scale:
        name, value = found
        raise ConfigError(
            f"network_g.{name}: {value}"
            + ("" if name in options.network_g.args else " (the default)")
            + f" does not match the top-level scale {options.scale}"
        )
    gan_sections = {
        "network_d": options.network_d,
        "train.optim_d": train.optim_d,
        "train.gan_opt": train.gan_opt,
    }
    for where, section in gan_sections.items():
        if gan and section is None:
            raise ConfigError(f"{where}: missing (required by {options.model_type})")
        if not gan and section is not None:
            raise ConfigError(
                f"{where}: only used by GAN model types ({', '.join(GAN_MODEL_TYPES)}), "
                f"not {options.model_type}"
            )
    if train.pixel_opt is None and train.perceptual_opt is None:
        raise ConfigError("train.pixel_opt: missing (give pixel_opt and/or perceptual_opt)")
    degradation = options.degradation
    train_set = options.datasets["train"]
    crop = degradation.gt_size if degradation.spec is not None else train_set.gt_size
    if options.network_d is not None and options.network_d.type == "VGGStyleDiscriminator":
        size = options.network_d.args.get("input_size", 128)
        if crop is not None and size != crop:
            raise ConfigError(
                f"network_d.input_size: {size} does not match the training GT crop {crop}"
            )
    if options.network_d is not None and ARCHS.get(options.network_d.type).kind != "discriminator":
        raise ConfigError(f"network_d.type: {options.network_d.type} is not a discriminator")
    if degradation.use_pair_pool:
        if degradation.queue_size is None:
            raise ConfigError("queue_size: missing (required by use_pair_pool: true)")
        batch = train_set.batch_size_per_gpu
        if degradation.queue_size % batch:
            raise ConfigError(
                f"queue_size: {degradation.queue_size} is not a multiple of "
                f"datasets.train.batch_size_per_gpu {batch}"
            )


# --------------------------------------------------------------------------------------------------
# Public entry points


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} at line {mark.line + 1}" if mark is not None else str(problem)


def _parse_value(text: str) -> Any:
    """An override value: YAML, except that numbers like ``1e-4`` are floats (YAML 1.1 reads a
    string there) and ``None`` / ``none`` is null (as BasicSR's ``--force_yml`` reads it)."""
    value = yaml.safe_load(text)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    if value in ("None", "none"):  # BasicSR's --force_yml spelling of null
        return None
    return value


def apply_overrides(mapping: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of an options mapping with ``key.path=value`` overrides applied.

    Paths are dotted (``train.total_iter=10``) or colon-separated like BasicSR's ``--force_yml``
    (``train:total_iter=10``). Values are parsed with ``yaml.safe_load`` (``null``, ``[1, 2]``,
    ``true``, ...); number-like strings such as ``1e-4`` become floats and ``None`` / ``none``
    null, as BasicSR reads them. Missing sections on the way are created; whether a key is valid
    is checked when the mapping is loaded. ``datasets.<name>=null`` (other than ``train``) removes
    that validation set.

    Args:
        mapping: the options as read from YAML.
        overrides: ``path=value`` strings, applied in order.

    Returns:
        A new mapping (the input is not modified).

    Example:
        >>> apply_overrides({"train": {"total_iter": 100}}, ["train.total_iter=10", "val:val_freq=5"])
        {'train': {'total_iter': 10}, 'val': {'val_freq': 5}}
    """
    result = copy.deepcopy(dict(mapping))
    for item in overrides:
        path, sep, text = item.partition("=")
        path = path.strip()
        parts = path.split(":") if ":" in path else path.split(".")
        if not sep or not all(part.strip() for part in parts):
            raise ConfigError(f"override {item!r}: expected key.path=value")
        parts = [part.strip() for part in parts]
        try:
            value = _parse_value(text.strip())
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"override {item!r}: invalid YAML value ({_yaml_problem(exc)})"
            ) from None
        node = result
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                raise ConfigError(f"override {item!r}: {where} is {_show(child)}, not a section")
            node = child
        if value is None and len(parts) == 2 and parts[0] == "datasets" and parts[1] != "train":
            node.pop(parts[1], None)  # datasets.val=null drops that validation set
        else:
            node[parts[-1]] = value
    return result


def options_from_dict(mapping: Mapping[str, Any], *, source: str | None = None) -> TrainOptions:
    """Check an options mapping (as read from YAML) and build :class:`TrainOptions`.

    Args:
        mapping: the whole options file.
        source: the file it came from, prefixed to error messages.

    Raises:
        ConfigError: one line naming the dotted key (and the nearest valid key for a typo).
    """
    try:
        return _build(mapping)
    except ConfigError as exc:
        if source:
            raise ConfigError(f"{source}: {exc}") from None
        raise


def load_options(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> TrainOptions:
    """Read a BasicSR / Real-ESRGAN style YAML options file (see :func:`options_from_dict`).

    Args:
        path: the ``.yml`` file.
        overrides: ``key.path=value`` strings (see :func:`apply_overrides`).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such options file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({_yaml_problem(exc)})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: an options file must hold a mapping, got {_show(raw)}")
    try:
        raw = apply_overrides(raw, overrides)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return options_from_dict(raw, source=str(path))


def _plain(obj: Any) -> Any:
    """Dataclasses -> dicts, tuples -> lists, Paths -> strings (for YAML)."""
    if isinstance(obj, TypedSection):
        return {"type": obj.type, **_plain(obj.args)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def resolved_dict(options: TrainOptions) -> dict[str, Any]:
    """The options as a plain, YAML-ready mapping that :func:`options_from_dict` reads back equal.

    Every default is written out; the degradation pipeline appears as the resolved
    ``degradation:`` spec (in place of Real-ESRGAN's scattered keys), and the keys the loader
    derives (``datasets.*.phase`` / ``scale``) are left out.
    """
    out = _plain(options)
    for dataset in out["datasets"].values():
        del dataset["phase"], dataset["scale"]
    for key in ("network_d", "val"):
        if out[key] is None:
            del out[key]
    degradation = out.pop("degradation")
    spec = degradation.pop("spec")
    out.update(degradation)
    if spec is not None:
        out["degradation"] = spec
    return out


__all__ = [
    "DATASET_TYPES",
    "DEGRADATION_KEYS",
    "GAN_MODEL_TYPES",
    "IGNORED_KEYS",
    "LOSSES",
    "METRIC_TYPES",
    "MODEL_TYPES",
    "OPTIMIZERS",
    "REALESRGAN_MODEL_TYPES",
    "SCHEDULERS",
    "ConfigError",
    "DatasetOptions",
    "DegradationOptions",
    "DistOptions",
    "IOBackendOptions",
    "LoggerOptions",
    "MetricOptions",
    "PathOptions",
    "TrainOptions",
    "TrainSection",
    "TypedSection",
    "ValOptions",
    "WandbOptions",
    "apply_overrides",
    "load_options",
    "options_from_dict",
    "resolved_dict",
]
