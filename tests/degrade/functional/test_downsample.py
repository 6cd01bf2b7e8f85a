"""Tests of the BSRGAN downsampling ops: cv2-compatible resize, nearest and shifted-kernel decimation."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import Tensor

from degrade.functional.downsample import (
    CV2_MODES,
    cv2_resize,
    cv2_resize_weights,
    nearest_downsample,
    shifted_gaussian_kernel,
    shifted_kernel_downsample,
)
from degrade.functional.resize import resize
from tests._reference import import_reference
from tests.degrade.functional._harness import PROPERTY_CHECKS, OpSpec

_CV2_FLAGS = {"nearest": 0, "linear": 1, "cubic": 2, "area": 3}


def _sigma(b: int, g: torch.Generator) -> dict[str, Tensor]:
    return {"sigma": 0.1 + torch.rand(b, generator=g, dtype=torch.float64) * 2.3}


SPECS = [
    *[
        OpSpec(
            f"cv2_resize_{mode}_{size}",
            cv2_resize,
            static={"size": size, "mode": mode},
            differentiable=size[0] < 10,  # the 2-D Jacobian of an enlargement is slow to check
        )
        for mode in CV2_MODES
        for size in [(7, 10), (30, 17)]
    ],
    OpSpec("nearest_downsample", nearest_downsample, static={"sf": 3, "offset": 1}),
    OpSpec(
        "shifted_kernel_downsample",
        shifted_kernel_downsample,
        make_params=_sigma,
        static={"sf": 4},
        gradcheck_size=(6, 7),
        gradcheck_fn=functools.partial(shifted_kernel_downsample, kernel_size=5),
    ),
]


@pytest.mark.parametrize("check", PROPERTY_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_properties(spec: OpSpec, check: Callable[[OpSpec, torch.device], None], device) -> None:
    check(spec, device)


# ---------------------------------------------------------------- cv2.resize parity


def _to_hwc(x: Tensor) -> np.ndarray:
    return x[0].permute(1, 2, 0).cpu().numpy()


@pytest.mark.parametrize("mode", CV2_MODES)
def test_cv2_resize_matches_opencv(mode: str, device: torch.device) -> None:
    cv2 = import_reference("cv2")
    rng = np.random.default_rng(7)
    cases = [(16, 16, 4, 4), (17, 13, 6, 5), (9, 11, 20, 23), (12, 10, 5, 21), (5, 30, 13, 7)]
    cases += [tuple(int(v) for v in rng.integers(1, 40, 4)) for _ in range(30)]
    for h, w, oh, ow in cases:
        img = rng.random((h, w, 3), dtype=np.float32)
        ref = cv2.resize(img, (ow, oh), interpolation=_CV2_FLAGS[mode])
        ref = ref[..., None] if ref.ndim == 2 else ref
        x = torch.from_numpy(img).permute(2, 0, 1)[None].to(device)
        out = _to_hwc(cv2_resize(x, (oh, ow), mode))
        assert out.shape == ref.shape
        np.testing.assert_allclose(out, ref, atol=1e-5, rtol=0, err_msg=f"{(h, w, oh, ow)}")


def test_cv2_resize_same_size_is_identity_and_rows_sum_to_one() -> None:
    x = torch.rand(2, 3, 9, 7, generator=torch.Generator().manual_seed(1))
    for mode in CV2_MODES:
        assert torch.equal(cv2_resize(x, (9, 7), mode), x)
        for in_len, out_len in [(13, 5), (5, 13), (8, 4)]:
            shrink = out_len <= in_len
            w = cv2_resize_weights(in_len, out_len, mode, shrink_both=shrink)
            torch.testing.assert_close(w.sum(1), torch.ones(out_len, dtype=torch.float64))


def test_cv2_linear_and_cubic_agree_with_interpolate_but_area_does_not() -> None:
    """The documented difference: only INTER_AREA differs from F.interpolate beyond rounding."""
    x = torch.rand(1, 3, 35, 35, generator=torch.Generator().manual_seed(2))
    for ours, theirs in [("linear", "bilinear"), ("cubic", "bicubic")]:
        torch.testing.assert_close(
            cv2_resize(x, (24, 25), ours), resize(x, size=(24, 25), mode=theirs), atol=1e-5, rtol=0
        )
    diff = (cv2_resize(x, (24, 25), "area") - resize(x, size=(24, 25), mode="area")).abs().max()
    assert diff > 0.05


# ---------------------------------------------------------------- nearest / shifted kernel


def test_nearest_downsample_geometry() -> None:
    x = torch.arange(7 * 10, dtype=torch.float32).view(1, 1, 7, 10)
    y = nearest_downsample(x, 3)
    assert y.shape == (1, 1, 3, 4)  # ceil(7 / 3), ceil(10 / 3)
    assert y[0, 0, 1, 2].item() == x[0, 0, 3, 6].item()
    assert torch.equal(nearest_downsample(x, 2, 1), x[..., 1::2, 1::2])
    with pytest.raises(ValueError, match="sf"):
        nearest_downsample(x, 0)
    with pytest.raises(ValueError, match="offset"):
        nearest_downsample(x, 2, 2)


def _fspecial(n: int, sigma: float) -> np.ndarray:
    half = (n - 1) / 2
    xx, yy = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1))
    h = np.exp(-(xx * xx + yy * yy) / (2 * sigma * sigma))
    h[h < np.finfo(float).eps * h.max()] = 0
    return h / h.sum()


def _shift_pixel(k: np.ndarray, sf: int) -> np.ndarray:
    """BSRGAN's ``shift_pixel`` (interp2d linear on a regular grid = bilinear), via scipy."""
    interpolate = import_reference("scipy.interpolate")
    h, w = k.shape
    shift = (sf - 1) * 0.5
    xv, yv = np.arange(w, dtype=float), np.arange(h, dtype=float)
    x1, y1 = np.clip(xv + shift, 0, w - 1), np.clip(yv + shift, 0, h - 1)
    f = interpolate.RegularGridInterpolator((yv, xv), k, method="linear")
    gy, gx = np.meshgrid(y1, x1, indexing="ij")
    return f(np.stack([gy, gx], -1))


@pytest.mark.parametrize("sf", [2, 3, 4])
def test_shifted_kernel_matches_scipy_reference(sf: int) -> None:
    sigmas = [0.1, 0.7, 1.6, 2.4]
    ours = shifted_gaussian_kernel(
        torch.tensor(sigmas, dtype=torch.float64), sf, dtype=torch.float64
    )
    for i, s in enumerate(sigmas):
        ref = _shift_pixel(_fspecial(25, s), sf)
        np.testing.assert_allclose(ours[i].numpy(), ref / ref.sum(), atol=1e-14, rtol=0)


def test_shifted_downsample_matches_ndimage_convolve() -> None:
    ndimage = import_reference("scipy.ndimage")
    rng = np.random.default_rng(3)
    for sf, (h, w), s in [(4, (30, 22), 1.3), (2, (17, 20), 0.4), (3, (12, 12), 1.0)]:
        img = rng.random((h, w, 3))
        k = _shift_pixel(_fspecial(25, s), sf)
        k = k / k.sum()
        ref = ndimage.convolve(img, k[..., None], mode="mirror")[0::sf, 0::sf]
        x = torch.from_numpy(img).permute(2, 0, 1)[None]
        out = _to_hwc(shifted_kernel_downsample(x, s, sf))
        assert out.shape == ref.shape
        np.testing.assert_allclose(out, ref, atol=1e-12, rtol=0)


@pytest.mark.parametrize("sf", [2, 3, 4])
def test_shifted_downsample_centres_on_block_centres(sf: int) -> None:
    """On a ramp, LR pixel i reads HR position sf * i + (sf - 1) / 2 (away from the borders)."""
    n = 24 * sf
    ramp = torch.arange(n, dtype=torch.float64).view(1, 1, 1, n).expand(1, 1, n, n)
    y = shifted_kernel_downsample(ramp, 0.4 * sf, sf)
    assert y.shape == (1, 1, 24, 24)
    interior = slice(4, 20)
    expected = sf * torch.arange(24, dtype=torch.float64)[interior] + (sf - 1) / 2
    # (the shifted kernel is truncated unevenly at the grid border: a ~1e-9 px bias here)
    torch.testing.assert_close(y[0, 0, 10, interior], expected, atol=1e-6, rtol=0)
    # rows are constant along a horizontal ramp: the vertical shift is the same
    torch.testing.assert_close(y[0, 0, interior, 10], y[0, 0, 10, 10].expand(16))


def test_shifted_downsample_of_a_delta() -> None:
    """A narrow kernel at sf = 2 averages the 2x2 block: a delta anywhere in block (i, j) gives
    1/4 at LR (i, j) and nothing elsewhere."""
    for r, c in [(6, 8), (7, 9), (6, 9)]:
        x = torch.zeros(1, 1, 16, 16, dtype=torch.float64)
        x[0, 0, r, c] = 1.0
        y = shifted_kernel_downsample(x, 0.1, 2)
        expected = torch.zeros(1, 1, 8, 8, dtype=torch.float64)
        expected[0, 0, r // 2, c // 2] = 0.25
        torch.testing.assert_close(y, expected, atol=1e-12, rtol=0)


def test_bad_arguments_raise() -> None:
    x = torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError, match="mode"):
        cv2_resize(x, (4, 4), "lanczos")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="floating"):
        cv2_resize(x.to(torch.uint8), (4, 4))
    with pytest.raises(ValueError, match="kernel_size"):
        shifted_gaussian_kernel(1.0, 2, kernel_size=24)
