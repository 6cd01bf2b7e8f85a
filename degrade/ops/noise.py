"""Random noise: Gaussian or Poisson per sample, colour or gray."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from degrade.functional.noise import add_gaussian_noise, add_poisson_noise
from degrade.ops.base import Context, Images, Params, RandomOp, map_groups
from degrade.ops.base import check_range as _range
from degrade.random import Draws

NOISE_KINDS: tuple[str, ...] = ("gaussian", "poisson", "none")


@dataclass(frozen=True)
class NoiseParams(Params):
    """Per-sample noise: kind, Gaussian sigma (8-bit units), Poisson scale, gray flag, field seed."""

    kind: Tensor  # (B,) int64 into NOISE_KINDS
    sigma: Tensor  # (B,) float64
    poisson_scale: Tensor  # (B,) float64
    gray: Tensor  # (B,) bool
    seed: Tensor  # (B,) int64: the seed of the sample's noise field

    categorical: ClassVar[dict[str, tuple[str, ...]]] = {"kind": NOISE_KINDS}


class RandomNoise(RandomOp[NoiseParams]):
    """Gaussian noise with probability ``gaussian_noise_prob``, else Poisson noise, per sample.

    Gaussian sigma U(``noise_range``) in 8-bit units; Poisson scale U(``poisson_scale_range``);
    gray noise (one field shared by the channels) with probability ``gray_noise_prob``; clipped to
    [0, 1], not rounded (Real-ESRGAN's ``clip=True, rounds=False``). The field of sample i comes
    from its own seed, drawn from ``(seed, key, op path)``.

    Example:
        >>> op = RandomNoise(noise_range=[5, 5], gaussian_noise_prob=1.0)
        >>> y = op(torch.full((2, 3, 16, 16), 0.5), torch.arange(2))
        >>> 0.01 < float((y - 0.5).std()) < 0.03
        True
    """

    type_name = "noise"
    params_type = NoiseParams

    def __init__(
        self,
        *,
        gaussian_noise_prob: float = 0.5,
        noise_range: Sequence[float] = (1.0, 30.0),
        poisson_scale_range: Sequence[float] = (0.05, 3.0),
        gray_noise_prob: float = 0.4,
        p: float = 1.0,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        for key, value in (
            ("gaussian_noise_prob", gaussian_noise_prob),
            ("gray_noise_prob", gray_noise_prob),
            ("p", p),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"noise: {key} must be in [0, 1], got {value}")
        self.gaussian_noise_prob = float(gaussian_noise_prob)
        self.noise_range = _range(noise_range, "noise_range", "noise")
        self.poisson_scale_range = _range(poisson_scale_range, "poisson_scale_range", "noise")
        self.gray_noise_prob = float(gray_noise_prob)
        self.p = float(p)

    def draw(self, d: Draws) -> NoiseParams:
        applied = d.bernoulli(self.p)
        gaussian = d.bernoulli(self.gaussian_noise_prob)
        sigma = d.uniform(*self.noise_range)
        poisson_scale = d.uniform(*self.poisson_scale_range)
        gray = d.bernoulli(self.gray_noise_prob)
        seed = d.seed()
        kind = torch.where(gaussian, 0, 1)
        kind = torch.where(applied, kind, 2).to(torch.int64)
        return NoiseParams(
            kind=kind, sigma=sigma, poisson_scale=poisson_scale, gray=gray, seed=seed
        )

    def apply_images(self, x: Images, params: NoiseParams, ctx: Context) -> Images:
        kinds = params.kind.tolist()

        def run(sub: Images, index: list[int], kind: int) -> Images:
            assert isinstance(sub, Tensor)
            p = params.take(index)
            if NOISE_KINDS[kind] == "gaussian":
                return add_gaussian_noise(sub, p.sigma.to(sub.dtype), gray=p.gray, seeds=p.seed)
            if NOISE_KINDS[kind] == "poisson":
                return add_poisson_noise(
                    sub, p.poisson_scale.to(sub.dtype), gray=p.gray, seeds=p.seed
                )
            return sub

        return map_groups(x, kinds, run)

    def arguments(self) -> dict[str, Any]:
        args = {
            "gaussian_noise_prob": self.gaussian_noise_prob,
            "noise_range": list(self.noise_range),
            "poisson_scale_range": list(self.poisson_scale_range),
            "gray_noise_prob": self.gray_noise_prob,
            "p": self.p,
        }
        return {**args, **super().arguments()}
