"""Blur kernel generators: parity with basicsr and sampler-independent properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from degrade.functional.kernels import (
    bivariate_gaussian_kernel,
    delta_kernel,
    gaussian_kernel1d,
    generalized_gaussian_kernel,
    plateau_kernel,
    sinc_kernel,
)
from tests._reference import import_reference

F64 = torch.float64
SIZES = list(range(7, 22, 2))


def _family(name: str, size, sx, sy, theta, beta, **kw) -> torch.Tensor:
    if name == "gaussian":
        return bivariate_gaussian_kernel(size, sx, sy, theta, **kw)
    if name == "generalized":
        return generalized_gaussian_kernel(size, sx, sy, theta, beta, **kw)
    return plateau_kernel(size, sx, sy, theta, beta, **kw)


FAMILIES = ["gaussian", "generalized", "plateau"]


def _sweep(seed: int, n: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "size": torch.tensor(SIZES)[torch.randint(len(SIZES), (n,), generator=g)],
        "sx": 0.2 + 4.8 * torch.rand(n, generator=g, dtype=F64),
        "sy": 0.2 + 4.8 * torch.rand(n, generator=g, dtype=F64),
        "theta": (2 * torch.rand(n, generator=g, dtype=F64) - 1) * math.pi,
        "beta": 0.5 + 7.5 * torch.rand(n, generator=g, dtype=F64),
        "cutoff": math.pi / 3 + (2 * math.pi / 3) * torch.rand(n, generator=g, dtype=F64),
    }


def _pad_np(kernel: np.ndarray, size: int) -> np.ndarray:
    p = (size - kernel.shape[0]) // 2
    return np.pad(kernel, ((p, p), (p, p)))


# ----------------------------------------------------------------------------- reference parity


@pytest.mark.reference
@pytest.mark.parametrize("pad_to", [None, 21, 25])
def test_matches_basicsr_sweep(pad_to: int | None) -> None:
    deg = import_reference("basicsr.data.degradations")
    n = 40
    p = _sweep(seed=0 if pad_to is None else pad_to, n=n)
    size = int(p["size"].max()) if pad_to is None else pad_to
    ours = {
        "aniso": bivariate_gaussian_kernel(
            p["size"], p["sx"], p["sy"], p["theta"], pad_to=pad_to, dtype=F64
        ),
        "iso": bivariate_gaussian_kernel(
            p["size"], p["sx"], p["sx"], p["theta"], pad_to=pad_to, dtype=F64
        ),
        "gen_aniso": generalized_gaussian_kernel(
            p["size"], p["sx"], p["sy"], p["theta"], p["beta"], pad_to=pad_to, dtype=F64
        ),
        "gen_iso": generalized_gaussian_kernel(
            p["size"], p["sx"], p["sx"], p["theta"], p["beta"], pad_to=pad_to, dtype=F64
        ),
        "plateau_aniso": plateau_kernel(
            p["size"], p["sx"], p["sy"], p["theta"], p["beta"], pad_to=pad_to, dtype=F64
        ),
        "plateau_iso": plateau_kernel(
            p["size"], p["sx"], p["sx"], p["theta"], p["beta"], pad_to=pad_to, dtype=F64
        ),
        "sinc": sinc_kernel(p["size"], p["cutoff"], pad_to=pad_to, dtype=F64),
    }
    for i in range(n):
        k, sx, sy, th, b = (p[name][i].item() for name in ("size", "sx", "sy", "theta", "beta"))
        k = int(k)
        refs = {
            "aniso": deg.bivariate_Gaussian(k, sx, sy, th, isotropic=False),
            "iso": deg.bivariate_Gaussian(k, sx, sy, th, isotropic=True),
            "gen_aniso": deg.bivariate_generalized_Gaussian(k, sx, sy, th, b, isotropic=False),
            "gen_iso": deg.bivariate_generalized_Gaussian(k, sx, sy, th, b, isotropic=True),
            "plateau_aniso": deg.bivariate_plateau(k, sx, sy, th, b, isotropic=False),
            "plateau_iso": deg.bivariate_plateau(k, sx, sy, th, b, isotropic=True),
            "sinc": deg.circular_lowpass_kernel(p["cutoff"][i].item(), k, pad_to=size),
        }
        for name, ref in refs.items():
            ref = _pad_np(ref, size)
            np.testing.assert_allclose(
                ours[name][i].numpy(), ref, rtol=0, atol=1e-6, err_msg=f"{name} sample {i}"
            )


@pytest.mark.reference
def test_float32_output_matches_basicsr() -> None:
    deg = import_reference("basicsr.data.degradations")
    ours = bivariate_gaussian_kernel(
        torch.tensor([7, 21]), torch.tensor([0.8, 3.5]), torch.tensor([2.5, 1.1]), 1.0
    )
    assert ours.dtype == torch.float32
    for i, (k, sx, sy) in enumerate([(7, 0.8, 2.5), (21, 3.5, 1.1)]):
        ref = _pad_np(deg.bivariate_Gaussian(k, sx, sy, 1.0, isotropic=False), 21)
        np.testing.assert_allclose(ours[i].numpy(), ref, rtol=0, atol=1e-6)


@pytest.mark.reference
@pytest.mark.parametrize("size", range(1, 52, 2))
def test_gaussian_kernel1d_matches_opencv(size: int) -> None:
    cv2 = import_reference("cv2")
    sigmas = [0.0, 0.7, 2.0, 8.0]
    if size == 9 and int(cv2.__version__.split(".")[0]) < 5:
        sigmas = sigmas[1:]  # OpenCV 4 has no fixed size-9 table
    for sigma in sigmas:
        ref = cv2.getGaussianKernel(size, sigma).ravel()
        np.testing.assert_allclose(gaussian_kernel1d(size, sigma).numpy(), ref, rtol=0, atol=1e-15)


# ------------------------------------------------------------------------- math properties


@pytest.mark.parametrize("family", [*FAMILIES, "sinc"])
def test_sum_one_support_and_point_symmetry(family: str) -> None:
    p = _sweep(seed=5, n=16)
    if family == "sinc":
        k = sinc_kernel(p["size"], p["cutoff"], pad_to=23, dtype=F64)
    else:
        k = _family(
            family, p["size"], p["sx"], p["sy"], p["theta"], p["beta"], pad_to=23, dtype=F64
        )
    assert k.shape == (16, 23, 23)
    torch.testing.assert_close(k.sum(dim=(1, 2)), torch.ones(16, dtype=F64), rtol=0, atol=1e-12)
    # 180-degree rotation symmetry.
    torch.testing.assert_close(k, torch.flip(k, dims=(1, 2)), rtol=0, atol=1e-15)
    # Zero exactly outside each sample's support; plateau and sinc kernels (which do not
    # underflow) are non-zero everywhere on the support's border ring.
    c = 11
    for i, size in enumerate(p["size"].tolist()):
        h = size // 2
        inside = torch.zeros(23, 23, dtype=torch.bool)
        inside[c - h : c + h + 1, c - h : c + h + 1] = True
        assert torch.all(k[i][~inside] == 0), f"sample {i}: mass outside its {size}x{size} support"
        assert k[i, c, c] > 0
        if family in ("plateau", "sinc"):
            assert torch.all(k[i][c - h, c - h : c + h + 1] != 0), f"sample {i}: border is zero"
            assert torch.all(k[i][c - h : c + h + 1, c + h] != 0), f"sample {i}: border is zero"


@pytest.mark.parametrize("family", [*FAMILIES, "sinc"])
def test_per_sample_size_equals_own_grid_padded(family: str) -> None:
    p = _sweep(seed=7, n=6)
    sizes = torch.tensor([7, 21, 9, 15, 13, 11])
    if family == "sinc":
        batched = sinc_kernel(sizes, p["cutoff"], dtype=F64)
    else:
        batched = _family(family, sizes, p["sx"], p["sy"], p["theta"], p["beta"], dtype=F64)
    assert batched.shape == (6, 21, 21)  # default pad_to: the largest size
    for i, size in enumerate(sizes.tolist()):
        if family == "sinc":
            own = sinc_kernel(size, p["cutoff"][i], dtype=F64)
        else:
            own = _family(
                family, size, p["sx"][i], p["sy"][i], p["theta"][i], p["beta"][i], dtype=F64
            )
        assert own.shape == (1, size, size)
        pad = (21 - size) // 2
        torch.testing.assert_close(batched[i], F.pad(own[0], (pad,) * 4), rtol=1e-14, atol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_quarter_turn_swaps_sigmas(family: str) -> None:
    sx, sy, beta = torch.tensor([0.6, 4.0, 1.3], dtype=F64), torch.tensor([3.0, 1.0, 1.3]), 1.7
    turned = _family(family, 21, sx, sy, math.pi / 2, beta, dtype=F64)
    swapped = _family(family, 21, sy, sx, 0.0, beta, dtype=F64)
    torch.testing.assert_close(turned, swapped, rtol=0, atol=1e-12)
    # The kernel is also the transpose of the unrotated one.
    plain = _family(family, 21, sx, sy, 0.0, beta, dtype=F64)
    torch.testing.assert_close(turned, plain.transpose(1, 2), rtol=0, atol=1e-12)
    # Period pi in theta.
    theta = torch.tensor([0.3, -1.2, 2.5], dtype=F64)
    torch.testing.assert_close(
        _family(family, 21, sx, sy, theta, beta, dtype=F64),
        _family(family, 21, sx, sy, theta + math.pi, beta, dtype=F64),
        rtol=0,
        atol=1e-12,
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_rotation_direction(family: str) -> None:
    # theta = +pi/4 turns the sigma_x axis from the columns (+x) towards +y (down the rows):
    # the long axis runs along the main diagonal, where the row and column offsets are equal.
    k = _family(family, 15, 3.0, 0.8, math.pi / 4, 1.2, dtype=F64)[0]
    c = 7
    assert k[c + 3, c + 3] > 10 * k[c - 3, c + 3]
    torch.testing.assert_close(k, k.transpose(0, 1), rtol=0, atol=1e-15)
    # -pi/4 mirrors it onto the anti-diagonal.
    m = _family(family, 15, 3.0, 0.8, -math.pi / 4, 1.2, dtype=F64)[0]
    torch.testing.assert_close(m, torch.flip(k, dims=(0,)), rtol=0, atol=1e-15)


def test_unrotated_gaussian_is_separable_with_sigma_x_along_columns() -> None:
    k = bivariate_gaussian_kernel(15, 1.5, 3.0, 0.0, dtype=F64)[0]
    col = gaussian_kernel1d(15, 1.5)  # varies along the columns (x)
    row = gaussian_kernel1d(15, 3.0)  # varies along the rows (y)
    torch.testing.assert_close(k, row[:, None] * col[None, :], rtol=0, atol=1e-15)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0, 7.0])
def test_shape_parameter_at_unit_quadratic_form(beta: float) -> None:
    # With theta = 0 and sigma_x = 2, the pixel two columns right of the centre has q = 1, so its
    # value relative to the centre is exp(-1/2) (generalized Gaussian) and 1/2 (plateau) for any
    # beta, while q = 4 gives exp(-4^beta / 2) and 1 / (1 + 4^beta).
    g = generalized_gaussian_kernel(21, 2.0, 0.7, 0.0, beta, dtype=F64)[0]
    p = plateau_kernel(21, 2.0, 0.7, 0.0, beta, dtype=F64)[0]
    c = 10
    assert g[c, c + 2] / g[c, c] == pytest.approx(math.exp(-0.5), rel=1e-12)
    assert g[c, c - 4] / g[c, c] == pytest.approx(math.exp(-0.5 * 4**beta), rel=1e-12)
    assert p[c, c + 2] / p[c, c] == pytest.approx(0.5, rel=1e-12)
    assert p[c, c - 4] / p[c, c] == pytest.approx(1 / (1 + 4**beta), rel=1e-12)
    if beta == 1.0:
        gauss = bivariate_gaussian_kernel(21, 2.0, 0.7, 0.0, dtype=F64)
        torch.testing.assert_close(g[None], gauss, rtol=0, atol=1e-15)


@pytest.mark.parametrize("cutoff", [math.pi / 3, math.pi / 2, math.pi])
def test_sinc_frequency_response_is_the_disc(cutoff: float) -> None:
    # A large support approximates the ideal disc response: ~1 well inside |omega| < cutoff,
    # ~0 well outside.
    k = sinc_kernel(101, cutoff, dtype=F64)[0]
    ax = torch.arange(101, dtype=F64) - 50
    w = torch.linspace(0, math.pi, 25, dtype=F64)
    wy, wx = torch.meshgrid(w, w, indexing="ij")
    # The kernel is real and even, so its DTFT is a cosine sum.
    phase = wy.reshape(-1, 1, 1) * ax.view(1, -1, 1) + wx.reshape(-1, 1, 1) * ax.view(1, 1, -1)
    response = (k * torch.cos(phase)).sum(dim=(1, 2)).view(25, 25)
    radius = torch.sqrt(wx.square() + wy.square())
    inner, outer = radius < 0.75 * cutoff, radius > 1.25 * cutoff
    assert inner.any() and outer.any()
    assert (response[inner] - 1).abs().max() < 0.08
    assert response[outer].abs().max() < 0.08


def test_sinc_centre_is_the_limit() -> None:
    special = pytest.importorskip("scipy.special")
    cutoffs = torch.tensor([0.9, 1.7, math.pi], dtype=F64)
    k = sinc_kernel(7, cutoffs, dtype=F64)
    for i, wc in enumerate(cutoffs.tolist()):
        # centre / first neighbour = (wc^2 / 4 pi) / (wc J1(wc) / 2 pi) = wc / (2 J1(wc))
        expected = wc / (2 * special.j1(wc))
        assert (k[i, 3, 3] / k[i, 3, 4]).item() == pytest.approx(expected, rel=1e-12)
        # and the radial profile follows J1(wc r) / r.
        r = math.sqrt(2**2 + 1**2)
        expected_ratio = special.j1(wc * r) / r / special.j1(wc)
        assert (k[i, 1, 2] / k[i, 3, 4]).item() == pytest.approx(expected_ratio, rel=1e-9)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_no_subnormal_entries(dtype: torch.dtype) -> None:
    # Narrow kernels have far tails below the smallest normal number; they must come out as 0.
    k = generalized_gaussian_kernel(21, torch.tensor([0.2, 0.3]), 0.25, 0.4, 1.0, dtype=dtype)
    g = bivariate_gaussian_kernel(21, torch.tensor([0.2, 0.3]), 0.25, 0.4, dtype=dtype)
    tiny = torch.finfo(dtype).tiny
    for kernel in (k, g):
        assert not ((kernel != 0) & (kernel.abs() < tiny)).any()
        assert (kernel == 0).any()  # the tails were flushed, not kept
        torch.testing.assert_close(kernel.sum(dim=(1, 2)).double(), torch.ones(2, dtype=F64))


def test_delta_kernel() -> None:
    d = delta_kernel(21, batch=3, dtype=F64)
    assert d.shape == (3, 21, 21) and d.dtype == F64
    assert torch.equal(d.sum(dim=(1, 2)), torch.ones(3, dtype=F64))
    assert torch.all(d[:, 10, 10] == 1)
    assert delta_kernel(5, batch=0).shape == (0, 5, 5)


# ------------------------------------------------------------------ batching, dtype, device


def test_batched_equals_single_calls() -> None:
    p = _sweep(seed=11, n=5)
    batched = generalized_gaussian_kernel(
        p["size"], p["sx"], p["sy"], p["theta"], p["beta"], pad_to=21
    )
    for i in range(5):
        single = generalized_gaussian_kernel(
            p["size"][i : i + 1],
            p["sx"][i : i + 1],
            p["sy"][i : i + 1],
            p["theta"][i : i + 1],
            p["beta"][i : i + 1],
            pad_to=21,
        )
        assert torch.equal(batched[i : i + 1], single)


def test_scalars_broadcast_and_dtype_device(device: torch.device) -> None:
    sx = torch.tensor([1.0, 2.0, 3.0], device=device)
    for dtype in (torch.float32, F64):
        k = bivariate_gaussian_kernel(9, sx, 1.0, 0.0, dtype=dtype)
        assert k.shape == (3, 9, 9) and k.dtype == dtype and k.device == device
        s = sinc_kernel(torch.tensor([7, 9, 11], device=device), 2.0, pad_to=21, dtype=dtype)
        assert s.shape == (3, 21, 21) and s.dtype == dtype and s.device == device
        torch.testing.assert_close(s.sum(dim=(1, 2)).double().cpu(), torch.ones(3, dtype=F64))
    one = plateau_kernel(7, 1.0, 2.0, 0.5, 1.5, device=device)
    assert one.shape == (1, 7, 7) and one.device == device
    empty = bivariate_gaussian_kernel(
        torch.zeros(0, dtype=torch.int64, device=device), 1.0, 1.0, 0.0, pad_to=21
    )
    assert empty.shape == (0, 21, 21)


def test_cuda_matches_cpu(device: torch.device) -> None:
    if device.type == "cpu":
        pytest.skip("compares another device against CPU")
    p = _sweep(seed=3, n=8)
    args = (p["size"], p["sx"], p["sy"], p["theta"], p["beta"])
    cpu = plateau_kernel(*args, pad_to=21, dtype=F64)
    dev = plateau_kernel(*(a.to(device) for a in args), pad_to=21, dtype=F64)
    torch.testing.assert_close(dev.cpu(), cpu, rtol=0, atol=1e-12)
    cpu_s = sinc_kernel(p["size"], p["cutoff"], pad_to=21, dtype=F64)
    dev_s = sinc_kernel(p["size"].to(device), p["cutoff"].to(device), pad_to=21, dtype=F64)
    torch.testing.assert_close(dev_s.cpu(), cpu_s, rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: bivariate_gaussian_kernel(8, 1.0, 1.0, 0.0), "odd"),
        (lambda: bivariate_gaussian_kernel(torch.tensor([7, 8]), 1.0, 1.0, 0.0), "odd"),
        (lambda: sinc_kernel(torch.tensor([7, 21]), 2.0, pad_to=15), "pad_to"),
        (lambda: sinc_kernel(7, 2.0, pad_to=20), "pad_to"),
        (lambda: plateau_kernel(7, torch.ones(3), torch.ones(2), 0.0, 1.0), "samples"),
        (lambda: delta_kernel(4), "odd"),
    ],
)
def test_invalid_arguments(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_float_kernel_size_tensor_is_rejected() -> None:
    with pytest.raises(TypeError, match="integer"):
        bivariate_gaussian_kernel(torch.tensor([7.0]), 1.0, 1.0, 0.0)
