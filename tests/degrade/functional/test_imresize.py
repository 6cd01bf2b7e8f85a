"""Tests for degrade.functional.imresize (MATLAB bicubic imresize)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from degrade.functional.imresize import (
    _cached_weights,
    imresize,
    imresize_geometry,
    imresize_weights,
)
from tests._reference import import_reference, shared_dir
from tests.degrade.functional._harness import PROPERTY_CHECKS, OpSpec, make_input

CPU = torch.device("cpu")

SPECS = [
    OpSpec("imresize-down", imresize, static={"scale": 0.5}),
    OpSpec("imresize-noninteger", imresize, static={"scale": 0.37}, gradcheck_size=(9, 8)),
    OpSpec("imresize-up", imresize, static={"scale": 1.7}, gradcheck_size=(4, 5)),
    OpSpec("imresize-size", imresize, static={"size": (8, 5)}, gradcheck_size=(3, 4)),
    OpSpec(
        "imresize-round-each-pass-uint8",
        imresize,
        static={"scale": 0.5, "round_each_pass": True},
        dtypes=(torch.uint8,),
        differentiable=False,
    ),
    OpSpec(
        "imresize-round-each-pass-float",
        imresize,
        static={"scale": (0.4, 0.7), "round_each_pass": True},
        differentiable=False,
    ),
    OpSpec(
        "imresize-round-once-uint8",
        imresize,
        static={"scale": 0.3},
        dtypes=(torch.uint8,),
        differentiable=False,
    ),
]


@pytest.mark.parametrize("check", PROPERTY_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_properties(spec: OpSpec, check, device: torch.device) -> None:
    check(spec, device)


# --------------------------------------------------------------------------------------------
# An independent, per-output-pixel transcription of MATLAB's documented algorithm (the
# `contributions` weights with the index sequence 1..n, n..1 repeated for the boundary), applied
# by gathering taps one by one: no weight matrix, no folding.


def _matlab_cubic(t: np.ndarray) -> np.ndarray:
    a = np.abs(t)
    return (1.5 * a**3 - 2.5 * a**2 + 1) * (a <= 1) + (-0.5 * a**3 + 2.5 * a**2 - 4 * a + 2) * (
        (a > 1) & (a <= 2)
    )


def _naive_pass(img: np.ndarray, out_len: int, scale: float, antialias: bool) -> np.ndarray:
    """Resize axis 0 of ``img`` as MATLAB's resizeAlongDim does (float64)."""
    n = img.shape[0]
    aux = [*range(n), *range(n - 1, -1, -1)]
    width = 4.0 / scale if (scale < 1 and antialias) else 4.0
    out = np.zeros((out_len, *img.shape[1:]))
    for i in range(out_len):
        u = (i + 1) / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        taps = [left + k for k in range(math.ceil(width) + 2)]
        if scale < 1 and antialias:
            w = np.array([scale * _matlab_cubic(np.array((u - j) * scale)) for j in taps])
        else:
            w = np.array([_matlab_cubic(np.array(u - j)) for j in taps])
        w = w / w.sum()
        for wk, j in zip(w, taps, strict=True):
            out[i] += wk * img[aux[(j - 1) % (2 * n)]]
    return out


def _naive_imresize(img: np.ndarray, scale: float, antialias: bool = True) -> np.ndarray:
    oh, ow = math.ceil(scale * img.shape[0]), math.ceil(scale * img.shape[1])
    y = _naive_pass(img, oh, scale, antialias)
    return _naive_pass(y.swapaxes(0, 1), ow, scale, antialias).swapaxes(0, 1)


@pytest.mark.parametrize(
    ("hw", "scale"),
    [
        ((1, 1), 0.5),
        ((1, 1), 3.0),
        ((1, 5), 0.25),
        ((2, 2), 2.0),
        ((3, 5), 0.1),
        ((4, 3), 0.37),
        ((5, 2), 2.7),
        ((2, 7), 1.5),
        ((6, 6), 0.05),
    ],
    ids=str,
)
@pytest.mark.parametrize("antialias", [True, False])
def test_tiny_inputs_match_naive_transcription(hw, scale: float, antialias: bool) -> None:
    """Tiny inputs (where taps wrap around the mirror more than once) follow MATLAB's indexing."""
    x = make_input(1, 1, hw, torch.float64, CPU, seed=5)
    ours = imresize(x, scale, antialias=antialias)[0, 0].numpy()
    ref = _naive_imresize(x[0, 0].numpy(), scale, antialias)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("scale", [0.1, 0.37, 0.5, 1.0, 1.5, 4.0, (0.3, 2.2)], ids=str)
def test_single_pixel_and_constant_images_are_preserved(scale) -> None:
    one = torch.full((2, 3, 1, 1), 0.3, dtype=torch.float64)
    y = imresize(one, scale)
    torch.testing.assert_close(y, torch.full_like(y, 0.3), rtol=0, atol=1e-13)
    flat = torch.full((1, 1, 9, 14), 0.7, dtype=torch.float64)
    y = imresize(flat, scale, antialias=False)
    torch.testing.assert_close(y, torch.full_like(y, 0.7), rtol=0, atol=1e-13)


def test_identity_scale_is_exact() -> None:
    x = make_input(2, 3, (11, 13), torch.float64, CPU)
    assert torch.equal(imresize(x, 1.0), x)


@pytest.mark.parametrize(
    ("n", "out", "scale"), [(8, 4, 0.5), (10, 4, 0.37), (7, 19, 2.7), (3, 1, 0.1)]
)
def test_weight_rows_sum_to_one(n: int, out: int, scale: float) -> None:
    w = imresize_weights(n, out, scale)
    assert w.shape == (out, n) and w.dtype == torch.float64
    torch.testing.assert_close(w.sum(1), torch.ones(out, dtype=torch.float64), rtol=0, atol=1e-14)


def test_geometry_is_matlab_ceil_and_size_scale() -> None:
    assert imresize_geometry((10, 7), scale=0.37) == ((4, 3), (0.37, 0.37))
    assert imresize_geometry((10, 7), scale=(1.5, 0.2)) == ((15, 2), (1.5, 0.2))
    assert imresize_geometry((10, 8), size=(4, 2)) == ((4, 2), (0.4, 0.25))
    assert imresize_geometry((9, 9), size=3) == ((3, 3), (1 / 3, 1 / 3))


def test_upscale_has_no_antialias_effect() -> None:
    x = make_input(2, 3, (9, 11), torch.float64, CPU)
    for s in (1.5, 2.0, 3.3):
        assert torch.equal(imresize(x, s, antialias=True), imresize(x, s, antialias=False))
    assert not torch.equal(imresize(x, 0.5, antialias=True), imresize(x, 0.5, antialias=False))


def test_size_argument_uses_size_ratio_as_scale() -> None:
    x = make_input(1, 3, (32, 24), torch.float64, CPU)
    assert torch.equal(imresize(x, size=(8, 6)), imresize(x, scale=0.25))
    x = make_input(1, 1, (10, 10), torch.float64, CPU)
    by_size = imresize(x, size=4)  # MATLAB scale 0.4, while scale 0.37 also gives 4 pixels
    by_scale = imresize(x, scale=0.37)
    assert by_size.shape == by_scale.shape == (1, 1, 4, 4)
    np.testing.assert_allclose(
        by_size[0, 0].numpy(), _naive_imresize(x[0, 0].numpy(), 0.4), atol=1e-12
    )
    assert not torch.allclose(by_size, by_scale)


def _manual(x: torch.Tensor, first: str, sy: float, sx: float) -> torch.Tensor:
    """Two explicit 1-D passes in a chosen order, each rounded to 8 bits."""
    vertical = {"scale": (sy, 1.0)}
    horizontal = {"scale": (1.0, sx)}
    a, b = (vertical, horizontal) if first == "h" else (horizontal, vertical)
    return imresize(imresize(x, round_each_pass=True, **a), round_each_pass=True, **b)


@pytest.mark.parametrize(
    ("sy", "sx", "first"), [(0.5, 0.25, "w"), (0.25, 0.5, "h"), (0.5, 0.5, "h"), (1.5, 0.7, "w")]
)
def test_pass_order_is_matlabs(sy: float, sx: float, first: str) -> None:
    """The dimension with the smaller scale goes first; ties: the vertical one. Per-pass rounding
    makes the order visible."""
    x = make_input(2, 3, (40, 36), torch.uint8, CPU, seed=7)
    y = imresize(x, (sy, sx), round_each_pass=True)
    assert torch.equal(y, _manual(x, first, sy, sx))
    assert not torch.equal(y, _manual(x, "w" if first == "h" else "h", sy, sx))


def test_float_round_each_pass_equals_uint8_path() -> None:
    x8 = make_input(2, 3, (30, 26), torch.uint8, CPU, seed=2)
    y8 = imresize(x8, 0.37, round_each_pass=True)
    for dtype in (torch.float32, torch.float64):
        yf = imresize(x8.to(dtype) / 255, 0.37, round_each_pass=True)
        assert yf.dtype == dtype
        assert torch.equal((yf.double() * 255).round().to(torch.uint8), y8)
        torch.testing.assert_close(yf, (y8.double() / 255).to(dtype), rtol=0, atol=0)


def test_uint8_round_once_equals_float64_rounded() -> None:
    x8 = make_input(2, 3, (30, 26), torch.uint8, CPU, seed=2)
    y = imresize(x8.double(), 0.3)
    expected = torch.floor(y + 0.5).clamp(0, 255).to(torch.uint8)
    assert torch.equal(imresize(x8, 0.3), expected)


def test_float32_computed_in_float64() -> None:
    x = make_input(1, 3, (33, 27), torch.float32, CPU)
    y32 = imresize(x, 0.37)
    y64 = imresize(x.double(), 0.37)
    assert torch.equal(y32, y64.float())


def test_gradient_is_transpose_of_weights() -> None:
    x = make_input(1, 1, (9, 7), torch.float64, CPU).requires_grad_(True)
    imresize(x, 0.5).sum().backward()
    wh, ww = imresize_weights(9, 5, 0.5), imresize_weights(7, 4, 0.5)
    expected = wh.sum(0)[:, None] * ww.sum(0)[None, :]
    assert x.grad is not None
    torch.testing.assert_close(x.grad[0, 0], expected, rtol=0, atol=1e-13)


def test_weights_are_cached() -> None:
    x = torch.rand(1, 3, 37, 41)
    imresize(x, 0.37)
    before = _cached_weights.cache_info().hits
    imresize(x, 0.37)
    assert _cached_weights.cache_info().hits >= before + 2


def test_cache_filled_in_inference_mode_serves_autograd() -> None:
    x = torch.rand(1, 3, 29, 31, dtype=torch.float64)
    with torch.inference_mode():
        imresize(x, 0.43)
    xg = x.clone().requires_grad_(True)
    imresize(xg, 0.43).sum().backward()
    assert xg.grad is not None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one of scale and size"),
        ({"scale": 0.5, "size": 4}, "exactly one of scale and size"),
        ({"scale": 0.0}, "scale"),
        ({"scale": -2.0}, "scale"),
        ({"scale": float("inf")}, "scale"),
        ({"scale": (0.5,)}, "scale"),
        ({"size": (4, 0)}, "size"),
        ({"size": 2.5}, "size"),
    ],
)
def test_validation(kwargs, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        imresize(torch.rand(1, 3, 8, 8), **kwargs)


def test_rejects_other_integer_dtypes() -> None:
    with pytest.raises(TypeError, match="uint8"):
        imresize(torch.zeros(1, 3, 8, 8, dtype=torch.int16), 0.5)


# --------------------------------------------------------------------------------------------
# MATLAB-made files: Set5 LR_bicubic (see ../shared/data/README.md).

SET5 = ["baby", "bird", "butterfly", "head", "woman"]


def _read_rgb(path) -> torch.Tensor:
    cv2 = pytest.importorskip("cv2")
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img is not None, path
    return torch.from_numpy(np.ascontiguousarray(img[:, :, ::-1])).permute(2, 0, 1)[None]


def _set5_pair(scale: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    root = shared_dir() / "data" / "Set5"
    pairs = []
    for name in SET5:
        hr = _read_rgb(root / "HR" / f"{name}.png")
        h, w = hr.shape[-2:]
        hr = hr[..., : h - h % scale, : w - w % scale]
        lr = _read_rgb(root / "LR_bicubic" / f"X{scale}" / f"{name}x{scale}.png")
        pairs.append((hr, lr))
    return pairs


@pytest.mark.shared
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_set5_bit_exact_round_each_pass(scale: int, device: torch.device) -> None:
    for hr, lr in _set5_pair(scale):
        lr = lr.to(device)
        y8 = imresize(hr.to(device), 1 / scale, round_each_pass=True)
        assert y8.shape == lr.shape
        assert int((y8 != lr).sum()) == 0
        yf = imresize(hr.to(device).float() / 255, 1 / scale, round_each_pass=True)
        assert int(((yf.double() * 255).round().to(torch.uint8) != lr).sum()) == 0


@pytest.mark.shared
def test_set5_x8_bit_exact_when_rounded_once(device: torch.device) -> None:
    for hr, lr in _set5_pair(8):
        lr = lr.to(device)
        y = imresize(hr.to(device).double(), 1 / 8)  # float64 on the 0..255 scale
        rounded = torch.floor(y + 0.5).clamp(0, 255).to(torch.uint8)
        assert int((rounded != lr).sum()) == 0
        assert int((imresize(hr.to(device), 1 / 8) != lr).sum()) == 0


# --------------------------------------------------------------------------------------------
# basicsr.utils.matlab_functions.imresize (float32 numpy path; always H then W, which is MATLAB's
# order for the equal scales compared here).


def _basicsr():
    return import_reference("basicsr.utils.matlab_functions")


def _ours_hwc(img: np.ndarray, scale: float, antialias: bool = True) -> np.ndarray:
    t = torch.from_numpy(img.reshape(*img.shape[:2], -1)).permute(2, 0, 1)[None].double()
    y = imresize(t, scale, antialias=antialias)[0].permute(1, 2, 0).numpy()
    return y.reshape(*y.shape[:2], *img.shape[2:])


@pytest.mark.reference
@pytest.mark.parametrize(
    "scale", [0.5, 1 / 3, 0.25, 0.125, 0.37, 0.1, 2.0, 4.0, 8.0], ids=lambda s: f"{s:.4g}"
)
@pytest.mark.parametrize("channels", [1, 3])
def test_matches_basicsr(scale: float, channels: int) -> None:
    mf = _basicsr()
    rng = np.random.default_rng(0)
    for hw in ((40, 40), (37, 52)):
        shape = hw if channels == 1 else (*hw, 3)  # basicsr takes 2-D arrays for one channel
        img = rng.random(shape).astype(np.float32)
        ref = mf.imresize(img, scale)
        ours = _ours_hwc(img, scale)
        assert ours.shape == ref.shape
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)


@pytest.mark.reference
@pytest.mark.parametrize(("scale", "atol"), [(0.5, 1e-6), (0.25, 1e-6), (0.37, 1e-5)])
def test_matches_basicsr_without_antialias(scale: float, atol: float) -> None:
    """Without antialiasing the unstretched kernel sees basicsr's float32 coordinates directly,
    so an inexact scale such as 0.37 moves its outputs by ~2e-6 (see the float64 weights test)."""
    mf = _basicsr()
    img = np.random.default_rng(1).random((33, 29, 3)).astype(np.float32)
    ref = mf.imresize(img, scale, antialiasing=False)
    np.testing.assert_allclose(_ours_hwc(img, scale, antialias=False), ref, rtol=0, atol=atol)


@pytest.mark.reference
@pytest.mark.parametrize("scale", [1.25, 1.5, 2.7, 3.0])
def test_matches_basicsr_inexact_upscale(scale: float) -> None:
    """basicsr computes its sample coordinates in float32; where ``x / scale`` is inexact in
    float32 (non-power-of-two upscales) its outputs move by up to ~5e-6. Its weights computed in
    float64 agree with ours to 1e-12 (next test)."""
    mf = _basicsr()
    img = np.random.default_rng(2).random((31, 26, 3)).astype(np.float32)
    ref = mf.imresize(img, scale)
    np.testing.assert_allclose(_ours_hwc(img, scale), ref, rtol=0, atol=1e-5)


@pytest.mark.reference
@pytest.mark.parametrize(
    ("n", "scale"),
    [(31, 1.5), (26, 2.7), (40, 0.37), (37, 0.25), (52, 1 / 3), (24, 3.0), (19, 1.25)],
)
@pytest.mark.parametrize("antialias", [True, False])
def test_weights_match_basicsr_in_float64(n: int, scale: float, antialias: bool) -> None:
    mf = _basicsr()
    out = math.ceil(n * scale)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        w, idx, sym_s, _ = mf.calculate_weights_indices(n, out, scale, "cubic", 4, antialias)
    finally:
        torch.set_default_dtype(previous)
    # basicsr pads sym_s mirrored pixels in front; map padded positions back to the image.
    pos = idx.long() - sym_s
    pos = torch.where(pos < 0, -pos - 1, pos)
    pos = torch.where(pos >= n, 2 * n - 1 - pos, pos)
    ref = torch.zeros(out, n, dtype=torch.float64).scatter_add_(1, pos, w.double())
    torch.testing.assert_close(imresize_weights(n, out, scale, antialias), ref, rtol=0, atol=1e-12)


def test_accepts_numpy_numbers() -> None:
    x = make_input(1, 3, (12, 10), torch.float64, CPU)
    assert torch.equal(imresize(x, np.float64(0.5)), imresize(x, 0.5))
    assert torch.equal(imresize(x, size=(np.int64(6), np.int64(5))), imresize(x, 0.5))
