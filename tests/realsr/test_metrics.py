from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from degrade.io import read_image
from realsr.metrics import modcrop, psnr, ssim
from tests._reference import import_reference, shared_dir


def _images(seed: int = 0, shape=(3, 3, 40, 48)) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    gt = torch.rand(shape, generator=g)
    pred = (gt + 0.05 * torch.randn(shape, generator=g)).clamp(0, 1)
    return pred, gt


def test_psnr_matches_the_definition_on_a_known_error():
    gt = torch.full((1, 1, 20, 20), 100 / 255)
    pred = gt.clone()
    pred[..., :10, :] += 3 / 255  # half the pixels off by 3 levels: MSE = 4.5
    assert psnr(pred, gt).item() == pytest.approx(10 * math.log10(255**2 / 4.5), abs=1e-9)
    assert psnr(gt, gt).item() == math.inf


def test_scores_are_per_image_and_symmetric():
    pred, gt = _images()
    for metric in (psnr, ssim):
        batch = metric(pred, gt, crop_border=2)
        assert batch.shape == (3,) and batch.dtype == torch.float64
        singles = torch.cat(
            [metric(pred[i : i + 1], gt[i : i + 1], crop_border=2) for i in range(3)]
        )
        assert torch.equal(batch, singles)
        assert torch.allclose(metric(gt, pred, crop_border=2), batch, rtol=0, atol=1e-12)


def test_y_channel_conventions():
    pred, gt = _images(1)
    y = psnr(pred, gt, y_channel=True)
    rgb = psnr(pred, gt, y_channel=False)
    assert not torch.allclose(y, rgb)
    assert not torch.allclose(psnr(pred, gt, round_y=True), y)
    # A gray image is scored on its own channel: same as the RGB score of its 3 identical copies.
    gray_pred, gray_gt = pred[:, :1], gt[:, :1]
    assert torch.allclose(
        psnr(gray_pred, gray_gt),
        psnr(gray_pred.repeat(1, 3, 1, 1), gray_gt.repeat(1, 3, 1, 1), y_channel=False),
    )


def test_ssim_properties():
    pred, gt = _images(2)
    assert torch.allclose(ssim(gt, gt), torch.ones(3, dtype=torch.float64))
    noisier = (gt + 0.15 * torch.randn(gt.shape, generator=torch.Generator().manual_seed(5))).clamp(
        0, 1
    )
    assert (ssim(noisier, gt) < ssim(pred, gt)).all()
    assert (ssim(pred, gt) < 1).all()
    # Contrast inversion is maximally dissimilar in structure.
    assert (ssim(1 - gt, gt, y_channel=False) < 0.1).all()


def test_quantize_rounds_float_inputs_to_8_bits():
    gt = torch.full((1, 1, 16, 16), 0.5)
    tiny = gt + 0.1 / 255  # below half a level: invisible after quantisation
    assert psnr(tiny, gt).item() == math.inf
    assert math.isfinite(psnr(tiny, gt, quantize=False).item())
    as_uint8 = (gt * 255).round().to(torch.uint8)
    assert torch.equal(psnr(as_uint8, (tiny * 255).round().to(torch.uint8)), psnr(tiny, gt))


def test_bad_inputs():
    pred, gt = _images()
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(pred, gt[..., :-1])
    with pytest.raises(ValueError, match="crop_border 24"):
        psnr(pred, gt, crop_border=24)
    with pytest.raises(ValueError, match="11x11"):
        ssim(pred[..., :12, :12], gt[..., :12, :12], crop_border=1)


def test_modcrop():
    assert modcrop(torch.zeros(1, 3, 23, 17), 4).shape == (1, 3, 20, 16)


_LOG_LINE = re.compile(r"x(\d) \d (\w+)_RCAN_x\d\.png: PSNR= ([\d.]+) SSIM= ([\d.]+)")


@pytest.mark.shared
def test_matches_the_matlab_scores_of_the_rcan_log():
    """Per-image PSNR/SSIM of RCAN's Set5 outputs equal its MATLAB log (to the log's 6 decimals)."""
    root = shared_dir() / "data"
    folder = root / "reference_outputs" / "RCAN_Set5"
    log = (folder / "PSNR_SSIM_Results_BI_model.txt").read_text().split("Method_2")[0]
    checked = 0
    for match in _LOG_LINE.finditer(log):
        scale, name = int(match[1]), match[2]
        sr_path = folder / f"x{scale}" / f"{name}_RCAN_x{scale}.png"
        if not sr_path.exists():
            continue
        sr = read_image(sr_path)
        hr = modcrop(read_image(root / "Set5" / "HR" / f"{name}.png"), scale)
        assert psnr(sr, hr, crop_border=scale).item() == pytest.approx(float(match[3]), abs=1e-4)
        assert ssim(sr, hr, crop_border=scale).item() == pytest.approx(float(match[4]), abs=1e-5)
        checked += 1
    assert checked == 15  # Set5 x2, x3, x4


@pytest.mark.reference
def test_agrees_with_basicsr_metrics():
    metrics = import_reference("basicsr.metrics.psnr_ssim")
    pred, gt = _images(3, shape=(1, 3, 48, 40))
    to_bgr = lambda t: np.ascontiguousarray(  # noqa: E731
        (t[0].permute(1, 2, 0).numpy()[..., ::-1] * 255).round().astype(np.float64)
    )
    for y in (True, False):
        ref_psnr = metrics.calculate_psnr(to_bgr(pred), to_bgr(gt), crop_border=4, test_y_channel=y)
        ref_ssim = metrics.calculate_ssim(to_bgr(pred), to_bgr(gt), crop_border=4, test_y_channel=y)
        assert psnr(pred, gt, crop_border=4, y_channel=y).item() == pytest.approx(
            ref_psnr, abs=1e-4
        )
        assert ssim(pred, gt, crop_border=4, y_channel=y).item() == pytest.approx(
            ref_ssim, abs=1e-5
        )
