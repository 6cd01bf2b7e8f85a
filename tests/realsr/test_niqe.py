"""NIQE: parity with BasicSR's calculate_niqe on real photos, API properties."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from realsr.metrics.niqe import PARAMS_FILE, niqe, niqe_plane, pristine_model
from tests._reference import import_reference, shared_dir

skimage_data = pytest.importorskip("skimage.data")


def _photo(name: str) -> np.ndarray:
    return np.ascontiguousarray(getattr(skimage_data, name)())


def _tensor(rgb_or_gray: np.ndarray) -> torch.Tensor:
    """uint8 HWC RGB (or HW gray) -> (1, C, H, W) float32 in [0, 1], as degrade.io reads files."""
    t = torch.from_numpy(rgb_or_gray)
    t = t[None] if t.ndim == 2 else t.permute(2, 0, 1)
    return (t.float() / 255)[None]


def _reference_niqe(image: np.ndarray, **kwargs: object) -> float:
    metric = import_reference("basicsr.metrics.niqe")
    if image.ndim == 2:
        return float(metric.calculate_niqe(image.astype(np.float64), 0, input_order="HW"))
    bgr = np.ascontiguousarray(image[..., ::-1])
    crop = kwargs.pop("crop_border", 0)
    return float(metric.calculate_niqe(bgr, crop, input_order="HWC", **kwargs))


@pytest.mark.reference
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "camera"])
def test_parity_with_basicsr_on_photos(name: str) -> None:
    image = _photo(name)
    expected = _reference_niqe(image)
    got = niqe(_tensor(image))
    assert got.shape == (1,) and got.dtype == torch.float64
    assert got.item() == pytest.approx(expected, abs=1e-3)


@pytest.mark.reference
@pytest.mark.shared
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(
    "options", [{}, {"crop_border": 4, "convert_to": "gray"}], ids=["y", "gray-crop4"]
)
def test_parity_with_basicsr_on_set5(options: dict) -> None:
    from degrade.io import read_image

    path = shared_dir() / "data" / "Set5" / "HR" / "bird.png"
    x = read_image(path)
    image = (x[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    expected = _reference_niqe(image, **dict(options))
    assert niqe(x, **options).item() == pytest.approx(expected, abs=1e-3)


def test_pristine_model_is_the_published_one() -> None:
    assert PARAMS_FILE.is_file() and (PARAMS_FILE.parent / "NOTICE").is_file()
    mu, cov, window = pristine_model()
    assert mu.shape == (36,) and cov.shape == (36, 36) and window.shape == (7, 7)
    torch.testing.assert_close(cov, cov.T)
    # fspecial('gaussian', 7, 7/6), normalised.
    g = torch.exp(-((torch.arange(7, dtype=torch.float64) - 3) ** 2) / (2 * (7 / 6) ** 2))
    torch.testing.assert_close(window, torch.outer(g, g) / torch.outer(g, g).sum())


def test_batch_dtype_and_input_forms() -> None:
    image = _photo("chelsea")[:200, :200]
    x = _tensor(image)
    batch = torch.cat([x, x.flip(-1)])
    scores = niqe(batch)
    assert scores.shape == (2,)
    torch.testing.assert_close(scores[0], niqe(x)[0])
    torch.testing.assert_close(scores[1], niqe(x.flip(-1))[0])
    u8 = torch.from_numpy(image).permute(2, 0, 1)[None]
    torch.testing.assert_close(niqe(u8), niqe(x))
    assert niqe(x[:0]).shape == (0,)
    gray = niqe(x, convert_to="gray").item()
    assert np.isfinite(gray) and gray != niqe(x).item()


def test_double_precision_and_plane_api() -> None:
    image = _photo("coffee")[:192, :288]
    x = _tensor(image)
    double = niqe(x, precision="double")
    # Y computed in float64, rounded, scored: the same as the plane entry point.
    from degrade.functional.color import rgb_to_y_bt601

    plane = (rgb_to_y_bt601(x.double())[0, 0] * 255).round()
    torch.testing.assert_close(double[0], niqe_plane(plane, precision="double"))
    assert abs(double.item() - niqe(x).item()) < 0.05


def test_quality_orders_clean_above_noisy() -> None:
    image = _tensor(_photo("astronaut")[:288, :288])
    noisy = image + 0.1 * torch.randn(image.shape, generator=torch.Generator().manual_seed(0))
    assert niqe(image).item() < niqe(noisy.clamp(0, 1)).item()


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="at least 96x96"):
        niqe(torch.rand(1, 3, 100, 90))
    with pytest.raises(ValueError, match="at least 96x96"):
        niqe(torch.rand(1, 3, 100, 100), crop_border=4)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        niqe(torch.rand(3, 100, 100))
    with pytest.raises(ValueError, match="convert_to"):
        niqe(torch.rand(1, 3, 96, 96), convert_to="lab")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="precision"):
        niqe(torch.rand(1, 3, 96, 96), precision="half")  # type: ignore[arg-type]
