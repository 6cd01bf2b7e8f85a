"""Batched blur kernels with per-sample parameters (Gaussian family, plateau, circular sinc).

Every generator returns ``(B, K, K)`` kernels, each normalised to sum 1 and zero-padded to a
common odd size ``K``. Samples may have their own odd ``kernel_size``: all kernels are evaluated on
the common ``K x K`` grid (centred at zero) and masked to each sample's ``k_i x k_i`` support before
normalising, which equals computing a ``k_i x k_i`` kernel and zero-padding it to ``K``.

Coordinates follow BasicSR's ``mesh_grid``: ``kernel[..., i, j]`` sits at column offset
``x = j - K // 2`` and row offset ``y = i - K // 2``. The anisotropic kernels use the rotated
covariance ``Sigma = R(theta) diag(sigma_x^2, sigma_y^2) R(theta)^T``, so with ``theta = 0``
``sigma_x`` spreads the kernel along the columns (horizontally) and ``sigma_y`` along the rows.
BasicSR's ``isotropic=True`` mode equals ``sigma_y = sigma_x`` with any ``theta``.

All values are computed in float64 on the parameters' device, then cast to ``dtype``; entries
that are subnormal in ``dtype`` (the far tails of narrow kernels, below 1.2e-38 in float32) are
set to zero, since they change nothing but slow CPU convolutions by up to ten times.
The output lives on the first non-CPU device among the tensor parameters (else CPU) unless
``device`` is given. A tensor ``kernel_size`` costs one host read per call (validation and the
default ``pad_to``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from degrade.functional._utils import ParamLike, batch_param

__all__ = [
    "bivariate_gaussian_kernel",
    "delta_kernel",
    "gaussian_kernel1d",
    "generalized_gaussian_kernel",
    "plateau_kernel",
    "sinc_kernel",
]

KernelSize = int | Tensor
DeviceLike = torch.device | str | None

# OpenCV's fixed kernels for getGaussianKernel(n, sigma <= 0) with small odd n (the size-9 row
# is the one OpenCV >= 5 uses; OpenCV 4 evaluates the formula for n = 9).
_SMALL_GAUSSIAN_NUMERATORS: dict[int, tuple[int, ...]] = {
    1: (256,),
    3: (64, 128, 64),
    5: (16, 64, 96, 64, 16),
    7: (8, 28, 56, 72, 56, 28, 8),
    9: (4, 13, 30, 51, 60, 51, 30, 13, 4),
}


def _infer_batch_and_device(
    params: dict[str, ParamLike | None], device: DeviceLike
) -> tuple[int, torch.device]:
    batch = 1
    found: torch.device | None = None
    for name, value in params.items():
        if not isinstance(value, Tensor):
            continue
        if found is None or found.type == "cpu":
            found = value.device
        if value.ndim > 1:
            raise ValueError(
                f"{name} must be a number or a 1-D tensor, got shape {tuple(value.shape)}"
            )
        if value.ndim == 1 and value.shape[0] != 1:
            if batch not in (1, value.shape[0]):
                raise ValueError(
                    f"{name} has {value.shape[0]} samples but another parameter has {batch}"
                )
            batch = value.shape[0]
    if device is not None:
        return batch, torch.device(device)
    return batch, found if found is not None else torch.device("cpu")


def _check_odd_size(value: int, name: str) -> None:
    if value < 1 or value % 2 == 0:
        raise ValueError(f"{name} must be a positive odd integer, got {value}")


def _sizes(
    kernel_size: KernelSize, pad_to: int | None, batch: int, device: torch.device
) -> tuple[Tensor, int]:
    """Per-sample half sizes ``(B,)`` (int64) and the common kernel size K (one host read)."""
    if isinstance(kernel_size, Tensor):
        if kernel_size.is_floating_point() or kernel_size.is_complex():
            raise TypeError(f"kernel_size must be an integer tensor, got {kernel_size.dtype}")
        sizes = batch_param(
            kernel_size, batch, device=device, dtype=torch.int64, name="kernel_size"
        )
        if batch > 0:
            lo, hi, even = torch.stack(
                [sizes.min(), sizes.max(), (sizes % 2 == 0).any().to(torch.int64)]
            ).tolist()
            if lo < 1 or even:
                raise ValueError("kernel_size must hold positive odd integers")
        else:
            hi = pad_to if pad_to is not None else 1
    else:
        _check_odd_size(int(kernel_size), "kernel_size")
        hi = int(kernel_size)
        sizes = torch.full((batch,), hi, dtype=torch.int64, device=device)
    if pad_to is None:
        size = hi
    else:
        _check_odd_size(int(pad_to), "pad_to")
        if pad_to < hi:
            raise ValueError(f"pad_to={pad_to} is smaller than the largest kernel_size {hi}")
        size = int(pad_to)
    return sizes // 2, size


def _grid(size: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """Column and row offsets ``(1, K, K)`` in float64, centred at zero."""
    ax = torch.arange(size, dtype=torch.float64, device=device) - (size // 2)
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    return xx.unsqueeze(0), yy.unsqueeze(0)


def _finish(values: Tensor, half: Tensor, xx: Tensor, yy: Tensor, dtype: torch.dtype) -> Tensor:
    """Mask each kernel to its support, normalise to sum 1, cast and flush subnormals."""
    h = half.to(torch.float64).view(-1, 1, 1)
    inside = (xx.abs() <= h) & (yy.abs() <= h)
    values = torch.where(inside, values, torch.zeros((), dtype=values.dtype, device=values.device))
    values = values / values.sum(dim=(-2, -1), keepdim=True)
    return _flush_subnormal(values.to(dtype))


def _flush_subnormal(values: Tensor) -> Tensor:
    """Zero the subnormal entries (below ``finfo(dtype).tiny``, e.g. 1.2e-38 in float32).

    The far tails of narrow kernels fall there after the cast, and a single subnormal weight
    slows a CPU convolution by up to an order of magnitude.
    """
    tiny = torch.finfo(values.dtype).tiny
    return torch.where(
        values.abs() < tiny, torch.zeros((), dtype=values.dtype, device=values.device), values
    )


def _exp_flushed(a: Tensor) -> Tensor:
    """``exp(a)`` with results below ``exp(-700)`` (~1e-304) flushed to zero.

    Arguments below about -708 make ``torch.exp`` leave its vectorised path (denormal or
    underflowing results), which is two orders of magnitude slower; such values are far below
    any precision a normalised kernel can carry.
    """
    return torch.where(
        a < -700.0, torch.zeros((), dtype=a.dtype, device=a.device), a.clamp(min=-700.0).exp()
    )


def _quadratic_form(
    kernel_size: KernelSize,
    sigma_x: ParamLike,
    sigma_y: ParamLike,
    theta: ParamLike,
    extra: dict[str, ParamLike],
    pad_to: int | None,
    device: DeviceLike,
) -> tuple[Tensor, dict[str, Tensor], Tensor, Tensor, Tensor]:
    """``q = [x y] Sigma^-1 [x y]^T`` per sample on the common grid, plus the pieces to finish."""
    all_params: dict[str, ParamLike | None] = {
        "kernel_size": kernel_size,
        "sigma_x": sigma_x,
        "sigma_y": sigma_y,
        "theta": theta,
        **extra,
    }
    batch, dev = _infer_batch_and_device(all_params, device)
    half, size = _sizes(kernel_size, pad_to, batch, dev)

    def param(value: ParamLike, name: str) -> Tensor:
        return batch_param(value, batch, device=dev, dtype=torch.float64, name=name).view(-1, 1, 1)

    sx, sy, th = param(sigma_x, "sigma_x"), param(sigma_y, "sigma_y"), param(theta, "theta")
    xx, yy = _grid(size, dev)
    cos, sin = torch.cos(th), torch.sin(th)
    # Coordinates in the kernel's principal axes: R(theta)^T [x, y].
    u = cos * xx + sin * yy
    v = cos * yy - sin * xx
    q = (u / sx).square() + (v / sy).square()
    others = {name: param(value, name) for name, value in extra.items()}
    return q, others, half, xx, yy


def bivariate_gaussian_kernel(
    kernel_size: KernelSize,
    sigma_x: ParamLike,
    sigma_y: ParamLike,
    theta: ParamLike,
    *,
    pad_to: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: DeviceLike = None,
) -> Tensor:
    """Rotated anisotropic (or isotropic) Gaussian blur kernels, one per sample.

    ``k(x, y) ~ exp(-q / 2)`` with ``q = [x y] Sigma^-1 [x y]^T`` and
    ``Sigma = R(theta) diag(sigma_x^2, sigma_y^2) R(theta)^T``.

    Args:
        kernel_size: odd support size, an int or a ``(B,)`` integer tensor.
        sigma_x: standard deviation along the first principal axis (the columns when
            ``theta = 0``), positive.
        sigma_y: standard deviation along the second principal axis; pass ``sigma_x`` for an
            isotropic kernel.
        theta: rotation in radians.
        pad_to: common odd output size K (default: the largest ``kernel_size``).
        dtype: output dtype.
        device: output device when no parameter is a tensor (default: the parameters' device,
            else CPU).

    Shape:
        - parameters: numbers, ``(1,)`` or ``(B,)``.
        - output: ``(B, K, K)``.

    Returns:
        Kernels that sum to 1 over their ``kernel_size`` support and are zero outside it.

    Reference:
        ``basicsr.data.degradations.bivariate_Gaussian`` (``isotropic=False``; ``isotropic=True``
        is ``sigma_y = sigma_x``), zero-padded as Real-ESRGAN pads to 21.

    Example:
        >>> k = bivariate_gaussian_kernel(7, torch.tensor([1.0, 2.0]), 0.5, 0.3, pad_to=21)
        >>> k.shape, [round(s, 4) for s in k.sum(dim=(1, 2)).tolist()]
        (torch.Size([2, 21, 21]), [1.0, 1.0])
    """
    q, _, half, xx, yy = _quadratic_form(kernel_size, sigma_x, sigma_y, theta, {}, pad_to, device)
    return _finish(_exp_flushed(-0.5 * q), half, xx, yy, dtype)


def generalized_gaussian_kernel(
    kernel_size: KernelSize,
    sigma_x: ParamLike,
    sigma_y: ParamLike,
    theta: ParamLike,
    beta: ParamLike,
    *,
    pad_to: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: DeviceLike = None,
) -> Tensor:
    """Rotated bivariate generalized Gaussian kernels ``exp(-q^beta / 2)``, one per sample.

    ``q`` is the quadratic form of :func:`bivariate_gaussian_kernel`; ``beta = 1`` gives the
    Gaussian, ``beta < 1`` heavier tails, ``beta > 1`` a flatter top.

    Args:
        kernel_size: odd support size, an int or a ``(B,)`` integer tensor.
        sigma_x: scale along the first principal axis, positive.
        sigma_y: scale along the second principal axis.
        theta: rotation in radians.
        beta: shape parameter, positive.
        pad_to: common odd output size K (default: the largest ``kernel_size``).
        dtype: output dtype.
        device: output device when no parameter is a tensor.

    Shape:
        - parameters: numbers, ``(1,)`` or ``(B,)``.
        - output: ``(B, K, K)``.

    Returns:
        Kernels that sum to 1 over their support and are zero outside it.

    Reference:
        ``basicsr.data.degradations.bivariate_generalized_Gaussian``.

    Example:
        >>> k = generalized_gaussian_kernel(9, 2.0, 1.0, 0.0, torch.tensor([0.5, 4.0]))
        >>> k.shape, round(k[1].sum().item(), 4)
        (torch.Size([2, 9, 9]), 1.0)
    """
    q, extra, half, xx, yy = _quadratic_form(
        kernel_size, sigma_x, sigma_y, theta, {"beta": beta}, pad_to, device
    )
    return _finish(_exp_flushed(-0.5 * q.pow(extra["beta"])), half, xx, yy, dtype)


def plateau_kernel(
    kernel_size: KernelSize,
    sigma_x: ParamLike,
    sigma_y: ParamLike,
    theta: ParamLike,
    beta: ParamLike,
    *,
    pad_to: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: DeviceLike = None,
) -> Tensor:
    """Rotated bivariate plateau kernels ``1 / (1 + q^beta)``, one per sample.

    ``q`` is the quadratic form of :func:`bivariate_gaussian_kernel`.

    Args:
        kernel_size: odd support size, an int or a ``(B,)`` integer tensor.
        sigma_x: scale along the first principal axis, positive.
        sigma_y: scale along the second principal axis.
        theta: rotation in radians.
        beta: shape parameter, positive.
        pad_to: common odd output size K (default: the largest ``kernel_size``).
        dtype: output dtype.
        device: output device when no parameter is a tensor.

    Shape:
        - parameters: numbers, ``(1,)`` or ``(B,)``.
        - output: ``(B, K, K)``.

    Returns:
        Kernels that sum to 1 over their support and are zero outside it.

    Reference:
        ``basicsr.data.degradations.bivariate_plateau``.

    Example:
        >>> k = plateau_kernel(torch.tensor([7, 11]), 1.5, 3.0, 0.7, 2.0)
        >>> k.shape, k[0, 0, 0].item(), k[0, 2, 2].item() > 0
        (torch.Size([2, 11, 11]), 0.0, True)
    """
    q, extra, half, xx, yy = _quadratic_form(
        kernel_size, sigma_x, sigma_y, theta, {"beta": beta}, pad_to, device
    )
    return _finish(torch.reciprocal(q.pow(extra["beta"]) + 1.0), half, xx, yy, dtype)


def _bessel_j1(r: Tensor) -> Tensor:
    """Bessel J1 in float64, accurate to ~1e-13 (``torch.special.bessel_j1`` is off by up to
    ~5e-7 for arguments 5..10, so its power series is used below 12)."""
    small = r < 12.0
    half = 0.5 * torch.where(small, r, torch.zeros((), dtype=r.dtype, device=r.device))
    u = -(half * half)
    # J1(z) = (z/2) sum_m u^m / (m! (m+1)!), evaluated by Horner; 31 terms reach 1e-19 at z = 12.
    poly = torch.full_like(u, _J1_SERIES[-1])
    for coeff in reversed(_J1_SERIES[:-1]):
        poly = torch.addcmul(torch.full_like(u, coeff), poly, u)
    return torch.where(small, half * poly, torch.special.bessel_j1(r))


_J1_SERIES = tuple(1.0 / (math.factorial(m) * math.factorial(m + 1)) for m in range(31))


def sinc_kernel(
    kernel_size: KernelSize,
    cutoff: ParamLike,
    *,
    pad_to: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: DeviceLike = None,
) -> Tensor:
    """2-D circularly symmetric low-pass ("sinc") kernels, one per sample, for ringing artifacts.

    ``k(r) ~ omega_c J1(omega_c r) / (2 pi r)`` with ``r`` the distance to the centre; the centre
    takes the limit ``omega_c^2 / (4 pi)``. The infinite kernel's frequency response is the disc
    ``|omega| < omega_c``.

    Args:
        kernel_size: odd support size, an int or a ``(B,)`` integer tensor.
        cutoff: cutoff frequency ``omega_c`` in radians (``pi`` is the Nyquist frequency).
        pad_to: common odd output size K (default: the largest ``kernel_size``).
        dtype: output dtype.
        device: output device when no parameter is a tensor.

    Shape:
        - parameters: numbers, ``(1,)`` or ``(B,)``.
        - output: ``(B, K, K)``.

    Returns:
        Kernels that sum to 1 over their support and are zero outside it.

    Reference:
        ``basicsr.data.degradations.circular_lowpass_kernel`` (with its ``pad_to``).

    Example:
        >>> k = sinc_kernel(13, torch.tensor([math.pi / 3, math.pi]), pad_to=21)
        >>> k.shape, round(k[0].sum().item(), 4)
        (torch.Size([2, 21, 21]), 1.0)
    """
    batch, dev = _infer_batch_and_device({"kernel_size": kernel_size, "cutoff": cutoff}, device)
    half, size = _sizes(kernel_size, pad_to, batch, dev)
    wc = batch_param(cutoff, batch, device=dev, dtype=torch.float64, name="cutoff").view(-1, 1, 1)
    xx, yy = _grid(size, dev)
    r = torch.sqrt(xx.square() + yy.square())
    at_centre = r == 0
    r_safe = torch.where(at_centre, torch.ones((), dtype=r.dtype, device=dev), r)
    ring = wc * _bessel_j1(wc * r_safe) / (2.0 * math.pi * r_safe)
    values = torch.where(at_centre, wc.square() / (4.0 * math.pi), ring)
    return _finish(values, half, xx, yy, dtype)


def delta_kernel(
    kernel_size: int = 21,
    batch: int = 1,
    *,
    dtype: torch.dtype = torch.float32,
    device: DeviceLike = None,
) -> Tensor:
    """The identity ("no blur") kernel: 1 at the centre of a ``K x K`` grid, 0 elsewhere.

    Args:
        kernel_size: odd size K.
        batch: number of kernels B.
        dtype: output dtype.
        device: output device (default CPU).

    Shape:
        - output: ``(B, K, K)``.

    Returns:
        ``batch`` copies of the delta kernel; filtering with it returns the image unchanged.

    Reference:
        Real-ESRGAN's ``pulse_tensor`` (the "no sinc" kernel of the final stage).

    Example:
        >>> delta_kernel(3)
        tensor([[[0., 0., 0.],
                 [0., 1., 0.],
                 [0., 0., 0.]]])
    """
    _check_odd_size(kernel_size, "kernel_size")
    if batch < 0:
        raise ValueError(f"batch must be >= 0, got {batch}")
    out = torch.zeros(batch, kernel_size, kernel_size, dtype=dtype, device=device)
    out[:, kernel_size // 2, kernel_size // 2] = 1
    return out


def gaussian_kernel1d(
    kernel_size: int,
    sigma: float = 0.0,
    *,
    dtype: torch.dtype = torch.float64,
    device: DeviceLike = None,
) -> Tensor:
    """A 1-D Gaussian kernel with OpenCV's ``getGaussianKernel`` conventions.

    ``sigma <= 0`` means ``0.3 * ((kernel_size - 1) / 2 - 1) + 0.8`` (8.0 for size 51), and for
    such a default sigma the small sizes 1..9 use OpenCV's fixed binomial-like kernels.

    Args:
        kernel_size: odd size k.
        sigma: standard deviation in pixels; ``<= 0`` selects OpenCV's default.
        dtype: output dtype (values are computed in float64).
        device: output device (default CPU).

    Shape:
        - output: ``(k,)``.

    Returns:
        The kernel, summing to 1.

    Reference:
        ``cv2.getGaussianKernel(kernel_size, sigma)`` (OpenCV 5; OpenCV 4 has no fixed size-9
        kernel).

    Example:
        >>> gaussian_kernel1d(5).tolist()
        [0.0625, 0.25, 0.375, 0.25, 0.0625]
        >>> round(gaussian_kernel1d(51)[25].item(), 6)
        0.049939
    """
    _check_odd_size(kernel_size, "kernel_size")
    if sigma <= 0 and kernel_size in _SMALL_GAUSSIAN_NUMERATORS:
        table = torch.tensor(_SMALL_GAUSSIAN_NUMERATORS[kernel_size], dtype=torch.float64)
        return (table / 256.0).to(dtype=dtype, device=device)
    if sigma <= 0:
        sigma = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8
    x = torch.arange(kernel_size, dtype=torch.float64) - (kernel_size - 1) * 0.5
    values = torch.exp(x.square() * (-0.5 / (sigma * sigma)))
    values = values * (1.0 / values.sum())
    return values.to(dtype=dtype, device=device)
