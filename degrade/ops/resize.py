"""Random resizes: per-sample direction, scale and interpolation mode, and the final resize back."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor

from degrade.functional.imresize import imresize
from degrade.functional.resize import RESIZE_MODES, resize
from degrade.ops.base import Context, Images, Params, RandomOp, map_groups, sizes_of
from degrade.random import Draws

DIRECTIONS: tuple[str, ...] = ("up", "down", "keep")
#: Interpolation modes of the random resizes: ``F.interpolate``'s, plus MATLAB's antialiased bicubic
#: ``imresize`` in floating point ("matlab") or as on uint8 images, rounding each pass ("matlab_uint8").
MODES: tuple[str, ...] = (*RESIZE_MODES, "matlab", "matlab_uint8")


def _resize_to(x: Tensor, size: tuple[int, int], mode: str, scale: float | None) -> Tensor:
    """Resize a uniform batch to ``size`` (using the scale-factor mapping when ``scale`` is given)."""
    if tuple(x.shape[-2:]) == size and (scale is None or scale == 1.0):
        return x
    if mode in ("matlab", "matlab_uint8"):
        return imresize(x, size=size, round_each_pass=mode == "matlab_uint8")
    if scale is not None:
        return resize(x, scale=scale, mode=mode)  # type: ignore[arg-type]
    return resize(x, size=size, mode=mode)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ResizeParams(Params):
    """Per-sample resize: direction (up/down/keep), scale factor and mode."""

    direction: Tensor  # (B,) int64 into DIRECTIONS
    scale: Tensor  # (B,) float64; 1 for "keep"
    mode: Tensor  # (B,) int64 into MODES

    categorical: ClassVar[dict[str, tuple[str, ...]]] = {"direction": DIRECTIONS, "mode": MODES}


def _check_modes(modes: Sequence[str], op: str) -> list[str]:
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise ValueError(f"{op}: unknown resize mode(s) {bad or modes} (valid: {', '.join(MODES)})")
    return [str(m) for m in modes]


class RandomResize(RandomOp[ResizeParams]):
    """Resize each sample by its own random factor, as Real-ESRGAN's two random resizes.

    Per sample: a direction from ``resize_prob`` = [up, down, keep] probabilities, a scale
    U(1, ``resize_range[1]``) up or U(``resize_range[0]``, 1) down (1 for keep), and a mode
    uniform over ``modes``. ``relative_to="input"`` resizes the current image by the factor
    (``F.interpolate(x, scale_factor=s)``: output ``floor(h * s)``, scale-based coordinates);
    ``relative_to="hr"`` resizes to ``int(H_hr / hr_scale * s)`` (Real-ESRGAN's second resize;
    ``hr_scale`` defaults to the pipeline's scale).
    Samples keep their own sizes afterwards.

    Example:
        >>> op = RandomResize(resize_prob=[0.0, 1.0, 0.0], resize_range=[0.5, 1.0])
        >>> out = op(torch.rand(2, 3, 32, 32), torch.arange(2))
        >>> [16 <= s.shape[-1] <= 32 for s in (out if isinstance(out, list) else out.split(1))]
        [True, True]
    """

    type_name = "resize"
    params_type = ResizeParams

    def __init__(
        self,
        *,
        resize_prob: Sequence[float] = (0.2, 0.7, 0.1),
        resize_range: Sequence[float] = (0.15, 1.5),
        modes: Sequence[str] = ("area", "bilinear", "bicubic"),
        relative_to: Literal["input", "hr"] = "input",
        hr_scale: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        if len(resize_prob) != 3 or min(resize_prob) < 0 or sum(resize_prob) <= 0:
            raise ValueError(
                f"resize: resize_prob must be three [up, down, keep] weights, got {list(resize_prob)}"
            )
        if len(resize_range) != 2 or not 0 < resize_range[0] <= 1 <= resize_range[1]:
            raise ValueError(
                f"resize: resize_range must be [low <= 1, high >= 1] with low > 0, got {list(resize_range)}"
            )
        if relative_to not in ("input", "hr"):
            raise ValueError(f"resize: relative_to must be 'input' or 'hr', got {relative_to!r}")
        if hr_scale is not None and hr_scale <= 0:
            raise ValueError(f"resize: hr_scale must be positive, got {hr_scale}")
        self.resize_prob = [float(v) for v in resize_prob]
        self.resize_range = (float(resize_range[0]), float(resize_range[1]))
        self.modes = _check_modes(modes, "resize")
        self.relative_to = relative_to
        self.hr_scale = None if hr_scale is None else float(hr_scale)

    def draw(self, d: Draws) -> ResizeParams:
        direction = d.choice(self.resize_prob)
        up = d.uniform(1.0, self.resize_range[1])
        down = d.uniform(self.resize_range[0], 1.0)
        scale = torch.where(
            direction == 0, up, torch.where(direction == 1, down, torch.ones_like(up))
        )
        mode = d.pick(self.modes, MODES)
        return ResizeParams(direction=direction, scale=scale, mode=mode)

    def output_size(self, in_size: tuple[int, int], scale: float, ctx: Context) -> tuple[int, int]:
        """Sample's output ``(h, w)`` (at least 1x1)."""
        if self.relative_to == "hr":
            hr_scale = self.hr_scale if self.hr_scale is not None else ctx.scale
            h, w = (int(v / hr_scale * scale) for v in ctx.hr_size)
        else:
            h, w = (math.floor(v * scale) for v in in_size)
        return max(h, 1), max(w, 1)

    def apply_images(self, x: Images, params: ResizeParams, ctx: Context) -> Images:
        scales = params.scale.tolist()  # the one host read of this op
        modes = params.mode.tolist()
        sizes = sizes_of(x)
        groups = [
            (MODES[m], s, self.output_size(sz, s, ctx))
            for m, s, sz in zip(modes, scales, sizes, strict=True)
        ]

        def run(sub: Images, _: list[int], group: tuple[str, float, tuple[int, int]]) -> Images:
            mode, scale, size = group
            assert isinstance(sub, Tensor)
            by_factor = (
                self.relative_to == "input"
                and min(math.floor(v * scale) for v in sub.shape[-2:]) >= 1
            )
            return _resize_to(sub, size, mode, scale if by_factor else None)

        return map_groups(x, groups, run)

    def arguments(self) -> dict[str, Any]:
        args = {
            "resize_prob": self.resize_prob,
            "resize_range": list(self.resize_range),
            "modes": self.modes,
            "relative_to": self.relative_to,
            "hr_scale": self.hr_scale,
        }
        return {**args, **super().arguments()}


@dataclass(frozen=True)
class ResizeToParams(Params):
    """Per-sample mode of the resize back to the LR size."""

    mode: Tensor  # (B,) int64 into MODES

    categorical: ClassVar[dict[str, tuple[str, ...]]] = {"mode": MODES}


class ResizeTo(RandomOp[ResizeToParams]):
    """Resize every sample to ``(H_hr // scale, W_hr // scale)`` with a random mode per sample.

    ``scale`` defaults to the pipeline's scale. This ends the per-sample sizes of a pipeline: afterwards the batch is one tensor again.

    Example:
        >>> op = ResizeTo(scale=4)
        >>> op(torch.rand(2, 3, 32, 32), torch.arange(2)).shape
        torch.Size([2, 3, 8, 8])
    """

    type_name = "resize_to"
    params_type = ResizeToParams

    def __init__(
        self,
        *,
        scale: float | None = None,
        modes: Sequence[str] = ("area", "bilinear", "bicubic"),
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        if scale is not None and scale <= 0:
            raise ValueError(f"resize_to: scale must be positive, got {scale}")
        self.scale = None if scale is None else float(scale)
        self.modes = _check_modes(modes, "resize_to")

    def draw(self, d: Draws) -> ResizeToParams:
        mode = d.pick(self.modes, MODES)
        return ResizeToParams(mode=mode)

    def apply_images(self, x: Images, params: ResizeToParams, ctx: Context) -> Images:
        scale = self.scale if self.scale is not None else ctx.scale
        size = (max(int(ctx.hr_size[0] // scale), 1), max(int(ctx.hr_size[1] // scale), 1))
        modes = [MODES[m] for m in params.mode.tolist()]

        def run(sub: Images, _: list[int], mode: str) -> Images:
            assert isinstance(sub, Tensor)
            return _resize_to(sub, size, mode, None)

        return map_groups(x, modes, run)

    def arguments(self) -> dict[str, Any]:
        return {"scale": self.scale, "modes": self.modes, **super().arguments()}
