"""Builders for the sections of an options file: ``type:`` sections checked against the signature
of what they build, datasets, validation, logging, paths and the ``train`` section."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, get_type_hints

from degrade.presets.realesrgan_options import DATASET_KEYS, IGNORED_DATASET_KEYS
from realsr.archs import ARCHS
from realsr.config.registry import (
    _METRIC_ALIASES,
    _REQUIRED,
    LOSSES,
    METRIC_TYPES,
    OPTIMIZERS,
    REALESRGAN_MODEL_TYPES,
    SCHEDULERS,
)
from realsr.config.schema import (
    DatasetOptions,
    IOBackendOptions,
    LoggerOptions,
    MetricOptions,
    PathOptions,
    TrainSection,
    TypedSection,
    ValOptions,
    WandbOptions,
)
from realsr.config.values import ConfigError, _coerce, _fields, _mapping, _nearest, _show
from realsr.losses import VGG19_LAYER_NAMES


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
