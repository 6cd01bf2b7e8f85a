"""Tests for degrade.functional.jpeg.

The exact mode is compared with OpenCV's ``imencode`` / ``imdecode`` (libjpeg-turbo, a runtime
dependency) value by value; the quantisation tables with the DQT segments OpenCV writes; the
BasicSR mode with ``basicsr.utils.diffjpeg.DiffJPEG``.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
import torch
from torch import Tensor

from degrade.functional.jpeg import jpeg, jpeg_quant_tables, jpeg_surrogate
from tests._reference import import_reference
from tests.degrade.functional._harness import PROPERTY_CHECKS, OpSpec, make_input

ALL_QUALITIES = list(range(1, 101))


def _qualities(b: int, g: torch.Generator) -> dict[str, Tensor]:
    return {"quality": torch.randint(1, 101, (b,), generator=g).to(torch.float32)}


def _continuous_qualities(b: int, g: torch.Generator) -> dict[str, Tensor]:
    return {"quality": torch.rand(b, generator=g) * 90 + 5}


def _surrogate_of_straight_through(x: Tensor, quality: Tensor, differentiable: bool) -> Tensor:
    # The function whose gradient jpeg(..., differentiable=True) uses (same call signature).
    assert differentiable
    return jpeg_surrogate(x, quality)


SPECS = [
    OpSpec("jpeg-exact", jpeg, make_params=_qualities, differentiable=False),
    OpSpec("jpeg-uint8", jpeg, make_params=_qualities, dtypes=(torch.uint8,), differentiable=False),
    OpSpec(
        "jpeg-straight-through",
        jpeg,
        make_params=_qualities,
        static={"differentiable": True},
        gradcheck_fn=_surrogate_of_straight_through,
    ),
    OpSpec(
        "jpeg-surrogate-cubic", jpeg_surrogate, make_params=_qualities, static={"rounding": "cubic"}
    ),
    OpSpec(
        "jpeg-basicsr",
        jpeg,
        make_params=_continuous_qualities,
        static={"compat": "basicsr"},
        channels=(3,),
        differentiable=False,
    ),
]


@pytest.mark.parametrize("check", PROPERTY_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_properties(spec: OpSpec, check, device: torch.device) -> None:
    check(spec, device)


# --- reference: OpenCV / libjpeg-turbo -------------------------------------------------------


def cv2_jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """OpenCV encode + decode of an RGB (H, W, 3) or grayscale (H, W) uint8 image."""
    bgr = img[..., ::-1].copy() if img.ndim == 3 else img
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out[..., ::-1] if img.ndim == 3 else out


def _ours(
    images: np.ndarray, qualities: list[int], device: torch.device, *, uint8: bool
) -> np.ndarray:
    """Our op on a (N, H, W, C) uint8 batch with one quality per sample, back as numpy uint8."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).to(device)
    q = torch.tensor(qualities, dtype=torch.float32, device=device)
    if uint8:
        y = jpeg(x, q)
        assert y.dtype == torch.uint8
    else:
        y = jpeg(x.to(torch.float32) / 255, q)
        assert y.dtype == torch.float32
        k = y * 255
        assert torch.equal(k, k.round()), "float output must hold k/255 values"
        y = k.round().to(torch.uint8)
    return y.permute(0, 2, 3, 1).cpu().numpy()


def assert_matches_cv2(
    images: np.ndarray, qualities: list[int], device: torch.device, *, uint8: bool = False
) -> None:
    """Every value of our batched output equals OpenCV's, sample by sample."""
    ours = _ours(images, qualities, device, uint8=uint8)
    bad = []
    for i, q in enumerate(qualities):
        img = images[i] if images.shape[-1] == 3 else images[i, ..., 0]
        ref = cv2_jpeg(img, q)
        got = ours[i] if images.shape[-1] == 3 else ours[i, ..., 0]
        assert got.shape == ref.shape
        n = int((got != ref).sum())
        if n:
            bad.append((i, q, n, int(np.abs(got.astype(int) - ref.astype(int)).max())))
    assert not bad, (
        f"(sample, quality, differing values, max abs diff): {bad[:8]} ({len(bad)} samples)"
    )


def _photos(size: tuple[int, int]) -> dict[str, np.ndarray]:
    data = pytest.importorskip("skimage.data")
    h, w = size
    out = {}
    for name, (top, left) in {
        "astronaut": (30, 180),
        "chelsea": (40, 110),
        "coffee": (90, 190),
        "rocket": (190, 290),
    }.items():
        img = getattr(data, name)()
        out[name] = np.ascontiguousarray(img[top : top + h, left : left + w, :3])
    return out


def _checker(
    h: int, w: int, c1: tuple[int, int, int], c2: tuple[int, int, int], period: int
) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    mask = ((yy // period + xx // period) % 2).astype(bool)[..., None]
    return np.where(mask, np.array(c1, np.uint8), np.array(c2, np.uint8)).astype(np.uint8)


def adversarial(h: int, w: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Patterns that stress rounding, range limiting, subsampling and edge handling."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    ramp = ((xx * 7 + yy * 13) % 256).astype(np.uint8)
    pats = {
        "noise": rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
        "binary-noise": (rng.integers(0, 2, (h, w, 3)) * 255).astype(np.uint8),
        "checker-red-blue": _checker(h, w, (255, 0, 0), (0, 0, 255), 1),
        "checker-white-black": _checker(h, w, (255, 255, 255), (0, 0, 0), 1),
        "checker-green-magenta": _checker(h, w, (0, 255, 0), (255, 0, 255), 1),
        "checker2-yellow-blue": _checker(h, w, (255, 255, 0), (0, 0, 255), 2),
        "blocks8-white-black": _checker(h, w, (255, 255, 255), (0, 0, 0), 8),
        "blocks4-cyan-red": _checker(h, w, (0, 255, 255), (255, 0, 0), 4),
        "stripes": np.where((xx % 2 == 0)[..., None], [255, 0, 255], [0, 255, 0]).astype(np.uint8),
        "ramp": np.stack([ramp, 255 - ramp, ramp // 2 + 64], axis=-1),
        "red": np.broadcast_to(np.array([255, 0, 0], np.uint8), (h, w, 3)),
        "blue": np.broadcast_to(np.array([0, 0, 255], np.uint8), (h, w, 3)),
        "black": np.zeros((h, w, 3), np.uint8),
        "white": np.full((h, w, 3), 255, np.uint8),
        "mid-grey": np.full((h, w, 3), 128, np.uint8),
    }
    return {k: np.ascontiguousarray(v) for k, v in pats.items()}


# An 8x8 block whose islow IDCT output at quality 1 and 2 overshoots the 10-bit range
# (|v| >= 512 before range limiting): libjpeg-turbo's SIMD IDCT saturates it, its C table would
# wrap it. Found by a random search on the quantity.
OVERSHOOT = np.array(
    [
        [0, 240, 193, 0, 255, 255, 228, 255],
        [255, 255, 0, 0, 0, 0, 0, 0],
        [0, 32, 0, 255, 34, 255, 255, 0],
        [54, 255, 166, 255, 255, 255, 255, 43],
        [255, 181, 255, 255, 0, 255, 255, 17],
        [22, 0, 0, 255, 255, 255, 255, 248],
        [27, 255, 0, 255, 255, 255, 255, 255],
        [255, 0, 0, 255, 255, 0, 255, 1],
    ],
    dtype=np.uint8,
)


@pytest.mark.parametrize("channels", [3, 1])
def test_idct_overshoot_saturates_like_cv2(channels: int, device: torch.device) -> None:
    grey = np.repeat(OVERSHOOT[..., None], channels, axis=-1)  # R = G = B gives Y = value
    assert_matches_cv2(np.stack([grey] * 3), [1, 2, 3], device)
    tiled = np.ascontiguousarray(np.tile(grey, (2, 3, 1))[:13, :21])
    assert_matches_cv2(np.stack([tiled] * 2), [1, 2], device)


# --- bit-exactness ---------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [3, 1])
def test_photos_all_qualities_match_cv2(channels: int, device: torch.device) -> None:
    photos = _photos((37, 53))
    images = np.stack([p for p in photos.values() for _ in ALL_QUALITIES])
    if channels == 1:
        images = images[..., 1:2]
    qualities = ALL_QUALITIES * len(photos)
    assert_matches_cv2(images, qualities, device)


SIZES = [(37, 53), (8, 8), (1, 1), (17, 16), (16, 17), (3, 5), (9, 4), (2, 2), (1, 9), (24, 31)]


@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_adversarial_patterns_match_cv2(
    size: tuple[int, int], channels: int, device: torch.device
) -> None:
    pats = list(adversarial(*size).values())
    # Per-sample qualities: every pattern at a spread of qualities, shuffled through the batch.
    qs = [1, 2, 3, 5, 8, 10, 15, 24, 25, 26, 37, 49, 50, 51, 63, 75, 82, 90, 95, 97, 98, 99, 100]
    pairs = [(p, q) for p in range(len(pats)) for q in qs]
    order = np.random.default_rng(1).permutation(len(pairs))
    images = np.stack([pats[pairs[i][0]] for i in order])
    if channels == 1:
        images = images[..., :1]
    assert_matches_cv2(images, [pairs[i][1] for i in order], device)


@pytest.mark.parametrize("channels", [3, 1])
def test_uint8_in_uint8_out_matches_cv2(channels: int, device: torch.device) -> None:
    pats = adversarial(19, 27, seed=5)
    images = np.stack([pats["noise"], pats["ramp"], pats["checker-red-blue"]])[..., :channels]
    assert_matches_cv2(images, [7, 50, 93], device, uint8=True)


@pytest.mark.slow
@pytest.mark.parametrize("channels", [3, 1])
def test_full_photos_all_qualities_match_cv2(channels: int) -> None:
    data = pytest.importorskip("skimage.data")
    device = torch.device("cpu")
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        img = np.ascontiguousarray(getattr(data, name)()[..., :3])
        if channels == 1:
            img = img[..., 1:2]
        for start in range(0, 100, 25):
            qs = ALL_QUALITIES[start : start + 25]
            assert_matches_cv2(np.stack([img] * len(qs)), qs, device)


@pytest.mark.slow
@pytest.mark.parametrize("channels", [3, 1])
def test_adversarial_all_qualities_match_cv2(channels: int) -> None:
    device = torch.device("cpu")
    for size in [(37, 53), (17, 16), (9, 5), (9, 4), (3, 3), (45, 46)]:
        for seed in range(2):
            pats = list(adversarial(*size, seed=seed).values())
            images = np.stack([p for p in pats for _ in ALL_QUALITIES])[..., :channels]
            assert_matches_cv2(images, ALL_QUALITIES * len(pats), device)


# --- quality handling and tables -------------------------------------------------------------


def _zigzag() -> list[int]:
    """Natural-order index of each zigzag position (JPEG's diagonal scan)."""
    order = []
    for s in range(15):
        diag = [(i, s - i) for i in range(8) if 0 <= s - i < 8]
        order += [r * 8 + c for r, c in (diag if s % 2 else diag[::-1])]
    return order


def _dqt_tables(buf: bytes) -> dict[int, list[int]]:
    """Parse the 8-bit DQT segments of a JPEG stream into natural-order tables by id."""
    zz = _zigzag()
    out: dict[int, list[int]] = {}
    i = 2
    while i < len(buf) - 4 and buf[i] == 0xFF and buf[i + 1] != 0xDA:
        marker, length = buf[i + 1], int.from_bytes(buf[i + 2 : i + 4], "big")
        if marker == 0xDB:
            j = i + 4
            while j < i + 2 + length:
                precision, tid = buf[j] >> 4, buf[j] & 15
                assert precision == 0
                natural = [0] * 64
                for k in range(64):
                    natural[zz[k]] = buf[j + 1 + k]
                out[tid] = natural
                j += 65
        i += 2 + length
    return out


def test_quant_tables_match_libjpeg_dqt() -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    ours = jpeg_quant_tables(torch.tensor(ALL_QUALITIES, dtype=torch.float32))
    assert ours.shape == (100, 2, 8, 8)
    for i, q in enumerate(ALL_QUALITIES):
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        assert ok
        tabs = _dqt_tables(buf.tobytes())
        assert ours[i, 0].flatten().tolist() == tabs[0], f"luminance table, quality {q}"
        assert ours[i, 1].flatten().tolist() == tabs[1], f"chrominance table, quality {q}"


def test_zigzag_helper_is_a_permutation() -> None:
    zz = _zigzag()
    assert sorted(zz) == list(range(64))
    assert zz[:6] == [0, 1, 8, 16, 9, 2]


@pytest.mark.parametrize(
    ("given", "used"), [(2.4, 2), (2.6, 3), (0, 1), (-7.5, 1), (140, 100), (99.8, 100)]
)
def test_quality_is_rounded_and_clamped(given: float, used: int) -> None:
    x = make_input(2, 3, (16, 24), torch.float32, torch.device("cpu"))
    assert torch.equal(jpeg(x, given), jpeg(x, used))
    assert torch.equal(jpeg(x, torch.tensor([given, given])), jpeg(x, torch.tensor([used, used])))
    assert torch.equal(jpeg_quant_tables(given), jpeg_quant_tables(used))


def test_quality_extremes_match_cv2_clamping() -> None:
    img = adversarial(16, 24, seed=3)["noise"]
    x = torch.from_numpy(img).permute(2, 0, 1)[None]
    assert np.array_equal(jpeg(x, 0)[0].permute(1, 2, 0).numpy(), cv2_jpeg(img, 0))
    assert np.array_equal(jpeg(x, 100)[0].permute(1, 2, 0).numpy(), cv2_jpeg(img, 100))


def test_per_sample_quality_differs_and_broadcasts() -> None:
    x = make_input(1, 3, (24, 24), torch.float32, torch.device("cpu")).expand(3, 3, 24, 24)
    y = jpeg(x, torch.tensor([5.0, 50.0, 95.0]))
    assert not torch.equal(y[0], y[1]) and not torch.equal(y[1], y[2])
    assert torch.equal(jpeg(x, torch.tensor([50.0])), jpeg(x, 50))
    assert torch.equal(y[1:2], jpeg(x[1:2], 50))
    # Higher quality is closer to the input on a photo-like image.
    err = (y - x).abs().flatten(1).mean(1)
    assert err[0] > err[1] > err[2]


def test_float_input_is_quantised_to_8_bits_and_clamped() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 13, 21, generator=g, dtype=torch.float64) * 1.4 - 0.2
    ref = (x.clamp(0, 1) * 255).round() / 255
    assert torch.equal(jpeg(x, 60), jpeg(ref, 60))
    assert jpeg(x, 60).dtype == torch.float64


# --- differentiable mode and surrogate -------------------------------------------------------


@pytest.mark.parametrize("channels", [3, 1])
def test_differentiable_forward_is_exact_and_gradient_is_surrogates(channels: int) -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.rand(3, channels, 19, 22, generator=g, dtype=torch.float64)
    q = torch.tensor([10.0, 50.0, 90.0], dtype=torch.float64)
    w = torch.randn(3, channels, 19, 22, generator=g, dtype=torch.float64)

    xa = x.clone().requires_grad_(True)
    y = jpeg(xa, q, differentiable=True)
    assert torch.equal(y.detach(), jpeg(x, q))
    (grad,) = torch.autograd.grad((y * w).sum(), xa)

    xb = x.clone().requires_grad_(True)
    (ref,) = torch.autograd.grad((jpeg_surrogate(xb, q) * w).sum(), xb)
    torch.testing.assert_close(grad, ref, rtol=0, atol=0)
    assert grad.abs().sum() > 0


def test_surrogate_is_identity_on_grey_and_one_channel() -> None:
    g = torch.Generator().manual_seed(4)
    grey = torch.rand(2, 1, 13, 18, generator=g, dtype=torch.float64).expand(2, 3, 13, 18)
    torch.testing.assert_close(jpeg_surrogate(grey, 30), grey, rtol=0, atol=1e-12)
    one = grey[:, :1]
    torch.testing.assert_close(jpeg_surrogate(one, 30), one, rtol=0, atol=1e-12)


def test_surrogate_with_hard_rounding_approximates_exact_mode() -> None:
    data = pytest.importorskip("skimage.data")
    img = torch.from_numpy(data.astronaut()[100:164, 180:260].copy()).permute(2, 0, 1)[None]
    x = img.to(torch.float64) / 255
    for q in (20, 75):
        exact = jpeg(x, q)
        approx = jpeg_surrogate(x, q, rounding=torch.round)
        unquantised = jpeg_surrogate(x, q)
        # Closer to libjpeg than to the unquantised surrogate, and close in absolute terms.
        assert (approx - exact).abs().mean() < 0.5 * (unquantised - exact).abs().mean()
        assert (approx - exact).abs().mean() < 1.5 / 255


def test_smooth_rounding_gives_nonzero_quality_dependent_gradients() -> None:
    x = make_input(1, 3, (16, 16), torch.float64, torch.device("cpu")).requires_grad_(True)
    grads = []
    for q in (10, 90):
        (gr,) = torch.autograd.grad(jpeg_surrogate(x, q, rounding="cubic").sum(), x)
        grads.append(gr)
    assert not torch.allclose(grads[0], grads[1])


def test_callable_rounding_is_used() -> None:
    x = make_input(1, 1, (8, 8), torch.float64, torch.device("cpu"))
    zeroed = jpeg_surrogate(x, 50, rounding=torch.zeros_like)
    # All coefficients zeroed: every level-shifted sample decodes to 0, i.e. 128 / 255.
    torch.testing.assert_close(zeroed, torch.full_like(x, 128 / 255))


# --- BasicSR DiffJPEG parity -----------------------------------------------------------------


@pytest.mark.reference
@pytest.mark.parametrize("differentiable", [False, True])
@pytest.mark.parametrize("size", [(37, 53), (16, 16), (5, 7), (64, 48)], ids=str)
def test_basicsr_compat_matches_diffjpeg(size: tuple[int, int], differentiable: bool) -> None:
    mod = import_reference("basicsr.utils.diffjpeg")
    g = torch.Generator().manual_seed(7)
    x = torch.rand(4, 3, *size, generator=g)
    q = torch.tensor([7.0, 33.5, 50.0, 91.0])
    ref_module = mod.DiffJPEG(differentiable=differentiable)
    ref = ref_module(x, quality=q.clone())  # DiffJPEG overwrites its quality tensor
    q_before = q.clone()
    ours = jpeg(x, q, compat="basicsr", differentiable=differentiable)
    assert torch.equal(q, q_before)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-5)
    torch.testing.assert_close(
        jpeg(x, 42, compat="basicsr", differentiable=differentiable),
        ref_module(x, quality=42),
        rtol=0,
        atol=1e-5,
    )


@pytest.mark.reference
def test_basicsr_compat_gradient_matches_diffjpeg() -> None:
    mod = import_reference("basicsr.utils.diffjpeg")
    g = torch.Generator().manual_seed(8)
    x = torch.rand(2, 3, 24, 20, generator=g)
    w = torch.randn(2, 3, 24, 20, generator=g)
    q = torch.tensor([30.0, 70.0])
    xa = x.clone().requires_grad_(True)
    (ref,) = torch.autograd.grad(
        (mod.DiffJPEG(differentiable=True)(xa, quality=q.clone()) * w).sum(), xa
    )
    xb = x.clone().requires_grad_(True)
    (ours,) = torch.autograd.grad(
        (jpeg(xb, q, compat="basicsr", differentiable=True) * w).sum(), xb
    )
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-5)


def test_basicsr_compat_differs_from_libjpeg() -> None:
    x = make_input(2, 3, (24, 24), torch.float32, torch.device("cpu"))
    assert not torch.equal(jpeg(x, 50, compat="basicsr"), jpeg(x, 50))


# --- errors ----------------------------------------------------------------------------------

_X = torch.rand(2, 3, 8, 8)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: jpeg(torch.rand(3, 8, 8), 50), ValueError, "shape"),
        (lambda: jpeg(torch.rand(2, 2, 8, 8), 50), ValueError, "channels"),
        (lambda: jpeg(torch.rand(2, 4, 8, 8), 50), ValueError, "channels"),
        (lambda: jpeg(torch.zeros(2, 3, 8, 8, dtype=torch.int32), 50), TypeError, "uint8"),
        (lambda: jpeg(torch.rand(2, 3, 0, 8), 50), ValueError, "non-empty"),
        (lambda: jpeg(_X, float("nan")), ValueError, "NaN"),
        (lambda: jpeg(_X, torch.tensor([50.0, float("nan")])), ValueError, "NaN"),
        (lambda: jpeg(_X, torch.tensor([50.0, 60.0, 70.0])), ValueError, "quality"),
        (lambda: jpeg(_X, 50, compat="pil"), ValueError, "compat"),  # type: ignore[arg-type]
        (lambda: jpeg(torch.rand(2, 1, 8, 8), 50, compat="basicsr"), ValueError, "RGB"),
        (lambda: jpeg_surrogate(_X, 50, rounding="floor"), ValueError, "rounding"),  # type: ignore[arg-type]
        (lambda: jpeg_surrogate(_X.to(torch.uint8), 50), TypeError, "floating"),
    ],
)
def test_errors(call: Callable[[], object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()
