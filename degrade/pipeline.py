"""Containers with the same ``sample``/``apply`` pair as the ops: Sequential, OneOf, RandomOrder.

Each child gets a path below its container (``"<index>:<name>"``), and its draws come from
``(seed, key, path)``, so adding an op to a pipeline never changes another op's draws (only the
indices after it move). Per-sample choices (which branch of a :class:`OneOf`, which order of a
:class:`RandomOrder`) group the samples that chose alike and run each group as one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from degrade.ops.base import Context, Images, Params, RandomOp, map_groups
from degrade.random import Draws
from degrade.seeding import derive_seeds


@dataclass(frozen=True)
class SequentialParams(Params):
    """The children's parameters, in order."""

    children: tuple[Params, ...]


@dataclass(frozen=True)
class OneOfParams(Params):
    """The branch each sample takes, and every branch's parameters (complete records)."""

    choice: Tensor  # (B,) int64
    children: tuple[Params, ...]


@dataclass(frozen=True)
class RandomOrderParams(Params):
    """Each sample's order of the children (a permutation), and the children's parameters."""

    order: Tensor  # (B, n) int64
    children: tuple[Params, ...]


class Container(RandomOp[Any]):
    """Base of the containers: holds child ops, draws their parameters below its own path,
    and records/rebuilds nested parameter records."""

    is_container = True

    def __init__(self, ops: Sequence[RandomOp[Any]], *, name: str | None = None) -> None:
        super().__init__(name=name)
        if not ops:
            raise ValueError(f"{self.type_name}: needs at least one op")
        for op in ops:
            if not isinstance(op, RandomOp):
                raise TypeError(f"{self.type_name}: {op!r} is not a random op")
        self.ops = list(ops)

    def child_paths(self, path: str) -> list[str]:
        return [f"{path}/{i}:{op.name}" for i, op in enumerate(self.ops)]

    def draw_children(self, keys: Tensor, *, seed: int, path: str) -> tuple[Params, ...]:
        return tuple(
            op.draw_keys(keys, seed=seed, path=child)
            for op, child in zip(self.ops, self.child_paths(path), strict=True)
        )

    def own_draws(self, keys: Tensor, seed: int, path: str) -> Draws:
        return Draws(derive_seeds(seed, keys, path))

    def records(self, params: Any) -> list[dict[str, Any]]:
        child_records = [op.records(p) for op, p in zip(self.ops, params.children, strict=True)]
        own = self.own_records(params)
        out = []
        for i in range(len(params)):
            record = dict(own[i]) if own else {}
            for j, op in enumerate(self.ops):
                record[f"{j}:{op.name}"] = child_records[j][i]
            out.append(record)
        return out

    def own_records(self, params: Any) -> list[dict[str, Any]]:
        return []

    def children_from_records(
        self, records: Sequence[dict[str, Any]], device: torch.device | str
    ) -> tuple[Params, ...]:
        children = []
        for j, op in enumerate(self.ops):
            key = f"{j}:{op.name}"
            try:
                column = [r[key] for r in records]
            except KeyError:
                raise ValueError(f"{self.name}: record has no entry {key!r}") from None
            children.append(op.params_from_records(column, device=device))
        return tuple(children)

    def arguments(self) -> dict[str, Any]:
        return {"ops": [op.config() for op in self.ops], **super().arguments()}


class Sequential(Container):
    """Apply ops one after the other.

    Example:
        >>> from degrade.ops import RandomBlur, RandomNoise
        >>> pipe = Sequential([RandomBlur(), RandomNoise()])
        >>> params = pipe.sample(torch.arange(2), seed=0)
        >>> pipe.apply(torch.rand(2, 3, 16, 16), params).shape
        torch.Size([2, 3, 16, 16])
    """

    type_name = "sequential"
    params_type = SequentialParams

    def draw_keys(self, keys: Tensor, *, seed: int, path: str) -> SequentialParams:
        return SequentialParams(children=self.draw_children(keys, seed=seed, path=path))

    def apply_images(self, x: Images, params: SequentialParams, ctx: Context) -> Images:
        for op, p in zip(self.ops, params.children, strict=True):
            x = op.apply_images(x, p, ctx)
            ctx.record(op, x)
        return x

    def params_from_records(
        self, records: Sequence[dict[str, Any]], *, device: torch.device | str = "cpu"
    ) -> SequentialParams:
        return SequentialParams(children=self.children_from_records(records, device))


class OneOf(Container):
    """Apply one of the ops per sample, chosen with probabilities ``probs`` (uniform by default)."""

    type_name = "one_of"
    params_type = OneOfParams

    def __init__(
        self,
        ops: Sequence[RandomOp[Any]],
        *,
        probs: Sequence[float] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(ops, name=name)
        self.probs = [1.0] * len(self.ops) if probs is None else [float(p) for p in probs]
        if len(self.probs) != len(self.ops) or min(self.probs) < 0 or sum(self.probs) <= 0:
            raise ValueError(
                f"one_of: probs must be {len(self.ops)} non-negative weights, got {probs}"
            )

    def draw_keys(self, keys: Tensor, *, seed: int, path: str) -> OneOfParams:
        choice = self.own_draws(keys, seed, path).choice(self.probs)
        return OneOfParams(choice=choice, children=self.draw_children(keys, seed=seed, path=path))

    def apply_images(self, x: Images, params: OneOfParams, ctx: Context) -> Images:
        def run(sub: Images, index: list[int], branch: int) -> Images:
            out = self.ops[branch].apply_images(sub, params.children[branch].take(index), ctx)
            ctx.record(self.ops[branch], out)
            return out

        return map_groups(x, params.choice.tolist(), run)

    def own_records(self, params: OneOfParams) -> list[dict[str, Any]]:
        return [{"choice": c} for c in params.choice.tolist()]

    def params_from_records(
        self, records: Sequence[dict[str, Any]], *, device: torch.device | str = "cpu"
    ) -> OneOfParams:
        choice = torch.tensor([r["choice"] for r in records], dtype=torch.int64, device=device)
        return OneOfParams(choice=choice, children=self.children_from_records(records, device))

    def arguments(self) -> dict[str, Any]:
        return {**super().arguments(), "probs": self.probs}


class RandomOrder(Container):
    """Apply all ops, in a uniformly random order per sample.

    Example:
        >>> from degrade.ops import RandomJPEG, ResizeTo
        >>> pipe = RandomOrder([ResizeTo(scale=2), RandomJPEG()])
        >>> pipe(torch.rand(4, 3, 16, 16), torch.arange(4)).shape
        torch.Size([4, 3, 8, 8])
    """

    type_name = "random_order"
    params_type = RandomOrderParams

    def draw_keys(self, keys: Tensor, *, seed: int, path: str) -> RandomOrderParams:
        d = self.own_draws(keys, seed, path)
        priorities = torch.stack([d.uniform(0.0, 1.0) for _ in self.ops], dim=1)
        order = priorities.argsort(dim=1)
        return RandomOrderParams(
            order=order, children=self.draw_children(keys, seed=seed, path=path)
        )

    def apply_images(self, x: Images, params: RandomOrderParams, ctx: Context) -> Images:
        orders = [tuple(o) for o in params.order.tolist()]

        def run(sub: Images, index: list[int], order: tuple[int, ...]) -> Images:
            for j in order:
                sub = self.ops[j].apply_images(sub, params.children[j].take(index), ctx)
                ctx.record(self.ops[j], sub)
            return sub

        return map_groups(x, orders, run)

    def own_records(self, params: RandomOrderParams) -> list[dict[str, Any]]:
        return [{"order": o} for o in params.order.tolist()]

    def params_from_records(
        self, records: Sequence[dict[str, Any]], *, device: torch.device | str = "cpu"
    ) -> RandomOrderParams:
        order = torch.tensor([r["order"] for r in records], dtype=torch.int64, device=device)
        return RandomOrderParams(order=order, children=self.children_from_records(records, device))
