"""Random degradation ops: ``sample(keys, *, seed) -> Params`` then ``apply(x, params)``.

A random op holds ranges and probabilities. :meth:`RandomOp.sample` draws every choice of every
sample from ``(seed, keys[i], op path)`` alone (see :mod:`degrade.random`), into a frozen, typed
:class:`Params` dataclass of ``(B,)`` tensors: the complete record of what will be applied.
:meth:`RandomOp.apply` only calls the functional core. ``forward`` (``op(x, keys, seed=...)``) is
written once here and never overridden.

Images travel between ops as :data:`Images`: a ``(B, C, H, W)`` tensor when every sample has the
same size, or a list of ``(1, C, h_i, w_i)`` tensors once per-sample resizes have given the samples
their own sizes (each sample is then processed as a whole image of its own size, so noise grain
and the JPEG grid scale with it; nothing is resized back to a common size mid-pipeline).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import torch
from torch import Tensor

from degrade.random import Draws
from degrade.seeding import derive_seeds

Images = Tensor | list[Tensor]
"""A uniform batch ``(B, C, H, W)`` or a list of ``(1, C, h_i, w_i)`` samples."""

P = TypeVar("P", bound="Params")


# --------------------------------------------------------------------------------------------- #
# Images helpers
# --------------------------------------------------------------------------------------------- #


def batch_size(images: Images) -> int:
    """Number of samples in ``images``."""
    return images.shape[0] if isinstance(images, Tensor) else len(images)


def as_list(images: Images) -> list[Tensor]:
    """``images`` as a list of ``(1, C, h, w)`` samples."""
    return list(images.split(1)) if isinstance(images, Tensor) else list(images)


def collate(samples: Sequence[Tensor]) -> Images:
    """Stack samples into one tensor when their sizes agree, else keep the list."""
    if samples and all(s.shape == samples[0].shape for s in samples):
        return torch.cat(list(samples)) if len(samples) > 1 else samples[0]
    return list(samples)


def take(images: Images, index: Sequence[int]) -> Images:
    """The samples at ``index`` (host indices), as a tensor when possible."""
    if isinstance(images, Tensor):
        return images[list(index)] if len(index) != images.shape[0] else images
    return collate([images[i] for i in index])


def scatter(images: Images, index: Sequence[int], values: Images) -> Images:
    """``images`` with the samples at ``index`` replaced by ``values`` (in order)."""
    if (
        isinstance(images, Tensor)
        and isinstance(values, Tensor)
        and values.shape[1:] == images.shape[1:]
    ):
        out = images.clone()
        out[list(index)] = values
        return out
    samples = as_list(images)
    for i, value in zip(index, as_list(values), strict=True):
        samples[i] = value
    return collate(samples)


def sizes_of(images: Images) -> list[tuple[int, int]]:
    """Per-sample ``(h, w)``."""
    if isinstance(images, Tensor):
        return [(images.shape[-2], images.shape[-1])] * images.shape[0]
    return [(s.shape[-2], s.shape[-1]) for s in images]


def map_groups(
    images: Images, groups: Sequence[Any], fn: Callable[[Images, list[int], Any], Images]
) -> Images:
    """Apply ``fn(sub_batch, index, group)`` to the samples of each group value and reassemble.

    ``groups[i]`` is sample i's group (any hashable: a branch index, an output size, an order).
    Samples with equal group values that also share a size are processed as one tensor batch.
    """
    by_key: dict[Any, list[int]] = {}
    sizes = sizes_of(images)
    for i, group in enumerate(groups):
        by_key.setdefault((group, sizes[i]), []).append(i)
    if len(by_key) == 1:
        ((group, _),) = by_key
        return fn(images, list(range(batch_size(images))), group)
    out: list[Tensor | None] = [None] * batch_size(images)
    for (group, _), index in by_key.items():
        result = as_list(fn(take(images, index), index, group))
        for i, value in zip(index, result, strict=True):
            out[i] = value
    return collate([o for o in out if o is not None])


def check_range(value: Sequence[float], name: str, op: str) -> tuple[float, float]:
    """Validate a ``[low, high]`` option of op ``op``; one-line error naming the option."""
    if isinstance(value, str) or len(value) != 2 or not float(value[0]) <= float(value[1]):
        raise ValueError(f"{op}: {name} must be a [low, high] pair with low <= high, got {value!r}")
    return float(value[0]), float(value[1])


# --------------------------------------------------------------------------------------------- #
# Parameters
# --------------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Params:
    """Base of every op's parameters: a frozen dataclass whose tensor fields have a leading B.

    Subclasses declare typed fields; nested params (containers) are ``Params`` or tuples of them.
    Integer fields listed in ``categorical`` index a tuple of names, and records store the name.
    """

    categorical: ClassVar[dict[str, tuple[str, ...]]] = {}

    def take(self: P, index: Tensor | Sequence[int]) -> P:
        """The parameters of the samples at ``index``."""
        idx = index if isinstance(index, Tensor) else torch.tensor(list(index), dtype=torch.long)
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            changes[f.name] = _take_value(value, idx)
        return dataclasses.replace(self, **changes)

    def to(self: P, device: torch.device | str) -> P:
        """The same parameters on ``device``."""
        changes = {
            f.name: _to_device(getattr(self, f.name), device) for f in dataclasses.fields(self)
        }
        return dataclasses.replace(self, **changes)

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per sample (Python numbers, bools, lists; categorical names)."""
        columns: dict[str, list[Any]] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}.{f.name}: only tensor fields have records")
            column = value.tolist()
            names = self.categorical.get(f.name)
            columns[f.name] = [names[v] for v in column] if names else column
        return [{name: column[i] for name, column in columns.items()} for i in range(len(self))]

    @classmethod
    def from_records(
        cls: type[P], records: Sequence[dict[str, Any]], *, device: torch.device | str = "cpu"
    ) -> P:
        """Rebuild parameters from :meth:`records` output (tensor fields only; containers override)."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            column = [r[f.name] for r in records]
            names = cls.categorical.get(f.name)
            if names:
                unknown = sorted({v for v in column if v not in names})
                if unknown:
                    raise ValueError(
                        f"{cls.__name__}.{f.name}: unknown value(s) {unknown}; expected one of {names}"
                    )
                column = [names.index(v) for v in column]
            dtype = _FIELD_DTYPES.get(type(column[0]) if column else float, torch.float64)
            values[f.name] = torch.tensor(column, dtype=dtype, device=device)
        return cls(**values)

    def __len__(self) -> int:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Tensor):
                return int(value.shape[0])
            if isinstance(value, Params):
                return len(value)
            if isinstance(value, tuple) and value and isinstance(value[0], Params):
                return len(value[0])
        raise ValueError(f"{type(self).__name__} has no per-sample fields")


_FIELD_DTYPES: dict[type, torch.dtype] = {bool: torch.bool, int: torch.int64, float: torch.float64}


def _take_value(value: Any, idx: Tensor) -> Any:
    if isinstance(value, Tensor):
        return value[idx.to(value.device)]
    if isinstance(value, Params):
        return value.take(idx)
    if isinstance(value, tuple) and value and isinstance(value[0], Params):
        return tuple(v.take(idx) for v in value)
    return value


def _to_device(value: Any, device: torch.device | str) -> Any:
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, Params):
        return value.to(device)
    if isinstance(value, tuple) and value and isinstance(value[0], Params):
        return tuple(v.to(device) for v in value)
    return value


# --------------------------------------------------------------------------------------------- #
# Ops
# --------------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Context:
    """What every op of one pipeline run may read: the HR size it started from and its scale.

    When ``trace`` is a list, containers append ``(op name, output)`` after every leaf op they
    run, in execution order (previews use it to show each stage).
    """

    hr_size: tuple[int, int]
    scale: float = 1.0
    trace: list[tuple[str, Images]] | None = None

    def record(self, op: RandomOp[Any], images: Images) -> None:
        """Append a leaf op's output to the trace, if tracing."""
        if self.trace is not None and not op.is_container:
            self.trace.append((op.name, images))


class RandomOp(ABC, Generic[P]):
    """Base of every random op and container.

    Subclasses set ``type_name`` (the YAML ``type:``), ``params_type``, and implement
    :meth:`draw` (parameters from per-sample draws) and :meth:`apply_images`.
    """

    type_name: ClassVar[str]
    params_type: ClassVar[type[Params]]
    is_container: ClassVar[bool] = False

    def __init__(self, *, name: str | None = None) -> None:
        self.name = name or self.type_name

    # -- sampling -------------------------------------------------------------------------- #
    def sample(
        self,
        keys: Tensor | int,
        *,
        seed: int = 0,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        path: str = "",
    ) -> P:
        """Draw the parameters of every sample.

        Args:
            keys: ``(B,)`` int64 per-image keys; or a batch size B, in which case the keys are
                drawn from ``generator`` (convenience; records still hold the drawn keys).
            seed: the base seed; sample i's draws depend only on ``(seed, keys[i], path)``.
            generator: only used when ``keys`` is a batch size.
            device: where the parameters live (default: the keys' device).
            path: this op's path inside its pipeline (containers pass it down).

        Returns:
            This op's frozen parameters, every tensor with a leading B.
        """
        if isinstance(keys, int):
            keys = torch.randint(0, 2**62, (keys,), generator=generator, dtype=torch.int64)
        if keys.dtype != torch.int64 or keys.ndim != 1:
            raise ValueError(
                f"keys must be a (B,) int64 tensor, got {keys.dtype} {tuple(keys.shape)}"
            )
        if device is not None:
            keys = keys.to(device)
        return self.draw_keys(keys, seed=seed, path=self.child_path(path))

    def child_path(self, parent: str) -> str:
        """This op's path below ``parent``."""
        return f"{parent}/{self.name}" if parent else self.name

    def draw_keys(self, keys: Tensor, *, seed: int, path: str) -> P:
        """Parameters for ``keys`` at ``path`` (containers override to recurse)."""
        return self.draw(Draws(derive_seeds(seed, keys, path)))

    def draw(self, d: Draws) -> P:
        """Parameters from per-sample draws (leaf ops implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement draw()")

    # -- applying -------------------------------------------------------------------------- #
    def apply(self, x: Images, params: P) -> Images:
        """Apply the op with the given parameters (a pure function of ``x`` and ``params``).

        Shape:
            x: ``(B, C, H, W)`` float in [0, 1] (or a list of ``(1, C, h_i, w_i)``); returns
            the same kind, possibly with new sizes.
        """
        if batch_size(x) != len(params):
            raise ValueError(
                f"{self.name}: {batch_size(x)} images but parameters for {len(params)} samples"
            )
        hr_size = sizes_of(x)[0] if batch_size(x) else (0, 0)
        return self.apply_images(x, params, Context(hr_size=hr_size))

    @abstractmethod
    def apply_images(self, x: Images, params: P, ctx: Context) -> Images:
        """Apply to images inside a pipeline run (``ctx`` carries the run's HR size)."""

    # -- records --------------------------------------------------------------------------- #
    def records(self, params: P) -> list[dict[str, Any]]:
        """One JSON-ready dict per sample describing ``params`` (see :mod:`degrade.records`)."""
        return params.records()

    def params_from_records(
        self, records: Sequence[dict[str, Any]], *, device: torch.device | str = "cpu"
    ) -> P:
        """Rebuild the parameters that :meth:`records` described."""
        return self.params_type.from_records(records, device=device)  # type: ignore[return-value]

    def __call__(self, x: Images, keys: Tensor, *, seed: int = 0) -> Images:
        """``apply(x, sample(keys, seed=seed, device=x.device))``."""
        device = x.device if isinstance(x, Tensor) else x[0].device
        return self.apply(x, self.sample(keys, seed=seed, device=device))

    # -- description ----------------------------------------------------------------------- #
    def config(self) -> dict[str, Any]:
        """The op as a YAML-ready spec (``type`` plus its arguments)."""
        return {"type": self.type_name, **self.arguments()}

    def arguments(self) -> dict[str, Any]:
        """Constructor arguments (subclasses list theirs)."""
        return {"name": self.name} if self.name != self.type_name else {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.arguments().items())
        return f"{type(self).__name__}({args})"


class ElementwiseOp(RandomOp[P]):
    """An op whose batched functional call treats samples independently and keeps sizes.

    Subclasses implement :meth:`apply_batch` on a uniform ``(B, C, H, W)`` tensor; ragged batches
    are processed in groups of equal size.
    """

    @abstractmethod
    def apply_batch(self, x: Tensor, params: P) -> Tensor:
        """Apply to a uniform batch."""

    def apply_images(self, x: Images, params: P, ctx: Context) -> Images:
        if isinstance(x, Tensor):
            return self.apply_batch(x, params)
        return map_groups(
            x, [0] * len(x), lambda sub, idx, _: self.apply_batch(_cat(sub), params.take(idx))
        )


def _cat(images: Images) -> Tensor:
    if isinstance(images, Tensor):
        return images
    return torch.cat(images)
