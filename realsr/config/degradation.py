"""Routing the degradation keys of an options file to one degrade pipeline spec.

Real-ESRGAN files keep them at the top level and in ``datasets.train``; the project key
``degradation:`` names a preset, a YAML file or a spec mapping instead.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from degrade.presets import SpecError, available_presets, build_pipeline, preset_spec
from degrade.presets.realesrgan_options import (
    DATASET_KEYS,
    TOP_LEVEL_KEYS,
    spec_from_realesrgan_options,
)
from realsr.config.registry import DEGRADATION_KEYS, REALESRGAN_MODEL_TYPES
from realsr.config.schema import DatasetOptions, DegradationOptions
from realsr.config.values import (
    ConfigError,
    _coerce,
    _fields,
    _nearest,
    _number,
    _show,
    _yaml_problem,
)


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
