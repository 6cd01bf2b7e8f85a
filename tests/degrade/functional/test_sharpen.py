"""USM sharpening: harness, parity with basicsr's USMSharp, and properties."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from degrade.functional.filter import filter2d, filter2d_separable
from degrade.functional.kernels import gaussian_kernel1d
from degrade.functional.sharpen import usm_blur, usm_sharp
from tests._reference import import_reference, shared_dir
from tests.degrade.functional._harness import PROPERTY_CHECKS, OpSpec, make_input

F64 = torch.float64


def _params(b: int, g: torch.Generator) -> dict[str, torch.Tensor]:
    return {
        "weight": 0.2 + 0.8 * torch.rand(b, generator=g),
        "threshold": 4.0 + 12.0 * torch.rand(b, generator=g),
    }


def _usm_fixed_mask(x: torch.Tensor, weight: torch.Tensor, **static) -> torch.Tensor:
    """usm_sharp, after checking that no residual sits within reach of the threshold.

    The binary mask is piecewise constant, so gradcheck's finite differences are valid exactly
    when no perturbation of size eps can flip it; asserting a margin makes the gradient check a
    check of the op with its mask fixed.
    """
    threshold = static.pop("threshold")
    residual = (x - usm_blur(x, **static)).abs() * 255
    t = torch.as_tensor(threshold, dtype=x.dtype, device=x.device).view(-1, 1, 1, 1)
    assert ((residual - t).abs() > 1e-3).all(), "gradcheck input too close to the USM threshold"
    return usm_sharp(x, weight=weight, threshold=threshold, **static)


SPECS = [
    # 19 x 23 and 6 x 7 inputs are smaller than the 25-pixel pad of the 51 x 51 kernel: this
    # exercises the repeated-reflection padding (basicsr raises there).
    OpSpec(
        "usm_sharp_default",
        lambda x, weight, threshold: usm_sharp(x, weight=weight, threshold=threshold),
        make_params=_params,
        grad_params=("weight",),
        gradcheck_fn=lambda x, weight, threshold: _usm_fixed_mask(x, weight, threshold=threshold),
    ),
    OpSpec(
        "usm_sharp_small_radius",
        lambda x, weight, threshold: usm_sharp(
            x, weight=weight, threshold=threshold, radius=7, sigma=1.5
        ),
        make_params=_params,
        size=(24, 30),
        grad_params=("weight",),
        gradcheck_fn=lambda x, weight, threshold: _usm_fixed_mask(
            x, weight, threshold=threshold, radius=7, sigma=1.5
        ),
    ),
]


@pytest.mark.parametrize("check", PROPERTY_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_properties(spec: OpSpec, check, device: torch.device) -> None:
    check(spec, device)


# ---------------------------------------------------------------------- basicsr parity


def _compare_with_basicsr(x: torch.Tensor) -> None:
    ref = import_reference("basicsr.utils.img_process_util")
    usm = ref.USMSharp()  # radius 50 -> 51 x 51, sigma 0 -> 8.0
    ref_blur = ref.filter2D(x, usm.kernel)
    ours_blur = usm_blur(x)
    exact = usm_blur(x.double())  # our float64 blur, the separable twin of the 2-D kernel
    # The 2-D float32 convolution sums 2601 products and carries ~1e-6 of rounding itself; our
    # separable blur is at least as close to the float64 value.
    torch.testing.assert_close(ours_blur, ref_blur, rtol=0, atol=5e-6)
    ours_err = (ours_blur.double() - exact).abs().max()
    ref_err = (ref_blur.double() - exact).abs().max()
    assert ours_err <= max(ref_err, 1e-6), (ours_err, ref_err)

    ref_out = usm(x)  # weight 0.5, threshold 10
    ours_out = usm_sharp(x)
    ref_mask = (x - ref_blur).abs() * 255 > 10
    ours_mask = (x - ours_blur).abs() * 255 > 10
    disagree = ref_mask != ours_mask
    # Every disagreement is a residual that sits on the threshold to within rounding.
    near = ((x - ref_blur).abs() * 255 - 10).abs() < 1e-3
    assert torch.all(near[disagree]), "mask disagreement away from the threshold"
    # Where no disagreement reaches a pixel through the 51 x 51 mask blur, outputs agree.
    reach = F.max_pool2d(disagree.float(), 51, stride=1, padding=25) > 0
    assert (~reach).float().mean() > 0.5, "too few pixels to compare"
    assert ours_mask.float().mean() > 0.05, "the test image must trigger the mask"
    diff = (ours_out - ref_out).abs()
    assert diff[~reach].max() <= 1e-5, diff[~reach].max()


@pytest.mark.reference
def test_usm_matches_basicsr_float32() -> None:
    x = make_input(2, 3, (64, 72), torch.float32, torch.device("cpu"), seed=5)
    _compare_with_basicsr(x)


@pytest.mark.reference
def test_usm_blur_matches_basicsr_float64() -> None:
    ref = import_reference("basicsr.utils.img_process_util")
    x = make_input(2, 3, (40, 48), F64, torch.device("cpu"), seed=6)
    kernel = ref.USMSharp().kernel.double()  # float32-rounded 2-D kernel
    # (USMSharp.forward itself cannot run in float64: it casts the mask to float32.)
    torch.testing.assert_close(usm_blur(x), ref.filter2D(x, kernel), rtol=0, atol=1e-6)


@pytest.mark.reference
@pytest.mark.shared
def test_usm_matches_basicsr_on_set5() -> None:
    cv2 = import_reference("cv2")
    path = shared_dir() / "data" / "Set5" / "HR"
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in {".png", ".bmp", ".jpg"})
    assert files, f"no images in {path}"
    img = cv2.imread(str(files[0]), cv2.IMREAD_COLOR)[:96, :128, ::-1].copy()
    x = torch.from_numpy(img).permute(2, 0, 1).unsqueeze(0).float() / 255
    _compare_with_basicsr(x)


# --------------------------------------------------------------------------- properties


def test_usm_blur_is_the_opencv_gaussian() -> None:
    x = make_input(2, 3, (30, 35), F64, torch.device("cpu"))
    g = gaussian_kernel1d(51)
    assert g.sum().item() == pytest.approx(1.0, abs=1e-15)
    # sigma 0 -> 8.0 for size 51, and radius 50 is rounded up to the size 51.
    torch.testing.assert_close(g, gaussian_kernel1d(51, 8.0), rtol=0, atol=1e-15)
    torch.testing.assert_close(usm_blur(x), usm_blur(x, radius=51), rtol=0, atol=0)
    torch.testing.assert_close(
        usm_blur(x), filter2d(x, g[:, None] * g[None, :]), rtol=0, atol=1e-12
    )
    torch.testing.assert_close(
        usm_blur(x, radius=9, sigma=2.0),
        filter2d_separable(x, gaussian_kernel1d(9, 2.0), gaussian_kernel1d(9, 2.0)),
        rtol=0,
        atol=0,
    )


def test_mask_extremes() -> None:
    x = make_input(3, 3, (32, 32), F64, torch.device("cpu"))
    # Threshold above any residual: the mask is empty and the image comes back unchanged.
    assert torch.equal(usm_sharp(x, threshold=300.0), x)
    # Negative threshold: the mask is all ones, so the output is the clipped sharpened image.
    w = torch.tensor([0.0, 0.5, 1.5], dtype=F64)
    expected = (x + w.view(-1, 1, 1, 1) * (x - usm_blur(x))).clamp(0, 1)
    torch.testing.assert_close(usm_sharp(x, weight=w, threshold=-1.0), expected, rtol=0, atol=1e-12)
    # Weight 0 leaves the image unchanged whatever the mask.
    torch.testing.assert_close(usm_sharp(x, weight=0.0), x, rtol=0, atol=1e-15)


def test_constant_and_tiny_images() -> None:
    for h, w in [(1, 1), (2, 5), (7, 3), (40, 40)]:
        x = torch.full((2, 3, h, w), 0.42, dtype=F64)
        torch.testing.assert_close(usm_sharp(x), x, rtol=0, atol=1e-14)
        y = torch.rand(2, 1, h, w, dtype=F64, generator=torch.Generator().manual_seed(h * w))
        out = usm_sharp(y)
        # A convex blend of two images in [0, 1] (up to rounding).
        assert out.shape == y.shape and torch.all((out >= -1e-12) & (out <= 1 + 1e-12))


def test_sharpening_increases_edge_contrast() -> None:
    x = torch.zeros(1, 1, 64, 64, dtype=F64)
    x[..., :, 32:] = 0.6
    x = x + 0.2
    y = usm_sharp(x)
    # Overshoot on the bright side, undershoot on the dark side of the edge; far away, unchanged.
    assert y[0, 0, 10, 32] > x[0, 0, 10, 32] + 0.01
    assert y[0, 0, 10, 31] < x[0, 0, 10, 31] - 0.01
    assert y.max() <= 1 and y.min() >= 0
    # Per-sample weights: a stronger weight overshoots more.
    xs = x.expand(2, 1, 64, 64)
    ys = usm_sharp(xs, weight=torch.tensor([0.3, 0.9], dtype=F64))
    assert ys[1, 0, 10, 32] > ys[0, 0, 10, 32] > x[0, 0, 10, 32]


def test_invalid_arguments() -> None:
    x = torch.rand(2, 3, 8, 8)
    with pytest.raises(ValueError, match="weight"):
        usm_sharp(x, weight=torch.ones(3))
    with pytest.raises(ValueError, match="radius"):
        usm_sharp(x, radius=0)
