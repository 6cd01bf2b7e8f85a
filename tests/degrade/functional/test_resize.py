"""Tests for degrade.functional.resize (F.interpolate semantics)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from degrade.functional.resize import RESIZE_MODES, resize, resize_output_size
from tests.degrade.functional._harness import PROPERTY_CHECKS, OpSpec, make_input

SPECS = [
    OpSpec(f"resize-{mode}-{tag}", resize, static={"mode": mode, **kw})
    for mode in RESIZE_MODES
    for tag, kw in (
        ("down", {"scale": 0.6}),
        ("up", {"scale": (1.7, 1.3)}),
        ("size", {"size": (9, 11)}),
    )
]


@pytest.mark.parametrize("check", PROPERTY_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_properties(spec: OpSpec, check, device: torch.device) -> None:
    check(spec, device)


SCALES = [0.5, 0.37, 0.25, 1.5, 2.0, 2.7, 4.0, (0.6, 1.3)]


@pytest.mark.parametrize("mode", RESIZE_MODES)
@pytest.mark.parametrize("scale", SCALES, ids=str)
def test_scale_equals_interpolate(mode: str, scale, device: torch.device, dtype) -> None:
    x = make_input(2, 3, (23, 19), dtype, device)
    ours = resize(x, scale=scale, mode=mode)  # type: ignore[arg-type]
    align = False if mode in ("bilinear", "bicubic") else None
    ref = F.interpolate(x, scale_factor=scale, mode=mode, align_corners=align)
    assert ours.shape == ref.shape
    assert torch.equal(ours, ref)


@pytest.mark.parametrize("mode", RESIZE_MODES)
@pytest.mark.parametrize("size", [(7, 5), (40, 31), (23, 8), 12], ids=str)
def test_size_equals_interpolate(mode: str, size, device: torch.device, dtype) -> None:
    x = make_input(2, 1, (23, 19), dtype, device)
    ours = resize(x, size=size, mode=mode)  # type: ignore[arg-type]
    align = False if mode in ("bilinear", "bicubic") else None
    ref = F.interpolate(x, size=size, mode=mode, align_corners=align)
    assert torch.equal(ours, ref)


def test_output_size_is_floor() -> None:
    assert resize_output_size((10, 7), scale=0.35) == (3, 2)
    assert resize_output_size((23, 19), scale=(2.7, 1.5)) == (62, 28)
    x = torch.rand(1, 3, 10, 7)
    assert resize(x, scale=0.35).shape[-2:] == (3, 2)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_scale_mapping_differs_from_size_mapping(mode: str) -> None:
    """With a scale, the coordinates follow the scale, not floor(H*scale)/H: the results differ."""
    x = make_input(1, 3, (10, 10), torch.float64, torch.device("cpu"))
    by_scale = resize(x, scale=0.35, mode=mode)  # type: ignore[arg-type]
    by_size = resize(x, size=by_scale.shape[-2:], mode=mode)  # type: ignore[arg-type]
    assert by_scale.shape == by_size.shape == (1, 3, 3, 3)
    assert not torch.equal(by_scale, by_size)


def test_area_mapping_depends_only_on_size() -> None:
    x = make_input(1, 3, (10, 10), torch.float64, torch.device("cpu"))
    assert torch.equal(resize(x, scale=0.35, mode="area"), resize(x, size=3, mode="area"))


def _bilinear_numpy(img: np.ndarray, out_len: int, step: float) -> np.ndarray:
    """Independent half-pixel bilinear resize along axis 0 with source step ``step``."""
    n = img.shape[0]
    out = np.empty((out_len, *img.shape[1:]))
    for i in range(out_len):
        src = max((i + 0.5) * step - 0.5, 0.0)
        i0 = min(math.floor(src), n - 1)
        i1 = min(i0 + 1, n - 1)
        t = src - i0
        out[i] = (1 - t) * img[i0] + t * img[i1]
    return out


@pytest.mark.parametrize("scale", [0.35, 0.6, 1.7, 2.5])
def test_bilinear_matches_independent_scale_mapping(scale: float) -> None:
    """Bilinear with a scale uses source step 1/scale (not in/out): an independent check."""
    x = make_input(1, 1, (13, 11), torch.float64, torch.device("cpu"))
    ours = resize(x, scale=scale, mode="bilinear")[0, 0].numpy()
    img = x[0, 0].numpy()
    oh, ow = math.floor(13 * scale), math.floor(11 * scale)
    ref = _bilinear_numpy(_bilinear_numpy(img, oh, 1 / scale).T, ow, 1 / scale).T
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    if oh / 13 != scale:
        by_size = _bilinear_numpy(_bilinear_numpy(img, oh, 13 / oh).T, ow, 11 / ow).T
        assert np.abs(ours - by_size).max() > 1e-6


def test_gradient_flows() -> None:
    x = torch.rand(2, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    resize(x, scale=0.5, mode="bicubic").sum().backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad.sum(), torch.tensor(2 * 3 * 4 * 4.0, dtype=torch.float64))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one of size and scale"),
        ({"size": 4, "scale": 0.5}, "exactly one of size and scale"),
        ({"scale": -1.0}, "scale"),
        ({"scale": 0.0}, "scale"),
        ({"scale": float("nan")}, "scale"),
        ({"scale": (0.5, 0.5, 0.5)}, "scale"),
        ({"scale": 0.01}, "empty output"),
        ({"size": 0}, "size"),
        ({"size": (4, 4.5)}, "size"),
        ({"size": (1, 2, 3)}, "size"),
        ({"scale": 0.5, "mode": "lanczos"}, "mode"),
    ],
)
def test_validation(kwargs, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        resize(torch.rand(1, 3, 8, 8), **kwargs)


def test_rejects_integer_input() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        resize(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), scale=0.5)
    with pytest.raises(ValueError, match="shape"):
        resize(torch.rand(3, 8, 8), scale=0.5)
