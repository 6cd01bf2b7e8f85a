"""Deterministic steps of a pipeline: clamping and 8-bit quantisation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from degrade.ops.base import ElementwiseOp, Params
from degrade.random import Draws


@dataclass(frozen=True)
class NoParams(Params):
    """Parameters of a deterministic op: only the batch size is recorded."""

    present: Tensor  # (B,) bool, always True


class Quantize(ElementwiseOp[NoParams]):
    """Clamp to [0, 1] and round to 8-bit levels (the last step of Real-ESRGAN's degradation)."""

    type_name = "quantize"
    params_type = NoParams

    def draw(self, d: Draws) -> NoParams:
        return NoParams(present=torch.ones_like(d.seeds, dtype=torch.bool))

    def apply_batch(self, x: Tensor, params: NoParams) -> Tensor:
        return torch.clamp((x * 255.0).round(), 0, 255) / 255.0


class Clamp(ElementwiseOp[NoParams]):
    """Clamp to [0, 1]."""

    type_name = "clamp"
    params_type = NoParams

    def draw(self, d: Draws) -> NoParams:
        return NoParams(present=torch.ones_like(d.seeds, dtype=torch.bool))

    def apply_batch(self, x: Tensor, params: NoParams) -> Tensor:
        return x.clamp(0, 1)
