"""BSRGAN's degradation steps as random ops, and its per-sample shuffle.

The released ``degradation_bsrgan`` of KAIR's ``utils/utils_blindsr.py`` (Zhang et al., ICCV 2021;
not the ``degradation_bsrgan_plus`` variant) degrades an HR image with:

1. with probability 1/4 when the scale is 4, a halving ("downsample1": ``cv2.resize`` by 1/2 with
   a random interpolation, or MATLAB bicubic ``imresize``), after which the remaining factor
   ``sf`` is 2;
2. seven steps in a random order per image: blur, blur, "downsample2" (a ``cv2.resize`` by
   ``1 / U(1, 2 sf)`` with probability 3/4, else the shifted-Gaussian blur and ``[::sf]``
   decimation), "downsample3" (``cv2.resize`` to the LR size), Gaussian noise (colour, gray or
   channel-correlated), JPEG with probability 0.9 and a camera ISP model (a no-op in the released
   code, where ``isp_model`` is None), downsample2 always before downsample3;
3. a final JPEG.

:class:`BSRGANShuffle` is step 1 plus step 2 as a container: every sample draws its own order
(uniform over the orders that keep the constrained steps in order, exactly the distribution of
BSRGAN's swap) and samples with the same order and halving run as one batch. Inside it, the
children see the halved image as their "HR" and the remaining factor ``sf`` as their scale
(``Context.scale``), so :class:`BSRGANBlur` widths, :class:`BSRGANDownsample` ranges and
:class:`CV2ResizeTo`'s target follow BSRGAN's ``sf``. Scale-dependent draws are stored as unit
uniforms and turned into kernel widths and factors at apply time with that scale, so the same
parameters replay identically whatever the pipeline's scale resolves to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from degrade.functional.bsrgan_noise import (
    add_correlated_gaussian_noise,
    add_photon_noise,
    add_speckle_noise,
    bsrgan_noise_covariance,
)
from degrade.functional.downsample import CV2_MODES, cv2_resize, shifted_kernel_downsample
from degrade.functional.filter import filter2d
from degrade.functional.imresize import imresize
from degrade.functional.kernels import bivariate_gaussian_kernel
from degrade.functional.noise import add_gaussian_noise
from degrade.ops.base import (
    Context,
    Images,
    Params,
    RandomOp,
    check_range,
    map_groups,
    sizes_of,
)
from degrade.pipeline import Container
from degrade.random import Draws

__all__ = [
    "BLUR_FAMILIES",
    "BSRGAN_OP_TYPES",
    "DOWNSAMPLE_KINDS",
    "HALVE_MODES",
    "NOISE_VARIANTS",
    "BSRGANBlur",
    "BSRGANBlurParams",
    "BSRGANDownsample",
    "BSRGANDownsampleParams",
    "BSRGANNoise",
    "BSRGANNoiseParams",
    "BSRGANPoisson",
    "BSRGANPoissonParams",
    "BSRGANShuffle",
    "BSRGANShuffleParams",
    "CV2ResizeParams",
    "CV2ResizeTo",
]

BLUR_FAMILIES: tuple[str, ...] = ("aniso", "iso")
DOWNSAMPLE_KINDS: tuple[str, ...] = ("resize", "shifted")
NOISE_VARIANTS: tuple[str, ...] = ("colour", "gray", "correlated")
#: Interpolations of the halving step: ``cv2.resize`` modes, and MATLAB bicubic ``imresize``.
HALVE_MODES: tuple[str, ...] = ("linear", "cubic", "area", "matlab")
_MIN_SIGMA = 1e-6  # BSRGAN draws widths as c * random(); a zero draw would give a singular kernel


def _scale_of(own: float | None, ctx: Context) -> float:
    return own if own is not None else ctx.scale


def _int_sf(sf: float, op: str) -> int:
    if not float(sf).is_integer() or sf < 1:
        raise ValueError(f"{op}: needs an integer scale factor, got {sf}")
    return int(sf)


def _check_prob(value: float, name: str, op: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{op}: {name} must be in [0, 1], got {value}")
    return float(value)


def _check_modes(modes: Sequence[str], valid: Sequence[str], op: str) -> list[str]:
    bad = [m for m in modes if m not in valid]
    if bad or not modes:
        raise ValueError(f"{op}: unknown mode(s) {bad or list(modes)} (valid: {', '.join(valid)})")
    return [str(m) for m in modes]


def _check_scale(scale: float | None, op: str) -> float | None:
    if scale is not None and not scale > 0:
        raise ValueError(f"{op}: scale must be positive, got {scale}")
    return None if scale is None else float(scale)


# --------------------------------------------------------------------------------------------- #
# Blur
# --------------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class BSRGANBlurParams(Params):
    """Per-sample BSRGAN blur: family, kernel size, rotation and two unit spreads.

    With the scale ``sf`` at apply time: anisotropic eigenvalues (variances)
    ``l_k = (4 + sf) * spread_k`` along ``theta`` and its normal; isotropic sigma
    ``(2 + 0.2 sf) * spread_1``.
    """

    family: Tensor  # (B,) int64 into BLUR_FAMILIES
    kernel_size: Tensor  # (B,) int64, odd, 7..25
    theta: Tensor  # (B,) float64 in [0, pi)
    spread_1: Tensor  # (B,) float64 in [0, 1)
    spread_2: Tensor  # (B,) float64 in [0, 1)

    categorical: ClassVar[dict[str, tuple[str, ...]]] = {"family": BLUR_FAMILIES}


def bsrgan_blur_kernels(params: BSRGANBlurParams, sf: float, pad_to: int = 25) -> Tensor:
    """The ``(B, pad_to, pad_to)`` float64 kernels of :class:`BSRGANBlur` for scale ``sf``."""
    wd2, wd = 4.0 + sf, 2.0 + 0.2 * sf
    aniso = params.family == 0
    sx = torch.where(aniso, (wd2 * params.spread_1).sqrt(), wd * params.spread_1)
    sy = torch.where(aniso, (wd2 * params.spread_2).sqrt(), wd * params.spread_1)
    theta = torch.where(aniso, params.theta, torch.zeros_like(params.theta))
    return bivariate_gaussian_kernel(
        params.kernel_size,
        sx.clamp_min(_MIN_SIGMA),
        sy.clamp_min(_MIN_SIGMA),
        theta,
        pad_to=pad_to,
        dtype=torch.float64,
    )


class BSRGANBlur(RandomOp[BSRGANBlurParams]):
    """BSRGAN's ``add_blur``: an anisotropic or isotropic Gaussian, each with probability 1/2.

    Per sample: kernel size ``2 * randint(2, 11) + 3`` (7..25); anisotropic: covariance with
    eigenvalues ``(4 + sf) U(0, 1)`` and ``(4 + sf) U(0, 1)`` rotated by ``U(0, pi)``
    (``anisotropic_Gaussian``); isotropic: sigma ``(2 + 0.2 sf) U(0, 1)``
    (``fspecial('gaussian')``, whose ``eps`` cut-off of the far tail, below 1e-16 of the peak,
    is not reproduced). Filtering uses mirror (reflect) borders, as ``ndimage.convolve(mode=
    'mirror')``; the kernels are point-symmetric, so convolution and correlation agree. ``sf``
    is ``scale`` when given, else the context's scale (BSRGAN's remaining factor inside
    :class:`BSRGANShuffle`). Widths drawn as exactly 0 are raised to 1e-6.

    Example:
        >>> op = BSRGANBlur(scale=4)
        >>> op(torch.rand(3, 3, 32, 32), torch.arange(3)).shape
        torch.Size([3, 3, 32, 32])
    """

    type_name = "bsrgan_blur"
    params_type = BSRGANBlurParams

    def __init__(
        self, *, aniso_prob: float = 0.5, scale: float | None = None, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.aniso_prob = _check_prob(aniso_prob, "aniso_prob", "bsrgan_blur")
        self.scale = _check_scale(scale, "bsrgan_blur")

    def draw(self, d: Draws) -> BSRGANBlurParams:
        aniso = d.bernoulli(self.aniso_prob)
        spread_1 = d.uniform(0.0, 1.0)
        spread_2 = d.uniform(0.0, 1.0)
        kernel_size = 2 * d.randint(2, 12) + 3
        theta = d.uniform(0.0, math.pi)
        family = torch.where(aniso, 0, 1).to(torch.int64)
        return BSRGANBlurParams(
            family=family,
            kernel_size=kernel_size,
            theta=theta,
            spread_1=spread_1,
            spread_2=spread_2,
        )

    def apply_images(self, x: Images, params: BSRGANBlurParams, ctx: Context) -> Images:
        sf = _scale_of(self.scale, ctx)

        def run(sub: Images, index: list[int], _: Any) -> Images:
            assert isinstance(sub, Tensor)
            if sub.shape[0] == 0:
                return sub.clone()
            p = params.take(index)
            kernels = bsrgan_blur_kernels(p, sf).to(sub.device)
            return filter2d(sub, kernels.to(sub.dtype))

        return map_groups(x, [0] * len(params), run)

    def arguments(self) -> dict[str, Any]:
        return {"aniso_prob": self.aniso_prob, "scale": self.scale, **super().arguments()}


# --------------------------------------------------------------------------------------------- #
# Resizes
# --------------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class BSRGANDownsampleParams(Params):
    """Per-sample "downsample2": kind, resize factor and mode, shifted-kernel sigma.

    With the scale ``sf`` at apply time: resize factor ``sf1 = 1 + (2 sf - 1) * factor_u``
    (output ``int(w / sf1)``), kernel sigma ``0.1 + (0.6 sf - 0.1) * sigma_u``.
    """

    kind: Tensor  # (B,) int64 into DOWNSAMPLE_KINDS
    factor_u: Tensor  # (B,) float64 in [0, 1)
    mode: Tensor  # (B,) int64 into CV2_MODES
    sigma_u: Tensor  # (B,) float64 in [0, 1)

    categorical: ClassVar[dict[str, tuple[str, ...]]] = {
        "kind": DOWNSAMPLE_KINDS,
        "mode": CV2_MODES,
    }


class BSRGANDownsample(RandomOp[BSRGANDownsampleParams]):
    """BSRGAN's "downsample2": a random ``cv2.resize`` or the shifted-kernel decimation.

    Per sample: with probability ``resize_prob`` (0.75) ``cv2.resize`` to
    ``(int(h / sf1), int(w / sf1))`` with ``sf1 = U(1, 2 sf)`` and a mode uniform over ``modes``
    (``INTER_LINEAR``, ``INTER_CUBIC``, ``INTER_AREA``), else the Gaussian of sigma
    ``U(0.1, 0.6 sf)`` shifted by ``(sf - 1) / 2`` and ``[::sf]`` decimation
    (:func:`~degrade.functional.downsample.shifted_kernel_downsample`); then clipped to [0, 1].
    ``sf`` is ``scale`` when given, else the context's scale. Samples keep their own sizes.

    Example:
        >>> op = BSRGANDownsample(resize_prob=0.0, scale=2)
        >>> op(torch.rand(2, 3, 32, 32), torch.arange(2)).shape
        torch.Size([2, 3, 16, 16])
    """

    type_name = "bsrgan_downsample"
    params_type = BSRGANDownsampleParams

    def __init__(
        self,
        *,
        resize_prob: float = 0.75,
        modes: Sequence[str] = ("linear", "cubic", "area"),
        kernel_size: int = 25,
        scale: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.resize_prob = _check_prob(resize_prob, "resize_prob", "bsrgan_downsample")
        self.modes = _check_modes(modes, CV2_MODES, "bsrgan_downsample")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"bsrgan_downsample: kernel_size must be odd, got {kernel_size}")
        self.kernel_size = int(kernel_size)
        self.scale = _check_scale(scale, "bsrgan_downsample")

    def draw(self, d: Draws) -> BSRGANDownsampleParams:
        resize = d.bernoulli(self.resize_prob)
        factor_u = d.uniform(0.0, 1.0)
        mode = d.pick(self.modes, CV2_MODES)
        sigma_u = d.uniform(0.0, 1.0)
        return BSRGANDownsampleParams(
            kind=torch.where(resize, 0, 1).to(torch.int64),
            factor_u=factor_u,
            mode=mode,
            sigma_u=sigma_u,
        )

    def apply_images(self, x: Images, params: BSRGANDownsampleParams, ctx: Context) -> Images:
        sf = _scale_of(self.scale, ctx)
        kinds = params.kind.tolist()
        factors = (1.0 + (2.0 * sf - 1.0) * params.factor_u).tolist()
        modes = params.mode.tolist()
        groups: list[tuple[Any, ...]] = []
        for kind, factor, mode, (h, w) in zip(kinds, factors, modes, sizes_of(x), strict=True):
            if DOWNSAMPLE_KINDS[kind] == "resize":
                size = (max(int(1 / factor * h), 1), max(int(1 / factor * w), 1))
                groups.append(("resize", CV2_MODES[mode], size))
            else:
                groups.append(("shifted",))

        def run(sub: Images, index: list[int], group: tuple[Any, ...]) -> Images:
            assert isinstance(sub, Tensor)
            if group[0] == "resize":
                out = cv2_resize(sub, group[2], group[1])
            else:
                stride = _int_sf(sf, self.name)
                sigma = 0.1 + (0.6 * sf - 0.1) * params.sigma_u[index].to(sub.device)
                out = shifted_kernel_downsample(sub, sigma, stride, kernel_size=self.kernel_size)
            return out.clamp(0, 1)

        return map_groups(x, groups, run)

    def arguments(self) -> dict[str, Any]:
        args = {
            "resize_prob": self.resize_prob,
            "modes": self.modes,
            "kernel_size": self.kernel_size,
            "scale": self.scale,
        }
        return {**args, **super().arguments()}


@dataclass(frozen=True)
class CV2ResizeParams(Params):
    """Per-sample ``cv2.resize`` interpolation of :class:`CV2ResizeTo`."""

    mode: Tensor  # (B,) int64 into CV2_MODES

    categorical: ClassVar[dict[str, tuple[str, ...]]] = {"mode": CV2_MODES}


class CV2ResizeTo(RandomOp[CV2ResizeParams]):
    """``cv2.resize`` every sample to ``(int(H / sf), int(W / sf))`` with a random mode, then clip.

    ``(H, W)`` is the context's HR size and ``sf`` is ``scale`` when given, else the context's
    scale: BSRGAN's "downsample3" (``int(1 / sf * a)`` with ``a`` the size before downsample2,
    which is the HR size, halved or not, seen by :class:`BSRGANShuffle`'s children). Modes
    uniform over ``modes`` (BSRGAN: linear, cubic, area); the result is clipped to [0, 1] when
    ``clip``. Ends per-sample sizes.

    Example:
        >>> op = CV2ResizeTo(scale=4)
        >>> op(torch.rand(2, 3, 32, 32), torch.arange(2)).shape
        torch.Size([2, 3, 8, 8])
    """

    type_name = "cv2_resize_to"
    params_type = CV2ResizeParams

    def __init__(
        self,
        *,
        modes: Sequence[str] = ("linear", "cubic", "area"),
        scale: float | None = None,
        clip: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.modes = _check_modes(modes, CV2_MODES, "cv2_resize_to")
        self.scale = _check_scale(scale, "cv2_resize_to")
        self.clip = bool(clip)

    def draw(self, d: Draws) -> CV2ResizeParams:
        mode = d.pick(self.modes, CV2_MODES)
        return CV2ResizeParams(mode=mode)

    def apply_images(self, x: Images, params: CV2ResizeParams, ctx: Context) -> Images:
        sf = _scale_of(self.scale, ctx)
        h, w = ctx.hr_size
        size = (max(int(1 / sf * h), 1), max(int(1 / sf * w), 1))

        def run(sub: Images, _: list[int], mode: str) -> Images:
            assert isinstance(sub, Tensor)
            out = cv2_resize(sub, size, mode)  # type: ignore[arg-type]
            return out.clamp(0, 1) if self.clip else out

        return map_groups(x, [CV2_MODES[m] for m in params.mode.tolist()], run)

    def arguments(self) -> dict[str, Any]:
        args = {"modes": self.modes, "scale": self.scale, "clip": self.clip}
        return {**args, **super().arguments()}


# --------------------------------------------------------------------------------------------- #
# Noise
# --------------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class BSRGANNoiseParams(Params):
    """Per-sample BSRGAN Gaussian noise: variant, level (8-bit units), covariance, field seed.

    ``cov`` (``(B, 3, 3)``, squared [0, 1] units) is used by the ``"correlated"`` variant only
    and recorded for every sample.
    """

    variant: Tensor  # (B,) int64 into NOISE_VARIANTS
    level: Tensor  # (B,) int64, 8-bit units
    cov: Tensor  # (B, 3, 3) float64
    seed: Tensor  # (B,) int64

    categorical: ClassVar[dict[str, tuple[str, ...]]] = {"variant": NOISE_VARIANTS}


class BSRGANNoise(RandomOp[BSRGANNoiseParams]):
    """BSRGAN's ``add_Gaussian_noise`` (or, with ``speckle=True``, ``add_speckle_noise``).

    Per sample: a level ``randint(2, 25)`` (``level_range``, inclusive, 8-bit units) and a
    variant: colour noise (independent per channel) with probability 0.4, gray noise (one field
    for all channels) 0.4, channel-correlated noise 0.2 (``variant_probs``). The correlated
    covariance is ``|L^2 U^T D U|`` with ``U = orth(U(0, 1)^{3x3})``, ``D = diag(U(0, 1)^3)``
    and ``L = correlated_level / 255`` (BSRGAN uses its upper level, 25, whatever the drawn
    level: reproduced). Additive (``x + n``) or multiplicative (``x + x n``) with
    ``speckle``; clipped to [0, 1]. A 1-channel image uses the covariance's first entry.

    Example:
        >>> op = BSRGANNoise(level_range=[10, 10], variant_probs=[1, 0, 0])
        >>> y = op(torch.full((2, 3, 32, 32), 0.5), torch.arange(2))
        >>> round(float((y - 0.5).std()) * 255)
        10
    """

    type_name = "bsrgan_noise"
    params_type = BSRGANNoiseParams

    def __init__(
        self,
        *,
        level_range: Sequence[int] = (2, 25),
        variant_probs: Sequence[float] = (0.4, 0.4, 0.2),
        correlated_level: float | None = None,
        speckle: bool = False,
        p: float = 1.0,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        low, high = check_range(level_range, "level_range", "bsrgan_noise")
        if not (low.is_integer() and high.is_integer()) or low < 0:
            raise ValueError(
                f"bsrgan_noise: level_range must be two integers >= 0, got {list(level_range)}"
            )
        if len(variant_probs) != 3 or min(variant_probs) < 0 or sum(variant_probs) <= 0:
            raise ValueError(
                f"bsrgan_noise: variant_probs must be three [colour, gray, correlated] weights, got {list(variant_probs)}"
            )
        self.level_range = (int(low), int(high))
        self.variant_probs = [float(v) for v in variant_probs]
        self.correlated_level = float(high) if correlated_level is None else float(correlated_level)
        self.speckle = bool(speckle)
        self.p = _check_prob(p, "p", "bsrgan_noise")

    def draw(self, d: Draws) -> BSRGANNoiseParams:
        applied = d.bernoulli(self.p)
        level = d.randint(self.level_range[0], self.level_range[1] + 1)
        variant = d.choice(self.variant_probs)
        diag = torch.stack([d.uniform(0.0, 1.0) for _ in range(3)], dim=1)
        mat = torch.stack([d.uniform(0.0, 1.0) for _ in range(9)], dim=1).view(-1, 3, 3)
        seed = d.seed()
        cov = bsrgan_noise_covariance(mat, diag, self.correlated_level / 255.0)
        level = torch.where(applied, level, torch.zeros_like(level))
        cov = torch.where(applied.view(-1, 1, 1), cov, torch.zeros_like(cov))
        return BSRGANNoiseParams(variant=variant, level=level, cov=cov, seed=seed)

    def apply_images(self, x: Images, params: BSRGANNoiseParams, ctx: Context) -> Images:
        variants = params.variant.tolist()

        def run(sub: Images, index: list[int], variant: int) -> Images:
            assert isinstance(sub, Tensor)
            p = params.take(index)
            name = NOISE_VARIANTS[variant]
            seeds = p.seed.to(sub.device)
            if name == "correlated":
                c = sub.shape[1]
                cov = p.cov[:, :c, :c].to(sub.device)
                return add_correlated_gaussian_noise(
                    sub, cov, seeds=seeds, multiplicative=self.speckle
                )
            sigma = p.level.to(device=sub.device, dtype=torch.float64)
            if self.speckle:
                return add_speckle_noise(sub, sigma, gray=name == "gray", seeds=seeds)
            return add_gaussian_noise(sub, sigma, gray=name == "gray", seeds=seeds)

        return map_groups(x, variants, run)

    def arguments(self) -> dict[str, Any]:
        args = {
            "level_range": list(self.level_range),
            "variant_probs": self.variant_probs,
            "correlated_level": self.correlated_level,
            "speckle": self.speckle,
            "p": self.p,
        }
        return {**args, **super().arguments()}


@dataclass(frozen=True)
class BSRGANPoissonParams(Params):
    """Per-sample BSRGAN Poisson noise: applied, photons per unit intensity, gray, field seed."""

    applied: Tensor  # (B,) bool
    photons: Tensor  # (B,) float64
    gray: Tensor  # (B,) bool
    seed: Tensor  # (B,) int64


class BSRGANPoisson(RandomOp[BSRGANPoissonParams]):
    """BSRGAN's ``add_Poisson_noise``: photon noise with ``10 ** U(2, 4)`` photons per unit.

    Per sample, with probability ``p``: ``vals = 10 ** U(log10_photons_range)``; colour noise
    with probability ``1 - gray_prob`` (BSRGAN: 1/2), else gray noise from the BT.601 luma
    (:func:`~degrade.functional.bsrgan_noise.add_photon_noise`; the image is quantised to 8 bits
    first, as BSRGAN does). Not part of the released ``degradation_bsrgan``, which never calls
    it; its "plus" variant applies it with ``p = 0.1``.

    Example:
        >>> op = BSRGANPoisson(log10_photons_range=[4, 4], gray_prob=0.0)
        >>> y = op(torch.full((2, 3, 32, 32), 0.5), torch.arange(2))
        >>> 0.004 < float((y - 0.5).std()) < 0.01
        True
    """

    type_name = "bsrgan_poisson"
    params_type = BSRGANPoissonParams

    def __init__(
        self,
        *,
        log10_photons_range: Sequence[float] = (2.0, 4.0),
        gray_prob: float = 0.5,
        p: float = 1.0,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.log10_photons_range = check_range(
            log10_photons_range, "log10_photons_range", "bsrgan_poisson"
        )
        self.gray_prob = _check_prob(gray_prob, "gray_prob", "bsrgan_poisson")
        self.p = _check_prob(p, "p", "bsrgan_poisson")

    def draw(self, d: Draws) -> BSRGANPoissonParams:
        applied = d.bernoulli(self.p)
        photons = 10.0 ** d.uniform(*self.log10_photons_range)
        gray = d.bernoulli(self.gray_prob)
        return BSRGANPoissonParams(applied=applied, photons=photons, gray=gray, seed=d.seed())

    def apply_images(self, x: Images, params: BSRGANPoissonParams, ctx: Context) -> Images:
        def run(sub: Images, index: list[int], applied: bool) -> Images:
            assert isinstance(sub, Tensor)
            if not applied:
                return sub
            p = params.take(index)
            return add_photon_noise(
                sub, p.photons.to(sub.device), gray=p.gray.to(sub.device), seeds=p.seed
            )

        return map_groups(x, [bool(a) for a in params.applied.tolist()], run)

    def arguments(self) -> dict[str, Any]:
        args = {
            "log10_photons_range": list(self.log10_photons_range),
            "gray_prob": self.gray_prob,
            "p": self.p,
        }
        return {**args, **super().arguments()}


# --------------------------------------------------------------------------------------------- #
# The shuffle
# --------------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class BSRGANShuffleParams(Params):
    """Each sample's halving (and its interpolation), its order of the children, their params."""

    halve: Tensor  # (B,) bool: drawn; applied only when the scale is `halve_if_scale`
    halve_mode: Tensor  # (B,) int64 into HALVE_MODES
    order: Tensor  # (B, n) int64: order[b, k] is the k-th child run for sample b
    children: tuple[Params, ...]


def constrained_orders(priorities: Tensor, keep_order: Sequence[Sequence[int]]) -> Tensor:
    """Orders (permutations) from random priorities, with each chain kept in its given order.

    The unconstrained order is ``argsort(priorities)``; then, for each chain, the positions its
    members occupy are handed to them in chain order. With i.i.d. priorities this is uniform over
    the orders that respect every (disjoint) chain; for one pair it is BSRGAN's swap of
    ``shuffle_order.index(2)`` and ``shuffle_order.index(3)``.

    Shape:
        priorities: ``(B, n)``; returns ``(B, n)`` int64.

    Example:
        >>> constrained_orders(torch.tensor([[0.9, 0.1, 0.5]]), [[0, 1]]).tolist()
        [[0, 2, 1]]
    """
    order = priorities.argsort(dim=1)
    position = order.argsort(dim=1)
    for chain in keep_order:
        idx = torch.tensor(list(chain), dtype=torch.int64, device=priorities.device)
        position[:, idx] = position[:, idx].sort(dim=1).values
    return position.argsort(dim=1)


class BSRGANShuffle(Container):
    """BSRGAN's optional halving, then its steps in a per-sample random order.

    Per sample: when the scale (``scale`` if given, else the pipeline's) equals
    ``halve_if_scale`` (4), with probability ``halve_prob`` (1/4) the image is first halved
    ("downsample1": ``halve_modes`` drawn with ``halve_mode_probs``; BSRGAN: ``cv2.resize`` to
    ``int(w / 2)`` with linear, cubic or area, 1/6 each, or MATLAB bicubic ``imresize`` by 1/2,
    1/2), clipped, and the remaining factor becomes ``scale / 2``. Then the children run in the
    sample's own order, uniform over the orders that keep each chain of ``keep_order`` (child
    indices) in its given order. The children see the (halved) image size as the HR size and the
    remaining factor as the scale. Samples with equal halving, order and size run as one batch.

    Example:
        >>> from degrade.ops import RandomJPEG
        >>> pipe = BSRGANShuffle([BSRGANBlur(), CV2ResizeTo(), RandomJPEG()], scale=4)
        >>> pipe(torch.rand(4, 3, 32, 32), torch.arange(4)).shape
        torch.Size([4, 3, 8, 8])
    """

    type_name = "bsrgan_shuffle"
    params_type = BSRGANShuffleParams

    def __init__(
        self,
        ops: Sequence[RandomOp[Any]],
        *,
        keep_order: Sequence[Sequence[int]] = (),
        halve_prob: float = 0.25,
        halve_if_scale: float = 4.0,
        halve_modes: Sequence[str] = HALVE_MODES,
        halve_mode_probs: Sequence[float] = (1 / 6, 1 / 6, 1 / 6, 1 / 2),
        scale: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(ops, name=name)
        n = len(self.ops)
        seen: set[int] = set()
        chains: list[list[int]] = []
        for chain in keep_order:
            members = [int(i) for i in chain]
            if len(members) < 2 or any(not 0 <= i < n or i in seen for i in members):
                raise ValueError(
                    f"bsrgan_shuffle: keep_order must be disjoint chains of child indices in "
                    f"0..{n - 1}, got {[list(c) for c in keep_order]}"
                )
            seen.update(members)
            chains.append(members)
        self.keep_order = chains
        self.halve_prob = _check_prob(halve_prob, "halve_prob", "bsrgan_shuffle")
        self.halve_if_scale = float(halve_if_scale)
        self.halve_modes = _check_modes(halve_modes, HALVE_MODES, "bsrgan_shuffle")
        if len(halve_mode_probs) != len(self.halve_modes) or min(halve_mode_probs) < 0:
            raise ValueError(
                f"bsrgan_shuffle: halve_mode_probs must be {len(self.halve_modes)} non-negative weights, got {list(halve_mode_probs)}"
            )
        self.halve_mode_probs = [float(v) for v in halve_mode_probs]
        self.scale = _check_scale(scale, "bsrgan_shuffle")

    def draw_keys(self, keys: Tensor, *, seed: int, path: str) -> BSRGANShuffleParams:
        d = self.own_draws(keys, seed, path)
        halve = d.bernoulli(self.halve_prob)
        choice = d.choice(self.halve_mode_probs)
        table = torch.tensor([HALVE_MODES.index(m) for m in self.halve_modes], device=keys.device)
        priorities = torch.stack([d.uniform(0.0, 1.0) for _ in self.ops], dim=1)
        return BSRGANShuffleParams(
            halve=halve,
            halve_mode=table[choice],
            order=constrained_orders(priorities, self.keep_order),
            children=self.draw_children(keys, seed=seed, path=path),
        )

    def apply_images(self, x: Images, params: BSRGANShuffleParams, ctx: Context) -> Images:
        scale = _scale_of(self.scale, ctx)
        can_halve = scale == self.halve_if_scale
        halve = [bool(h) and can_halve for h in params.halve.tolist()]
        modes = params.halve_mode.tolist()
        groups = [
            (HALVE_MODES[m] if h else None, tuple(o))
            for h, m, o in zip(halve, modes, params.order.tolist(), strict=True)
        ]

        def run(sub: Images, index: list[int], group: tuple[str | None, tuple[int, ...]]) -> Images:
            assert isinstance(sub, Tensor)
            mode, order = group
            sf = scale
            if mode is not None:
                h, w = sub.shape[-2:]
                if mode == "matlab":
                    sub = imresize(sub, scale=0.5)
                else:
                    sub = cv2_resize(sub, (max(int(h / 2), 1), max(int(w / 2), 1)), mode)  # type: ignore[arg-type]
                sub = sub.clamp(0, 1)
                sf = scale / 2
                if ctx.trace is not None:
                    ctx.trace.append((f"{self.name}/halve", sub))
            inner = Context(hr_size=(sub.shape[-2], sub.shape[-1]), scale=sf, trace=ctx.trace)
            out: Images = sub
            for j in order:
                out = self.ops[j].apply_images(out, params.children[j].take(index), inner)
                ctx.record(self.ops[j], out)
            return out

        return map_groups(x, groups, run)

    def own_records(self, params: BSRGANShuffleParams) -> list[dict[str, Any]]:
        return [
            {"halve": h, "halve_mode": HALVE_MODES[m], "order": o}
            for h, m, o in zip(
                params.halve.tolist(),
                params.halve_mode.tolist(),
                params.order.tolist(),
                strict=True,
            )
        ]

    def params_from_records(
        self, records: Sequence[dict[str, Any]], *, device: torch.device | str = "cpu"
    ) -> BSRGANShuffleParams:
        try:
            halve = [bool(r["halve"]) for r in records]
            modes = [HALVE_MODES.index(r["halve_mode"]) for r in records]
            order = [list(r["order"]) for r in records]
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{self.name}: malformed shuffle record ({exc})") from None
        return BSRGANShuffleParams(
            halve=torch.tensor(halve, dtype=torch.bool, device=device),
            halve_mode=torch.tensor(modes, dtype=torch.int64, device=device),
            order=torch.tensor(order, dtype=torch.int64, device=device).view(len(records), -1),
            children=self.children_from_records(records, device),
        )

    def arguments(self) -> dict[str, Any]:
        args = {
            "keep_order": self.keep_order,
            "halve_prob": self.halve_prob,
            "halve_if_scale": self.halve_if_scale,
            "halve_modes": self.halve_modes,
            "halve_mode_probs": self.halve_mode_probs,
            "scale": self.scale,
        }
        return {**super().arguments(), **args}


#: The op classes of this module, for the preset builder's registry.
BSRGAN_OP_TYPES: tuple[type[RandomOp[Any]], ...] = (
    BSRGANBlur,
    BSRGANDownsample,
    CV2ResizeTo,
    BSRGANNoise,
    BSRGANPoisson,
    BSRGANShuffle,
)
