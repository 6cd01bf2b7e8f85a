"""Tests of BSRGAN's noise models: correlated Gaussian, speckle and photon (Poisson) noise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import Tensor

from degrade.functional.bsrgan_noise import (
    add_correlated_gaussian_noise,
    add_photon_noise,
    add_speckle_noise,
    bsrgan_noise_covariance,
    covariance_sqrt,
)
from degrade.functional.noise import add_gaussian_noise
from tests._reference import import_reference
from tests.degrade.functional._harness import PROPERTY_CHECKS, OpSpec

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_L = 25 / 255


def _seeds(b: int, g: torch.Generator) -> Tensor:
    return torch.randint(_I64_MIN, _I64_MAX, (b,), generator=g, dtype=torch.int64)


def _cov_params(b: int, g: torch.Generator) -> dict[str, Tensor]:
    a = torch.rand(b, 3, 3, generator=g, dtype=torch.float64)
    d = torch.rand(b, 3, generator=g, dtype=torch.float64)
    return {"cov": bsrgan_noise_covariance(a, d, _L), "seeds": _seeds(b, g)}


def _speckle_params(b: int, g: torch.Generator) -> dict[str, Tensor]:
    return {
        "sigma": 2 + torch.rand(b, generator=g, dtype=torch.float64) * 23,
        "gray": torch.arange(b) % 2 == 1,
        "seeds": _seeds(b, g),
    }


def _photon_params(b: int, g: torch.Generator) -> dict[str, Tensor]:
    return {
        "photons": 10 ** (2 + 2 * torch.rand(b, generator=g, dtype=torch.float64)),
        "gray": torch.arange(b) % 2 == 1,
        "seeds": _seeds(b, g),
    }


SPECS = [
    OpSpec(
        "correlated",
        add_correlated_gaussian_noise,
        make_params=_cov_params,
        static={"clip": False},
        channels=(3,),
        dtypes=(torch.float32, torch.float64, torch.float16),
    ),
    OpSpec(
        "correlated_speckle_clip",
        add_correlated_gaussian_noise,
        make_params=_cov_params,
        static={"multiplicative": True},
        channels=(3,),
        differentiable=False,
    ),
    OpSpec("speckle", add_speckle_noise, make_params=_speckle_params, differentiable=False),
    OpSpec("photon", add_photon_noise, make_params=_photon_params, differentiable=False),
]


@pytest.mark.parametrize("check", PROPERTY_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_properties(spec: OpSpec, check: Callable[[OpSpec, torch.device], None], device) -> None:
    check(spec, device)


# ---------------------------------------------------------------- covariance


def test_covariance_matches_numpy_scipy_construction() -> None:
    """``|L^2 U^T D U|`` with ``U = scipy.linalg.orth(a)``, as BSRGAN builds it."""
    linalg = import_reference("scipy.linalg")
    g = torch.Generator().manual_seed(0)
    a = torch.rand(6, 3, 3, generator=g, dtype=torch.float64)
    d = torch.rand(6, 3, generator=g, dtype=torch.float64)
    ours = bsrgan_noise_covariance(a, d, _L).numpy()
    for i in range(6):
        u = linalg.orth(a[i].numpy())
        ref = np.abs(_L**2 * (u.T @ np.diag(d[i].numpy()) @ u))
        np.testing.assert_allclose(ours[i], ref, atol=1e-15, rtol=1e-12)


def test_covariance_sqrt_is_numpy_multivariate_normal_factor() -> None:
    """For a PSD matrix F F = cov; otherwise F F is the matrix absolute value that numpy's
    SVD-based multivariate_normal samples (``V^T diag(s) V``)."""
    g = torch.Generator().manual_seed(1)
    m = torch.rand(3, 3, generator=g, dtype=torch.float64)
    psd = m @ m.T
    f = covariance_sqrt(psd[None])[0]
    torch.testing.assert_close(f @ f, psd)
    indefinite = torch.tensor(
        [[1.0, 2.0, 0.3], [2.0, 1.0, 0.1], [0.3, 0.1, 0.5]], dtype=torch.float64
    )
    _, s, vt = np.linalg.svd(indefinite.numpy())
    f = covariance_sqrt(indefinite[None])[0]
    np.testing.assert_allclose((f @ f).numpy(), vt.T @ np.diag(s) @ vt, atol=1e-12)


@pytest.mark.parametrize("multiplicative", [False, True])
def test_correlated_noise_empirical_covariance(multiplicative: bool, device: torch.device) -> None:
    """On a large flat image the channel covariance of the noise matches the drawn one."""
    g = torch.Generator().manual_seed(5)
    a = torch.rand(3, 3, 3, generator=g, dtype=torch.float64)
    d = torch.rand(3, 3, generator=g, dtype=torch.float64)
    cov = bsrgan_noise_covariance(a, d, _L)
    target = torch.stack([covariance_sqrt(c[None])[0].matrix_power(2) for c in cov])
    level = 0.5
    x = torch.full((3, 3, 256, 256), level, dtype=torch.float64, device=device)
    y = add_correlated_gaussian_noise(
        x, cov.to(device), seeds=torch.tensor([1, 2, 3]), multiplicative=multiplicative, clip=False
    )
    noise = ((y - x) / (level if multiplicative else 1.0)).flatten(2).cpu()
    n = noise.shape[-1]
    for i in range(3):
        emp = torch.cov(noise[i])
        # standard error of a covariance entry: sqrt((s_ii s_jj + s_ij^2) / n)
        diag = target[i].diagonal()
        se = ((diag[:, None] * diag[None, :] + target[i] ** 2) / n).sqrt()
        assert ((emp - target[i]).abs() <= 5 * se + 1e-12).all(), (emp, target[i])
        assert noise[i].mean(dim=1).abs().max() < 5 * (diag.max() / n).sqrt()


def test_correlated_noise_channels_move_together_for_a_rank_one_covariance() -> None:
    v = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
    cov = (0.01 * torch.outer(v, v))[None]
    x = torch.full((1, 3, 32, 32), 0.5, dtype=torch.float64)
    noise = add_correlated_gaussian_noise(x, cov, seeds=9, clip=False) - x
    torch.testing.assert_close(noise[0, 1], 2 * noise[0, 0])
    torch.testing.assert_close(noise[0, 2], -noise[0, 0])


def test_correlated_noise_validates_cov_shape() -> None:
    with pytest.raises(ValueError, match="cov must have shape"):
        add_correlated_gaussian_noise(torch.rand(2, 3, 4, 4), torch.eye(2), seeds=1)


# ---------------------------------------------------------------- speckle


def test_speckle_is_the_gaussian_field_times_the_image() -> None:
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    sigma, gray, seeds = (
        torch.tensor([20.0, 7.0]),
        torch.tensor([False, True]),
        torch.tensor([4, 5]),
    )
    field = add_gaussian_noise(torch.zeros_like(x), sigma, gray=gray, seeds=seeds, clip=False)
    y = add_speckle_noise(x, sigma, gray=gray, seeds=seeds, clip=False)
    torch.testing.assert_close(y, x + x * field)
    assert torch.equal(
        add_speckle_noise(torch.zeros(1, 3, 8, 8), 25.0, gray=False, seeds=1),
        torch.zeros(1, 3, 8, 8),
    )


# ---------------------------------------------------------------- photon (Poisson)


@pytest.mark.parametrize("photons", [100.0, 1e4])
def test_photon_noise_statistics(photons: float, device: torch.device) -> None:
    """Colour: mean kept, variance img / vals per channel, channels independent."""
    x = torch.full((1, 3, 256, 256), 0.4, dtype=torch.float64, device=device)
    level = round(0.4 * 255) / 255  # BSRGAN quantises the image first
    noise = (add_photon_noise(x, photons, gray=False, seeds=3, clip=False) - level).flatten(2)[0]
    n = noise.shape[-1]
    var = level / photons
    assert noise.mean(dim=1).abs().max() < 5 * (var / n) ** 0.5
    assert noise.var(dim=1).cpu().numpy() == pytest.approx([var] * 3, rel=0.03)
    corr = torch.corrcoef(noise.cpu())
    assert corr[0, 1].abs() < 0.03 and corr[0, 2].abs() < 0.03


def test_photon_noise_gray_is_shared_and_from_bt601_luma() -> None:
    x = torch.zeros(1, 3, 128, 128, dtype=torch.float64)
    x[:, 0] = 1.0  # pure red: luma 0.299
    y = add_photon_noise(x, 1000.0, gray=True, seeds=4, clip=False)
    noise = y - x
    torch.testing.assert_close(noise[0, 0], noise[0, 1])
    torch.testing.assert_close(noise[0, 0], noise[0, 2])
    g = round(0.299 * 255) / 255
    assert noise.var().item() == pytest.approx(g / 1000.0, rel=0.05)


def test_photon_noise_output_is_quantised_input_plus_counts() -> None:
    """Colour output is count / vals: a multiple of 1 / vals."""
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    y = add_photon_noise(x, 50.0, gray=False, seeds=2, clip=False)
    counts = y * 50.0
    torch.testing.assert_close(counts, counts.round(), atol=1e-9, rtol=0)
