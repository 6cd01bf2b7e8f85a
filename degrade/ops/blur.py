"""Random blur: a per-sample kernel family (Gaussian, generalized Gaussian, plateau, sinc) and size."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from degrade.functional.filter import filter2d, filter2d_ragged
from degrade.functional.kernels import (
    bivariate_gaussian_kernel,
    generalized_gaussian_kernel,
    plateau_kernel,
    sinc_kernel,
)
from degrade.ops.base import Context, ElementwiseOp, Images, Params, check_range
from degrade.random import Draws

KERNEL_FAMILIES: tuple[str, ...] = (
    "iso",
    "aniso",
    "generalized_iso",
    "generalized_aniso",
    "plateau_iso",
    "plateau_aniso",
    "sinc",
    "none",
)
_FAMILY = {name: i for i, name in enumerate(KERNEL_FAMILIES)}
DEFAULT_KERNEL_SIZES: tuple[int, ...] = (7, 9, 11, 13, 15, 17, 19, 21)


@dataclass(frozen=True)
class BlurParams(Params):
    """Per-sample blur kernel description; kernels are built on the device at apply time.

    ``family`` indexes :data:`KERNEL_FAMILIES` (records store the name); ``"none"`` is the delta
    kernel. Fields a family does not use (``beta`` for Gaussians, ``cutoff`` for non-sinc) are
    still recorded, so records are complete and replay exactly.
    """

    family: Tensor  # (B,) int64
    kernel_size: Tensor  # (B,) int64, odd
    sigma_x: Tensor  # (B,) float64
    sigma_y: Tensor
    theta: Tensor
    beta: Tensor
    cutoff: Tensor

    categorical: ClassVar[dict[str, tuple[str, ...]]] = {"family": KERNEL_FAMILIES}


def make_kernels(params: BlurParams, pad_to: int, dtype: torch.dtype) -> Tensor:
    """The ``(B, pad_to, pad_to)`` kernels described by ``params`` (float64 math, then cast).

    Every family is evaluated for the whole batch and the sample's own family is selected, so
    this costs a few small ``(B, K, K)`` tensors and no host synchronisation.
    """
    fam = params.family.view(-1, 1, 1)
    size = params.kernel_size
    sx, sy, th, beta = params.sigma_x, params.sigma_y, params.theta, params.beta
    f64 = torch.float64
    gauss = bivariate_gaussian_kernel(size, sx, sy, th, pad_to=pad_to, dtype=f64)
    general = generalized_gaussian_kernel(size, sx, sy, th, beta, pad_to=pad_to, dtype=f64)
    plateau = plateau_kernel(size, sx, sy, th, beta, pad_to=pad_to, dtype=f64)
    sinc = sinc_kernel(size, params.cutoff, pad_to=pad_to, dtype=f64)
    delta = torch.zeros_like(gauss)
    delta[:, pad_to // 2, pad_to // 2] = 1.0
    out = torch.where(fam <= _FAMILY["aniso"], gauss, delta)
    out = torch.where(
        (fam == _FAMILY["generalized_iso"]) | (fam == _FAMILY["generalized_aniso"]), general, out
    )
    out = torch.where(
        (fam == _FAMILY["plateau_iso"]) | (fam == _FAMILY["plateau_aniso"]), plateau, out
    )
    out = torch.where(fam == _FAMILY["sinc"], sinc, out)
    return out.to(dtype)


class RandomBlur(ElementwiseOp[BlurParams]):
    """Blur with a random kernel per sample, as Real-ESRGAN's dataset draws its kernels.

    Per sample: whether to blur at all (``p``), the kernel size (uniform over ``kernel_sizes``),
    sinc with probability ``sinc_prob`` (cutoff U(pi/3, pi) for sizes < 13, else U(pi/5, pi), or
    ``sinc_cutoff`` when given), otherwise a family from ``kernel_list`` with ``kernel_prob``:
    sigmas U(``sigma``), rotation U(``rotation``) (isotropic families: sigma_y = sigma_x,
    rotation 0), beta U(beta_min, 1) or U(1, beta_max) with probability 1/2 each.
    Kernels are zero-padded to ``pad_to`` (21) and applied with reflect padding.

    Example:
        >>> op = RandomBlur(kernel_list=["iso", "aniso"], kernel_prob=[0.5, 0.5])
        >>> params = op.sample(torch.arange(3), seed=0)
        >>> op.apply(torch.rand(3, 3, 32, 32), params).shape
        torch.Size([3, 3, 32, 32])
    """

    type_name = "blur"
    params_type = BlurParams

    def __init__(
        self,
        *,
        kernel_list: Sequence[str] = (
            "iso",
            "aniso",
            "generalized_iso",
            "generalized_aniso",
            "plateau_iso",
            "plateau_aniso",
        ),
        kernel_prob: Sequence[float] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03),
        sigma: Sequence[float] = (0.2, 3.0),
        rotation: Sequence[float] = (-math.pi, math.pi),
        betag_range: Sequence[float] = (0.5, 4.0),
        betap_range: Sequence[float] = (1.0, 2.0),
        sinc_prob: float = 0.0,
        sinc_cutoff: Sequence[float] | None = None,
        kernel_sizes: Sequence[int] = DEFAULT_KERNEL_SIZES,
        pad_to: int = 21,
        p: float = 1.0,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        unknown = [k for k in kernel_list if k not in _FAMILY or k in ("sinc", "none")]
        if unknown:
            valid = ", ".join(KERNEL_FAMILIES[:6])
            raise ValueError(
                f"blur: unknown kernel type(s) {unknown} in kernel_list (valid: {valid})"
            )
        if len(kernel_list) != len(kernel_prob):
            raise ValueError(
                f"blur: kernel_list has {len(kernel_list)} entries but kernel_prob has {len(kernel_prob)}"
            )
        bad_sizes = [k for k in kernel_sizes if k % 2 == 0 or k < 1 or k > pad_to]
        if bad_sizes or not kernel_sizes:
            raise ValueError(
                f"blur: kernel_sizes must be odd, in 1..{pad_to}, got {list(kernel_sizes)}"
            )
        for name_, value in (("p", p), ("sinc_prob", sinc_prob)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"blur: {name_} must be in [0, 1], got {value}")
        self.kernel_list = [str(k) for k in kernel_list]
        self.kernel_prob = [float(v) for v in kernel_prob]
        # Without families, the non-sinc samples get the delta kernel (the final sinc step).
        self._families = self.kernel_list or ["none"]
        self._family_prob = self.kernel_prob or [1.0]
        self.sigma = check_range(sigma, "sigma", "blur")
        self.rotation = check_range(rotation, "rotation", "blur")
        self.betag_range = check_range(betag_range, "betag_range", "blur")
        self.betap_range = check_range(betap_range, "betap_range", "blur")
        self.sinc_prob = float(sinc_prob)
        self.sinc_cutoff = (
            None if sinc_cutoff is None else check_range(sinc_cutoff, "sinc_cutoff", "blur")
        )
        self.kernel_sizes = [int(k) for k in kernel_sizes]
        self.pad_to = int(pad_to)
        self.p = float(p)

    def draw(self, d: Draws) -> BlurParams:
        applied = d.bernoulli(self.p)
        size_index = d.randint(0, len(self.kernel_sizes))
        sizes = torch.tensor(self.kernel_sizes, dtype=torch.int64, device=size_index.device)
        kernel_size = sizes[size_index]
        is_sinc = d.bernoulli(self.sinc_prob)
        choice = d.choice(self._family_prob)
        families = torch.tensor([_FAMILY[k] for k in self._families], device=choice.device)
        family = families[choice]
        sigma_x = d.uniform(*self.sigma)
        sigma_y = d.uniform(*self.sigma)
        theta = d.uniform(*self.rotation)
        low_beta = d.bernoulli(0.5)
        betag = torch.where(
            low_beta, d.uniform(self.betag_range[0], 1.0), d.uniform(1.0, self.betag_range[1])
        )
        betap = torch.where(
            low_beta, d.uniform(self.betap_range[0], 1.0), d.uniform(1.0, self.betap_range[1])
        )
        u = d.uniform(0.0, 1.0)
        if self.sinc_cutoff is None:
            low = torch.where(kernel_size < 13, math.pi / 3, math.pi / 5).to(torch.float64)
            cutoff = low + (math.pi - low) * u
        else:
            cutoff = self.sinc_cutoff[0] + (self.sinc_cutoff[1] - self.sinc_cutoff[0]) * u

        family = torch.where(is_sinc, _FAMILY["sinc"], family)
        family = torch.where(applied, family, _FAMILY["none"])
        isotropic = (
            (family == _FAMILY["iso"])
            | (family == _FAMILY["generalized_iso"])
            | (family == _FAMILY["plateau_iso"])
        )
        sigma_y = torch.where(isotropic, sigma_x, sigma_y)
        theta = torch.where(isotropic, torch.zeros_like(theta), theta)
        is_plateau = (family == _FAMILY["plateau_iso"]) | (family == _FAMILY["plateau_aniso"])
        beta = torch.where(is_plateau, betap, betag)
        return BlurParams(
            family=family.to(torch.int64),
            kernel_size=kernel_size,
            sigma_x=sigma_x,
            sigma_y=sigma_y,
            theta=theta,
            beta=beta,
            cutoff=cutoff,
        )

    def apply_batch(self, x: Tensor, params: BlurParams) -> Tensor:
        if x.shape[0] == 0:
            return x.clone()
        kernels = make_kernels(
            params, self.pad_to, x.dtype if x.is_floating_point() else torch.float32
        )
        return filter2d(x, kernels.to(x.device))

    def apply_images(self, x: Images, params: BlurParams, ctx: Context) -> Images:
        if isinstance(x, Tensor):
            return self.apply_batch(x, params)
        # Samples of different sizes: filtered in size groups, each sample reflect-padded at its
        # own border (equal to filtering each alone).
        kernels = make_kernels(params, self.pad_to, x[0].dtype)
        return filter2d_ragged(x, kernels.to(x[0].device))

    def arguments(self) -> dict[str, Any]:
        args = {
            "kernel_list": self.kernel_list,
            "kernel_prob": self.kernel_prob,
            "sigma": list(self.sigma),
            "rotation": list(self.rotation),
            "betag_range": list(self.betag_range),
            "betap_range": list(self.betap_range),
            "sinc_prob": self.sinc_prob,
            "sinc_cutoff": None if self.sinc_cutoff is None else list(self.sinc_cutoff),
            "kernel_sizes": self.kernel_sizes,
            "pad_to": self.pad_to,
            "p": self.p,
        }
        return {**args, **super().arguments()}
