"""Random JPEG compression with per-sample quality."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor

from degrade.functional.jpeg import jpeg
from degrade.ops.base import ElementwiseOp, Params
from degrade.ops.base import check_range as _range
from degrade.random import Draws


@dataclass(frozen=True)
class JPEGParams(Params):
    """Per-sample JPEG quality (continuous; the exact codec rounds it) and whether it runs."""

    applied: Tensor  # (B,) bool
    quality: Tensor  # (B,) float64


class RandomJPEG(ElementwiseOp[JPEGParams]):
    """JPEG-compress each sample with quality U(``jpeg_range``), after clamping to [0, 1].

    ``compat=None`` is the libjpeg-exact codec (the quality rounded to an integer, as libjpeg
    takes it); ``compat="basicsr"`` reproduces BasicSR's DiffJPEG (continuous quality) for exact
    recipe parity; ``differentiable=True`` passes gradients straight through.

    Example:
        >>> op = RandomJPEG(jpeg_range=[50, 50])
        >>> y = op(torch.rand(2, 3, 16, 16), torch.arange(2))
        >>> bool(((y * 255).round() == y * 255).all())  # 8-bit levels
        True
    """

    type_name = "jpeg"
    params_type = JPEGParams

    def __init__(
        self,
        *,
        jpeg_range: Sequence[float] = (30.0, 95.0),
        compat: Literal["basicsr"] | None = None,
        differentiable: bool = False,
        p: float = 1.0,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        low, high = _range(jpeg_range, "jpeg_range", "jpeg")
        if low < 1 or high > 100:
            raise ValueError(f"jpeg: jpeg_range must lie in [1, 100], got {list(jpeg_range)}")
        if compat not in (None, "basicsr"):
            raise ValueError(f"jpeg: compat must be null or 'basicsr', got {compat!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"jpeg: p must be in [0, 1], got {p}")
        self.jpeg_range = (low, high)
        self.compat = compat
        self.differentiable = bool(differentiable)
        self.p = float(p)

    def draw(self, d: Draws) -> JPEGParams:
        applied = d.bernoulli(self.p)
        return JPEGParams(applied=applied, quality=d.uniform(*self.jpeg_range))

    def apply_batch(self, x: Tensor, params: JPEGParams) -> Tensor:
        if x.shape[0] == 0:
            return x.clone()
        x = x.clamp(0, 1)
        out = jpeg(
            x, params.quality.to(x.device), differentiable=self.differentiable, compat=self.compat
        )
        if self.p < 1.0:
            out = torch.where(params.applied.view(-1, 1, 1, 1).to(x.device), out, x)
        return out

    def arguments(self) -> dict[str, Any]:
        args = {
            "jpeg_range": list(self.jpeg_range),
            "compat": self.compat,
            "differentiable": self.differentiable,
            "p": self.p,
        }
        return {**args, **super().arguments()}
