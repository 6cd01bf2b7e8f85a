"""Named degradation pipelines shipped as YAML inside the package, and the spec -> pipeline builder.

A pipeline spec is a mapping::

    name: my_pipeline          # recorded with every sample
    scale: 4                   # HR / LR size ratio of the final output
    gt_usm: false              # whether the HR given to apply() should be USM-sharpened first
    ops:                       # op specs: {type: <op type>, <arguments>...}
      - {type: blur, sigma: [0.2, 3.0]}
      - {type: resize_to, scale: 4}

Unknown keys are errors naming their dotted path and the nearest valid key.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import inspect
import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from torch import Tensor

from degrade.ops import (
    Clamp,
    Quantize,
    RandomBlur,
    RandomJPEG,
    RandomNoise,
    RandomOp,
    RandomResize,
    ResizeTo,
)
from degrade.ops.base import Context, batch_size, sizes_of
from degrade.ops.bsrgan import BSRGAN_OP_TYPES
from degrade.pipeline import OneOf, RandomOrder, Sequential, SequentialParams

OP_TYPES: dict[str, type[RandomOp[Any]]] = {
    cls.type_name: cls
    for cls in (
        RandomBlur,
        RandomResize,
        ResizeTo,
        RandomNoise,
        RandomJPEG,
        Quantize,
        Clamp,
        Sequential,
        OneOf,
        RandomOrder,
    )
}
OP_TYPES.update({cls.type_name: cls for cls in BSRGAN_OP_TYPES})
_CONTAINERS = {name for name, cls in OP_TYPES.items() if cls.is_container}
_PIPELINE_KEYS = ("name", "description", "scale", "gt_usm", "ops")


class SpecError(ValueError):
    """A pipeline spec is malformed; the message names the dotted key."""


def _nearest(word: str, options: list[str]) -> str:
    match = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {match[0]!r}?)" if match else f" (valid: {', '.join(sorted(options))})"


def build_op(spec: Mapping[str, Any], where: str = "ops") -> RandomOp[Any]:
    """Build one op (or container) from its spec ``{type: ..., **arguments}``.

    Args:
        spec: the op spec.
        where: the dotted path of the spec, for error messages.
    """
    if not isinstance(spec, Mapping):
        raise SpecError(f"{where}: an op spec must be a mapping with a 'type' key, got {spec!r}")
    if "type" not in spec:
        raise SpecError(f"{where}: missing 'type'")
    type_name = spec["type"]
    cls = OP_TYPES.get(type_name)
    if cls is None:
        raise SpecError(
            f"{where}.type: unknown op type {type_name!r}{_nearest(str(type_name), list(OP_TYPES))}"
        )
    args = {k: v for k, v in spec.items() if k != "type"}
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "ops")]
    if type_name in _CONTAINERS:
        accepted.append("ops")
    for key in args:
        if key not in accepted:
            raise SpecError(
                f"{where}.{key}: unknown option for {type_name}{_nearest(key, accepted)}"
            )
    try:
        if type_name in _CONTAINERS:
            children = args.pop("ops", None)
            if not isinstance(children, list):
                raise SpecError(f"{where}.ops: a {type_name} needs a list of op specs")
            ops = [build_op(child, f"{where}.ops[{i}]") for i, child in enumerate(children)]
            container: Any = cls  # containers take their children first
            return container(ops, **args)
        return cls(**args)
    except SpecError:
        raise
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{where} ({type_name}): {exc}") from None


class Pipeline(Sequential):
    """A named top-level pipeline: ``sample(keys, *, seed)`` then ``apply(hr, params) -> lq``.

    ``apply`` takes HR images ``(B, 3, H, W)`` in [0, 1] (already USM-sharpened when ``gt_usm``)
    and returns the LR batch as one tensor.
    """

    type_name = "pipeline"

    def __init__(
        self,
        ops: list[RandomOp[Any]],
        *,
        name: str = "pipeline",
        scale: float = 1,
        gt_usm: bool = False,
        description: str = "",
        spec: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(ops, name=name)
        self.scale = scale
        self.gt_usm = bool(gt_usm)
        self.description = description
        self.spec = dict(spec) if spec is not None else self.to_spec()

    def to_spec(self) -> dict[str, Any]:
        """The pipeline as a spec mapping (round-trips through :func:`build_pipeline`)."""
        return {
            "name": self.name,
            "description": self.description,
            "scale": self.scale,
            "gt_usm": self.gt_usm,
            "ops": [op.config() for op in self.ops],
        }

    @property
    def spec_hash(self) -> str:
        """SHA-256 of the canonical JSON of the spec (first 16 hex digits): identifies the recipe."""
        canonical = json.dumps(self.to_spec(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def child_path(self, parent: str) -> str:
        return parent or "root"

    def apply(
        self, x: Any, params: SequentialParams, *, trace: list[tuple[str, Any]] | None = None
    ) -> Tensor:
        """Degrade HR images.

        Args:
            x: HR images (already USM-sharpened when the recipe asks for it).
            params: from :meth:`sample` or :meth:`params_from_records`.
            trace: if a list, receives ``(op name, output)`` after every op, in order.

        Shape:
            x: ``(B, C, H, W)`` float in [0, 1]; returns ``(B, C, h, w)``.
        """
        if not isinstance(x, Tensor) or x.ndim != 4:
            raise ValueError(f"{self.name}: HR images must be a (B, C, H, W) tensor")
        if batch_size(x) != len(params):
            raise ValueError(
                f"{self.name}: {batch_size(x)} images but parameters for {len(params)} samples"
            )
        ctx = Context(
            hr_size=sizes_of(x)[0] if x.shape[0] else (0, 0), scale=float(self.scale), trace=trace
        )
        out = self.apply_images(x, params, ctx)
        if not isinstance(out, Tensor):
            sizes = sorted(set(sizes_of(out)))
            raise ValueError(
                f"{self.name}: samples end with different sizes {sizes[:4]}...; end the pipeline with a resize_to op"
            )
        return out

    def __call__(self, x: Any, keys: Tensor, *, seed: int = 0) -> Tensor:
        return self.apply(x, self.sample(keys, seed=seed, device=x.device))

    def arguments(self) -> dict[str, Any]:
        return self.to_spec()


def build_pipeline(spec: Mapping[str, Any]) -> Pipeline:
    """Build a :class:`Pipeline` from a spec mapping (see the module docstring)."""
    if not isinstance(spec, Mapping):
        raise SpecError(f"a pipeline spec must be a mapping, got {type(spec).__name__}")
    for key in spec:
        if key not in _PIPELINE_KEYS:
            raise SpecError(
                f"{key}: unknown pipeline key{_nearest(str(key), list(_PIPELINE_KEYS))}"
            )
    ops_spec = spec.get("ops")
    if not isinstance(ops_spec, list) or not ops_spec:
        raise SpecError("ops: a pipeline needs a non-empty list of op specs")
    ops = [build_op(op, f"ops[{i}]") for i, op in enumerate(ops_spec)]
    scale = spec.get("scale", 1)
    if not isinstance(scale, int | float) or scale <= 0:
        raise SpecError(f"scale: must be a positive number, got {scale!r}")
    return Pipeline(
        ops,
        name=str(spec.get("name", "custom")),
        scale=scale,
        gt_usm=bool(spec.get("gt_usm", False)),
        description=str(spec.get("description", "")),
        spec=copy.deepcopy(dict(spec)),
    )


def available_presets() -> list[str]:
    """Names of the presets shipped with the package."""
    folder = resources.files(__package__)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def preset_spec(name: str) -> dict[str, Any]:
    """The spec of a shipped preset, as loaded from its YAML."""
    resource = resources.files(__package__) / f"{name}.yaml"
    if not resource.is_file():
        raise SpecError(f"unknown preset {name!r}{_nearest(name, available_presets())}")
    spec = yaml.safe_load(resource.read_text())
    if not isinstance(spec, dict):
        raise SpecError(f"preset {name!r} is not a mapping")
    return spec


def load_pipeline(
    source: str | os.PathLike[str] | Mapping[str, Any], *, scale: float | None = None
) -> Pipeline:
    """Load a pipeline from a preset name, a YAML file path or a spec mapping.

    Args:
        source: a preset name (:func:`available_presets`), a ``.yaml`` path or a spec mapping.
        scale: override the spec's ``scale`` (ops that leave their scale unset follow it).

    Example:
        >>> import torch
        >>> pipe = load_pipeline("realesrgan_x4plus")
        >>> hr = torch.rand(2, 3, 64, 64)
        >>> pipe.apply(hr, pipe.sample(torch.tensor([0, 1]), seed=0)).shape
        torch.Size([2, 3, 16, 16])
    """
    where = ""
    if isinstance(source, Mapping):
        spec: Any = dict(source)
    elif Path(source).suffix in (".yaml", ".yml") or Path(source).exists():
        path = Path(source)
        if not path.is_file():
            raise SpecError(f"{path}: no such pipeline file")
        spec, where = yaml.safe_load(path.read_text()), f"{path}: "
    else:
        spec = preset_spec(str(source))
    if scale is not None and isinstance(spec, dict):
        spec["scale"] = scale
    try:
        return build_pipeline(spec)
    except SpecError as exc:
        raise SpecError(f"{where}{exc}") from None


__all__ = [
    "OP_TYPES",
    "Pipeline",
    "SpecError",
    "available_presets",
    "build_op",
    "build_pipeline",
    "load_pipeline",
    "preset_spec",
]
