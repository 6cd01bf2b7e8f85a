"""Validation: metrics equal the metric functions on the same 8-bit images, best tracking,
saved images, eval mode, ranks and the resume state."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from degrade.io import read_image
from realsr.config import ConfigError, TrainOptions, options_from_dict
from realsr.metrics import niqe, psnr, ssim
from realsr.train.task import Task
from realsr.train.validation import Validator, to_uint8
from tests._reference import import_reference

SCALE = 4


def write_pairs(root: Path, count: int = 3, size: int = 96) -> Path:
    """Smooth random GT images and their 4x area-downscaled LQ images."""
    rng = np.random.default_rng(0)
    for sub in ("gt", "lq"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        low = rng.integers(0, 256, size=(size // 8, size // 8, 3)).astype(np.uint8)
        gt = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
        lq = cv2.resize(gt, (size // SCALE, size // SCALE), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(root / "gt" / f"im{i}.png"), gt)
        cv2.imwrite(str(root / "lq" / f"im{i}.png"), lq)
    return root


def make_options(
    root: Path, metrics: dict[str, Any], *, val_type: str = "PairedImageDataset", **val: Any
) -> TrainOptions:
    val_set = {"name": "Set5", "type": val_type, "dataroot_lq": str(root / "lq")}
    if val_type != "SingleImageDataset":
        val_set["dataroot_gt"] = str(root / "gt")
    return options_from_dict(
        {
            "name": "val_test",
            "model_type": "SRModel",
            "scale": SCALE,
            "datasets": {
                "train": {
                    "name": "t",
                    "type": "PairedImageDataset",
                    "dataroot_gt": str(root / "gt"),
                    "dataroot_lq": str(root / "lq"),
                    "gt_size": 16,
                },
                "val": val_set,
            },
            "network_g": {"type": "SRCNN"},
            "train": {
                "optim_g": {"type": "Adam", "lr": 1e-4},
                "total_iter": 10,
                "pixel_opt": {"type": "L1Loss"},
            },
            "val": {"val_freq": 5, "metrics": metrics, **val},
            "path": {"experiments_root": str(root / "exp")},
        }
    )


class BicubicTask(Task):
    """Upscales the LQ image bicubically, plus ``generator.offset`` (to make it better or worse)."""

    def __init__(self, options: TrainOptions, *, device: torch.device) -> None:
        super().__init__(options, device=device)
        self.modes: list[bool] = []

    @torch.no_grad()
    def validation_step(self, batch: dict[str, Any], generator: nn.Module) -> dict[str, Tensor]:
        self.modes.append(generator.training)
        lq = batch["lq"]
        sr = F.interpolate(lq, scale_factor=SCALE, mode="bicubic", align_corners=False)
        sr = sr + float(getattr(generator, "offset", 0.0))
        out = {"sr": sr.clamp(0, 1)}
        if "gt" in batch:
            out["gt"] = batch["gt"]
        return out


class Generator(nn.Module):
    def __init__(self, offset: float = 0.0) -> None:
        super().__init__()
        self.offset = offset


def direct_scores(root: Path, fn: Any, **kwargs: Any) -> float:
    """The metric computed straight from the files, outside the Validator."""
    values = []
    for gt_path in sorted((root / "gt").glob("*.png")):
        lq = read_image(root / "lq" / gt_path.name)
        sr = F.interpolate(lq, scale_factor=SCALE, mode="bicubic", align_corners=False).clamp(0, 1)
        gt = read_image(gt_path)
        args = (to_uint8(sr),) if fn is niqe else (to_uint8(sr), to_uint8(gt))
        values.append(float(fn(*args, **kwargs)))
    return sum(values) / len(values)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pairs(tmp_path_factory.mktemp("val"))


def test_metrics_equal_direct_computation(pairs: Path, tmp_path: Path) -> None:
    metrics = {
        "psnr": {"type": "calculate_psnr", "crop_border": 4},
        "psnr_y": {"type": "calculate_psnr", "crop_border": 4, "test_y_channel": True},
        "ssim": {"type": "calculate_ssim", "crop_border": 4, "test_y_channel": True},
    }
    options = make_options(pairs, metrics)
    validator = Validator(options, device=torch.device("cpu"), experiment_dir=tmp_path)
    assert validator.enabled
    task = BicubicTask(options, device=torch.device("cpu"))
    generator = Generator().train()
    results = validator.run(task, generator, 100)
    assert list(results) == ["Set5"]
    got = results["Set5"]
    assert got["psnr"] == pytest.approx(
        direct_scores(pairs, psnr, crop_border=4, y_channel=False), rel=1e-12
    )
    assert got["psnr_y"] == pytest.approx(
        direct_scores(pairs, psnr, crop_border=4, y_channel=True), rel=1e-12
    )
    assert got["ssim"] == pytest.approx(
        direct_scores(pairs, ssim, crop_border=4, y_channel=True), rel=1e-12
    )
    assert got["psnr_y"] != got["psnr"] and 15 < got["psnr"] < 60
    # every image scored, the generator in eval mode while scored, then back to training
    assert task.modes == [False, False, False] and generator.training
    assert sorted(validator.improved) == [("Set5", m) for m in sorted(metrics)]
    assert validator.best["Set5"]["ssim"] == (got["ssim"], 100)


def test_best_tracking_higher_and_lower(pairs: Path, tmp_path: Path) -> None:
    metrics = {
        "psnr": {"type": "calculate_psnr"},
        "psnr_low": {"type": "calculate_psnr", "better": "lower"},
    }
    options = make_options(pairs, metrics)
    validator = Validator(options, device=torch.device("cpu"), experiment_dir=tmp_path)
    task = BicubicTask(options, device=torch.device("cpu"))
    good = validator.run(task, Generator(0.0), 10)["Set5"]["psnr"]
    assert sorted(validator.improved) == [("Set5", "psnr"), ("Set5", "psnr_low")]
    bad = validator.run(task, Generator(0.05), 20)["Set5"]["psnr"]
    assert bad < good
    assert validator.improved == [("Set5", "psnr_low")]
    assert validator.best["Set5"] == {"psnr": (good, 10), "psnr_low": (bad, 20)}
    validator.run(task, Generator(0.0), 30)  # equal to the best: counts as reached (BasicSR)
    assert validator.improved == [("Set5", "psnr")]
    assert validator.best["Set5"] == {"psnr": (good, 30), "psnr_low": (bad, 20)}

    # the best table survives a weights_only round trip; unknown entries are dropped
    buffer = io.BytesIO()
    state = validator.state_dict()
    state["best"]["Gone"] = {"psnr": [1.0, 1]}
    torch.save(state, buffer)
    buffer.seek(0)
    fresh = Validator(options, device=torch.device("cpu"), experiment_dir=tmp_path)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert fresh.best == validator.best
    fresh.run(task, Generator(0.02), 40)  # worse than the best psnr, better than psnr_low's
    assert fresh.improved == []


def test_saves_images(pairs: Path, tmp_path: Path) -> None:
    options = make_options(pairs, {"psnr": {"type": "calculate_psnr"}}, save_img=True, pbar=True)
    validator = Validator(options, device=torch.device("cpu"), experiment_dir=tmp_path)
    task = BicubicTask(options, device=torch.device("cpu"))
    validator.run(task, Generator(), 1500)
    folder = tmp_path / "visualization" / "Set5"
    assert sorted(p.name for p in folder.iterdir()) == [f"im{i}_1500.png" for i in range(3)]
    lq = read_image(pairs / "lq" / "im1.png")
    sr = F.interpolate(lq, scale_factor=SCALE, mode="bicubic", align_corners=False)
    saved = (read_image(folder / "im1_1500.png") * 255).round().to(torch.uint8)
    assert torch.equal(saved, to_uint8(sr))


def test_other_ranks_do_nothing(tmp_path: Path) -> None:
    options = make_options(tmp_path / "missing", {"psnr": {"type": "calculate_psnr"}})
    validator = Validator(
        options, device=torch.device("cpu"), experiment_dir=tmp_path, rank=1, world_size=2
    )
    assert not validator.enabled
    task = BicubicTask(options, device=torch.device("cpu"))
    assert validator.run(task, Generator(), 5) == {} and validator.improved == []
    assert task.modes == []


def test_reference_metric_on_a_set_without_gt(pairs: Path, tmp_path: Path) -> None:
    options = make_options(
        pairs, {"psnr": {"type": "calculate_psnr"}}, val_type="SingleImageDataset"
    )
    with pytest.raises(
        ConfigError, match=r"^val\.metrics\.psnr: needs ground truth.*datasets\.val"
    ):
        Validator(options, device=torch.device("cpu"), experiment_dir=tmp_path)


def test_no_gt_set_scores_niqe_on_8bit_sr(
    pairs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A set without GT: NIQE gets the rounded SR images and its options (spy; NIQE is slow)."""
    seen: list[tuple[Tensor, dict[str, Any]]] = []

    def spy(x: Tensor, **kwargs: Any) -> Tensor:
        seen.append((x, kwargs))
        return torch.full((x.shape[0],), float(len(seen)), dtype=torch.float64)

    monkeypatch.setattr("realsr.train.validation.niqe", spy)
    metrics = {"niqe": {"type": "calculate_niqe", "crop_border": 4}}
    options = make_options(pairs, metrics, val_type="SingleImageDataset")
    validator = Validator(options, device=torch.device("cpu"), experiment_dir=tmp_path)
    results = validator.run(BicubicTask(options, device=torch.device("cpu")), Generator(), 1)
    assert results == {"Set5": {"niqe": 2.0}}  # mean of 1, 2, 3
    assert validator.best["Set5"]["niqe"] == (2.0, 1)
    lq = read_image(pairs / "lq" / "im0.png")
    sr = F.interpolate(lq, scale_factor=SCALE, mode="bicubic", align_corners=False)
    assert torch.equal(seen[0][0], to_uint8(sr)) and seen[0][1]["crop_border"] == 4
    assert len(seen) == 3


def test_niqe_equals_direct_computation(tmp_path: Path) -> None:
    # NIQE needs two 96-pixel blocks per side after the crop
    root = write_pairs(tmp_path / "data", count=1, size=200)
    metrics = {"niqe": {"type": "calculate_niqe", "crop_border": 4}}
    options = make_options(root, metrics, val_type="SingleImageDataset")
    validator = Validator(options, device=torch.device("cpu"), experiment_dir=tmp_path)
    results = validator.run(BicubicTask(options, device=torch.device("cpu")), Generator(), 1)
    expected = direct_scores(root, niqe, crop_border=4)
    assert np.isfinite(expected)
    assert results["Set5"]["niqe"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.reference
def test_to_uint8_matches_basicsr_tensor2img() -> None:
    tensor2img = import_reference("basicsr.utils.img_util").tensor2img
    x = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 1.2 - 0.1
    expected = tensor2img(x, rgb2bgr=False)  # (H, W, 3) uint8
    assert np.array_equal(to_uint8(x)[0].permute(1, 2, 0).numpy(), expected)
