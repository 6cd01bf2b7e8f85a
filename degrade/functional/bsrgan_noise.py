"""BSRGAN's noise models: channel-correlated Gaussian, speckle and photon (Poisson) noise.

Batched versions of ``add_Gaussian_noise``, ``add_speckle_noise`` and ``add_Poisson_noise`` of
KAIR's ``utils/utils_blindsr.py`` (Zhang et al., "Designing a Practical Degradation Model for Deep
Blind Image Super-Resolution", ICCV 2021), with per-sample parameters and per-sample seeds. As in
:mod:`degrade.functional.noise`, sample ``i`` draws its field from a ``torch.Generator`` seeded
``seeds[i]`` on the input's device (one host read of the seeds per call), so its noise does not
depend on its batch.

* :func:`bsrgan_noise_covariance` builds BSRGAN's random 3x3 covariance
  ``|L^2 U^T D U|`` from uniform draws (``U = orth(A)``, ``D = diag(d)``).
* :func:`add_correlated_gaussian_noise` adds (or, for speckle, multiplies in) per-pixel noise
  whose channels have a given covariance.
* :func:`add_speckle_noise` is multiplicative Gaussian noise, colour or gray.
* :func:`add_photon_noise` is BSRGAN's Poisson noise with a photon count ``vals`` per unit
  intensity (``10 ** U(2, 4)`` there), colour or gray.

BSRGAN's colour and gray *additive* Gaussian noise is
:func:`degrade.functional.noise.add_gaussian_noise` (sigma in 8-bit units).
"""

from __future__ import annotations

import torch
from torch import Tensor

from degrade.functional._random import per_sample_normal, per_sample_poisson, read_seeds
from degrade.functional._utils import ParamLike, batch_param, check_image
from degrade.functional.color import rgb_to_gray
from degrade.functional.noise import add_gaussian_noise

__all__ = [
    "add_correlated_gaussian_noise",
    "add_photon_noise",
    "add_speckle_noise",
    "bsrgan_noise_covariance",
    "covariance_sqrt",
]


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    return dtype if dtype in (torch.float32, torch.float64) else torch.float32


def _check_float_image(x: Tensor) -> None:
    check_image(x)
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating tensor in [0, 1], got {x.dtype}")


def bsrgan_noise_covariance(a: Tensor, d: Tensor, level: ParamLike) -> Tensor:
    """BSRGAN's random channel covariance ``|L^2 U^T diag(d) U|`` (element-wise absolute value).

    ``U = orth(a)`` is the orthonormal basis of ``a``'s columns from its SVD (the left singular
    vectors, as ``scipy.linalg.orth``); the element-wise absolute value makes the result
    independent of the singular vectors' signs. The result is symmetric but, because of the
    absolute value, not always positive semi-definite; :func:`add_correlated_gaussian_noise`
    then uses its matrix absolute value, as ``numpy.random.multivariate_normal`` does.

    Args:
        a: per-sample matrices with entries U(0, 1) (BSRGAN: ``np.random.rand(3, 3)``).
        d: per-sample diagonals with entries U(0, 1) (``np.random.rand(3)``).
        level: noise level L in [0, 1] units (BSRGAN: ``noise_level2 / 255 = 25 / 255``).

    Shape:
        a: ``(B, C, C)``; d: ``(B, C)``; level: number, ``(1,)`` or ``(B,)``; returns
        ``(B, C, C)`` float64.

    Returns:
        The covariances, in squared [0, 1] units.

    Reference: KAIR ``add_Gaussian_noise`` (the correlated branch).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> a, d = torch.rand(2, 3, 3, generator=g), torch.rand(2, 3, generator=g)
        >>> cov = bsrgan_noise_covariance(a, d, 25 / 255)
        >>> cov.shape, bool(torch.equal(cov, cov.transpose(1, 2)))
        (torch.Size([2, 3, 3]), True)
    """
    if a.ndim != 3 or a.shape[1] != a.shape[2] or d.shape != a.shape[:2]:
        raise ValueError(
            f"a must be (B, C, C) and d (B, C), got {tuple(a.shape)} and {tuple(d.shape)}"
        )
    f64 = torch.float64
    u = torch.linalg.svd(a.to(f64))[0]
    lv = batch_param(level, a.shape[0], device=a.device, dtype=f64, name="level").view(-1, 1, 1)
    cov = (u.transpose(1, 2) * d.to(f64).unsqueeze(1)) @ u
    cov = (lv * lv * cov).abs()
    return (cov + cov.transpose(1, 2)) / 2


def covariance_sqrt(cov: Tensor) -> Tensor:
    """Symmetric square root of ``|cov|`` (the matrix absolute value), per sample.

    For ``cov = Q diag(l) Q^T`` returns ``Q diag(sqrt(|l|)) Q^T``, so that ``F z`` with
    ``z ~ N(0, I)`` has covariance ``Q diag(|l|) Q^T``: ``cov`` itself when it is positive
    semi-definite, and what ``numpy.random.multivariate_normal`` (SVD-based) samples otherwise.

    Args:
        cov: symmetric matrices (the symmetric part is used).

    Shape:
        cov: ``(B, C, C)``; returns ``(B, C, C)`` float64.

    Returns:
        The square roots.

    Example:
        >>> f = covariance_sqrt(torch.tensor([[[4.0, 0.0], [0.0, 9.0]]]))
        >>> f[0].diagonal().tolist()
        [2.0, 3.0]
    """
    c = cov.to(torch.float64)
    c = (c + c.transpose(-1, -2)) / 2
    evals, evecs = torch.linalg.eigh(c)
    return (evecs * evals.abs().sqrt().unsqueeze(-2)) @ evecs.transpose(-1, -2)


def add_correlated_gaussian_noise(
    x: Tensor,
    cov: Tensor,
    *,
    seeds: ParamLike,
    multiplicative: bool = False,
    clip: bool = True,
) -> Tensor:
    """Add per-pixel Gaussian noise whose channels have covariance ``cov`` (per sample).

    ``noise[:, h, w] = F z[:, h, w]`` with ``F = covariance_sqrt(cov)`` and ``z`` a ``(C, H, W)``
    standard normal field drawn by a generator seeded ``seeds[i]``; ``out = x + noise``, or for
    speckle (``multiplicative=True``) ``out = xc + xc * noise`` with ``xc = clamp(x, 0, 1)``
    (BSRGAN clips before its speckle noise); then clipped to [0, 1] when ``clip``. The mixing is
    an explicit sum over channels in float64, so a sample's result never depends on its batch.
    Differentiable w.r.t. ``x`` (with ``clip=False``); the noise itself is not differentiated.

    Args:
        x: images in [0, 1], float.
        cov: per-sample channel covariances in squared [0, 1] units (e.g. ``(25 / 255) ** 2``
            scales); symmetric, positive semi-definite (otherwise see :func:`covariance_sqrt`).
        seeds: per-sample int64 seeds.
        multiplicative: speckle noise (see above).
        clip: clamp the result to [0, 1].

    Shape:
        x: ``(B, C, H, W)``; cov: ``(B, C, C)``, ``(1, C, C)`` or ``(C, C)``; seeds: ``(B,)``,
        ``(1,)`` or scalar; returns ``(B, C, H, W)`` with x's dtype and device.

    Returns:
        The noisy images.

    Reference: KAIR ``add_Gaussian_noise`` / ``add_speckle_noise`` (the correlated branch,
    ``np.random.multivariate_normal([0, 0, 0], cov, (H, W))``).

    Example:
        >>> x = torch.full((2, 3, 64, 64), 0.5)
        >>> cov = torch.eye(3) * 0.01
        >>> y = add_correlated_gaussian_noise(x, cov, seeds=torch.tensor([1, 2]), clip=False)
        >>> round((y - x).std().item(), 1)
        0.1
    """
    _check_float_image(x)
    b, c, h, w = x.shape
    if not isinstance(cov, Tensor):
        raise TypeError(f"cov must be a tensor, got {type(cov).__name__}")
    cov_b = cov.unsqueeze(0) if cov.ndim == 2 else cov
    if cov_b.ndim != 3 or cov_b.shape[1:] != (c, c) or cov_b.shape[0] not in (1, b):
        raise ValueError(
            f"cov must have shape (B, C, C), (1, C, C) or (C, C) with B = {b}, C = {c}, "
            f"got {tuple(cov.shape)}"
        )
    seed_list = read_seeds(seeds if isinstance(seeds, Tensor | int) else int(seeds), batch=b)
    if b == 0:
        return x.clone()
    f64 = torch.float64
    factor = covariance_sqrt(cov_b.to(x.device)).expand(b, c, c)
    z = per_sample_normal(seed_list, (c, h, w), dtype=f64, device=x.device)
    terms = [factor[:, :, j].view(b, c, 1, 1) * z[:, j : j + 1] for j in range(c)]
    noise = terms[0]
    for term in terms[1:]:
        noise = noise + term
    wd = _work_dtype(x.dtype)
    work = x.to(wd)
    if multiplicative:
        work = work.clamp(0, 1)
        out = work + work * noise.to(wd)
    else:
        out = work + noise.to(wd)
    if clip:
        out = out.clamp(0, 1)
    return out.to(x.dtype)


def add_speckle_noise(
    x: Tensor,
    sigma: ParamLike,
    *,
    gray: ParamLike,
    seeds: ParamLike,
    clip: bool = True,
) -> Tensor:
    """Multiplicative Gaussian (speckle) noise: ``xc + xc * N(0, (sigma / 255)^2)``.

    ``xc = clamp(x, 0, 1)``; a gray sample's noise is one ``(H, W)`` field shared by its
    channels. The noise field is exactly the one :func:`degrade.functional.noise.add_gaussian_noise`
    adds for the same ``sigma``, ``gray`` and ``seeds``. Clipped to [0, 1] when ``clip``.
    Differentiable w.r.t. ``x`` inside [0, 1] (with ``clip=False``).

    Args:
        x: images in [0, 1], float.
        sigma: per-sample noise level in 8-bit units (BSRGAN: ``randint(2, 25)``).
        gray: per-sample flags for gray noise.
        seeds: per-sample int64 seeds.
        clip: clamp the result to [0, 1].

    Shape:
        x: ``(B, C, H, W)``; sigma, gray, seeds: ``(B,)``, ``(1,)`` or scalars; returns
        ``(B, C, H, W)`` with x's dtype and device.

    Returns:
        The noisy images.

    Reference: KAIR ``add_speckle_noise`` (colour and gray branches).

    Example:
        >>> x = torch.zeros(1, 3, 8, 8)
        >>> torch.equal(add_speckle_noise(x, 20.0, gray=False, seeds=3), x)  # nothing to modulate
        True
    """
    _check_float_image(x)
    wd = _work_dtype(x.dtype)
    work = x.to(wd).clamp(0, 1)
    noise = add_gaussian_noise(torch.zeros_like(work), sigma, gray=gray, seeds=seeds, clip=False)
    out = work + work * noise
    if clip:
        out = out.clamp(0, 1)
    return out.to(x.dtype)


def add_photon_noise(
    x: Tensor,
    photons: ParamLike,
    *,
    gray: ParamLike,
    seeds: ParamLike,
    clip: bool = True,
) -> Tensor:
    """BSRGAN's Poisson noise: ``Poisson(img * vals) / vals`` with ``vals`` photons per unit.

    The image is first quantised to 8 bits (``img = round(255 clamp(x)) / 255``, as BSRGAN does,
    and kept so). Colour: ``out = Poisson(img * vals) / vals``, each channel independently.
    Gray: ``g = round(255 * (0.299 R + 0.587 G + 0.114 B)) / 255`` and
    ``out = img + (Poisson(g * vals) / vals - g)``, the same noise on every channel. Then clipped
    to [0, 1] when ``clip``. Unlike basicsr's Poisson noise (:func:`degrade.functional.noise.
    add_poisson_noise`), ``vals`` is a free parameter (BSRGAN: ``10 ** U(2, 4)``), not derived
    from the number of grey levels. Not differentiable (the output is a function of the
    quantised image).

    Args:
        x: images in [0, 1], float.
        photons: per-sample photon count per unit intensity (``vals``), > 0.
        gray: per-sample flags for gray noise (BSRGAN: probability 1/2).
        seeds: per-sample int64 seeds.
        clip: clamp the result to [0, 1].

    Shape:
        x: ``(B, C, H, W)`` (gray noise needs C = 3, or C = 1 where it is the same as colour);
        photons, gray, seeds: ``(B,)``, ``(1,)`` or scalars; returns ``(B, C, H, W)``.

    Returns:
        The noisy images.

    Reference: KAIR ``add_Poisson_noise``.

    Example:
        >>> x = torch.full((1, 3, 32, 32), 0.5)
        >>> y = add_photon_noise(x, 1e4, gray=False, seeds=1)
        >>> 0.003 < (y - x).std().item() < 0.01  # about sqrt(0.5 / 1e4)
        True
    """
    _check_float_image(x)
    b, c, _, _ = x.shape
    wd = _work_dtype(x.dtype)
    dev = x.device
    vals = batch_param(photons, b, device=dev, dtype=torch.float64, name="photons")
    gray_t = batch_param(gray, b, device=dev, dtype=torch.bool, name="gray")
    seed_list = read_seeds(seeds if isinstance(seeds, Tensor | int) else int(seeds), batch=b)
    if b == 0:
        return x.clone()
    gray_list = [bool(g) and c == 3 for g in gray_t.tolist()]
    f64 = torch.float64
    with torch.no_grad():
        img = (x.detach().to(f64).clamp(0, 1) * 255.0).round() / 255.0
        v = vals.view(b, 1, 1, 1)
        out = torch.empty_like(img)
        colour_idx = [i for i in range(b) if not gray_list[i]]
        gray_idx = [i for i in range(b) if gray_list[i]]
        if colour_idx:
            sub = img[colour_idx]
            sv = v[colour_idx]
            counts = per_sample_poisson([seed_list[i] for i in colour_idx], sub * sv)
            out[colour_idx] = counts / sv
        if gray_idx:
            sub = img[gray_idx]
            sv = v[gray_idx]
            g = (rgb_to_gray(sub, weights="bt601") * 255.0).round().clamp(0, 255) / 255.0
            counts = per_sample_poisson([seed_list[i] for i in gray_idx], g * sv)
            out[gray_idx] = sub + (counts / sv - g)
        if clip:
            out = out.clamp(0, 1)
    return out.to(wd).to(x.dtype)
