"""Loading a whole options file: cross-section checks, overrides, and the resolved mapping."""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from degrade.presets.realesrgan_options import TOP_LEVEL_KEYS
from realsr.archs import ARCHS
from realsr.config.degradation import _degradation
from realsr.config.registry import DEGRADATION_KEYS, GAN_MODEL_TYPES, REALESRGAN_MODEL_TYPES
from realsr.config.schema import DatasetOptions, DistOptions, TrainOptions, TypedSection
from realsr.config.sections import (
    _arch_signature,
    _dataset,
    _logger,
    _network,
    _path,
    _train,
    _val,
)
from realsr.config.values import (
    _NUMBER,
    ConfigError,
    _check_value,
    _fields,
    _ignored_here,
    _ignored_reason,
    _mapping,
    _nearest,
    _show,
    _yaml_problem,
)

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
