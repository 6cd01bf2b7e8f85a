"""Tests of the colour helpers: property harness, BT.601 (MATLAB) and JFIF parity, round trips."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import Tensor

from degrade.functional.color import (
    rgb_to_gray,
    rgb_to_y_bt601,
    rgb_to_ycbcr_bt601,
    rgb_to_ycbcr_jfif,
    ycbcr_bt601_to_rgb,
    ycbcr_jfif_to_rgb,
)
from tests._reference import import_reference, shared_dir
from tests.degrade.functional._harness import PROPERTY_CHECKS, OpSpec


def _as_c_channels(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """The harness expects C channels out; a (B, 1, H, W) result is expanded to the input's C."""

    def wrapped(x: Tensor) -> Tensor:
        y = fn(x)
        return y.expand(-1, x.shape[1], -1, -1)

    wrapped.__name__ = fn.__name__
    return wrapped


SPECS = [
    OpSpec("rgb_to_gray", _as_c_channels(rgb_to_gray)),
    OpSpec(
        "rgb_to_gray_torchvision",
        _as_c_channels(lambda x: rgb_to_gray(x, weights="torchvision")),
    ),
    OpSpec("rgb_to_y_bt601", _as_c_channels(rgb_to_y_bt601), channels=(3,)),
    OpSpec("rgb_to_ycbcr_bt601", rgb_to_ycbcr_bt601, channels=(3,)),
    OpSpec("ycbcr_bt601_to_rgb", ycbcr_bt601_to_rgb, channels=(3,)),
    OpSpec("rgb_to_ycbcr_jfif", rgb_to_ycbcr_jfif, channels=(3,)),
    OpSpec("ycbcr_jfif_to_rgb", ycbcr_jfif_to_rgb, channels=(3,)),
]


@pytest.mark.parametrize("check", PROPERTY_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_properties(spec: OpSpec, check: Callable[[OpSpec, torch.device], None], device) -> None:
    check(spec, device)


def _rand(shape: tuple[int, ...], seed: int = 0, dtype: torch.dtype = torch.float32) -> Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _hwc(x: Tensor) -> np.ndarray:
    return x.permute(1, 2, 0).numpy()


# ---------------------------------------------------------------- BT.601 studio range (MATLAB)


@pytest.mark.reference
def test_bt601_matches_basicsr_pt() -> None:
    cu = import_reference("basicsr.utils.color_util")
    x = _rand((3, 3, 17, 13))
    torch.testing.assert_close(rgb_to_ycbcr_bt601(x), cu.rgb2ycbcr_pt(x), atol=1e-6, rtol=0)
    torch.testing.assert_close(
        rgb_to_y_bt601(x), cu.rgb2ycbcr_pt(x, y_only=True), atol=1e-6, rtol=0
    )


@pytest.mark.reference
def test_bt601_matches_basicsr_numpy() -> None:
    cu = import_reference("basicsr.utils.color_util")
    x = _rand((2, 3, 11, 9), seed=1)
    ycc = rgb_to_ycbcr_bt601(x)
    y = rgb_to_y_bt601(x)
    for i in range(2):
        np.testing.assert_allclose(_hwc(ycc[i]), cu.rgb2ycbcr(_hwc(x[i])), atol=1e-6, rtol=0)
        np.testing.assert_allclose(
            y[i, 0].numpy(), cu.rgb2ycbcr(_hwc(x[i]), y_only=True), atol=1e-6
        )


@pytest.mark.reference
def test_bt601_inverse_matches_basicsr_numpy() -> None:
    """basicsr hard-codes MATLAB's inverse rounded to 8 digits (times 255**2): about 3.5e-6 apart
    from the exact inverse used here over the whole [0, 1] cube, so the tolerance is 5e-6."""
    cu = import_reference("basicsr.utils.color_util")
    ycc = _rand((2, 3, 12, 10), seed=2)
    rgb = ycbcr_bt601_to_rgb(ycc.double())
    for i in range(2):
        np.testing.assert_allclose(_hwc(rgb[i]), cu.ycbcr2rgb(_hwc(ycc[i])), atol=5e-6, rtol=0)


def test_bt601_round_trip_exact_inverse() -> None:
    """MATLAB's ycbcr2rgb is the matrix inverse of rgb2ycbcr: the round trip is the identity."""
    x = _rand((2, 3, 8, 8), seed=3, dtype=torch.float64)
    torch.testing.assert_close(ycbcr_bt601_to_rgb(rgb_to_ycbcr_bt601(x)), x, atol=1e-12, rtol=0)
    ycc = _rand((2, 3, 8, 8), seed=4, dtype=torch.float64)
    torch.testing.assert_close(rgb_to_ycbcr_bt601(ycbcr_bt601_to_rgb(ycc)), ycc, atol=1e-12, rtol=0)
    x32 = x.float()
    torch.testing.assert_close(ycbcr_bt601_to_rgb(rgb_to_ycbcr_bt601(x32)), x32, atol=2e-6, rtol=0)


def test_bt601_studio_range_corners() -> None:
    """BT.601 studio range: Y spans 16..235, Cb/Cr 16..240 (8-bit scale) on the RGB cube."""
    corners = torch.tensor(
        [[r, g, b] for r in (0.0, 1.0) for g in (0.0, 1.0) for b in (0.0, 1.0)], dtype=torch.float64
    ).T.reshape(1, 3, 1, 8)
    ycc = rgb_to_ycbcr_bt601(corners)[0, :, 0] * 255
    assert ycc[0].min().item() == pytest.approx(16.0) and ycc[0].max().item() == pytest.approx(
        235.0
    )
    for ch in (1, 2):
        assert ycc[ch].min().item() == pytest.approx(16.0, abs=1e-9)
        assert ycc[ch].max().item() == pytest.approx(240.0, abs=1e-9)
    # gray has neutral chroma 128
    grey = torch.full((1, 3, 1, 1), 0.3, dtype=torch.float64)
    torch.testing.assert_close(
        rgb_to_ycbcr_bt601(grey)[0, 1:, 0, 0] * 255, torch.full((2,), 128.0, dtype=torch.float64)
    )


def test_y_bt601_is_first_channel() -> None:
    x = _rand((2, 3, 5, 6), seed=5)
    torch.testing.assert_close(rgb_to_y_bt601(x), rgb_to_ycbcr_bt601(x)[:, :1], atol=0, rtol=0)


@pytest.mark.reference
@pytest.mark.shared
def test_y_bt601_on_set5_matches_basicsr() -> None:
    cv2 = pytest.importorskip("cv2")
    cu = import_reference("basicsr.utils.color_util")
    path = shared_dir() / "data" / "Set5" / "HR" / "butterfly.png"
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None
    ref = cu.bgr2ycbcr(bgr.astype(np.float32) / 255.0, y_only=True)
    x = torch.from_numpy(bgr[:, :, ::-1].copy()).permute(2, 0, 1)[None].float() / 255.0
    np.testing.assert_allclose(rgb_to_y_bt601(x)[0, 0].numpy(), ref, atol=1e-6, rtol=0)


# ---------------------------------------------------------------- JFIF full range


def test_jfif_published_coefficients() -> None:
    """The JFIF / T.871 forward matrix as published (to its 6 digits), offset 128/255."""
    eye = torch.eye(3, dtype=torch.float64).T.reshape(1, 3, 1, 3)  # pixels: pure R, G, B
    ycc = rgb_to_ycbcr_jfif(eye)[0, :, 0]
    offset = torch.tensor([0.0, 128 / 255, 128 / 255], dtype=torch.float64).view(3, 1)
    published = torch.tensor(
        [
            [0.299, 0.587, 0.114],
            [-0.168736, -0.331264, 0.5],
            [0.5, -0.418688, -0.081312],
        ],
        dtype=torch.float64,
    )
    torch.testing.assert_close(ycc - offset, published, atol=1e-6, rtol=0)
    # columns: unit Y, Cb, Cr steps from the neutral point (0, 128/255, 128/255)
    inverse = ycbcr_jfif_to_rgb(eye + offset.view(1, 3, 1, 1))[0, :, 0]
    no_offset = ycbcr_jfif_to_rgb(offset.view(1, 3, 1, 1))[0, :, 0]
    published_inv = torch.tensor(
        [[1.0, 0.0, 1.402], [1.0, -0.344136, -0.714136], [1.0, 1.772, 0.0]], dtype=torch.float64
    )
    torch.testing.assert_close(inverse - no_offset, published_inv, atol=1e-6, rtol=0)


def test_jfif_round_trip() -> None:
    x = _rand((2, 3, 8, 8), seed=6, dtype=torch.float64)
    torch.testing.assert_close(ycbcr_jfif_to_rgb(rgb_to_ycbcr_jfif(x)), x, atol=1e-12, rtol=0)


def test_jfif_matches_pillow_libjpeg_convention() -> None:
    """Pillow's RGB <-> YCbCr (JPEG convention, 8-bit fixed point) within one 8-bit level."""
    pil = pytest.importorskip("PIL.Image")
    rgb8 = (_rand((24, 20, 3), seed=7) * 255).round().to(torch.uint8).numpy()
    ours = rgb_to_ycbcr_jfif(torch.from_numpy(rgb8).permute(2, 0, 1)[None].double() / 255)
    ref = np.asarray(pil.fromarray(rgb8).convert("YCbCr")).astype(np.float64)
    ours8 = (ours[0].permute(1, 2, 0).numpy() * 255).round()
    assert np.abs(ours8 - ref).max() <= 1
    ycc8 = rgb8  # any 8-bit triple is a valid YCbCr input
    back = ycbcr_jfif_to_rgb(torch.from_numpy(ycc8).permute(2, 0, 1)[None].double() / 255)
    back8 = (back[0].permute(1, 2, 0).numpy() * 255).round().clip(0, 255)
    ref_back = np.asarray(pil.fromarray(ycc8, "YCbCr").convert("RGB")).astype(np.float64)
    assert np.abs(back8 - ref_back).max() <= 1


# ---------------------------------------------------------------- gray


def test_gray_matches_torchvision_bitwise() -> None:
    tvf = pytest.importorskip("torchvision.transforms.functional")
    x = _rand((3, 3, 9, 7), seed=8)
    assert torch.equal(rgb_to_gray(x, weights="torchvision"), tvf.rgb_to_grayscale(x, 1))
    # the BT.601 weights differ from torchvision's 0.2989 only in the red weight
    diff = rgb_to_gray(x) - tvf.rgb_to_grayscale(x, 1)
    torch.testing.assert_close(diff, 1e-4 * x[:, :1], atol=1e-6, rtol=0)


def test_gray_matches_opencv_bt601() -> None:
    cv2 = pytest.importorskip("cv2")
    x = _rand((2, 3, 9, 7), seed=9)
    for i in range(2):
        ref = cv2.cvtColor(np.ascontiguousarray(_hwc(x[i])), cv2.COLOR_RGB2GRAY)
        np.testing.assert_allclose(rgb_to_gray(x[i : i + 1])[0, 0].numpy(), ref, atol=1e-6)


def test_gray_single_channel_returned_as_is() -> None:
    x = _rand((2, 1, 4, 4), seed=10)
    assert rgb_to_gray(x) is x


# ---------------------------------------------------------------- errors


def test_errors() -> None:
    with pytest.raises(ValueError, match="3 channels"):
        rgb_to_ycbcr_bt601(torch.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match="3 channels"):
        rgb_to_y_bt601(torch.zeros(1, 1, 2, 2))
    with pytest.raises(TypeError, match="floating"):
        rgb_to_ycbcr_jfif(torch.zeros(1, 3, 2, 2, dtype=torch.uint8))
    with pytest.raises(ValueError, match="weights"):
        rgb_to_gray(torch.zeros(1, 3, 2, 2), weights="nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        rgb_to_gray(torch.zeros(3, 2, 2))
